"""A seal (印) that printed black over a name: flagged, never registered; names without one untouched."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.ppocr import recogniser
from ocr.reader import ScanReader
from ocr.seal import has_seal
from ocr.tesseract import find_tessdata
from ocr.trust import SEAL
from ocr.zones import clean_crop
from samples.fonts import font
from tests.test_ocr_trust import field_of

DOTS_PER_MM = 300 / 25.4


@pytest.fixture(scope="module")
def reader() -> ScanReader:
    return ScanReader(np.full((10, 10), 255, np.uint8), 300.0, recogniser(), find_tessdata())


def name_zone(name: str, font_name: str, seal_mm: float | None, over_mm: float = 1.5, pt: float = 11.0) -> np.ndarray:
    """A 70 × 9 mm name cell at 300 dpi with `name` written in it and, if `seal_mm`, a black seal
    carved with the surname's first character stamped `over_mm` into the name's last character."""
    w, h = round(70 * DOTS_PER_MM), round(9 * DOTS_PER_MM)
    page = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(page)
    origin = (round(3 * DOTS_PER_MM), h // 2)
    draw.text(origin, name, fill=0, font=ImageFont.truetype(str(font(font_name).path), round(pt / 72 * 300)), anchor="lm")
    end = draw.textbbox(origin, name, font=ImageFont.truetype(str(font(font_name).path), round(pt / 72 * 300)),
                        anchor="lm")[2]
    if seal_mm is not None:
        d = round(seal_mm * DOTS_PER_MM)
        seal = Image.new("L", (d, d), 0)
        sd = ImageDraw.Draw(seal)
        rim = round(0.6 * DOTS_PER_MM)
        sd.ellipse((rim // 2, rim // 2, d - rim // 2 - 1, d - rim // 2 - 1), outline=255, width=rim)
        sd.text((d / 2, d / 2), name[0], fill=255, font=ImageFont.truetype(str(font("ipa-mincho").path), d // 2),
                anchor="mm")
        page.paste(0, (end - round(over_mm * DOTS_PER_MM), h // 2 - d // 2), seal.rotate(20, resample=Image.BILINEAR))
    return np.asarray(page)


def as_fax(gray: np.ndarray) -> np.ndarray:
    """The cell sent at 200 × 100 dpi, 1 bit, and read back at 300 dpi."""
    h, w = gray.shape
    small = cv2.resize(gray, (round(w * 200 / 300), round(h * 100 / 300)), interpolation=cv2.INTER_AREA)
    return cv2.resize(np.where(small < 145, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)


@pytest.mark.parametrize("fax", [False, True])
@pytest.mark.parametrize(("name", "seal_mm", "over_mm"), [("伊藤　直美", 12.0, 1.5), ("林　恵", 10.0, 3.0),
                                                         ("佐々木　はるか", 15.0, 0.5)])
def test_a_name_under_a_black_seal_goes_to_the_clerk(reader: ScanReader, name: str, seal_mm: float,
                                                     over_mm: float, fax: bool) -> None:
    # both engines may read the seal's rim and carved surname as the name's (伊藤 直美伊), and the ink
    # then confirms what they read: only the seal's shape tells
    gray = name_zone(name, "noto-serif", seal_mm, over_mm)
    [ev] = reader.evidence([(clean_crop(as_fax(gray) if fax else gray, None).image, "line")])
    if fax:
        ev.dpi = 200.0
    assert ev.sealed
    f = field_of("child_medical", "guardian_name", ev)
    assert SEAL in f.problems and f.confidence < 0.8


@pytest.mark.parametrize("font_name", ["ipa-gothic", "noto-serif", "klee-one"])
@pytest.mark.parametrize("name", ["伊藤　直美", "小野　〇〇", "森　のぞみ", "高橋　ろく"])
def test_round_writing_is_not_taken_for_a_seal(font_name: str, name: str) -> None:
    # 〇, の, ろ written even 7 mm high (20 pt) are a character high, not a ring standing over the line
    for pt in (11.0, 20.0):
        gray = name_zone(name, font_name, None, pt=pt)
        for image in (gray, as_fax(gray)):
            assert not has_seal(clean_crop(image, None).image, 300.0)
