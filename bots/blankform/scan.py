"""A scanned blank (paper only): straightened, its printed primitives found by morphology, its
labels read by the project's OCR engine through the engine interface (``ocr.engine.scan_engine``:
whichever engine is registered reads the text runs, so a better one can be swapped in).

The page is flattened (uneven light), deskewed, and binarised. Ruled lines are the ink that
survives an opening with a 4 mm bar (horizontal, vertical); hollow squares the size of a character
box or a tick box are found among the remaining ink; the rest is grouped into runs of text
(characters closer than 1.5 mm) and each run is read as one line. The straightened image is kept:
it becomes the blank the bot registers scans to (``bots.blankform.reference``).
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bots.blankform.sheet import SQUARE_MAX, SQUARE_MIN, Rect, Run, Seg, Sheet

if TYPE_CHECKING:
    import numpy as np

    from kakari.config import KakariConfig

WORK_DPI = 300  # image PDFs are rendered at this resolution
BAR_MM = 4.0  # the shortest ruled segment looked for (a side of a character box)
LONG_MM = 10.0  # longer than any stroke of a title's character
THICK_MM = 1.0  # a ruled line is thinner than this
JOIN_MM = 1.5  # characters closer than this belong to one run; a full-width space is wider
SHADE = 235  # a cell whose paper is darker than this (median grey) is shaded


@dataclass
class ScannedBlank:
    sheet: Sheet
    gray: Any  # np.ndarray: the page upright and straight, 255 = paper
    dpi: float
    skew: float  # degrees of tilt removed (counter-clockwise positive)


def from_scan(path: Path, config: KakariConfig) -> ScannedBlank:
    """The primitives of page 1 of a scanned blank (PNG, JPEG, TIFF, or a PDF without text)."""
    import numpy as np

    from ocr.inputs import sniff
    from ocr.preprocess import deskew, flatten
    from ocr.raster import rasterise

    kind = sniff(path, config.limits)
    [r] = rasterise(path, kind, [1], WORK_DPI, config.limits.max_pixels, config.limits.max_pages)
    dpi = float(r.dpi)
    gray = flatten(_any_ink(r.image), dpi)
    straight, angle = deskew(gray, dpi)
    ink = _ink(straight, dpi)
    lines, segs = _rulings(ink, dpi)
    squares, square_mask = _squares(ink & ~lines, dpi)
    sheet = Sheet(straight.shape[1] / dpi * 25.4, straight.shape[0] / dpi * 25.4, source="scan")
    sheet.segs = segs
    blocks = _blocks(ink & ~_grow(lines, dpi, 0.25) & ~square_mask, dpi)
    with tempfile.TemporaryDirectory() as tmp:
        read = _reader(straight, dpi, Path(tmp), config)
        sheet.runs = _read_runs(blocks, read, straight, dpi)
        sheet.squares = []
        for sq in squares:
            if not _character(sq, sheet.runs, read):
                sheet.squares.append(sq)
    sheet.shaded = _shaded(sheet, straight, dpi)
    return ScannedBlank(sheet, np.ascontiguousarray(straight), dpi, angle)


def _any_ink(image: Any) -> np.ndarray:
    """Grey where every printed colour is dark: a form may be ruled in red or green (the readers'
    red dropout, right for filled forms, would wipe a red-ruled blank's cells out)."""
    import numpy as np

    a = np.asarray(image)
    return np.ascontiguousarray(a[:, :, :3].min(axis=2)) if a.ndim == 3 else a


def _ink(gray: np.ndarray, dpi: float) -> np.ndarray:
    from ocr.preprocess import despeckle, otsu_mask

    return despeckle(otsu_mask(gray), max(4, int((0.2 / 25.4 * dpi) ** 2)))


def _grow(mask: np.ndarray, dpi: float, mm: float) -> np.ndarray:
    import cv2
    import numpy as np

    k = 2 * max(1, round(mm / 25.4 * dpi)) + 1
    return cv2.dilate(mask.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)


def _rulings(ink: np.ndarray, dpi: float) -> tuple[np.ndarray, list[Seg]]:
    """(mask of ruled ink, segments in mm): runs of ink at least BAR_MM long and thinner than THICK_MM.
    A run shorter than LONG_MM counts only where it meets a longer one (the divider of a row of
    character boxes, a short cell's side): a stroke of a large title character meets none."""
    import cv2
    import numpy as np

    from ocr.preprocess import px

    s = dpi / 25.4
    m = ink.astype(np.uint8)
    n = px(BAR_MM, dpi)
    mask = np.zeros(ink.shape, bool)
    found: list[tuple[Seg, tuple[int, int, int, int], np.ndarray]] = []
    for horizontal in (True, False):
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1) if horizontal else (1, n))
        opened = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
        count, _, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
        for i in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[i])
            thick = area / max(1, w if horizontal else h)  # mean: a slightly tilted line's box is taller
            if thick > THICK_MM * s:
                continue  # a solid block (a stamp, a black band): not a line
            if horizontal:
                seg = Seg(x / s, (y + h / 2) / s, (x + w) / s, (y + h / 2) / s)
            else:
                seg = Seg((x + w / 2) / s, y / s, (x + w / 2) / s, (y + h) / s)
            found.append((seg, (x, y, w, h), opened[y:y + h, x:x + w].astype(bool)))
    long_ = [seg for seg, _, _ in found if seg.length >= LONG_MM]
    segs: list[Seg] = []
    for seg, (x, y, w, h), piece in found:
        if seg.length < LONG_MM and not any(_meets(seg, other) for other in long_):
            continue
        segs.append(seg)
        mask[y:y + h, x:x + w] |= piece
    return mask, segs


def _meets(a: Seg, b: Seg, tol: float = 0.8) -> bool:
    """Does segment a end on (or cross) the perpendicular segment b?"""
    if a.horizontal == b.horizontal:
        return False
    h, v = (a, b) if a.horizontal else (b, a)
    return h.x0 - tol <= v.x0 <= h.x1 + tol and v.y0 - tol <= h.y0 <= v.y1 + tol


def _squares(ink: np.ndarray, dpi: float) -> tuple[list[Rect], np.ndarray]:
    """Hollow squares (□ printed or drawn) among the ink left after the rulings: inked along all
    four sides, paper inside."""
    import cv2
    import numpy as np

    s = dpi / 25.4
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    out: list[Rect] = []
    mask = np.zeros(ink.shape, bool)
    for i in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[i])
        if not (SQUARE_MIN * s <= w <= SQUARE_MAX * s and SQUARE_MIN * s <= h <= SQUARE_MAX * s):
            continue
        if max(w, h) > 1.3 * min(w, h):
            continue
        comp = labels[y:y + h, x:x + w] == i
        band = max(2, int(0.18 * min(w, h)))
        sides = [comp[:band].any(axis=0).mean(), comp[-band:].any(axis=0).mean(),
                 comp[:, :band].any(axis=1).mean(), comp[:, -band:].any(axis=1).mean()]
        inner = comp[band + 1:-band - 1, band + 1:-band - 1]
        if min(sides) < 0.85 or inner.size == 0 or inner.mean() > 0.03:
            continue
        out.append(Rect(x / s, y / s, (x + w) / s, (y + h) / s))
        mask[y:y + h, x:x + w] |= comp
    return out, mask


def _blocks(ink: np.ndarray, dpi: float) -> list[Rect]:
    """Runs of text: ink components joined across gaps narrower than JOIN_MM (a line's height apart
    they stay separate)."""
    import cv2
    import numpy as np

    from ocr.preprocess import px

    s = dpi / 25.4
    joined = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (px(JOIN_MM, dpi), px(0.8, dpi))))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    out: list[Rect] = []
    for i in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[i])
        if w < 0.6 * s and h < 0.6 * s:
            continue  # dust, or a dot too small to matter
        if w > 150 * s or h > 12 * s:
            continue  # not a line of text
        out.append(Rect(x / s, y / s, (x + w) / s, (y + h) / s))
    return _join_large(out)


def _join_large(blocks: list[Rect]) -> list[Rect]:
    """Blocks of one line of large text (a title) whose gap is under half their height: one run.
    The fixed JOIN_MM splits a 16 pt title at a narrow character."""
    out: list[Rect] = []
    for b in sorted(blocks, key=lambda b: (round(b.cy), b.x0)):
        for i, o in enumerate(out):
            same_line = abs(o.cy - b.cy) < 0.3 * max(o.h, b.h) and 0.7 * o.h <= b.h <= 1.4 * o.h
            if same_line and -0.5 <= b.x0 - o.x1 < 0.5 * max(o.h, b.h):
                out[i] = o.union(b)
                break
        else:
            out.append(b)
    return out


Read = Callable[[Rect], tuple[str, float]]


def _reader(gray: np.ndarray, dpi: float, tmp: Path, config: KakariConfig) -> Read:
    """(text, confidence) of a box of the page, one line, read by the registered scan engine."""
    from PIL import Image

    from kakari.model import Box
    from ocr.engine import scan_engine
    from ocr.inputs import sniff

    engine = scan_engine(config)
    png = tmp / "blank.png"
    Image.fromarray(gray).save(png, dpi=(dpi, dpi))
    [page] = engine.read_pages(png, sniff(png, config.limits), [1], config)

    def read(b: Rect) -> tuple[str, float]:
        if page.reader is None:
            return "", 0.0
        reading = page.reader.read(page, Box(1, b.x0 - 0.8, b.y0 - 0.8, b.w + 1.6, b.h + 1.6), "line")
        return "".join(reading.text.split()), reading.confidence

    return read


LABELS = Path(__file__).with_name("labels.txt")


def lexicon() -> frozenset[str]:
    """Words forms print as labels (labels.txt)."""
    lines = LABELS.read_text(encoding="utf-8").splitlines()
    return frozenset(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))


def snap(text: str, words: frozenset[str], crop: np.ndarray | None = None) -> str:
    """An OCR'd label that is no known label word but one character away from one (異動曰) is that
    word. Several such words (使用日的: 使用目的, 使用日時): the one whose different character fits
    the printed ink better than the character read, judged where the two drawings differ."""
    if len(text) < 3 or text in words:
        return text
    near = [w for w in words if len(w) == len(text) and sum(a != b for a, b in zip(w, text)) == 1]
    if len(near) <= 1 or crop is None:
        return near[0] if len(near) == 1 else text
    from ocr.glyphs import Matcher

    m = Matcher(crop)
    style = m.style(text)
    best, gain = text, 0.0
    for w in near:
        i = next(j for j, (a, b) in enumerate(zip(w, text)) if a != b)
        read_fit, word_fit = m.differ(text, i, text[i], w[i], style)
        if word_fit - read_fit > gain:
            best, gain = w, word_fit - read_fit
    return best


# radicals OCR reads for a printed 口 (they are no words' characters: a form never prints them)
RADICAL_KOU = str.maketrans({"凵": "口", "囗": "口"})


def _read_runs(blocks: list[Rect], read: Read, gray: np.ndarray, dpi: float) -> list[Run]:
    """Each block read as one line of text (labels snapped to the known words)."""
    words = lexicon()
    s = dpi / 25.4
    runs: list[Run] = []
    for b in blocks:
        if b.h < 0.8 and b.w >= 1.0:
            runs.append(Run("-", b, 1.0))  # a hyphen between character boxes
            continue
        text, confidence = read(b)
        text = text.translate(RADICAL_KOU)
        if text:
            crop = gray[max(0, int((b.y0 - 0.5) * s)):int((b.y1 + 0.5) * s), max(0, int((b.x0 - 0.5) * s)):int((b.x1 + 0.5) * s)]
            runs.append(_run(snap(text, words, crop), b, confidence))
    return runs


def _run(text: str, b: Rect, confidence: float) -> Run:
    step = b.w / len(text)
    return Run(text, b, confidence, [(b.x0 + i * step, b.x0 + (i + 1) * step) for i in range(len(text))])


# 口 is the one common kanji drawn as a bare square: inside a word (窓口, 入口), or starting one of these
KOU_WORDS = ("座", "頭", "径", "述", "数", "調", "語")


def _character(sq: Rect, runs: list[Run], read: Read) -> bool:
    """Is a square the kanji 口 rather than a box? Then it goes back into its run of text, which
    is read again with it."""
    near = sorted(runs, key=lambda r: r.box.x0)
    before = [r for r in near if -0.3 <= sq.x0 - r.box.x1 < 1.5 and r.box.overlap_y(sq) > 0.5 * sq.h]
    after = [r for r in near if -0.3 <= r.box.x0 - sq.x1 < 1.5 and r.box.overlap_y(sq) > 0.5 * sq.h]
    if not before and not (after and after[0].text.startswith(KOU_WORDS)):
        return False
    joined = [*before, *after]
    box = sq
    for r in joined:
        box = box.union(r.box)
    text, confidence = read(box)
    text = text.translate(RADICAL_KOU)
    head, tail = "".join(r.text for r in before), "".join(r.text for r in after)
    if not text or (len(text) == len(head) + 1 + len(tail) and text.startswith(head) and text.endswith(tail)):
        text = head + "口" + tail  # nothing read, or the square itself read as 凵, ロ or □: the 口 just decided on
    for r in joined:
        runs.remove(r)
    runs.append(_run(text, box, confidence))
    return True


def _shaded(sheet: Sheet, gray: np.ndarray, dpi: float) -> list[Rect]:
    import numpy as np

    from bots.blankform.cells import cells

    s = dpi / 25.4
    out = []
    for c in cells(sheet):
        inner = c.inset(0.8)
        crop = gray[int(inner.y0 * s):int(inner.y1 * s), int(inner.x0 * s):int(inner.x1 * s)]
        if crop.size and float(np.median(crop)) < SHADE:
            out.append(c)
    return out
