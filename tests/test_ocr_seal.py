"""A seal (印) that printed black over a name: flagged, never registered; names without one untouched."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.seal_rings import as_fax, name_zone
from ocr.ppocr import recogniser
from ocr.reader import ScanReader
from ocr.seal import has_seal
from ocr.tesseract import find_tessdata
from ocr.trust import SEAL
from ocr.zones import clean_crop
from tests.test_ocr_trust import field_of


@pytest.fixture(scope="module")
def reader() -> ScanReader:
    return ScanReader(np.full((10, 10), 255, np.uint8), 300.0, recogniser(), find_tessdata())


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
