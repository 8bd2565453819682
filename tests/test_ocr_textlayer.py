"""Text layer reading, marks, text quality, error mapping and scan routing, on PDFs made with reportlab."""
from __future__ import annotations

import itertools
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from reportlab.lib import pdfencrypt
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

import ocr.engine
from kakari.config import KakariConfig, LimitsConfig
from kakari.errors import CorruptDocument, EncryptedDocument, MissingDependency, TooLarge
from kakari.locate import gothic_font
from kakari.model import Box
from kakari.registry import Registry
from ocr import read_document
from ocr.engine import OcrEngine
from ocr.textlayer import needs_scan, read_textlayer, text_quality

FONT_FILE = str(gothic_font())
FONT = "IPAGothic"
MM = 72 / 25.4  # points per millimetre
PAGE_H = A4[1] / MM  # 297 mm
TITLE = "子ども医療費受給資格証交付申請書（みどり町）"  # enough characters for a page to count as text
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _font() -> TTFont:
    try:
        return pdfmetrics.getFont(FONT)  # type: ignore[return-value]
    except KeyError:
        font = TTFont(FONT, FONT_FILE)
        pdfmetrics.registerFont(font)
        return font


class Sheet:
    """A reportlab canvas addressed in mm from the top-left corner, like kakari's Boxes."""

    def __init__(self, path: Path, **kw: object) -> None:
        _font()
        self.c = Canvas(str(path), pagesize=A4, **kw)

    @staticmethod
    def pt(x: float, y: float) -> tuple[float, float]:
        return x * MM, (PAGE_H - y) * MM

    def text(self, x: float, baseline: float, s: str, size: float = 12.0, font: str = FONT) -> None:
        self.c.setFont(font, size)
        self.c.drawString(*self.pt(x, baseline), s)

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        px, py = self.pt(x, y + h)
        self.c.rect(px, py, w * MM, h * MM, stroke=1, fill=0)

    def lines(self, pts: list[tuple[float, float]]) -> None:
        """Separate line segments between consecutive points (canvas.lines)."""
        self.c.lines([(*self.pt(*a), *self.pt(*b)) for a, b in itertools.pairwise(pts)])

    def polyline(self, pts: list[tuple[float, float]]) -> None:
        """One path through the points (a stroke drawn without lifting the pen)."""
        p = self.c.beginPath()
        p.moveTo(*self.pt(*pts[0]))
        for q in pts[1:]:
            p.lineTo(*self.pt(*q))
        self.c.drawPath(p, stroke=1, fill=0)

    def page(self) -> None:
        self.c.showPage()

    def save(self) -> None:
        self.c.showPage()
        self.c.save()


def cfg_for(tmp_path: Path, **limits: int) -> KakariConfig:
    return KakariConfig(home=tmp_path, limits=LimitsConfig(**limits))


def text_pdf(path: Path, pages: int = 1) -> Path:
    s = Sheet(path)
    for i in range(pages):
        s.text(20, 20, TITLE, 14)
        s.text(20, 40, f"氏名 緑川花子 {i + 1}頁")
        if i < pages - 1:
            s.page()
    s.save()
    return path


def image_png(path: Path) -> Path:
    """A scan-like page image: dark strokes on white, no text layer anywhere."""
    img = Image.new("L", (420, 594), 255)
    d = ImageDraw.Draw(img)
    d.rectangle((40, 60, 380, 120), outline=0, width=3)
    d.line((60, 90, 300, 90), fill=0, width=4)
    img.save(path)
    return path


def assert_japanese(err: pytest.ExceptionInfo[Exception]) -> None:
    assert JAPANESE.search(err.value.message), err.value.message


# --- characters in millimetres -----------------------------------------------------------------
def test_chars_are_boxed_in_mm_where_reportlab_drew_them(tmp_path: Path) -> None:
    pdf = tmp_path / "chars.pdf"
    s = Sheet(pdf)
    s.text(30.0, 50.0, "申請者氏名AB1", 12)
    s.page()
    s.text(120.0, 200.0, "住所欄", 10)
    s.save()

    pages = read_textlayer(pdf, "d1", LimitsConfig())
    assert [p.number for p in pages] == [1, 2]
    assert pages[0].width == pytest.approx(210.0, abs=0.1)
    assert pages[0].height == pytest.approx(297.0, abs=0.1)

    descent = -_font().face.descent / 1000  # reportlab's font descent, as written into the PDF
    drawn = [(30.0, 50.0, "申請者氏名AB1", 12), (120.0, 200.0, "住所欄", 10)]
    for page, (x, baseline, text, size) in zip(pages, drawn):
        assert "".join(c.text for c in page.chars) == text
        size_mm = size / MM
        for i, (ch, word) in enumerate(zip(text, page.chars)):
            x0 = x + pdfmetrics.stringWidth(text[:i], FONT, size) / MM
            x1 = x0 + pdfmetrics.stringWidth(ch, FONT, size) / MM
            bottom = baseline + descent * size_mm
            assert word.box.page == page.number
            assert word.confidence == 1.0
            assert word.box.x == pytest.approx(x0, abs=0.5)
            assert word.box.x1 == pytest.approx(x1, abs=0.5)
            assert word.box.y1 == pytest.approx(bottom, abs=0.5)
            assert word.box.y == pytest.approx(bottom - size_mm, abs=0.5)


def test_read_and_find_on_a_document(tmp_path: Path) -> None:
    pdf = tmp_path / "form.pdf"
    s = Sheet(pdf)
    s.text(20, 20, TITLE, 14)
    s.text(20, 40, "氏名")
    s.text(45, 40, "緑川花子")
    s.text(20, 55, "住所")
    s.text(45, 55, "みどり町一丁目2番3号")
    s.page()
    s.text(20, 20, TITLE, 14)
    s.text(20, 60, "備考")
    s.save()

    doc = read_document(pdf, cfg_for(tmp_path), doc_id="abc")
    assert doc.engine == "textlayer"
    assert doc.doc_id == "abc"
    name = doc.read(Box(1, 43, 33, 60, 9))
    assert name.text == "緑川花子"
    assert name.confidence == 1.0
    assert doc.read(Box(1, 43, 48, 80, 9)).text == "みどり町一丁目2番3号"

    label = doc.find("氏名")
    assert label is not None and label.page == 1
    assert label.x == pytest.approx(20.0, abs=0.5)
    assert label.w == pytest.approx(2 * 12 / MM, abs=0.5)
    assert label.y1 == pytest.approx(40 + 0.12 * 12 / MM, abs=0.5)
    other = doc.find("備考")
    assert other is not None and other.page == 2 and other.x == pytest.approx(20.0, abs=0.5)
    assert doc.find("電話番号") is None


def test_a_space_glyph_narrower_than_a_gap_is_still_a_space(tmp_path: Path) -> None:
    """A half-width space (and 「　」 in fonts that draw it narrow) leaves a gap smaller than the one
    read as a space: the space glyph of the text layer says it is one."""
    pdf = tmp_path / "spaces.pdf"
    s = Sheet(pdf)
    s.text(20, 20, TITLE, 14)
    s.text(45, 40, "田中 一郎")  # half-width: 1.7 mm at 10 pt
    s.text(45, 55, "ｻﾄｳ ﾀﾛｳ", 10)
    s.text(45, 70, "緑川  花子　")  # two spaces and a trailing one: one space between the words
    s.save()
    doc = read_document(pdf, cfg_for(tmp_path))
    assert doc.read(Box(1, 43, 33, 60, 9)).text == "田中 一郎"
    assert doc.read(Box(1, 43, 48, 60, 9)).text == "ｻﾄｳ ﾀﾛｳ"
    assert doc.read(Box(1, 43, 63, 60, 9)).text == "緑川 花子"
    assert doc.find("田中一郎") is not None  # labels are found with or without their spaces


# --- marks ----------------------------------------------------------------------------------------
def test_circles_and_ticks_are_marks_printed_boxes_are_not(tmp_path: Path) -> None:
    pdf = tmp_path / "marks.pdf"
    s = Sheet(pdf)
    s.text(20, 20, TITLE, 14)
    # 性別: 男 circled with canvas.circle, 女 left alone
    s.text(20, 100, "性別")
    s.text(45, 100, "男")
    s.text(60, 100, "女")
    s.c.circle(*s.pt(47.1, 98.2), 3.6 * MM, stroke=1, fill=0)
    # 他の医療費助成: 有 circled with canvas.ellipse
    s.text(20, 140, "助成")
    s.text(45, 140, "有")
    s.text(60, 140, "無")
    s.c.ellipse(*s.pt(43.0, 143.0), *s.pt(51.5, 135.0), stroke=1, fill=0)
    # checkboxes printed as rectangles; the first ticked with canvas.lines (two strokes)
    s.rect(45, 120, 4, 4)
    s.lines([(45.8, 122.0), (46.9, 123.6), (50.2, 118.9)])
    s.rect(60, 120, 4, 4)
    # a checkbox printed as four separate lines, empty
    s.lines([(75, 120), (79, 120), (79, 124), (75, 124), (75, 120)])
    # a printed rect ticked with one polyline path
    s.rect(90, 120, 4, 4)
    s.polyline([(90.7, 122.0), (91.7, 123.6), (94.5, 119.2)])
    # ruling lines and a dashed 印 placement circle are printed furniture
    s.c.line(*s.pt(15, 127), *s.pt(195, 127))
    s.c.line(*s.pt(15, 110), *s.pt(15, 150))
    s.c.setDash(1, 1)
    s.c.circle(*s.pt(170, 100), 6 * MM, stroke=1, fill=0)
    s.c.setDash()
    s.text(168, 102, "印")
    s.save()

    doc = read_document(pdf, cfg_for(tmp_path))
    assert doc.engine == "textlayer"
    marked = lambda b: doc.mark(b).text == "1"  # noqa: E731
    assert marked(Box(1, 42, 93, 10, 10))  # 男, circled
    assert not marked(Box(1, 57, 93, 10, 10))  # 女
    assert marked(Box(1, 42, 133, 11, 12))  # 有, ellipse
    assert not marked(Box(1, 57, 133, 11, 12))  # 無
    assert marked(Box(1, 44, 118, 7, 7))  # ticked rect checkbox (lines)
    assert not marked(Box(1, 59, 118, 7, 7))  # empty rect checkbox
    assert not marked(Box(1, 74, 118, 7, 7))  # empty checkbox made of four lines
    assert marked(Box(1, 89, 118, 7, 7))  # ticked with a polyline
    assert not marked(Box(1, 162, 92, 16, 16))  # printed dashed seal circle
    # nothing else became a mark: circle + ellipse + 2 tick strokes + polyline
    marks = doc.pages[0].marks
    assert len(marks) == 5
    assert all(m.w < 15 and m.h < 15 for m in marks)


# --- text quality -----------------------------------------------------------------------------------
def test_text_quality_separates_broken_layers_from_form_text() -> None:
    assert text_quality("™›™›™›™›") < 0.2
    assert text_quality("\ue000\ue001\ue002\x01\x02\ufffd") == 0.0
    form = "子ども医療費受給資格証交付申請書 〒123-4567 みどり町1丁目2番3号 ○男 ×女 （続柄）「子」、。ー・− ＴＥＬ０３"
    assert text_quality(form) >= 0.98
    assert text_quality(["緑", "川", " ", "A", "1"]) == 1.0
    assert text_quality("") == 0.0
    assert text_quality("申請書™›") == pytest.approx(3 / 5)


def test_a_page_with_few_or_garbled_chars_needs_a_scan(tmp_path: Path) -> None:
    pdf = tmp_path / "q.pdf"
    s = Sheet(pdf)
    s.text(20, 20, TITLE, 14)
    s.text(20, 40, "氏名 緑川花子")
    s.page()
    s.text(20, 20, "様式")
    s.page()
    s.text(20, 20, "™›" * 20, 12, font="Helvetica")
    s.save()
    good, thin, garbled = read_textlayer(pdf, "", LimitsConfig())
    assert garbled.text.replace(" ", "") == "™›" * 20  # read faithfully, judged separately
    assert not needs_scan(good, 20)
    assert needs_scan(thin, 20) and not needs_scan(thin, 2)
    assert needs_scan(garbled, 20) and needs_scan(garbled, 0)


# --- errors -------------------------------------------------------------------------------------------
def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    pdf = tmp_path / "locked.pdf"
    s = Sheet(pdf, encrypt="secret")
    s.text(20, 20, TITLE)
    s.save()
    with pytest.raises(EncryptedDocument) as err:
        read_document(pdf, cfg_for(tmp_path))
    assert err.value.message == "パスワードで保護された PDF です"


def test_permissions_only_pdf_opens(tmp_path: Path) -> None:
    pdf = tmp_path / "perm.pdf"
    enc = pdfencrypt.StandardEncryption("", ownerPassword="owner", canPrint=0, canModify=0, canCopy=0)
    s = Sheet(pdf, encrypt=enc)
    s.text(20, 20, TITLE, 14)
    s.save()
    doc = read_document(pdf, cfg_for(tmp_path))
    assert doc.text == TITLE


def test_truncated_pdf_is_corrupt(tmp_path: Path) -> None:
    whole = text_pdf(tmp_path / "whole.pdf", pages=2).read_bytes()
    half = tmp_path / "half.pdf"
    half.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptDocument) as err:
        read_document(half, cfg_for(tmp_path))
    assert_japanese(err)
    assert "(" in err.value.message  # the parser's reason is kept


def test_garbage_after_pdf_header_is_corrupt(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    with pytest.raises(CorruptDocument) as err:
        read_document(bad, cfg_for(tmp_path))
    assert_japanese(err)


def test_too_many_pages(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "long.pdf", pages=3)
    with pytest.raises(TooLarge) as err:
        read_document(pdf, cfg_for(tmp_path, max_pages=2))
    assert "3 ページ" in err.value.message
    assert len(read_document(pdf, cfg_for(tmp_path, max_pages=3)).pages) == 3


def test_too_many_bytes(tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "big.pdf")
    size = pdf.stat().st_size
    with pytest.raises(TooLarge) as err:
        read_document(pdf, cfg_for(tmp_path, max_bytes=size - 1))
    assert_japanese(err)
    assert read_document(pdf, cfg_for(tmp_path, max_bytes=size)).engine == "textlayer"


# --- routing to the scan engine --------------------------------------------------------------------
FAKE_ENGINE = '''
from pathlib import Path
from PIL import Image
from kakari.model import Box
from ocr.document import Page, Word
from ocr.engine import OcrEngine

class FakeScan(OcrEngine):
    """Stands in for the scan engine: records what it was asked to read."""
    name = "ppocr"
    calls = []

    def read_pages(self, path, kind, page_numbers, cfg):
        type(self).calls.append((Path(path).name, kind, page_numbers))
        return [Page(n, 210.0, 297.0, source="scan", chars=[Word("読", Box(n, 10, 10, 4, 4), 0.9)],
                     image=Image.new("L", (8, 8), 255)) for n in (page_numbers or [1])]
'''

BROKEN_ENGINE = '''
from kakari.errors import MissingDependency
from ocr.engine import OcrEngine

class NoBinary(OcrEngine):
    name = "ppocr"

    @classmethod
    def check(cls):
        raise MissingDependency("tesseract がありません", fix="apt-get install tesseract-ocr-jpn")

    def read_pages(self, path, kind, page_numbers, cfg):
        raise AssertionError("never called when check fails")
'''


@pytest.fixture
def engine_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str | None], Registry[OcrEngine]]]:
    """Point ocr.engine.engines at a real Registry walking a throw-away package holding `source`."""

    def install(source: str | None) -> Registry[OcrEngine]:
        name = f"kakari_test_engines_{uuid.uuid4().hex[:8]}"
        pkg = tmp_path / "pkgs" / name
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        if source is not None:
            (pkg / "engine.py").write_text(source)
        monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
        registry: Registry[OcrEngine] = Registry("kakari.test.engines", OcrEngine, name)
        monkeypatch.setattr(ocr.engine, "engines", registry)
        return registry

    yield install
    for mod in [m for m in sys.modules if m.startswith("kakari_test_engines_")]:
        del sys.modules[mod]


def image_only_pdf(path: Path, png: Path) -> Path:
    s = Sheet(path)
    s.c.drawImage(ImageReader(str(png)), 0, 0, width=A4[0], height=A4[1])
    s.save()
    return path


def test_image_only_pdf_without_scan_engine_is_missing_dependency(tmp_path: Path, engine_package: Callable[[str | None], Registry[OcrEngine]]) -> None:
    engine_package(None)
    pdf = image_only_pdf(tmp_path / "scan.pdf", image_png(tmp_path / "scan.png"))
    assert read_textlayer(pdf, "", LimitsConfig())[0].chars == []
    with pytest.raises(MissingDependency) as err:
        read_document(pdf, cfg_for(tmp_path))
    assert err.value.message == "スキャン画像を読み取る OCR エンジンがありません"
    assert err.value.fix


def test_scan_engine_check_failure_propagates(tmp_path: Path, engine_package: Callable[[str | None], Registry[OcrEngine]]) -> None:
    engine_package(BROKEN_ENGINE)
    with pytest.raises(MissingDependency) as err:
        read_document(image_png(tmp_path / "a.png"), cfg_for(tmp_path))
    assert "tesseract-ocr-jpn" in err.value.fix


def test_only_thin_or_garbled_pages_go_to_the_scan_engine(tmp_path: Path, engine_package: Callable[[str | None], Registry[OcrEngine]]) -> None:
    registry = engine_package(FAKE_ENGINE)
    png = image_png(tmp_path / "p.png")
    pdf = tmp_path / "mixed.pdf"
    s = Sheet(pdf)
    s.text(20, 20, TITLE, 14)
    s.text(20, 40, "氏名 緑川花子")
    s.page()
    s.text(20, 20, "™›" * 20, 12, font="Helvetica")  # a broken text layer
    s.page()
    s.c.drawImage(ImageReader(str(png)), 0, 0, width=A4[0], height=A4[1])
    s.save()

    doc = read_document(pdf, cfg_for(tmp_path), doc_id="m1")
    fake = registry.get("ppocr")
    assert fake.calls == [("mixed.pdf", "pdf", [2, 3])]  # type: ignore[attr-defined]
    assert doc.engine == "mixed"
    assert [p.source for p in doc.pages] == ["text", "scan", "scan"]
    assert doc.pages[0].text.startswith(TITLE)

    fake.calls.clear()  # type: ignore[attr-defined]
    whole = read_document(image_only_pdf(tmp_path / "all.pdf", png), cfg_for(tmp_path))
    assert whole.engine == "ppocr"
    assert fake.calls == [("all.pdf", "pdf", [1])]  # type: ignore[attr-defined]


def test_images_go_whole_to_the_scan_engine_by_content(tmp_path: Path, engine_package: Callable[[str | None], Registry[OcrEngine]]) -> None:
    registry = engine_package(FAKE_ENGINE)
    disguised = tmp_path / "申請書.pdf"
    disguised.write_bytes(image_png(tmp_path / "x.png").read_bytes())
    doc = read_document(disguised, cfg_for(tmp_path))
    assert registry.get("ppocr").calls == [("申請書.pdf", "png", None)]  # type: ignore[attr-defined]
    assert doc.engine == "ppocr"
    assert doc.pages[0].source == "scan"
