"""samples/scanlike.py profiles (clean, scanner, fax) and `python -m samples.generate --scan`: real
rendering, files as a scanner or a fax machine writes them, read back by kakari's own reader."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kakari.config import KakariConfig
from samples import generate as g, scanlike as s


def embedded_image(pdf: Path) -> np.ndarray:
    """The one image of an image-only PDF page, as stored (not re-rendered)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    doc = pdfium.PdfDocument(str(pdf))
    try:
        [image] = list(doc[0].get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
        return np.asarray(image.get_bitmap(render=False).to_pil().convert("L"))
    finally:
        doc.close()


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pdf")
    g.generate(out, 3, 42, ["child_medical", "juminhyo_request"])
    return out


def test_clean_profile_is_the_page_itself_in_an_image_only_pdf(pdfs: Path, tmp_path: Path) -> None:
    import pdfplumber

    src = pdfs / "child_medical" / "child_medical_0001.pdf"
    scan = s.scan_one(src, tmp_path, 42, 200, profile="clean")
    assert scan.suffix == ".pdf"
    with pdfplumber.open(scan) as doc:
        assert doc.pages[0].chars == [] and len(doc.pages[0].images) == 1
    truth = json.loads(scan.with_suffix(".json").read_text(encoding="utf-8"))
    assert truth["scan"]["profile"] == "clean" and truth["scan"]["source"] == src.name
    assert truth["fields"] == json.loads(src.with_suffix(".json").read_text(encoding="utf-8"))["fields"]
    # lossless: the embedded page is the rendering of the source, pixel for pixel
    assert np.array_equal(embedded_image(scan), s.render_page(src, 200, False))


def test_fax_profile_is_a_class_f_tiff_or_pdf_at_200_by_100_dpi(pdfs: Path, tmp_path: Path) -> None:
    scans = s.make_scans(pdfs, tmp_path, 42, (300,), profile="fax")
    assert len(scans) == 6 and all(p.parent.parent.name == "fax" for p in scans)
    kinds = set()
    for path in scans:
        truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        p = truth["scan"]
        assert (p["dpi"], p["dpi_y"], p["bits"], p["profile"]) == (200, 100, 1, "fax")
        assert p["header"].startswith(truth["fields"]["applied_on"].replace("-", "/"))
        kinds.add(path.suffix)
        if path.suffix == ".tif":
            with Image.open(path) as im:
                assert im.mode == "1" and im.info["compression"] in ("group3", "group4")
                assert tuple(round(v) for v in im.info["dpi"]) == (200, 100)
                assert abs(im.width - 210 / 25.4 * 200) <= 1 and abs(im.height - 297 / 25.4 * 100) <= 1
        else:
            assert path.suffix == ".pdf"
    assert ".tif" in kinds


def test_fax_is_deterministic_and_black_and_white(pdfs: Path, tmp_path: Path) -> None:
    src = pdfs / "juminhyo_request" / "juminhyo_request_0002.pdf"
    a = s.scan_one(src, tmp_path / "a", 42, 200, profile="fax")
    b = s.scan_one(src, tmp_path / "b", 42, 200, profile="fax")
    assert a.read_bytes() == b.read_bytes()
    c = s.scan_one(src, tmp_path / "c", 43, 200, profile="fax")
    assert json.loads(c.with_suffix(".json").read_text())["scan"] != json.loads(a.with_suffix(".json").read_text())["scan"]
    img = embedded_image(a) if a.suffix == ".pdf" else np.asarray(Image.open(a).convert("L"))
    assert np.mean((img > 0) & (img < 255)) < 0.01  # black dots on white paper, nothing in between


def test_a_faxed_form_is_recognised_and_read(pdfs: Path, tmp_path: Path) -> None:
    """The reader takes the fax as it comes (tall dots, 1-bit, header line) and registers it onto the
    form: classified right, and the fields that are read are the ground truth or flagged."""
    import bots
    from ocr import read_document

    scan = s.scan_one(pdfs / "child_medical" / "child_medical_0002.pdf", tmp_path, 42, 200, profile="fax")
    truth = json.loads(scan.with_suffix(".json").read_text(encoding="utf-8"))
    doc = read_document(scan, KakariConfig())
    assert doc.engine == "ppocr" and doc.pages[0].height == pytest.approx(297, abs=2)
    bot_cls, score = bots.classify(doc, ["child_medical", "restaurant_permit", "juminhyo_request"])
    assert bot_cls.name == "child_medical" and score > 0.5
    rec = bot_cls().read(doc)
    right = [n for n, f in rec.fields.items() if f.value == truth["fields"][n]]
    assert len(right) >= len(rec.fields) // 2  # most of a fax reads; the rest is the trust layer's to flag
    if rec.status == "自動登録":
        assert right == list(rec.fields)


@pytest.mark.parametrize("profile, fmt", [("fax", "tiff"), ("fax", "pdf"), ("scanner", "pdf")])
def test_the_policy_judges_a_page_by_the_scan_whatever_file_holds_it(pdfs: Path, tmp_path: Path, profile: str,
                                                                      fmt: str) -> None:
    """A fax (black and white, 200×100 dpi) as a TIFF or inside a PDF, and a 200 dpi scanner page
    inside a PDF (rendered at 300 dpi): every zone's evidence carries the scan's own resolution and
    bits, which choose the policy's table (``ocr.trust.scan_class``)."""
    import random
    from dataclasses import replace

    import bots
    from ocr import read_document

    src = pdfs / "child_medical" / "child_medical_0002.pdf"
    truth = json.loads(src.with_suffix(".json").read_text(encoding="utf-8"))
    rng = random.Random(5)
    drawn = s.fax_params(rng, "2025/04/01") if profile == "fax" else s.draw_params(rng, 200)
    p = replace(drawn, fmt=fmt, turns=0, seal=False, colour=False)
    path = tmp_path / f"page{s.EXT[fmt]}"
    s.save(s.degrade(src, truth, p, rng), path, p)
    doc = read_document(path, KakariConfig())
    bot_cls, _ = bots.classify(doc, ["child_medical", "restaurant_permit"])
    bot_cls().read(doc)
    evidence = [ev for page in doc.pages for _box, _kind, ev in page.reader.trace]
    assert evidence
    assert all(ev.dpi == pytest.approx(200, abs=1) and ev.bilevel == (profile == "fax") for ev in evidence)


def test_seal_goes_over_the_requester_name_of_the_third_form(pdfs: Path) -> None:
    import random

    centre = s.seal_centre("juminhyo_request", pdfs / "juminhyo_request" / "juminhyo_request_0001.pdf",
                           random.Random(1))
    from samples.layout import layout

    slot = layout("juminhyo_request").slots["requester_name"]
    assert centre is not None and slot.x < centre[0] < slot.x + slot.w and slot.y < centre[1] < slot.y + slot.h


def test_generate_scan_flag_writes_the_scan_like_set(tmp_path: Path) -> None:
    assert g.main(["--out", str(tmp_path), "--count", "2", "--seed", "3", "--forms", "restaurant_permit",
                   "--scan", "--profile", "clean", "--dpi", "200"]) == 0
    scans = sorted((tmp_path / "scan" / "clean-200dpi" / "restaurant_permit").glob("*.pdf"))
    assert [p.name for p in scans] == ["restaurant_permit_0001.pdf", "restaurant_permit_0002.pdf"]
    assert all(p.with_suffix(".json").is_file() for p in scans)


def test_unknown_profile_is_refused(pdfs: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scan profile"):
        s.make_scans(pdfs, tmp_path, profile="photocopier")
