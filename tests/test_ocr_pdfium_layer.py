"""The fast text layer (pdfium) gives the pages pdfplumber gives, and leaves to pdfplumber every page
it cannot vouch for: a scan under a text layer, invisible text, a damaged or offset file."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image
from reportlab.lib.utils import ImageReader

from kakari.config import LimitsConfig
from ocr.document import Page, join_chars
from ocr.pdfium_layer import open_plain
from ocr.textlayer import _read_page, read_textlayer
from tests.test_ocr_textlayer import MM, TITLE, Sheet

LIMITS = LimitsConfig()


def by_pdfplumber(path: Path) -> list[Page]:
    with pdfplumber.open(path) as pdf:
        return [_read_page(pp) for pp in pdf.pages]


def assert_same(fast: list[Page], slow: list[Page]) -> None:
    """The same text as read (spaces included) and the same characters in the same places. Space
    glyphs are compared through the text: pdfium reports some as inferred gaps, not glyphs."""
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        assert (a.number, a.width, a.height) == pytest.approx((b.number, b.width, b.height), abs=0.01)
        assert join_chars(a.chars) == join_chars(b.chars)
        inked_a, inked_b = ([c for c in p.chars if c.text.strip()] for p in (a, b))
        assert [c.text for c in inked_a] == [c.text for c in inked_b]
        for c, d in zip(inked_a, inked_b, strict=True):
            assert (c.box.x, c.box.y, c.box.w, c.box.h) == pytest.approx((d.box.x, d.box.y, d.box.w, d.box.h),
                                                                         abs=0.01), c.text
        assert len(a.marks) == len(b.marks)
        for m, n in zip(a.marks, b.marks, strict=True):
            assert (m.x, m.y, m.w, m.h) == pytest.approx((n.x, n.y, n.w, n.h), abs=0.01)


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from samples.generate import generate

    out = tmp_path_factory.mktemp("forms")
    return generate(out, count=4, seed=5, forms=["child_medical", "restaurant_permit", "juminhyo_request"])


def test_filled_forms_read_as_pdfplumber_reads_them(forms: list[Path]) -> None:
    for pdf in forms:
        plain = open_plain(pdf, LIMITS)
        assert plain is not None, pdf.name
        assert_same([_read_page(p) for p in plain.pages], by_pdfplumber(pdf))
        assert any(p.marks for p in by_pdfplumber(pdf)) or "juminhyo" in pdf.name  # circles and ticks were compared


def test_marks_rulings_and_dashes_read_as_pdfplumber_reads_them(tmp_path: Path) -> None:
    pdf = tmp_path / "marks.pdf"
    s = Sheet(pdf)
    s.text(20, 20, TITLE, 14)
    s.text(45, 100, "男")
    s.c.circle(*s.pt(47.1, 98.2), 3.6 * MM, stroke=1, fill=0)
    s.c.ellipse(*s.pt(43.0, 143.0), *s.pt(51.5, 135.0), stroke=1, fill=0)
    s.rect(45, 120, 4, 4)
    s.lines([(45.8, 122.0), (46.9, 123.6), (50.2, 118.9)])
    s.lines([(75, 120), (79, 120), (79, 124), (75, 124), (75, 120)])
    s.polyline([(90.7, 122.0), (91.7, 123.6), (94.5, 119.2)])
    s.c.line(*s.pt(15, 127), *s.pt(195, 127))
    s.c.setDash(1, 1)
    s.c.circle(*s.pt(170, 100), 6 * MM, stroke=1, fill=0)
    s.c.setDash()
    s.c.rect(*s.pt(100, 60), 5 * MM, 5 * MM, stroke=0, fill=1)  # a filled square, not a mark
    s.text(20, 200, "髙橋 﨑")
    s.page()
    s.text(20, 20, "二頁目")
    s.save()
    plain = open_plain(pdf, LIMITS)
    assert plain is not None
    fast = [_read_page(p) for p in plain.pages]
    assert_same(fast, by_pdfplumber(pdf))
    assert len(fast[0].marks) == 5  # circle, ellipse, two tick strokes, polyline
    assert "髙橋﨑" in fast[0].text.replace(" ", "")


def _scan_under_text(s: Sheet, tmp_path: Path) -> None:  # a scan with an OCR layer over it
    scan = tmp_path / "scan.png"
    Image.new("L", (200, 280), 200).save(scan)
    s.c.drawImage(ImageReader(str(scan)), 0, 0, 210 * MM, 297 * MM)
    s.text(20, 20, TITLE, 14)


def _invisible_text(s: Sheet, tmp_path: Path) -> None:
    t = s.c.beginText(*s.pt(20, 20))
    t.setFont("IPAGothic", 14)
    t.setTextRenderMode(3)
    t.textOut(TITLE)
    s.c.drawText(t)


def _offset_crop_box(s: Sheet, tmp_path: Path) -> None:
    s.c.setCropBox((10, 10, 500, 800))
    s.text(20, 20, TITLE, 14)


@pytest.mark.parametrize("draw", [_scan_under_text, _invisible_text, _offset_crop_box])
def test_pages_it_cannot_vouch_for_are_left_to_pdfplumber(draw: Callable[[Sheet, Path], None],
                                                          tmp_path: Path) -> None:
    pdf = tmp_path / "page.pdf"
    s = Sheet(pdf)
    draw(s, tmp_path)
    s.save()
    assert open_plain(pdf, LIMITS) is None
    assert_same(read_textlayer(pdf, "", LIMITS), by_pdfplumber(pdf))


def test_a_file_cut_short_is_left_to_pdfplumber(tmp_path: Path) -> None:
    whole = tmp_path / "whole.pdf"
    s = Sheet(whole)
    s.text(20, 20, TITLE, 14)
    s.save()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole.read_bytes()[:-40])
    assert open_plain(cut, LIMITS) is None


def test_more_pages_than_the_limit_are_left_to_pdfplumber(tmp_path: Path) -> None:
    pdf = tmp_path / "long.pdf"
    s = Sheet(pdf)
    for _ in range(3):
        s.text(20, 20, TITLE, 14)
        s.page()
    s.save()
    assert open_plain(pdf, LimitsConfig(max_pages=2)) is None
    assert open_plain(pdf, LimitsConfig(max_pages=4)) is not None
