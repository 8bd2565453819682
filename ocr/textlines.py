"""The text layer of a PDF as lines of characters in any direction, for finding things anywhere on
a page (masking), where ``ocr.textlayer`` reads the upright characters of a form's zones.

Each character keeps its box (mm, top-left origin of the page as displayed, /Rotate applied) and
its writing direction (from its text matrix), so a number printed sideways in a margin is one line
read in its own order, like any other. Also reports how much of each page is covered by images:
a page carrying a picture (a scan inside a PDF, a photographed card) must be read by OCR too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kakari.model import Box
from ocr.document import Word
from ocr.textlayer import PT_MM, each_page

if TYPE_CHECKING:
    from kakari.config import LimitsConfig

LINE_GAP = 4.0  # a gap wider than this many character sizes ends a line
SAME_LINE = 0.5  # centres this many character sizes apart across the writing direction share a line


@dataclass
class TextPage:
    number: int
    width: float  # mm
    height: float  # mm
    lines: list[list[Word]]
    image_cover: float  # share of the page area under images (0..1, overlaps counted once at most)
    chars: int  # non-space characters in the text layer
    annotations: int  # annotations and form fields: their text is not in the page's content


def read_lines(path: Path, limits: LimitsConfig) -> list[TextPage]:
    """Every page's text-layer lines. Raises CorruptDocument, EncryptedDocument, TooLarge."""
    return each_page(path, limits, _page)


def _page(pp: Any) -> TextPage:
    number = int(pp.page_number)
    ox, oy = float(pp.bbox[0]), float(pp.bbox[1])
    width, height = float(pp.width) * PT_MM, float(pp.height) * PT_MM
    glyphs: list[tuple[int, Word]] = []
    for c in pp.chars:
        text = c.get("text") or ""
        x0, top = (float(c["x0"]) - ox) * PT_MM, (float(c["top"]) - oy) * PT_MM
        x1, bottom = (float(c["x1"]) - ox) * PT_MM, (float(c["bottom"]) - oy) * PT_MM
        glyphs.append((_direction(c), Word(text, Box(number, x0, top, x1 - x0, bottom - top), 1.0)))
    area = max(1e-9, width * height)
    cover = 0.0
    for im in pp.images:
        w = (min(float(im["x1"]), float(pp.bbox[2])) - max(float(im["x0"]), ox)) * PT_MM
        h = (min(float(im["bottom"]), float(pp.bbox[3])) - max(float(im["top"]), oy)) * PT_MM
        cover += max(0.0, w) * max(0.0, h) / area
    solid = sum(1 for _, g in glyphs if g.text.strip())
    return TextPage(number, width, height, group_lines(glyphs), min(1.0, cover), solid, len(pp.annots))


def _direction(c: dict[str, Any]) -> int:
    """Writing direction of a character in degrees, clockwise on the page (0 = left to right,
    90 = top to bottom, 270 = bottom to top), to the nearest quarter turn."""
    m = c.get("matrix") or (1, 0, 0, 1, 0, 0)
    a, b = float(m[0]), float(m[1])
    if abs(a) < 1e-9 and abs(b) < 1e-9:
        return 0
    angle = math.degrees(math.atan2(-b, a))  # PDF y points up, the page's down
    return round(angle / 90.0) % 4 * 90


def group_lines(glyphs: list[tuple[int, Word]]) -> list[list[Word]]:
    """Characters → lines: same direction, centres in one band across it, ordered along it, split
    where a gap is wider than LINE_GAP character sizes."""
    lines: list[list[Word]] = []
    by_dir: dict[int, list[Word]] = {}
    for d, g in glyphs:
        by_dir.setdefault(d, []).append(g)
    for d, words in by_dir.items():
        ux, uy = math.cos(math.radians(d)), math.sin(math.radians(d))

        def along(w: Word, ux: float = ux, uy: float = uy) -> float:
            return w.cx * ux + w.cy * uy

        def across(w: Word, ux: float = ux, uy: float = uy) -> float:
            return -w.cx * uy + w.cy * ux

        def size(w: Word, d: int = d) -> float:  # the character's extent across the writing direction
            return max(0.5, w.box.h if d in (0, 180) else w.box.w)

        bands: list[list[Word]] = []
        for w in sorted(words, key=across):
            if bands and abs(across(w) - across(bands[-1][-1])) <= SAME_LINE * size(w):
                bands[-1].append(w)
            else:
                bands.append([w])
        for band in bands:
            band.sort(key=along)
            solid = [w for w in band if w.text.strip()]
            if not solid:
                continue
            line: list[Word] = []
            for w in band:
                if line and along(w) - along(line[-1]) > LINE_GAP * max(size(w), size(line[-1])):
                    lines.append(line)
                    line = []
                line.append(w)
            lines.append(line)
    return [[w for w in line] for line in lines if any(w.text.strip() for w in line)]
