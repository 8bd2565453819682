"""The transform the review screen shows a scan through (ocr.register): a page scanned with a known
tilt and shift is registered to its blank form; template points land where the known motion put
them, and the page cut through the alignment (``page_in_form``) has every zone where the form has
it; the alignment survives the record (``as_dict``) and a change of raster resolution (``at_dpi``)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr.register import MM_PER_INCH, Alignment, load_reference, page_in_form, register

ROOT = Path(__file__).resolve().parents[1]
SCAN_DPI = 200.0
ZONES = [(45.5, 63.5, 79, 7), (45.5, 71.5, 79, 9), (140, 25, 60, 9), (20, 230, 170, 20)]  # mm, over the page


def scanned(gray: np.ndarray, dpi: float, angle: float, dx_mm: float, dy_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """The page at SCAN_DPI turned by `angle` (degrees, counter-clockwise) about its centre and shifted:
    the image and the 3×3 motion (template mm → scan pixel index) that made it."""
    f = SCAN_DPI / dpi
    small = cv2.resize(gray, (round(gray.shape[1] * f), round(gray.shape[0] * f)), interpolation=cv2.INTER_AREA)
    h, w = small.shape
    s = SCAN_DPI / MM_PER_INCH
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    m[:, 2] += (dx_mm * s, dy_mm * s)
    image = cv2.warpAffine(small, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=250)
    mm_to_idx = np.array([[s, 0, -0.5], [0, s, -0.5], [0, 0, 1.0]])
    return image, np.vstack([m, [0, 0, 1.0]]) @ mm_to_idx


def assert_zones_in_place(page: np.ndarray, form: np.ndarray, dpi: float) -> None:
    """Each zone's printed lines and labels (the form's cell and its ruling, 6 mm around) are found
    on `page` within a pixel of where the blank `form` has them."""
    straight = cv2.resize(form, page.shape[::-1], interpolation=cv2.INTER_AREA)
    s = dpi / MM_PER_INCH
    pad = round(4 * s)
    for x, y, w, h in ZONES:
        x0, y0, x1, y1 = (round(v * s) for v in (x - 6, y - 6, x + w + 6, y + h + 6))
        scores = cv2.matchTemplate(page[y0 - pad:y1 + pad, x0 - pad:x1 + pad], straight[y0:y1, x0:x1],
                                   cv2.TM_CCOEFF_NORMED)
        _, _, _, (bx, by) = cv2.minMaxLoc(scores)
        assert abs(bx - pad) <= 1 and abs(by - pad) <= 1, (x, y, bx - pad, by - pad)


@pytest.fixture(scope="module")
def blank():  # noqa: ANN201
    ref = load_reference(ROOT / "bots" / "child_medical.blank.pdf")
    return ref.page(1)


@pytest.mark.parametrize("angle,dx,dy", [(2.5, 3.0, -2.5), (-3.0, -4.0, 5.0), (0.0, 0.0, 0.0)])
def test_known_tilt_and_shift_land_zones_within_a_pixel_or_two(blank, angle: float, dx: float, dy: float) -> None:  # noqa: ANN001
    scan, truth = scanned(blank.gray, blank.dpi, angle, dx, dy)
    al = register(scan, SCAN_DPI, blank)
    assert al.ok and abs(al.rotation_deg - angle) < 0.1
    for x, y, w, h in ZONES:
        for cx, cy in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
            want = truth @ np.array([cx, cy, 1.0])
            got = al.to_px(cx, cy)
            assert np.hypot(got[0] - want[0], got[1] - want[1]) < 2.0, (angle, cx, cy, got, want[:2])

    out_dpi = 110.0
    page = page_in_form(scan, al, blank.width_mm, blank.height_mm, out_dpi)
    assert_zones_in_place(page, blank.gray, out_dpi)


def test_alignment_keeps_in_the_record_and_across_resolutions(blank) -> None:  # noqa: ANN001
    scan, _ = scanned(blank.gray, blank.dpi, 1.5, 2.0, 1.0)
    al = register(scan, SCAN_DPI, blank)
    back = Alignment.from_dict(al.as_dict())
    assert np.allclose(back.matrix, al.matrix) and back.page_dpi == al.page_dpi and back.quarter_turns == 0
    half = al.at_dpi(SCAN_DPI / 2)  # the same page rasterised coarser: same point, half the pixels
    for x, y in ((10.0, 10.0), (200.0, 287.0)):
        col, row = al.to_px(x, y)
        assert np.allclose(half.to_px(x, y), ((col + 0.5) / 2 - 0.5, (row + 0.5) / 2 - 0.5))
    with pytest.raises(ValueError):
        Alignment.from_dict({"matrix": [[1, 0], [0, 1]], "dpi": 200})
    with pytest.raises(ValueError):
        Alignment.from_dict({"matrix": [[1, 0, float("nan")], [0, 1, 0]], "dpi": 200})


def test_the_zone_editors_sample_page_is_cut_through_the_same_transform(blank, tmp_path: Path) -> None:  # noqa: ANN001
    from PIL import Image

    from bots.child_medical import ChildMedical
    from bots.tryout import page_image
    from kakari.config import load_config

    scan, _ = scanned(blank.gray, blank.dpi, -2.0, 3.0, 2.0)
    path = tmp_path / "scan.png"
    Image.fromarray(scan).save(path, dpi=(SCAN_DPI, SCAN_DPI))
    config = load_config(ROOT / "samples" / "kakari.toml", tmp_path / "home")
    page = np.asarray(page_image(path, ChildMedical.template, config, 100))
    assert_zones_in_place(page, blank.gray, 100)


def test_a_page_read_without_a_blank_is_shown_deskewed(blank) -> None:  # noqa: ANN001
    """No blank form to register to: OCR reads through the page's own deskew, and so does the screen."""
    from ocr.document import Document, Page
    from ocr.reader import ScanReader
    from ocr.zones import page_frames

    scan, _ = scanned(blank.gray, blank.dpi, 1.5, 0.0, 0.0)
    reader = ScanReader(scan, SCAN_DPI, None, None)  # type: ignore[arg-type]  # no zone is recognised here
    page = Page(1, scan.shape[1] / SCAN_DPI * MM_PER_INCH, scan.shape[0] / SCAN_DPI * MM_PER_INCH, source="scan",
                reader=reader)
    doc = Document("d", Path("scan.png"), [page])
    assert page_frames(doc) == {}  # nothing read yet: no alignment to show
    reader.frame()  # what the first zone read does
    [(number, frame)] = page_frames(doc).items()
    al = Alignment.from_dict(frame)
    assert number == "1" and abs(al.rotation_deg - 1.5) < 0.1
    out = page_in_form(scan, al, frame["width_mm"], frame["height_mm"], 110.0)
    assert_zones_in_place(out, blank.gray, 110.0)
