"""Registration: where does each millimetre of the form's template lie on a scanned page?

A scan is the printed form, shifted by a few millimetres, scaled by a percent or two, rotated by a
degree or three, sometimes upside down. We align it to a *reference*: the blank form rendered from
its PDF (``bots/<form>.blank.pdf``). Both are reduced to ink images and matched with OpenCV's ECC
(enhanced correlation coefficient), coarse to fine: every right-way-up candidate (0°/180°, or
90°/270° for a sideways scan) at ~25 dpi with a rigid motion, the best one refined at ~50 dpi with a
full affine motion (shift, rotation, x/y scale, a little shear). The printed lines and labels of the
form dominate the correlation; what the applicant wrote is only a small part of the ink.

The result, an ``Alignment``, maps template mm → pixel indices of the scan as it was given, so crops
are taken from the untouched scan in one resampling (``crop``), rotation and scale included.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ocr.document import Word

MM_PER_INCH = 25.4
REF_DPI = 300  # reference pages are rendered at this resolution (mark baselines need detail)
COARSE_DPI = 25.0
FINE_DPI = 50.0
MIN_SCORE = 0.25  # below this correlation the page is not this form (or not findable)


# =============================================================================================
# Reference pages
# =============================================================================================
@dataclass
class RefPage:
    """A page of the blank form: grey image at `dpi`, its size in mm, its printed text."""

    number: int
    width_mm: float
    height_mm: float
    gray: np.ndarray
    dpi: float
    chars: list[Word] = field(default_factory=list)
    _levels: dict[float, np.ndarray] = field(default_factory=dict, repr=False)

    def level(self, dpi: float) -> np.ndarray:
        """ECC input at `dpi` (ink bright, blurred), cached."""
        out = self._levels.get(dpi)
        if out is None:
            out = ecc_image(self.gray, self.dpi, dpi)
            self._levels[dpi] = out
        return out


@dataclass
class Reference:
    path: Path | None
    pages: list[RefPage]

    def page(self, number: int) -> RefPage | None:
        return self.pages[number - 1] if 1 <= number <= len(self.pages) else None


_cache: OrderedDict[tuple[str, float], Reference] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 8  # a process serves a handful of forms; each reference page is ~9 MB at 300 dpi


def load_reference(path: Path) -> Reference:
    """The blank form at `path` (PDF with a text layer), rendered once per process and cached."""
    path = Path(path).resolve()
    key = (str(path), path.stat().st_mtime)
    with _cache_lock:
        ref = _cache.get(key)
        if ref is not None:
            _cache.move_to_end(key)
            return ref
    ref = _render_reference(path)
    with _cache_lock:
        _cache[key] = ref
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return ref


def _render_reference(path: Path) -> Reference:
    import pypdfium2 as pdfium

    from kakari.config import LimitsConfig
    from ocr.textlayer import read_textlayer

    text_pages = {p.number: p for p in read_textlayer(path, "reference", LimitsConfig())}
    pdf = pdfium.PdfDocument(str(path))
    pages = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            w_pt, h_pt = page.get_size()
            gray = np.asarray(page.render(scale=REF_DPI / 72.0, grayscale=True).to_pil().convert("L")).copy()
            page.close()
            tp = text_pages.get(i + 1)
            pages.append(RefPage(i + 1, w_pt / 72 * MM_PER_INCH, h_pt / 72 * MM_PER_INCH, gray, REF_DPI,
                                 list(tp.chars) if tp else []))
    finally:
        pdf.close()
    return Reference(path, pages)


def reference_from_image(gray: np.ndarray, dpi: float, chars: list[Word] | None = None) -> Reference:
    """A one-page reference from an image (tests, or a town that only has a scan of its blank form)."""
    h, w = gray.shape
    return Reference(None, [RefPage(1, w / dpi * MM_PER_INCH, h / dpi * MM_PER_INCH, gray, dpi, chars or [])])


# =============================================================================================
# Alignment
# =============================================================================================
@dataclass(frozen=True)
class Alignment:
    """Template mm → scan pixel indices: [col, row] = matrix @ [x_mm, y_mm, 1]."""

    matrix: np.ndarray  # 2×3 float64
    score: float  # ECC correlation at the fine level, 0..1 (≈0.5–0.9 for the right form)
    quarter_turns: int = 0  # clockwise quarter turns the scan needed to be upright
    page_dpi: float = 300.0  # resolution of the scan the matrix points into

    def to_px(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        c = self.matrix @ np.array([x_mm, y_mm, 1.0])
        return float(c[0]), float(c[1])

    @property
    def ok(self) -> bool:
        return self.score >= MIN_SCORE

    def linear(self) -> np.ndarray:
        """The 2×2 part in upright page terms (orientation removed), in px per mm."""
        a = self.matrix[:, :2]
        turn = _turn_linear(self.quarter_turns)
        return np.linalg.inv(turn) @ a  # undo the quarter turns: what remains is scan tilt and scale

    @property
    def rotation_deg(self) -> float:
        """Tilt of the scanned content relative to the template, degrees, counter-clockwise positive
        in the usual image view (y down)."""
        a = self.linear()
        return float(-np.degrees(np.arctan2(a[1, 0], a[0, 0])))

    @property
    def scale(self) -> tuple[float, float]:
        """Scale of the scanned content relative to the template (1.0 = same size), x and y."""
        a = self.linear() / (self.page_dpi / MM_PER_INCH)
        return float(np.hypot(a[0, 0], a[1, 0])), float(np.hypot(a[0, 1], a[1, 1]))

    def at_dpi(self, dpi: float) -> Alignment:
        """The same alignment into the same page rasterised at `dpi` (index → continuous, scale, back)."""
        f = dpi / self.page_dpi
        rescale = np.array([[f, 0.0, 0.5 * f - 0.5], [0.0, f, 0.5 * f - 0.5], [0.0, 0.0, 1.0]])
        return Alignment((rescale @ np.vstack([self.matrix, [0, 0, 1.0]]))[:2], self.score, self.quarter_turns, dpi)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (a document's record keeps the alignment its fields were read through)."""
        return {"matrix": [[float(v) for v in row] for row in self.matrix], "score": round(self.score, 4),
                "turns": self.quarter_turns, "dpi": self.page_dpi}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alignment:
        matrix = np.array(data["matrix"], dtype=np.float64)
        if matrix.shape != (2, 3) or not np.isfinite(matrix).all():
            raise ValueError("alignment matrix must be 2×3 finite numbers")
        return cls(matrix, float(data.get("score", 1.0)), int(data.get("turns", 0)), float(data["dpi"]))

    def shift_mm(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        """Where the template point (x, y) landed, relative to where it should be, in upright mm."""
        px_ = np.array(self.to_px(x_mm, y_mm))
        ident = identity(self.page_dpi)
        return tuple((px_ - np.array(ident.to_px(x_mm, y_mm))) / (self.page_dpi / MM_PER_INCH))  # type: ignore[return-value]


def identity(dpi: float) -> Alignment:
    """The alignment of a perfectly placed, upright scan at `dpi`: mm scaled to pixels."""
    s = dpi / MM_PER_INCH
    return Alignment(np.array([[s, 0.0, -0.5], [0.0, s, -0.5]]), 1.0, 0, dpi)


def _turn_linear(k: int) -> np.ndarray:
    """2×2 linear part of 'upright (after k clockwise turns) → as given'."""
    m = np.eye(2)
    one = np.array([[0.0, 1.0], [-1.0, 0.0]])  # upright x' → original: x = y', y = h − x'
    for _ in range(k % 4):
        m = m @ one
    return m


def upright_to_given(k: int, shape: tuple[int, int]) -> np.ndarray:
    """3×3 map of continuous coords in the image turned k× clockwise → the image as given."""
    h, w = shape
    m = np.eye(3)
    for _ in range(k % 4):
        # one clockwise turn of an h×w image gives a w×h image; x = y', y = h − x'
        step = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, h], [0.0, 0.0, 1.0]])
        m = m @ step
        h, w = w, h  # the next turn starts from the turned image
    return m


def ecc_image(gray: np.ndarray, dpi: float, target_dpi: float) -> np.ndarray:
    """float32 ink image at `target_dpi`: bright ink on black, blurred so ECC has a wide basin."""
    f = target_dpi / dpi
    small = cv2.resize(gray, (max(8, round(gray.shape[1] * f)), max(8, round(gray.shape[0] * f))),
                       interpolation=cv2.INTER_AREA)
    # ink = local paper level − grey: uneven lighting and yellowed paper drop out (a plain 255 − grey
    # would hand ECC a brightness gradient to explain); faint toner is scaled back up
    k = max(3, round(3.0 / MM_PER_INCH * target_dpi) | 1)
    paper = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    paper = cv2.blur(paper, (k, k))
    ink = np.clip(paper.astype(np.float32) - small.astype(np.float32), 0, None)
    top = float(np.percentile(ink, 99.5))
    if top > 1.0:
        ink *= 255.0 / top
    return cv2.GaussianBlur(np.minimum(ink, 255.0), (0, 0), 1.0)


def _ecc(template: np.ndarray, image: np.ndarray, warp: np.ndarray, motion: int,
         iterations: int, eps: float) -> tuple[float, np.ndarray]:
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, eps)
    try:
        cc, w = cv2.findTransformECC(template, image, warp.astype(np.float32), motion, criteria, None, 5)
    except cv2.error:
        return -1.0, warp
    return float(cc), w.astype(np.float64)


def _initial_shift(template: np.ndarray, image: np.ndarray) -> tuple[float, float]:
    """Translation (template → image) by phase correlation on equal-size canvases."""
    h = max(template.shape[0], image.shape[0])
    w = max(template.shape[1], image.shape[1])
    a = np.zeros((h, w), np.float32)
    b = np.zeros((h, w), np.float32)
    a[: template.shape[0], : template.shape[1]] = template
    b[: image.shape[0], : image.shape[1]] = image
    win = cv2.createHanningWindow((w, h), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, win)
    return float(dx), float(dy)


def candidate_turns(scan_shape: tuple[int, int], ref: RefPage) -> list[int]:
    """Clockwise quarter turns that give the scan the reference's portrait/landscape shape."""
    scan_portrait = scan_shape[0] >= scan_shape[1]
    ref_portrait = ref.height_mm >= ref.width_mm
    return [0, 2] if scan_portrait == ref_portrait else [1, 3]


@dataclass(frozen=True)
class Coarse:
    """The first, cheap step of registration (~7 ms per candidate turn): rigid ECC at COARSE_DPI."""

    score: float  # correlation, 0..1: the right form ≈ 0.7–0.9, another form of the same style ≈ 0.4–0.55
    turns: int
    warp: np.ndarray
    base: np.ndarray  # the scan's coarse ECC image (as given)


def coarse(scan: np.ndarray, dpi: float, ref: RefPage, turns: list[int] | None = None,
           base: np.ndarray | None = None) -> Coarse:
    """Rigid alignment at ~25 dpi over the candidate quarter turns: the best one. `base`: the scan's
    ``ecc_image`` at COARSE_DPI, when already made (it does not depend on the reference)."""
    turns = candidate_turns(scan.shape, ref) if turns is None else turns
    ref_c = ref.level(COARSE_DPI)
    base_c = ecc_image(scan, dpi, COARSE_DPI) if base is None else base
    best: tuple[float, int, np.ndarray] | None = None
    for k in turns:
        img = np.ascontiguousarray(np.rot90(base_c, -k))
        dx, dy = _initial_shift(ref_c, img)
        # phase correlation can be fooled (a mostly empty page; a faint, tilted scan whose table rows
        # line up one column off: 26 mm wrong, a local optimum ECC cannot leave), so ECC also starts
        # from no shift, and the better correlation wins; scans are placed within millimetres anyway
        for start in (np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]), np.eye(2, 3)):
            cc, w = _ecc(ref_c, img, start, cv2.MOTION_EUCLIDEAN, 60, 1e-4)
            if best is None or cc > best[0]:
                best = (cc, k, w)
    assert best is not None
    return Coarse(max(0.0, best[0]), best[1], best[2], base_c)


def register(scan: np.ndarray, dpi: float, ref: RefPage, turns: list[int] | None = None,
             first: Coarse | None = None) -> Alignment:
    """Align a grey scan (uint8, paper white) at `dpi` to a reference page (`first`: its coarse step,
    if already done). Never raises: a page that cannot be aligned gets a low score (``Alignment.ok``)."""
    first = coarse(scan, dpi, ref, turns) if first is None else first
    k, warp_c, base_c = first.turns, first.warp, first.base
    ref_c = ref.level(COARSE_DPI)

    # refine at the fine level: same motion in fine pixels, then full affine
    ref_f = ref.level(FINE_DPI)
    img_f = np.ascontiguousarray(np.rot90(ecc_image(scan, dpi, FINE_DPI), -k))
    warp_f = _rescale_warp(warp_c, ref_c.shape, img_c_shape(base_c, k), ref_f.shape, img_f.shape)
    cc, warp_f2 = _ecc(ref_f, img_f, warp_f, cv2.MOTION_AFFINE, 50, 1e-5)
    if cc < 0:
        cc, warp_f2 = first.score, warp_f
    matrix = _compose(warp_f2, ref, ref_f.shape, img_f.shape, scan.shape, k)
    return Alignment(matrix, max(0.0, cc), k, dpi)


def img_c_shape(base: np.ndarray, k: int) -> tuple[int, int]:
    return (base.shape[1], base.shape[0]) if k % 2 else (base.shape[0], base.shape[1])


def _rescale_warp(warp: np.ndarray, t_from: tuple[int, ...], i_from: tuple[int, ...],
                  t_to: tuple[int, ...], i_to: tuple[int, ...]) -> np.ndarray:
    """A warp between index coords of two images, re-expressed for resized versions of both."""
    def idx_scale(src: tuple[int, ...], dst: tuple[int, ...]) -> np.ndarray:
        fx, fy = dst[1] / src[1], dst[0] / src[0]
        # index → continuous (+0.5), scale, back to index (−0.5)
        return np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5], [0, 0, 1.0]])

    w3 = np.vstack([warp, [0, 0, 1.0]])
    out = idx_scale(i_from, i_to) @ w3 @ np.linalg.inv(idx_scale(t_from, t_to))
    return out[:2]


def _compose(warp: np.ndarray, ref: RefPage, ref_shape: tuple[int, ...], img_shape: tuple[int, ...],
             scan_shape: tuple[int, ...], k: int) -> np.ndarray:
    """template mm → reference work index → upright-scan work index → upright continuous →
    given-scan continuous → given-scan index."""
    sx = ref_shape[1] / ref.width_mm
    sy = ref_shape[0] / ref.height_mm
    mm_to_ref_idx = np.array([[sx, 0, -0.5], [0, sy, -0.5], [0, 0, 1.0]])
    w3 = np.vstack([warp, [0, 0, 1.0]])
    up_h, up_w = (scan_shape[1], scan_shape[0]) if k % 2 else (scan_shape[0], scan_shape[1])
    fx, fy = up_w / img_shape[1], up_h / img_shape[0]
    work_idx_to_up_cont = np.array([[fx, 0, 0.5 * fx], [0, fy, 0.5 * fy], [0, 0, 1.0]])
    up_to_given = upright_to_given(k, (scan_shape[0], scan_shape[1]))
    cont_to_idx = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1.0]])
    m = cont_to_idx @ up_to_given @ work_idx_to_up_cont @ w3 @ mm_to_ref_idx
    return m[:2]


# =============================================================================================
# Crops
# =============================================================================================
def crop(gray: np.ndarray, alignment: Alignment, x_mm: float, y_mm: float, w_mm: float, h_mm: float,
         out_dpi: float, border: int = 255) -> np.ndarray:
    """The template zone (x, y, w, h in mm) cut from the scan and resampled upright at `out_dpi`."""
    s = out_dpi / MM_PER_INCH
    out_w, out_h = max(1, round(w_mm * s)), max(1, round(h_mm * s))
    # output index (u, v) → template mm: x + (u + 0.5)/s
    out_to_mm = np.array([[1 / s, 0, x_mm + 0.5 / s], [0, 1 / s, y_mm + 0.5 / s], [0, 0, 1.0]])
    m = np.vstack([alignment.matrix, [0, 0, 1.0]]) @ out_to_mm
    value = (border,) * 3 if gray.ndim == 3 else border  # a colour page gets a white border too
    return cv2.warpAffine(gray, m[:2], (out_w, out_h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=value)


def page_in_form(image: np.ndarray, alignment: Alignment, width_mm: float, height_mm: float,
                 out_dpi: float) -> np.ndarray:
    """The whole template page (width × height mm) cut from the scan through `alignment`: the page as
    registered, upright, deskewed, at `out_dpi`; grey or colour, the area outside the scan white."""
    if alignment.page_dpi > out_dpi:  # shrink first: one bilinear step from a finer scan would alias
        f = out_dpi / alignment.page_dpi
        h, w = image.shape[:2]
        image = cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
        alignment = alignment.at_dpi(alignment.page_dpi * image.shape[1] / w)
    return crop(image, alignment, 0.0, 0.0, width_mm, height_mm, out_dpi)


def ref_crop(ref: RefPage, x_mm: float, y_mm: float, w_mm: float, h_mm: float, out_dpi: float) -> np.ndarray:
    """The same zone cut from the reference page (identity alignment at its own dpi)."""
    return crop(ref.gray, identity(ref.dpi), x_mm, y_mm, w_mm, h_mm, out_dpi)
