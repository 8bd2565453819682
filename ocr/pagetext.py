"""Whole-page OCR: every line of a scanned page with each character's box, for finding things
anywhere on a page (masking personal numbers), not for reading one template zone.

The page is turned upright (Tesseract OSD, or the orientation read with the most confidence when
OSD is unsure), ruled lines and the edges of digit boxes are erased (they are read as 1 or |),
and Tesseract ``jpn`` reads it with automatic layout (psm 3). Digits are then re-read by ``eng``
on their own line (``read_digits``): jpn's digits are the weaker of the two (0 read as 9).
Boxes are millimetres of the *upright* page, origin at its top-left corner.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from kakari.model import Box
from ocr.document import Word
from ocr.preprocess import px, rot90
from ocr.tesseract import Symbol

MM_PER_INCH = 25.4
OCR_DPI = 300.0  # pages are read at this resolution whatever the scan's
BOX_EDGE_MM = 4.5  # a vertical stroke this long touching a ruled line is a box edge, not a "1"
RULE_MM = 12.0  # horizontal ink runs this long are ruled lines
UNSURE_MEAN = 0.70  # mean character confidence below which the other orientations are tried
EXPLAINED = 0.60  # …or the share of the ink read as characters below which (a page read sideways)


@dataclass
class PageText:
    """One upright page: its lines (characters in reading order) and how it was turned."""

    lines: list[list[Word]]
    turns: int  # clockwise quarter turns applied to the page as given
    gray: np.ndarray  # the upright page, uint8 at `dpi`
    dpi: float
    box_rows: list[Box] = field(default_factory=list)  # rows of printed digit boxes (mm)
    explained: float = 1.0  # share of the ink the first reading turned into characters

    @property
    def width_mm(self) -> float:
        return self.gray.shape[1] / self.dpi * MM_PER_INCH

    @property
    def height_mm(self) -> float:
        return self.gray.shape[0] / self.dpi * MM_PER_INCH


def to_ocr_dpi(gray: np.ndarray, dpi: float) -> np.ndarray:
    """Resample a page to OCR_DPI (Tesseract's symbol boxes and our line widths assume it)."""
    if abs(dpi - OCR_DPI) < 1:
        return gray
    f = OCR_DPI / dpi
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)


def erase_rules(gray: np.ndarray, dpi: float) -> np.ndarray:
    """The page with ruled lines and digit-box edges painted white (see ``find_rules``)."""
    rules = find_rules(gray, dpi)
    out = gray.copy()
    out[rules] = 255
    return out


def find_rules(gray: np.ndarray, dpi: float) -> np.ndarray:
    """Ruled lines and digit-box edges (bool mask, with their grey fringe). Characters are left
    alone: a vertical stroke only counts when it is as tall as a box and stands on or under a
    ruled line."""
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (px(RULE_MM, dpi), 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, px(BOX_EDGE_MM, dpi))))
    band = cv2.dilate(horiz, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 2 * px(BOX_EDGE_MM, dpi) + 1)))
    long_vert = cv2.morphologyEx(vert, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, px(RULE_MM, dpi))))
    rules = horiz | (vert & band) | long_vert
    # the grey fringe of a line (anti-aliasing, blur) goes too, or Tesseract reads it as l or |
    return cv2.dilate(rules, np.ones((2 * px(0.25, dpi) + 1,) * 2, np.uint8)).astype(bool)


def even_light(gray: np.ndarray, dpi: float) -> np.ndarray:
    """Divide by the paper's own brightness (a closing wider than any stroke, on a small copy):
    uneven lighting and yellowed paper become white, so one threshold fits the whole page."""
    h, w = gray.shape
    f = 8
    small = cv2.resize(gray, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    k = max(3, px(4.0, dpi / f) | 1)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    bg = cv2.resize(cv2.GaussianBlur(bg, (0, 0), k / 2), (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, np.maximum(bg, 1), scale=255)


def clean_page(gray: np.ndarray, dpi: float) -> np.ndarray:
    """What Tesseract reads: light evened, rules erased, then black ink on white paper (Otsu): the
    grain of a noisy scan otherwise breaks widely spaced digits into letters."""
    return clean_and_rules(gray, dpi)[0]


def clean_and_rules(gray: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray]:
    flat = even_light(gray, dpi)
    rules = find_rules(flat, dpi)
    flat[rules] = 255
    t, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return np.where(flat > t, 255, 0).astype(np.uint8), rules


def read_page(gray: np.ndarray, dpi: float, tessdata: Path, turns: int | None = None) -> PageText:
    """All lines of a scanned page, upright. `turns` forces the orientation (None: detect it)."""
    from ocr.tesseract import detect_turns

    gray = to_ocr_dpi(gray, dpi)
    dpi = OCR_DPI
    if turns is not None:
        return _read_upright(gray, dpi, tessdata, turns)
    first = detect_turns(gray, dpi, tessdata)
    best = _read_upright(gray, dpi, tessdata, first)
    if _mean_conf(best) >= UNSURE_MEAN and best.explained >= EXPLAINED:
        return best
    for k in (t for t in (0, 1, 2, 3) if t != first):  # OSD unsure or wrong: the most legible turn wins
        other = _read_upright(gray, dpi, tessdata, k)
        if _score(other) > _score(best):
            best = other
    return best


def _score(pt: PageText) -> float:
    return _mean_conf(pt) * pt.explained


def _mean_conf(pt: PageText) -> float:
    confs = [w.confidence for line in pt.lines for w in line]
    return float(np.mean(confs)) if confs else 0.0


def _read_upright(gray: np.ndarray, dpi: float, tessdata: Path, turns: int) -> PageText:
    """Turned, then straightened for reading (a tilted digit box keeps its edges otherwise); the
    boxes read are turned back onto the upright page as scanned, which is the page released."""
    from ocr.preprocess import estimate_skew, rotate

    up = rot90(gray, turns)
    angle = estimate_skew(up, dpi)
    straight = rotate(up, -angle) if abs(angle) >= 0.1 else up
    clean, rules = clean_and_rules(straight, dpi)
    lines = ocr_lines(clean, dpi, tessdata)
    rest, explained = unexplained(clean, lines, dpi)
    lines += unread_ink(clean, rest, dpi, tessdata)
    rows = [Word("", b, 1.0) for b in digit_box_rows(rules, dpi)]
    if straight is not up:
        lines = [[_unrotated(w, angle, up.shape, dpi) for w in line] for line in lines]
        rows = [_unrotated(w, angle, up.shape, dpi) for w in rows]
    return PageText(lines, turns, up, dpi, [w.box for w in rows], explained)


MIN_UNREAD_INK_MM2 = 2.0  # less ink than this left unread is dust or a stray mark
MAX_REREADS = 24  # per page: the largest pieces of unread ink are read again, no more


def unexplained(clean: np.ndarray, lines: list[list[Word]], dpi: float) -> tuple[np.ndarray, float]:
    """Ink outside every character read (uint8 mask), and the share of the ink that was read."""
    s = dpi / MM_PER_INCH
    ink = (clean == 0).astype(np.uint8)
    explained = np.zeros_like(ink)
    g = px(0.8, dpi)
    for line in lines:
        for w in line:
            if w.text.strip():
                explained[max(0, int(w.box.y * s) - g): int(w.box.y1 * s) + g,
                          max(0, int(w.box.x * s) - g): int(w.box.x1 * s) + g] = 1
    rest = ink & (1 - explained)
    total = int(ink.sum())
    return rest, (1.0 - int(rest.sum()) / total) if total else 1.0


def unread_ink(clean: np.ndarray, rest: np.ndarray, dpi: float, tessdata: Path) -> list[list[Word]]:
    """Lines of ink the page reading left unexplained, read again on their own: upright as one
    line, and pieces taller than wide turned both ways (a number printed sideways in a margin)."""
    s = dpi / MM_PER_INCH
    # characters of a line join, across the space between digit groups of sideways text too
    joined = cv2.dilate(rest, cv2.getStructuringElement(cv2.MORPH_RECT, (px(1.5, dpi), px(3.0, dpi))))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    pieces = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        amount = int(rest[y:y + h, x:x + w][labels[y:y + h, x:x + w] == i].sum())
        if amount / (s * s) >= MIN_UNREAD_INK_MM2 and w < 0.9 * clean.shape[1] and h < 0.9 * clean.shape[0]:
            pieces.append((amount, x, y, w, h))
    out: list[list[Word]] = []
    for _, x, y, w, h in sorted(pieces, reverse=True)[:MAX_REREADS]:
        pad = px(1.5, dpi)
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(clean.shape[1], x + w + pad), min(clean.shape[0], y + h + pad)
        crop = clean[y0:y1, x0:x1]
        turns = (0,) if h < 1.8 * w else (1, 3)
        best: list[list[Word]] = []
        for k in turns:
            read = ocr_lines(_framed(rot90(crop, k)), dpi, tessdata, psm=7 if k == 0 else 6)
            read = [[_from_turned(wd, k, crop.shape, dpi, x0 - FRAME, y0 - FRAME) for wd in ln] for ln in read]
            if _lines_score(read) > _lines_score(best):
                best = read
        out += best
    return out


FRAME = 12  # white pixels around a piece read on its own (Tesseract wants a margin)


def _framed(img: np.ndarray) -> np.ndarray:
    return cv2.copyMakeBorder(img, FRAME, FRAME, FRAME, FRAME, cv2.BORDER_CONSTANT, value=255)


def _lines_score(lines: list[list[Word]]) -> float:
    confs = [w.confidence for ln in lines for w in ln if w.text.strip()]
    return float(np.mean(confs)) * len(confs) if confs else 0.0


def _from_turned(w: Word, k: int, crop_shape: tuple[int, ...], dpi: float, ox: int, oy: int) -> Word:
    """A box read on a framed crop turned k quarter turns clockwise, on the page (mm)."""
    s = dpi / MM_PER_INCH
    h, wd = crop_shape[0] + 2 * FRAME, crop_shape[1] + 2 * FRAME  # the framed crop before turning
    b = w.box
    xs, ys = (b.x * s, b.x1 * s), (b.y * s, b.y1 * s)
    pts = [(u, v) for u in xs for v in ys]
    if k % 4 == 1:  # turned clockwise: (u, v) on the turned crop was (v, h - u) on the crop
        pts = [(v, h - u) for u, v in pts]
    elif k % 4 == 3:  # turned anticlockwise: (u, v) was (wd - v, u)
        pts = [(wd - v, u) for u, v in pts]
    us, vs = [p[0] + ox for p in pts], [p[1] + oy for p in pts]
    return Word(w.text, Box(b.page, float(min(us) / s), float(min(vs) / s), float((max(us) - min(us)) / s),
                            float((max(vs) - min(vs)) / s)),
                w.confidence)


def digit_box_rows(rules: np.ndarray, dpi: float) -> list[Box]:
    """Rows of printed boxes one digit each: a connected piece of ruling 5–15 mm tall with at
    least four box edges across it (a table, taller, and a single cell are not)."""
    s = dpi / MM_PER_INCH
    m = rules.astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if not (5 * s <= h <= 15 * s and w >= 3 * h):
            continue
        mid = labels[y + h // 2, x:x + w] == i  # the row's middle line crosses each box edge once
        edges = int(np.count_nonzero(np.diff(mid.astype(np.int8)) == 1)) + int(mid[0])
        if edges >= 5:
            out.append(Box(1, x / s, y / s, w / s, h / s))
    return out


def _unrotated(w: Word, angle: float, shape: tuple[int, ...], dpi: float) -> Word:
    """A box read on the straightened page, on the page as it was (its corners' bounding box)."""
    h, wd = shape[:2]
    s = dpi / MM_PER_INCH
    m = cv2.getRotationMatrix2D((wd / 2, h / 2), angle, 1.0)  # straightened → as scanned
    b = w.box
    pts = np.array([[b.x * s, b.y * s, 1], [b.x1 * s, b.y * s, 1], [b.x * s, b.y1 * s, 1], [b.x1 * s, b.y1 * s, 1]])
    moved = pts @ m.T / s
    x0, y0 = moved.min(axis=0)
    x1, y1 = moved.max(axis=0)
    return Word(w.text, Box(b.page, float(x0), float(y0), float(x1 - x0), float(y1 - y0)), w.confidence)


def ocr_lines(image: np.ndarray, dpi: float, tessdata: Path, lang: str = "jpn", psm: int = 3) -> list[list[Word]]:
    """Tesseract's text lines of a page image, one Word per character with its box (mm) and
    confidence (0..1); a space Tesseract puts between words is kept as a Word " " spanning the gap."""
    from ocr import tesseract

    if not tesseract.in_process():
        return _lines_of(tesseract.symbols(image, lang, psm, dpi, tessdata), MM_PER_INCH / dpi)
    import tesserocr

    from ocr.tesseract import api

    a = api(lang, tessdata)
    a.SetPageSegMode(psm)
    a.SetVariable("tessedit_char_whitelist", "")
    h, w = image.shape
    a.SetImageBytes(np.ascontiguousarray(image).tobytes(), w, h, 1, w)
    a.SetSourceResolution(int(dpi))
    a.Recognize()
    s = MM_PER_INCH / dpi
    lines: list[list[Word]] = []
    it = a.GetIterator()
    if it is not None:
        level = tesserocr.RIL.SYMBOL
        current: list[Word] = []
        for sym in tesserocr.iterate_level(it, level):
            if sym.IsAtBeginningOf(tesserocr.RIL.TEXTLINE) and current:
                lines.append(current)
                current = []
            elif sym.IsAtBeginningOf(tesserocr.RIL.WORD) and current:
                bb = sym.BoundingBox(level)
                if bb:
                    prev = current[-1].box
                    x0 = prev.x1
                    current.append(Word(" ", Box(1, x0, prev.y, max(0.0, bb[0] * s - x0), prev.h), 1.0))
            try:
                text = sym.GetUTF8Text(level)
            except RuntimeError:
                continue
            bb = sym.BoundingBox(level)
            if not text or not bb:
                continue
            x0, y0, x1, y1 = bb
            if (x1 - x0) * s < 0.2 or (y1 - y0) * s < 0.4:
                continue  # a symbol without a real box (Tesseract's vertical lines): its ink is read again
            current.append(Word(text, Box(1, x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s),
                                sym.Confidence(level) / 100.0))
        if current:
            lines.append(current)
    a.Clear()
    return lines


def _lines_of(symbols: list[Symbol], s: float) -> list[list[Word]]:
    """The lines `ocr_lines` makes of characters read by the tesseract command (mm = pixels × s)."""
    lines: list[list[Word]] = []
    current: list[Word] = []
    for sym in symbols:
        if sym.line_start and current:
            lines.append(current)
            current = []
        elif sym.word_start and current:
            prev = current[-1].box
            current.append(Word(" ", Box(1, prev.x1, prev.y, max(0.0, sym.box[0] * s - prev.x1), prev.h), 1.0))
        x0, y0, x1, y1 = sym.box
        if (x1 - x0) * s < 0.2 or (y1 - y0) * s < 0.4:
            continue  # a symbol without a real box (Tesseract's vertical lines): its ink is read again
        current.append(Word(sym.text, Box(1, x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s), sym.conf))
    if current:
        lines.append(current)
    return lines


def read_digits(page: PageText, box: Box, tessdata: Path) -> tuple[str, float]:
    """eng's reading of the digits in `box` (mm of the upright page), with the weakest digit's
    confidence. Separators are dropped; letters eng confuses with digits are not guessed at."""
    from ocr.tesseract import ocr_crop

    s = page.dpi / MM_PER_INCH
    pad = 1.0
    x0, y0 = max(0, int((box.x - pad) * s)), max(0, int((box.y - pad) * s))
    x1 = min(page.gray.shape[1], int((box.x1 + pad) * s) + 1)
    y1 = min(page.gray.shape[0], int((box.y1 + pad) * s) + 1)
    crop = clean_page(page.gray[y0:y1, x0:x1], page.dpi) if y1 > y0 and x1 > x0 else None
    if crop is None or crop.size == 0:
        return "", 0.0
    best = ("", 0.0)
    for k in ((0,) if box.h < 1.5 * box.w else (1, 3)):  # sideways digits are read turned upright
        zt = ocr_crop(_framed(rot90(crop, k)), "digitrun", tessdata, dpi=page.dpi, psm=7)
        digits = [g for g in zt.glyphs if g.text.isdigit()]
        reading = ("".join(g.text for g in digits), min((g.conf for g in digits), default=0.0))
        if (len(reading[0]), reading[1]) > (len(best[0]), best[1]):
            best = reading
    return best
