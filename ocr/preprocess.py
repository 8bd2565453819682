"""Image clean-up between the scanner and Tesseract. Pure numpy/OpenCV, no OCR here.

- ``to_gray``: colour → grey with red dropout (the red channel), so a red seal (印) or a red printed
  guide vanishes instead of covering the characters under it.
- ``flatten``: divides by a smooth background estimate: uneven lighting, a shadow at the edge of a
  book scan or a yellowed sheet become white paper; faint toner is stretched back to dark.
- ``binarise``: Otsu on the flattened page, or Sauvola (local) for what flattening cannot fix.
- ``estimate_skew`` / ``rotate``: deskew by the angle that makes rows of ink sharpest.
- ``remove_lines``: ruled lines and box edges (long thin runs of ink) are erased, because they
  wreck Tesseract's layout analysis and get read as 一, ｜ or 1.
All images are uint8 arrays, 255 = paper, 0 = ink, unless a name says "mask" (bool, True = ink).
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

MM_PER_INCH = 25.4


def px(mm: float, dpi: float) -> int:
    """Millimetres → whole pixels at `dpi` (at least 1)."""
    return max(1, round(mm / MM_PER_INCH * dpi))


# -- grey -----------------------------------------------------------------------------------------
def to_gray(image: Image.Image | np.ndarray) -> np.ndarray:
    """uint8 grey page. Colour pages use the red channel: black and blue ink stay dark, red ink
    (seals, printed red guides) turns almost white — the scanner's 'red dropout' done in software."""
    a = np.asarray(image)
    if a.ndim == 2:
        return a if a.dtype == np.uint8 else a.astype(np.uint8)
    if a.shape[2] == 4:
        a = a[:, :, :3]
    red = a[:, :, 0]
    return np.ascontiguousarray(red)


# -- background and contrast ----------------------------------------------------------------------
def flatten(gray: np.ndarray, dpi: float) -> np.ndarray:
    """Paper → 255 everywhere (uneven light removed), ink stretched to full contrast.

    The background is the grey closing (max filter then min filter) with a window wider than any
    stroke, computed on a 1/4 copy for speed and blurred so it has no blocks."""
    h, w = gray.shape
    f = 4
    small = cv2.resize(gray, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    k = max(3, px(4.0, dpi / f) | 1)  # 4 mm: wider than the widest stroke of a 20 pt character
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    bg = cv2.GaussianBlur(bg, (0, 0), k / 2)
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
    bg = np.maximum(bg, 1).astype(np.float32)
    out = gray.astype(np.float32) / bg * 255.0
    out = np.clip(out, 0, 255)
    return stretch(out.astype(np.uint8))


def stretch(gray: np.ndarray) -> np.ndarray:
    """Map the ink level (a low percentile of the dark pixels) to 0: faint toner becomes black."""
    dark = gray[gray < 200]
    if dark.size < 50:
        return gray
    ink = float(np.percentile(dark, 10))
    if ink <= 5:
        return gray
    lut = np.clip((np.arange(256, dtype=np.float32) - ink) * 255.0 / max(1.0, 255.0 - ink), 0, 255)
    return lut.astype(np.uint8)[gray]


# -- binarisation ---------------------------------------------------------------------------------
def otsu_mask(gray: np.ndarray) -> np.ndarray:
    """True where ink, by Otsu's global threshold (use on a flattened image)."""
    if gray.size == 0:
        return np.zeros(gray.shape, bool)
    t, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # an empty (all-paper) crop has no bimodal histogram: Otsu then splits the noise; clamp it
    return gray < min(t, 200)


def sauvola_mask(gray: np.ndarray, window: int, k: float = 0.2, r: float = 128.0) -> np.ndarray:
    """True where ink, by Sauvola's local threshold T = m·(1 + k·(s/R − 1)) over a window."""
    g = gray.astype(np.float64)
    win = (window | 1, window | 1)
    mean = cv2.boxFilter(g, -1, win, borderType=cv2.BORDER_REFLECT)
    sq = cv2.boxFilter(g * g, -1, win, borderType=cv2.BORDER_REFLECT)
    std = np.sqrt(np.maximum(sq - mean * mean, 0))
    thresh = mean * (1 + k * (std / r - 1))
    return g < thresh


def binarise(gray: np.ndarray, dpi: float, method: str = "otsu") -> np.ndarray:
    """Ink mask of a page or crop. "otsu" expects a flattened image; "sauvola" works on any."""
    if method == "sauvola":
        return sauvola_mask(gray, px(8.0, dpi))
    return otsu_mask(gray)


def mask_to_image(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, 0, 255).astype(np.uint8)


def despeckle(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Drop connected ink components smaller than `min_area` pixels (scanner dust, noise)."""
    return drop_components(mask, 0, min_area)


# -- ruled lines ----------------------------------------------------------------------------------
def line_mask(mask: np.ndarray, min_len: int, max_thick: int = 0) -> np.ndarray:
    """Ink that belongs to horizontal or vertical runs at least `min_len` pixels long."""
    m = mask.astype(np.uint8)
    horiz = cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (min_len, 1)))
    vert = cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, min_len)))
    lines = (horiz | vert).astype(bool)
    if max_thick:  # thicken a little: anti-aliased edges of a line are not part of any character
        lines = cv2.dilate(lines.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & mask
    return lines


def remove_lines(mask: np.ndarray, dpi: float, min_len_mm: float = 12.0) -> np.ndarray:
    """The ink mask without ruled lines and box edges (runs ≥ `min_len_mm`, default 12 mm: longer than
    any stroke of a 20 pt character, shorter than the edge of any value cell)."""
    lines = line_mask(mask, px(min_len_mm, dpi), max_thick=1)
    return mask & ~lines


# -- skew and orientation -------------------------------------------------------------------------
def estimate_skew(gray: np.ndarray, dpi: float, max_deg: float = 5.0, step: float = 0.1) -> float:
    """Angle in degrees (counter-clockwise positive, as cv2) by which the page content is tilted.

    Projection profiles: rows of text and ruled lines give the sharpest horizontal profile when the
    page is straight. Done on a ~50 dpi ink mask, coarse (0.5°) then fine (`step`)."""
    f = 50.0 / dpi
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
    ink = (small < 160).astype(np.float32)
    if ink.sum() < 50:
        return 0.0

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D((ink.shape[1] / 2, ink.shape[0] / 2), -angle, 1.0)
        rot = cv2.warpAffine(ink, m, (ink.shape[1], ink.shape[0]), flags=cv2.INTER_LINEAR)
        prof = rot.sum(axis=1)
        return float(np.sum(np.diff(prof) ** 2))

    coarse = np.arange(-max_deg, max_deg + 1e-9, 0.5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, step)
    return float(max(fine, key=sharpness))


def rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    """Rotate by `angle` degrees (counter-clockwise positive) about the centre, keeping the size;
    uncovered corners become paper."""
    if abs(angle) < 1e-3:
        return gray
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def rot90(gray: np.ndarray, quarter_turns_cw: int) -> np.ndarray:
    """Rotate by multiples of 90° clockwise (exact, no resampling)."""
    return np.ascontiguousarray(np.rot90(gray, -(quarter_turns_cw % 4)))


def deskew(gray: np.ndarray, dpi: float) -> tuple[np.ndarray, float]:
    """(straightened page, angle removed in degrees)."""
    angle = estimate_skew(gray, dpi)
    return (rotate(gray, -angle), angle) if abs(angle) >= 0.05 else (gray, 0.0)


# -- crops ----------------------------------------------------------------------------------------
def ink_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the ink in a mask, exclusive ends, or None if there is none."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def clear_border_components(mask: np.ndarray, margin: int) -> np.ndarray:
    """Remove ink components lying entirely within `margin` px of the crop edge and touching it:
    slivers of a neighbouring cell's line or text that a slightly off zone catches."""
    return drop_components(mask, margin, 0)


def drop_components(mask: np.ndarray, margin: int, min_area: int) -> np.ndarray:
    """``clear_border_components`` (`margin` > 0) and ``despeckle`` (`min_area` > 1) in one labelling:
    dropping whole components leaves the others as they were, so both tests can be made at once."""
    border, specks = margin > 0, min_area > 1
    if not (border or specks) or not mask.any():
        return mask
    h, w = mask.shape
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    drop = np.zeros(len(stats), bool)
    if border:
        x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
        cw, ch = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
        touches = (x == 0) | (y == 0) | (x + cw >= w) | (y + ch >= h)
        drop |= touches & ((ch <= margin) | (cw <= margin))
    if specks:
        drop |= stats[:, cv2.CC_STAT_AREA] < min_area
    drop[0] = True  # the background
    return ~drop[labels]


def skew_angle_to_mm(angle_deg: float, length_mm: float) -> float:
    """How far (mm) one end of a `length_mm` line moves when rotated by `angle_deg` (for reports)."""
    return length_mm * math.sin(math.radians(abs(angle_deg)))
