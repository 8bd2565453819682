"""Whole-page OCR: every line of a scanned page with each character's box, for finding things
anywhere on a page (masking personal numbers), not for reading one template zone.

The page is turned upright (Tesseract OSD, or the orientation read with the most confidence when
OSD is unsure), ruled lines and the edges of digit boxes are erased (they are read as 1 or |),
and Tesseract ``jpn`` reads it with automatic layout (psm 3). Digits are then re-read by ``eng``
on their own line (``read_digits``): jpn's digits are the weaker of the two (0 read as 9).
Boxes are millimetres of the *upright* page, origin at its top-left corner.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kakari.model import Box
from ocr.document import Word
from ocr.preprocess import px, rot90

MM_PER_INCH = 25.4
OCR_DPI = 300.0  # pages are read at this resolution whatever the scan's
BOX_EDGE_MM = 4.5  # a vertical stroke this long touching a ruled line is a box edge, not a "1"
RULE_MM = 12.0  # horizontal ink runs this long are ruled lines
UNSURE_MEAN = 0.70  # mean character confidence below which the other orientations are tried


@dataclass
class PageText:
    """One upright page: its lines (characters in reading order) and how it was turned."""

    lines: list[list[Word]]
    turns: int  # clockwise quarter turns applied to the page as given
    gray: np.ndarray  # the upright page, uint8 at `dpi`
    dpi: float

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
    """The page with ruled lines and digit-box edges painted white. Characters are left alone: a
    vertical stroke only goes when it is as tall as a box and stands on or under a ruled line."""
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (px(RULE_MM, dpi), 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, px(BOX_EDGE_MM, dpi))))
    band = cv2.dilate(horiz, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 2 * px(BOX_EDGE_MM, dpi) + 1)))
    long_vert = cv2.morphologyEx(vert, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, px(RULE_MM, dpi))))
    rules = horiz | (vert & band) | long_vert
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8)) & ink
    out = gray.copy()
    out[rules.astype(bool)] = 255
    return out


def read_page(gray: np.ndarray, dpi: float, tessdata: Path, turns: int | None = None) -> PageText:
    """All lines of a scanned page, upright. `turns` forces the orientation (None: detect it)."""
    from ocr.tesseract import detect_turns

    gray = to_ocr_dpi(gray, dpi)
    dpi = OCR_DPI
    if turns is not None:
        return _read_upright(gray, dpi, tessdata, turns)
    first = detect_turns(gray, dpi, tessdata)
    best = _read_upright(gray, dpi, tessdata, first)
    if _mean_conf(best) >= UNSURE_MEAN:
        return best
    for k in (t for t in (0, 1, 2, 3) if t != first):  # OSD unsure or wrong: the most legible turn wins
        other = _read_upright(gray, dpi, tessdata, k)
        if _score(other) > _score(best):
            best = other
    return best


def _score(pt: PageText) -> float:
    return _mean_conf(pt) * sum(len(line) for line in pt.lines)


def _mean_conf(pt: PageText) -> float:
    confs = [w.confidence for line in pt.lines for w in line]
    return float(np.mean(confs)) if confs else 0.0


def _read_upright(gray: np.ndarray, dpi: float, tessdata: Path, turns: int) -> PageText:
    up = rot90(gray, turns)
    lines = ocr_lines(erase_rules(up, dpi), dpi, tessdata)
    return PageText(lines, turns, up, dpi)


def ocr_lines(image: np.ndarray, dpi: float, tessdata: Path, lang: str = "jpn", psm: int = 3) -> list[list[Word]]:
    """Tesseract's text lines of a page image, one Word per character with its box (mm) and
    confidence (0..1); a space Tesseract puts between words is kept as a Word " " spanning the gap."""
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
            current.append(Word(text, Box(1, x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s),
                                sym.Confidence(level) / 100.0))
        if current:
            lines.append(current)
    a.Clear()
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
    crop = erase_rules(page.gray[y0:y1, x0:x1], page.dpi) if y1 > y0 and x1 > x0 else None
    if crop is None or crop.size == 0:
        return "", 0.0
    crop = cv2.copyMakeBorder(crop, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)
    zt = ocr_crop(crop, "digitrun", tessdata, dpi=page.dpi, psm=7)
    digits = [g for g in zt.glyphs if g.text.isdigit()]
    return "".join(g.text for g in digits), min((g.conf for g in digits), default=0.0)
