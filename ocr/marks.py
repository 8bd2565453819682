"""Is a tick box ticked, is an option circled? Decided by ink, not by OCR.

The zone of an option (男・女, □社会保険 …) is cut from the registered scan and from the blank
reference at the same resolution. Ink printed on the form (the □, the option's text) is masked out
with a small tolerance for registration error; what is left is ink the applicant added. Its share
of the zone is compared with a threshold calibrated on the scan-like samples: a drawn circle or tick
adds 4–9 % of the zone, noise and dust well under 1 %. Confidence falls towards 0.5 near the
threshold, so a faint or tiny mark goes to 要確認 instead of being guessed.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr.preprocess import despeckle, px

THRESHOLD = 0.006  # added-ink share of the zone above which it is marked
SURE_MARGIN = 0.004  # this far from the threshold the decision is certain (confidence 1.0)
REF_TOLERANCE_MM = 0.35  # printed ink is masked this much wider: registration error, blur
NO_REF_PENALTY = 0.6  # without a reference printed ink cannot be told from a mark: never sure


@dataclass(frozen=True)
class MarkResult:
    marked: bool
    ratio: float  # added ink / zone area
    confidence: float  # 0.5 (coin flip) .. 1.0


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """Ink in a small crop: darker than midway between the paper and the darkest ink present."""
    if gray.size == 0:
        return np.zeros(gray.shape, bool)
    paper = float(np.percentile(gray, 90))
    darkest = float(np.percentile(gray, 0.5))
    if paper - darkest < 40:  # no real ink, just noise around the paper level
        return np.zeros(gray.shape, bool)
    return gray < (paper + darkest) / 2


def added_ink(scan: np.ndarray, ref: np.ndarray | None, dpi: float) -> np.ndarray:
    """Mask of ink in the scan crop that the blank form does not have there."""
    ink = ink_mask(scan)
    if ref is not None:
        printed = ref < 160
        k = 2 * px(REF_TOLERANCE_MM, dpi) + 1
        printed = cv2.dilate(printed.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
        ink &= ~printed
    # dust and JPEG ringing are smaller than 0.12 mm²; a mark's strokes are far longer
    return despeckle(ink, max(4, int((0.35 / 25.4 * dpi) ** 2)))


def decide(ratio: float, has_ref: bool) -> MarkResult:
    marked = ratio >= THRESHOLD
    distance = abs(ratio - THRESHOLD) / SURE_MARGIN
    conf = 0.5 + 0.5 * min(1.0, distance)
    if not has_ref:
        conf = min(conf, NO_REF_PENALTY)
    return MarkResult(marked, ratio, round(conf, 4))


def read_mark(scan: np.ndarray, ref: np.ndarray | None, dpi: float) -> MarkResult:
    """Decide one zone. `scan` and `ref` are grey crops of the same zone at `dpi` (ref may be None)."""
    if ref is not None and ref.shape != scan.shape:
        ref = cv2.resize(ref, (scan.shape[1], scan.shape[0]), interpolation=cv2.INTER_AREA)
    extra = added_ink(scan, ref, dpi)
    ratio = float(extra.mean()) if extra.size else 0.0
    return decide(ratio, ref is not None)
