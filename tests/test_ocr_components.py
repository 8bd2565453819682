"""Zone cleaning drops border slivers and specks in one labelling: the same ink survives as when the
two are done one after the other, and what each removes is what a clerk would call noise."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocr.preprocess import drop_components


def _two_passes(mask: np.ndarray, margin: int, min_area: int) -> np.ndarray:
    """Border slivers removed, then the remaining ink labelled again and its specks removed."""
    h, w = mask.shape
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    x, y, cw, ch = (stats[:, i] for i in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
    sliver = ((x == 0) | (y == 0) | (x + cw >= w) | (y + ch >= h)) & ((ch <= margin) | (cw <= margin))
    sliver[0] = False
    kept = mask & ~sliver[labels]
    _, labels, stats, _ = cv2.connectedComponentsWithStats(kept.astype(np.uint8), connectivity=8)
    big = stats[:, cv2.CC_STAT_AREA] >= min_area
    big[0] = False
    return big[labels]


@pytest.mark.parametrize("seed", range(8))
def test_one_labelling_keeps_the_same_ink_as_two_passes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    mask = rng.random((90, 260)) < rng.uniform(0.02, 0.3)
    mask = cv2.dilate(mask.astype(np.uint8), np.ones((2, 2), np.uint8)).astype(bool)  # blobs of many sizes
    for margin, min_area in ((12, 6), (3, 20), (0, 6), (12, 0)):
        assert np.array_equal(drop_components(mask, margin, min_area), _two_passes(mask, margin, min_area))


def test_a_sliver_at_the_edge_and_a_speck_go_a_character_stays() -> None:
    mask = np.zeros((60, 200), bool)
    mask[0:4, 20:120] = True  # the neighbouring cell's ruled line caught at the top edge
    mask[30, 150] = True  # dust
    mask[15:45, 60:64] = True  # a stroke
    mask[28:32, 50:80] = True
    out = drop_components(mask, 12, 6)
    assert not out[0:4].any() and not out[30, 150]
    assert out[15:45, 60:64].all() and out[28:32, 50:80].all()
