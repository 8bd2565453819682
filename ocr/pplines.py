"""Whole-page OCR by PP-OCR: every text line the detector finds, read by the recogniser, one Word
per character with its box (mm of the page given), as ``ocr.pagetext`` gives Tesseract's lines.

A second engine for finding things anywhere on a page: where Tesseract drops or adds a digit (a
digit in a printed box, a noisy table cell), PP-OCR's reading of the same line often holds, and the
union of both is what a masker looks at. Detection runs on a copy at ``DETECT_DPI`` (the detector's
own scale for printed text); lines are read from the page itself. A line taller than wide (a
number printed sideways in a margin) is read turned both ways and the surer reading kept.
"""
from __future__ import annotations

import unicodedata

import cv2
import numpy as np

from kakari.model import Box
from ocr.document import Word
from ocr.ppocr import LineText, Recogniser
from ocr.preprocess import px, rot90

MM_PER_INCH = 25.4
DETECT_DPI = 150.0  # the page is shrunk to this for line detection (3 mm text is ~18 px high)
PAD_MM = 0.6  # white kept around each detected line when it is cut out for reading
MAX_LENGTH = 100  # a text line is at most this many times as long as it is tall (180 mm of 1.8 mm text)
JOIN_GAP = 3.0  # pieces on one line this many line heights apart or less are read as one line


def engine_errors() -> tuple[type[BaseException], ...]:
    from rapidocr.inference_engine.onnxruntime.main import ONNXRuntimeError

    return (ONNXRuntimeError, MemoryError)


def try_page_lines(gray: np.ndarray, dpi: float, recogniser: Recogniser) -> list[list[Word]] | None:
    """``page_lines``, or None when the engine runs out of memory (the caller reads with Tesseract
    alone and says so)."""
    try:
        return page_lines(gray, dpi, recogniser)
    except engine_errors():
        return None


def page_lines(gray: np.ndarray, dpi: float, recogniser: Recogniser) -> list[list[Word]]:
    """The page's lines (top to bottom), characters left to right (or along a sideways line)."""
    level, sideways = page_pieces(gray, dpi, recogniser)
    return joined(level) + sideways


Piece = tuple[float, list[Word]]  # where the detector's box starts (mm), the characters read in it


def page_pieces(gray: np.ndarray, dpi: float, recogniser: Recogniser) -> tuple[list[Piece], list[list[Word]]]:
    """What the detector found, read: level pieces (to be joined into lines) and sideways lines."""
    f = min(1.0, DETECT_DPI / dpi)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1.0 else gray
    boxes = recogniser.lines(small)
    pad = px(PAD_MM, dpi)
    h, w = gray.shape[:2]
    jobs: list[tuple[tuple[int, int, int, int], int]] = []
    crops: list[np.ndarray] = []
    for x0, y0, x1, y1 in boxes:
        bx0, by0 = max(0, int(x0 / f) - pad), max(0, int(y0 / f) - pad)
        bx1, by1 = min(w, int(np.ceil(x1 / f)) + pad), min(h, int(np.ceil(y1 / f)) + pad)
        if bx1 - bx0 < 4 or by1 - by0 < 4 or max(bx1 - bx0, by1 - by0) > MAX_LENGTH * min(bx1 - bx0, by1 - by0):
            continue  # a ruled frame's edge is no line of text (and would cost the recogniser gigabytes)
        crop = gray[by0:by1, bx0:bx1]
        for k in ((0,) if (by1 - by0) < 1.5 * (bx1 - bx0) else (1, 3)):
            jobs.append(((bx0, by0, bx1, by1), k))
            crops.append(rot90(crop, k))
    readings = _read_each(recogniser, crops)
    best: dict[tuple[int, int, int, int], tuple[float, list[Word]]] = {}
    for (where, k), reading in zip(jobs, readings):
        words = _words(reading, where, k, dpi)
        score = float(np.mean(reading.confs)) * len(words) if words and reading.confs else 0.0
        if where not in best or score > best[where][0]:
            best[where] = (score, words)
    sideways = [words for where, (_, words) in best.items() if words and _tall(where)]
    level = [(_start(where, pad, dpi), words) for where, (_, words) in best.items() if words and not _tall(where)]
    return level, sideways


def _start(where: tuple[int, int, int, int], pad: int, dpi: float) -> float:
    """Where the detector's own box of a line starts (mm), without the margin it was cut out with."""
    return (where[0] + pad) * MM_PER_INCH / dpi


ORIENTATION_SAMPLE = 12  # lines read both ways to tell an upright page from one upside down


def upside_down(gray: np.ndarray, dpi: float, recogniser: Recogniser) -> bool:
    """Does the page read better turned half round? The widest lines the detector finds (it finds
    them either way up) are read as they are and turned 180°; the surer reading wins."""
    f = min(1.0, DETECT_DPI / dpi)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1.0 else gray
    level = [b for b in recogniser.lines(small) if (b[3] - b[1]) < 1.5 * (b[2] - b[0])]
    level = sorted(level, key=lambda b: b[2] - b[0], reverse=True)[:ORIENTATION_SAMPLE]
    crops = [gray[int(y0 / f):int(np.ceil(y1 / f)), int(x0 / f):int(np.ceil(x1 / f))] for x0, y0, x1, y1 in level]
    crops = [c for c in crops if c.size]
    if not crops:
        return False
    readings = _read_each(recogniser, crops + [rot90(c, 2) for c in crops])
    as_is, turned = readings[:len(crops)], readings[len(crops):]
    return _sureness(turned) > _sureness(as_is)


def _read_each(recogniser: Recogniser, crops: list[np.ndarray]) -> list[LineText]:
    """Each line read on its own: a batch pads every line to the longest of it, and a page's lines
    in batches outgrow a reader process's memory limit."""
    return [r for c in crops for r in recogniser.read([c])]


def _sureness(readings: list[LineText]) -> float:
    """Mean character probability over all characters read (a line read wrong way up reads as few,
    unsure characters)."""
    confs = [c for r in readings for ch, c in zip(r.text, r.confs) if not ch.isspace()]
    return float(np.sum(confs)) / max(1, sum(max(1, len(r.text)) for r in readings))


def _tall(where: tuple[int, int, int, int]) -> bool:
    x0, y0, x1, y1 = where
    return (y1 - y0) >= 1.5 * (x1 - x0)


def joined(found: list[Piece], join_gap: float = JOIN_GAP) -> list[list[Word]]:
    """Pieces the detector found side by side on one text line joined into that line, left to
    right, with a space between them (it cuts widely spaced characters, such as digits in printed
    boxes, into a piece each). Which characters belong together is the reader's to decide. Where
    two pieces overlap, what the first read past the start of the second is the second's (a label's
    box reaching into the number after it reads part of its first digit)."""
    starts = {id(words): x for x, words in found}
    pieces = sorted(_distinct([words for _, words in found]), key=lambda ws: ws[0].box.x)
    lines: list[list[Word]] = []
    last: dict[int, list[Word]] = {}  # each line's last piece
    for piece in pieces:
        b = _extent(piece)
        home = None
        for line in lines:
            e = _extent(line)
            overlap = min(e.y1, b.y1) - max(e.y, b.y)
            gap = b.x - e.x1
            # a character alone in its piece is one of a spaced run (a digit in its box); between
            # pieces of several characters a word space is narrower than the line is tall, and a
            # wider gap parts two texts (cells of a table row)
            spaced = _single(piece) or _single(last[id(line)])
            reach = join_gap * max(e.h, b.h) if spaced else min(e.h, b.h)
            if overlap >= 0.5 * min(e.h, b.h) and -0.5 * b.h <= gap <= reach:
                home = line
                break
        if home is None:
            lines.append(list(piece))
            last[id(lines[-1])] = piece
            continue
        start = starts[id(piece)]
        while home and (home[-1].cx >= start or not home[-1].text.strip()):
            home.pop()
        if not home:
            lines.remove(home)
            lines.append(list(piece))
            last[id(lines[-1])] = piece
            continue
        prev = home[-1].box
        home.append(Word(" ", Box(1, prev.x1, prev.y, max(0.0, piece[0].box.x - prev.x1), prev.h), 1.0))
        home.extend(piece)
        last[id(home)] = piece
    return sorted(lines, key=lambda ws: (_extent(ws).y, _extent(ws).x))


def _single(piece: list[Word]) -> bool:
    return sum(1 for w in piece if w.text.strip()) == 1


def _distinct(pieces: list[list[Word]]) -> list[list[Word]]:
    """Pieces without those the detector found twice: one mostly inside a longer piece is a
    second detection of part of it (its characters would be read twice)."""
    out = []
    for piece in pieces:
        b = _extent(piece)
        inside = False
        for other in pieces:
            o = _extent(other)
            if other is piece or o.w * o.h < b.w * b.h:
                continue
            w = min(b.x1, o.x1) - max(b.x, o.x)
            h = min(b.y1, o.y1) - max(b.y, o.y)
            if w > 0 and h > 0 and w * h >= 0.5 * b.w * b.h and (o.w * o.h > b.w * b.h or id(other) < id(piece)):
                inside = True
                break
        if not inside:
            out.append(piece)
    return out


def _extent(words: list[Word]) -> Box:
    x0, y0 = min(w.box.x for w in words), min(w.box.y for w in words)
    return Box(1, x0, y0, max(w.box.x1 for w in words) - x0, max(w.box.y1 for w in words) - y0)


def _words(reading: LineText, where: tuple[int, int, int, int], k: int, dpi: float) -> list[Word]:
    """One Word per character, its box placed along the line by the recogniser's column; a space
    the recogniser read is kept as a Word spanning the gap (digit runs are split at it)."""
    solid = [(ch, c) for ch, c in zip(reading.text, reading.confs) if not ch.isspace()]
    if not solid or len(reading.centres) != len(solid):
        return []
    x0, y0, x1, y1 = where
    along = (x1 - x0) if k == 0 else (y1 - y0)  # the line's length in pixels, in reading order
    across = (y1 - y0) if k == 0 else (x1 - x0)
    centres = [c * along for c in reading.centres]
    spans: list[tuple[float, float]] = []
    for i, ((ch, _), c) in enumerate(zip(solid, centres)):
        half = 0.5 * across * (0.95 if unicodedata.east_asian_width(ch) in "WF" else 0.6)
        gaps = [abs(c - centres[j]) for j in (i - 1, i + 1) if 0 <= j < len(centres)]
        if gaps:  # never past the middle between two characters, never thinner than a stroke
            half = min(half, max(0.5 * min(gaps), 0.15 * across))
        spans.append((max(0.0, c - half), min(float(along), c + half)))
    s = MM_PER_INCH / dpi
    spaced = _space_after(reading.text)
    out: list[Word] = []
    for i, ((ch, conf), (a0, a1)) in enumerate(zip(solid, spans)):
        if i and spaced[i - 1]:
            g0 = spans[i - 1][1]
            out.append(Word(" ", _placed(g0, max(g0, a0), where, k, s), 1.0))
        out.append(Word(ch, _placed(a0, a1, where, k, s), float(conf)))
    return out


def _space_after(text: str) -> list[bool]:
    """For each character that is not a space: is a space read right after it?"""
    out: list[bool] = []
    for ch in text:
        if ch.isspace():
            if out:
                out[-1] = True
        else:
            out.append(False)
    return out


def _placed(a0: float, a1: float, where: tuple[int, int, int, int], k: int, s: float) -> Box:
    """A span along a line (pixels from where it starts reading) as a box on the page (mm)."""
    x0, y0, x1, y1 = where
    if k == 0:
        return Box(1, (x0 + a0) * s, y0 * s, max(0.0, a1 - a0) * s, (y1 - y0) * s)
    if k == 1:  # turned clockwise to be read: on the page the text runs bottom to top
        return Box(1, x0 * s, (y1 - a1) * s, (x1 - x0) * s, max(0.0, a1 - a0) * s)
    return Box(1, x0 * s, (y0 + a0) * s, (x1 - x0) * s, max(0.0, a1 - a0) * s)  # anticlockwise: top to bottom
