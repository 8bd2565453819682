"""A round seal (印) stamped over a name, found in a cleaned zone crop.

On a colour scan the red dropout (``preprocess.to_gray``) removes a seal; on a fax or a grey scan it
prints black, and the recognisers read its rim and its carved surname as characters of the name
(山田　翔(111), 伊藤　直美伊), which the two may even agree on, or the ink confirm. Such a zone is
flagged, never registered: on a 1-bit page the seal's carved characters cannot be told from a name
character beneath it, so taking the seal out could leave a name a character short.

A seal is told from writing by its shape alone, so the test holds for any font, seal size or
rotation: a thin circular outline of a seal's diameter, inked along most of the part of it the crop
shows, on every side of its centre, standing over the line of writing beside it. Nothing else in a
name zone is that: the roundest strokes of printed or written names (の, 〇, ろ) are a character
high, under 8 mm.
"""
from __future__ import annotations

import cv2
import numpy as np

from ocr.preprocess import MM_PER_INCH, ink_bbox

# 印鑑登録 accepts an impression that does not fit in an 8 mm square; 認印 and 銀行印 are 9–15 mm, 実印 up
# to 18 mm; the rim's centre line, which is what is fitted, lies half a rim (~0.5 mm) inside the edge, and
# the search allows that much again on either side. In a name cell ~9 mm high an 18 mm ring shows too
# little of itself to be told from strokes, and an 8 mm one filled with its carved name is a blob
# more than a ring: what is found for certain is 10–15 mm (benchmarks/seal_rings.py)
SEAL_DIAMETER_MM = (7.0, 20.0)
RING_TOLERANCE_MM = 0.45  # ink this close to the circle is on it: half a carved rim (0.5–1 mm) plus blur
MIN_VISIBLE = 0.4  # share of the circle the crop must show (a 12 mm ring centred in a 9 mm zone: ~55 %)
MIN_INKED = 0.8  # share of the shown circle that must be inked (a seal prints unevenly; a fax drops dots)
OVERTOP_MM = 0.5  # a seal's rim reaches this far above and below the writing beside it
ARC_DEG = 30.0  # a rim is inked in long arcs: a stroke crossing the circle inks a few degrees of it
MIN_ARCS = 0.6  # share of the shown circle in such arcs (a fax's broken rim keeps most of its length)
MAX_BESIDE = 0.5  # share of the shown circle inked just inside or outside the rim: more is a blob, not a ring
BESIDE_MM = 0.8  # how far beyond the rim "beside" is looked at


def mm_px(mm: float, dpi: float) -> float:
    return mm / MM_PER_INCH * dpi


def has_seal(image: np.ndarray, dpi: float) -> bool:
    """Does the cleaned crop (uint8, paper 255) hold a seal's rim?"""
    return find_ring(image < 128, dpi) is not None


def find_ring(ink: np.ndarray, dpi: float) -> tuple[float, float, float] | None:
    """(x, y, radius) of the best-supported seal rim in an ink mask, or None. Hough proposes circles
    of a seal's size; each is refined on the ink and kept only if it is a ring standing over the
    writing beside it."""
    lo, hi = (mm_px(d / 2, dpi) for d in SEAL_DIAMETER_MM)
    box = ink_bbox(ink)
    if box is None or ink.shape[0] < lo or ink.shape[1] < 2 * lo:
        return None
    blurred = cv2.GaussianBlur(ink.astype(np.uint8) * 255, (0, 0), 2)
    found = cv2.HoughCircles(blurred, cv2.HOUGH_GRADIENT, dp=1, minDist=lo / 2, param1=100, param2=20,
                             minRadius=int(lo), maxRadius=int(np.ceil(hi)))
    if found is None:
        return None
    tol = mm_px(RING_TOLERANCE_MM, dpi)
    best: tuple[float, tuple[float, float, float]] | None = None
    for cx, cy, r in found[0][:8]:
        cx, cy, r = refine(ink, box, float(cx), float(cy), float(r), tol / 2)
        if not lo <= r <= hi:
            continue
        inked = is_ring(ink, box, cx, cy, r, tol, mm_px(BESIDE_MM, dpi))
        if inked is None or not overtops(ink, box, cx, cy, r, tol, mm_px(OVERTOP_MM, dpi)):
            continue
        if best is None or inked > best[0]:
            best = (inked, (cx, cy, r))
    return best[1] if best else None


def circle_points(cx: float, cy: float, r: float | np.ndarray, n: int = 360) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x, y) of `n` points round a circle (r: one radius, or one per row)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    rr = np.asarray(r, np.float64).reshape(-1, 1)
    return np.rint(cx + rr * np.cos(t)).astype(int), np.rint(cy + rr * np.sin(t)).astype(int)


def coverage(ink: np.ndarray, box: tuple[int, int, int, int], cx: float, cy: float, r: float,
             tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(shown, inked) per angle round the circle: shown where the point lies within the ink's box
    (outside it the zone ended; nothing is known), inked where ink lies within `tol` of the circle."""
    x0, y0, x1, y1 = box
    radii = r + np.arange(-np.floor(tol), np.floor(tol) + 1)
    xs, ys = circle_points(cx, cy, radii)
    shown_all = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    hit = np.zeros(xs.shape, bool)
    hit[shown_all] = ink[ys[shown_all], xs[shown_all]]
    xc, yc = circle_points(cx, cy, r)
    shown = ((xc >= x0) & (xc < x1) & (yc >= y0) & (yc < y1))[0]
    return shown, hit.any(axis=0) & shown


def refine(ink: np.ndarray, box: tuple[int, int, int, int], cx: float, cy: float, r: float,
           tol: float, reach: int = 4) -> tuple[float, float, float]:
    """The circle near (cx, cy, r) whose thin band holds ink at the most angles (Hough's centre and
    radius are a few pixels off on a clipped, textured ring)."""
    best, at = -1, (cx, cy, r)
    for dr in range(-reach, reach + 1, 2):
        for dy in range(-reach, reach + 1, 2):
            for dx in range(-reach, reach + 1, 2):
                _, inked = coverage(ink, box, cx + dx, cy + dy, r + dr, tol)
                n = int(inked.sum())
                if n > best:
                    best, at = n, (cx + dx, cy + dy, r + dr)
    return at


def is_ring(ink: np.ndarray, box: tuple[int, int, int, int], cx: float, cy: float, r: float, tol: float,
            beside: float) -> float | None:
    """The inked share of the shown circle if it is a seal's rim, else None: enough of it shown, most
    of that inked in long arcs, on all four sides of the centre, and a thin line (little ink just
    inside and just outside it, unlike a blob or a dense patch of strokes)."""
    shown, inked = coverage(ink, box, cx, cy, r, tol)
    n_shown = int(shown.sum())
    if n_shown < MIN_VISIBLE * shown.size:
        return None
    share = float(inked.sum()) / n_shown
    if share < MIN_INKED:
        return None
    quarters = inked.reshape(4, -1).sum(axis=1)
    if (quarters < 0.1 * inked.size / 4).any():  # each quarter of the circle carries some of the rim
        return None
    if long_arcs(inked) < MIN_ARCS * n_shown:  # strokes crossing a circle ink it in short bursts
        return None
    for off in (-beside - tol, beside + tol):
        s2, i2 = coverage(ink, box, cx, cy, r + off, 0)
        if s2.sum() and i2.sum() / s2.sum() > MAX_BESIDE:
            return None
    return share


def overtops(ink: np.ndarray, box: tuple[int, int, int, int], cx: float, cy: float, r: float, tol: float,
             margin: float) -> bool:
    """Does the circle's inked rim reach `margin` above and below the writing outside it? A seal of
    8 mm or more stands over a line of writing; a circle that strokes of the writing happen to ink
    (tangent to the sides of 直 and 美 written large) stays within the line's rows."""
    _shown, inked = coverage(ink, box, cx, cy, r, tol)
    _xs, ys = circle_points(cx, cy, r)
    rows = ys[0][inked]
    h, w = ink.shape
    yy, xx = np.mgrid[0:h, 0:w]
    writing = ink_bbox(ink & (np.hypot(xx - cx, yy - cy) > r + tol + margin))
    if writing is None or rows.size == 0:
        return rows.size > 0
    return bool(rows.min() <= writing[1] - margin and rows.max() >= writing[3] - 1 + margin)


def long_arcs(inked: np.ndarray) -> int:
    """How many of the circle's angles lie in unbroken inked arcs of at least ARC_DEG degrees."""
    if inked.all():
        return int(inked.size)
    start = int(np.argmin(inked))  # begin the walk at a gap, so no arc is split at the seam
    run, total = 0, 0
    for v in [*np.roll(inked, -start).tolist(), False]:
        if v:
            run += 1
        else:
            total += run if run * 360 >= ARC_DEG * inked.size else 0
            run = 0
    return total
