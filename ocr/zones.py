"""A field's zone, cut from a scan and cleaned for the recognisers; and aligning a scanned document to the
blank form a bot names (the one call bots make, through ``align_to_form``).

Cleaning a crop (``clean_crop``): the zone is cut upright at 300 dpi from the registered scan; ink
the blank form has there (a printed 円 or 〒, the edge of the cell) and long ruled lines are removed;
dust is dropped; the rest is trimmed to its ink and given a white margin, the layout line
recognisers read best. A zone with no ink left is empty: no OCR call, no invented text.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ocr.preprocess import drop_components, ink_bbox, line_mask, px

if TYPE_CHECKING:
    from ocr.document import Document, Page

CROP_DPI = 300.0  # zones are resampled to this resolution whatever the scan's
PRINTED_COVER = 0.75  # a component this much inside printed ink of the blank form is print, not writing
MIN_INK_MM2 = 0.6  # less ink than this in a zone (a 0.8 mm dot) is dust, the zone is empty


@dataclass
class CleanCrop:
    image: np.ndarray | None  # uint8, paper 255, trimmed and padded; None when empty
    ink_mm2: float  # ink left after cleaning
    height_px: int  # height of the trimmed ink


SPARSE_INK_PX = 40  # a zone as wide as a row holding one digit: its ink is under 0.2 % of the crop
# a space in free text, in ink heights: any gap this wide, or the widest if this wide and standing out
# this many times from the next (gaps between columns of any ink clean_crop kept, however faint: a thin
# 一 blurred to light grey is still a character); fitted by benchmarks/fit_spaces.py
KEPT_INK = 255
TEXT_SPACE = 1.3
TEXT_SPACE_LONE = 0.55
TEXT_SPACE_STANDS_OUT = 1.6


def ink_levels(gray: np.ndarray) -> tuple[float, float]:
    """(paper, threshold) of a crop: paper = the 90th percentile; the threshold is the grey level
    between paper and ink (ink = the darkest 0.2 %, or for a wide zone with little written in it,
    the darkest SPARSE_INK_PX pixels), -1 when the crop holds nothing but paper and noise."""
    paper, darkest = (float(v) for v in np.percentile(gray, [90, 0.2]))  # one partition for both
    if paper - darkest < 50 and gray.size * 0.002 > SPARSE_INK_PX:
        darkest = float(np.partition(gray.ravel(), SPARSE_INK_PX)[SPARSE_INK_PX])
    if paper - darkest < 50:
        return paper, -1.0
    return paper, (paper + darkest) / 2


def clean_crop(gray: np.ndarray, ref: np.ndarray | None, dpi: float = CROP_DPI, pad_px: int = 12,
               keep_gray: bool = True) -> CleanCrop:
    """A zone ready for the recognisers. `ref` is the same zone of the blank form (None: no reference)."""
    paper, t = ink_levels(gray)
    if t < 0:
        return CleanCrop(None, 0.0, 0)
    ink = gray < t
    if ref is not None:
        ink = _drop_printed(ink, ref, dpi)
    ink &= ~line_mask(ink, px(8.0, dpi), max_thick=1)
    ink = drop_components(ink, px(1.0, dpi), max(6, int((0.25 / 25.4 * dpi) ** 2)))
    mm2 = float(ink.sum()) / (dpi / 25.4) ** 2
    box = ink_bbox(ink)
    if box is None or mm2 < MIN_INK_MM2:
        return CleanCrop(None, mm2, 0)
    x0, y0, x1, y1 = box
    if keep_gray:
        # keep the anti-aliased grey of the strokes, but paint everything that is not kept ink white
        near = cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        near |= faint_strokes(gray, ink, t, paper)
        out = np.where(near, gray, 255).astype(np.uint8)
        out = _stretch(out, t)
    else:
        out = np.where(ink, 0, 255).astype(np.uint8)
    out = out[y0:y1, x0:x1]
    out = cv2.copyMakeBorder(out, pad_px, pad_px, pad_px, pad_px, cv2.BORDER_CONSTANT, value=255)
    return CleanCrop(out, mm2, y1 - y0)


def faint_strokes(gray: np.ndarray, ink: np.ndarray, threshold: float, paper: float) -> np.ndarray:
    """Grey lighter than the ink threshold that is joined to kept ink: a stroke thinner than a pixel
    (a Mincho face's horizontals, 山's base and 子's bar at 11 pt and 300 dpi) is only grey, and
    painting it white turns 山 into 三. Grey counts when it is darker than halfway from the
    threshold to the paper (the threshold's own rule, one step lighter); ink dropped as a ruled line
    or printed form stays dropped. `paper`: the crop's paper level (``ink_levels``)."""
    weak = gray < (paper + threshold) / 2
    n, labels = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(ink)
    joined = np.zeros(n, bool)
    joined[np.unique(labels[ink])] = True
    joined[0] = False
    return joined[labels] & (gray >= threshold)


def _stretch(gray: np.ndarray, threshold: float) -> np.ndarray:
    """Faint grey ink → black, paper → white, keeping the edges' anti-aliasing."""
    dark = gray[gray < threshold]
    if dark.size == 0:
        return gray
    lo = float(np.percentile(dark, 5))
    hi = min(255.0, threshold + (threshold - lo))
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * 255.0 / max(1.0, hi - lo), 0, 255).astype(np.uint8)
    return lut[gray]


def _drop_printed(ink: np.ndarray, ref: np.ndarray, dpi: float) -> np.ndarray:
    """Remove ink components that lie (mostly) on ink of the blank form."""
    if ref.shape != ink.shape:
        ref = cv2.resize(ref, (ink.shape[1], ink.shape[0]), interpolation=cv2.INTER_AREA)
    printed = ref < 160
    if not printed.any():
        return ink
    k = 2 * px(0.4, dpi) + 1
    printed = cv2.dilate(printed.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if n <= 1:
        return ink
    on_print = np.bincount(labels[printed], minlength=n)
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    drop = on_print >= PRINTED_COVER * np.maximum(area, 1)
    drop[0] = False
    return ink & ~drop[labels]


# =============================================================================================
# Where a cleaned crop has spaces and lines
# =============================================================================================
def space_cuts(image: np.ndarray, kind: str) -> list[float]:
    """x positions (crop pixels) where the writing has a space, from the ink's column profile.

    Neither recogniser reports spaces reliably (PP-OCR drops a full-width space or reads it as ー;
    Tesseract invents them between kanji and digits). Names and kana get at most one space (surname /
    given name): the widest gap, if it clearly stands out; other text at its wide spaces
    (``text_spaces``); numbers none."""
    if kind in ("digits", "amount", "char", "date"):
        return []
    if kind not in ("line", "kana"):
        return text_spaces(image)[0]
    return _widest_if_it_stands_out(ink_gaps(image), ink_height(image), 0.45, 1.6)


def text_spaces(image: np.ndarray) -> tuple[list[float], list[tuple[float, float]]]:
    """The spaces of a free-text line: x of those ``TEXT_SPACE`` heights wide or wider, where the line is
    cut and each part read alone, and (first, last) x of a narrower one, across which the line is read
    whole and the space put into the reading where the gap is (a part read alone loses its context:
    緑川 alone reads as 綠川). A narrower one is only ever the line's widest gap, so it has no wide ones."""
    gaps = ink_gaps(image, KEPT_INK)
    height = ink_height(image)
    cuts = set(text_space_cuts(gaps, height))
    wide = [x for x, w in gaps if x in cuts and w >= TEXT_SPACE * height]
    return wide, [(x - w / 2, x + w / 2) for x, w in gaps if x in cuts and w < TEXT_SPACE * height]


def text_space_cuts(gaps: list[tuple[float, float]], height: float, wide: float | None = None,
                    lone: float | None = None, stands_out: float | None = None) -> list[float]:
    """The gaps of a free-text line that are spaces: every gap `wide` ink heights wide or wider, and the
    widest if it is `lone` heights wide and `stands_out` times the next (defaults: the fitted ones)."""
    wide = TEXT_SPACE if wide is None else wide
    cuts = {x for x, w in gaps if w >= wide * height}
    cuts.update(_widest_if_it_stands_out(gaps, height, TEXT_SPACE_LONE if lone is None else lone,
                                         TEXT_SPACE_STANDS_OUT if stands_out is None else stands_out))
    return [x for x, _ in gaps if x in cuts]


def _widest_if_it_stands_out(gaps: list[tuple[float, float]], height: float, least: float, ratio: float
                             ) -> list[float]:
    widths = sorted((w for _, w in gaps), reverse=True)
    second = widths[1] if len(widths) > 1 else 0.0
    if widths and widths[0] >= least * height and widths[0] >= ratio * second:
        return [x for x, w in gaps if w == widths[0]][:1]
    return []


def ink_height(image: np.ndarray) -> float:
    """Pixels from the first to the last row holding ink (1 when none does): the unit gaps are measured in."""
    rows = np.nonzero((image < 128).any(axis=1))[0]
    return float(rows[-1] - rows[0] + 1) if rows.size else 1.0


def ink_gaps(image: np.ndarray, level: int = 128) -> list[tuple[float, float]]:
    """(centre x, width) of every run of columns with no pixel darker than `level` between the first and
    last such column."""
    cols = (image < level).any(axis=0)
    idx = np.nonzero(cols)[0]
    if idx.size == 0:
        return []
    inner = cols[idx[0] : idx[-1] + 1]
    edges = np.diff(inner.astype(np.int8))
    starts = np.nonzero(edges == -1)[0] + 1  # first empty column of a gap
    ends = np.nonzero(edges == 1)[0] + 1  # first inked column after it
    return [(float(idx[0] + (a + b) / 2), float(b - a)) for a, b in zip(starts, ends)]


def split_at(image: np.ndarray, cuts: list[float], pad: int = 12) -> list[np.ndarray]:
    """The crop cut into parts at the given x positions, each trimmed to its ink and padded."""
    bounds = [0, *[round(c) for c in cuts], image.shape[1]]
    parts = []
    for x0, x1 in itertools.pairwise(bounds):
        piece = image[:, x0:x1]
        box = ink_bbox(piece < 128)
        if box is None:
            continue
        a, b, c, d = box
        parts.append(cv2.copyMakeBorder(piece[b:d, a:c], pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255))
    return parts


def text_rows(image: np.ndarray, min_share: float = 0.4) -> int:
    """How many lines of writing a cleaned crop holds: bands of inked rows, each at least
    `min_share` as tall as the tallest (a stray dot or an underline is not a line)."""
    rows = (image < 128).any(axis=1).astype(np.int8)
    edges = np.diff(np.concatenate([[0], rows, [0]]))
    bands = [b - a for a, b in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0])]
    if not bands:
        return 0
    tallest = max(bands)
    return sum(1 for b in bands if b >= min_share * tallest)


# =============================================================================================
# The bots' entry: align a scanned document to a blank form
# =============================================================================================
def align_to_form(doc: Document, reference: Path, keywords: Sequence[str] = ()) -> float | None:
    """Align every scanned page of `doc` to the blank form `reference` (a PDF with a text layer)
    and say how sure we are that the document *is* that form (0..1).

    None when the document has no scanned page (text-layer PDFs are classified by their text).
    After the call, zones of the scanned pages are read through this form's registration, and each
    scanned page carries the form's printed text (in template mm) as its characters, so anchors
    (``保険者番号`` → the zone right of it) and keyword matching work as on a text-layer PDF.
    The score is the share of `keywords` that OCR confirms at the place the blank form prints them,
    times a registration-quality factor; alignment is cached per reference, so calling again (to
    classify, then to extract) costs nothing.
    """
    return _weakest_page(doc, reference, "use_reference", lambda use, page, ref_page: use(page, ref_page, keywords))


def layout_match(doc: Document, reference: Path) -> float | None:
    """How well the scanned pages' printed layout correlates with the blank form at a glance (the
    weakest page; 0..1), or None without scanned pages. The coarse step of registration, kept for
    ``align_to_form``: ranking every form by it costs ~15 ms each."""
    return _weakest_page(doc, reference, "layout_match", lambda match, _page, ref_page: match(ref_page))


def _weakest_page(doc: Document, reference: Path, method: str,
                  call: Callable[[Callable[..., float], Page, Any], float]) -> float | None:
    """`call(reader.<method>, page, blank page)` on every scanned page: the lowest result (0 for a
    page the blank form or the reader lacks), or None without scanned pages."""
    from ocr.register import load_reference

    scans = [p for p in doc.pages if p.source == "scan" and p.reader is not None]
    if not scans:
        return None
    ref = load_reference(reference)
    scores: list[float] = []
    for page in scans:
        ref_page = ref.page(page.number)
        fn = getattr(page.reader, method, None)
        scores.append(0.0 if ref_page is None or fn is None else call(fn, page, ref_page))
    return min(scores)


def page_frames(doc: Document) -> dict[str, dict[str, Any]]:
    """Page number → the alignment its zones were read through (``Alignment.as_dict``) and the size
    in mm of the form's page: what a review screen needs to show the scan as the form's coordinates
    see it. Pages read from their text layer (already in those coordinates) are not listed."""
    out: dict[str, dict[str, Any]] = {}
    for page in doc.pages:
        frame = getattr(page.reader, "known_frame", None) if page.source == "scan" else None
        known = frame() if frame is not None else None
        if known is not None:
            al, width_mm, height_mm = known
            out[str(page.number)] = {**al.as_dict(), "width_mm": round(width_mm, 3), "height_mm": round(height_mm, 3)}
    return out
