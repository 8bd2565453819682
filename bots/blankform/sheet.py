"""What a blank form prints, in millimetres from the page's top-left corner: text runs, ruled
segments (rectangle edges, lines, thin bars, typed ＿＿ underlines), small squares (□ typed or drawn,
character boxes) and shaded areas. ``from_pdf`` reads a PDF's text layer and drawing; a scan gives
the same primitives through ``bots.blankform.scan``. Everything after this module works on a Sheet,
so a scanned blank and a text-layer blank are analysed by the same rules.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

MM = 25.4 / 72  # mm per PDF point
AXIS = 0.3  # mm: a segment this far from horizontal/vertical over its length is still one
THIN = 1.2  # mm: a filled bar thinner than this is a ruled line
SQUARE_MIN, SQUARE_MAX = 2.2, 10.0  # mm: the sides of printed tick boxes and character boxes
BOX_GLYPHS = frozenset("□☐◻▢")
UNDERSCORES = frozenset("_＿")
SPACES = frozenset(" \u3000\t")


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def w(self) -> float:
        return self.x1 - self.x0

    @property
    def h(self) -> float:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def area(self) -> float:
        return max(0.0, self.w) * max(0.0, self.h)

    def inset(self, d: float) -> Rect:
        return Rect(self.x0 + d, self.y0 + d, self.x1 - d, self.y1 - d)

    def contains(self, x: float, y: float, tol: float = 0.0) -> bool:
        return self.x0 - tol <= x <= self.x1 + tol and self.y0 - tol <= y <= self.y1 + tol

    def overlap_x(self, o: Rect) -> float:
        return max(0.0, min(self.x1, o.x1) - max(self.x0, o.x0))

    def overlap_y(self, o: Rect) -> float:
        return max(0.0, min(self.y1, o.y1) - max(self.y0, o.y0))

    def union(self, o: Rect) -> Rect:
        return Rect(min(self.x0, o.x0), min(self.y0, o.y0), max(self.x1, o.x1), max(self.y1, o.y1))

    def xywh(self) -> tuple[float, float, float, float]:
        return (round(self.x0, 1), round(self.y0, 1), round(self.w, 1), round(self.h, 1))


@dataclass
class Run:
    """A run of printed text on one line (no space or wide gap inside). `chars` are the x extents
    of each character when known (text layer), for splitting 男・女 into its options."""

    text: str
    box: Rect
    confidence: float = 1.0
    chars: list[tuple[float, float]] = field(default_factory=list)

    @property
    def size(self) -> float:
        return self.box.h


@dataclass(frozen=True)
class Seg:
    """A ruled segment: horizontal when y0 == y1, vertical when x0 == x1."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def horizontal(self) -> bool:
        return abs(self.y1 - self.y0) <= abs(self.x1 - self.x0)

    @property
    def length(self) -> float:
        return max(abs(self.x1 - self.x0), abs(self.y1 - self.y0))


@dataclass
class Sheet:
    width: float
    height: float
    runs: list[Run] = field(default_factory=list)
    segs: list[Seg] = field(default_factory=list)
    squares: list[Rect] = field(default_factory=list)
    shaded: list[Rect] = field(default_factory=list)
    source: str = "text"  # "text" (a PDF's text layer) or "scan"

    @property
    def title(self) -> str:
        """The largest printed text near the top: the form's name."""
        top = [r for r in self.runs if r.box.y0 < self.height * 0.3 and len(r.text) >= 3] or self.runs
        return max(top, key=lambda r: (round(r.size, 1), -r.box.y0)).text if top else ""


# =============================================================================================
# A PDF's text layer and drawing
# =============================================================================================
def from_pdf(path: Path, page_number: int = 1) -> Sheet:
    """The primitives of one page of a PDF (pdfplumber)."""
    import pdfplumber

    with pdfplumber.open(path) as doc:
        page = doc.pages[page_number - 1]
        ox, oy = float(page.bbox[0]), float(page.bbox[1])
        sheet = Sheet(float(page.width) * MM, float(page.height) * MM)
        chars = [_char(c, ox, oy) for c in page.chars]
        sheet.runs, typed = runs_of([c for c in chars if c is not None])
        sheet.squares += typed.squares
        sheet.segs += typed.segs
        for r in page.rects:
            _rect(sheet, _box(r, ox, oy), r)
        for ln in page.lines:
            _line(sheet, ln, ox, oy)
        for cv in page.curves:  # rectangles drawn as paths; ruled lines drawn as paths
            _curve(sheet, cv, ox, oy)
    return sheet


@dataclass
class _Char:
    text: str
    box: Rect


def _box(o: dict[str, Any], ox: float, oy: float) -> Rect:
    return Rect((float(o["x0"]) - ox) * MM, (float(o["top"]) - oy) * MM, (float(o["x1"]) - ox) * MM,
                (float(o["bottom"]) - oy) * MM)


def _char(c: dict[str, Any], ox: float, oy: float) -> _Char | None:
    text = c.get("text") or ""
    if not text:
        return None
    if len(text) == 1 and 0x2E80 <= ord(text) <= 0x2FDF:
        text = unicodedata.normalize("NFKC", text)  # ⽇ (Kangxi radical) → 日
    return _Char(text, _box(c, ox, oy))


@dataclass
class _Typed:
    """What typed characters draw: □ as squares, ＿＿ as an underline."""

    squares: list[Rect] = field(default_factory=list)
    segs: list[Seg] = field(default_factory=list)


def runs_of(chars: list[_Char]) -> tuple[list[Run], _Typed]:
    """Characters → runs of text on a line, split at spaces and gaps wider than half a character;
    □ become squares and runs of ＿ an underline segment (not text)."""
    typed = _Typed()
    lines: list[list[_Char]] = []
    for c in sorted(chars, key=lambda c: (c.box.cy, c.box.x0)):
        for line in lines:
            ref = line[0].box
            if abs(ref.cy - c.box.cy) <= 0.35 * max(ref.h, c.box.h):
                line.append(c)
                break
        else:
            lines.append([c])
    runs: list[Run] = []
    for line in lines:
        line.sort(key=lambda c: c.box.x0)
        current: list[_Char] = []
        unders: list[_Char] = []
        for c in line:
            if c.text in SPACES:
                _flush(current, runs)
                _flush_under(unders, typed)
                continue
            if c.text in UNDERSCORES:
                _flush(current, runs)
                unders.append(c)
                continue
            _flush_under(unders, typed)
            if c.text in BOX_GLYPHS:
                _flush(current, runs)
                s = c.box.h * 0.8  # the glyph's square inside its em box
                typed.squares.append(Rect(c.box.cx - s / 2, c.box.cy - s / 2, c.box.cx + s / 2, c.box.cy + s / 2))
                continue
            if current and c.box.x0 - current[-1].box.x1 > 0.5 * max(c.box.h, current[-1].box.h):
                _flush(current, runs)
            current.append(c)
        _flush(current, runs)
        _flush_under(unders, typed)
    return runs, typed


def _flush(current: list[_Char], runs: list[Run]) -> None:
    """The characters gathered so far become one run."""
    if current:
        box = current[0].box
        for c in current[1:]:
            box = box.union(c.box)
        runs.append(Run("".join(c.text for c in current), box, 1.0, [(c.box.x0, c.box.x1) for c in current]))
        current.clear()


def _flush_under(unders: list[_Char], typed: _Typed) -> None:
    """A run of ＿ becomes an underline on the baseline, where writing sits."""
    if unders:
        y = max(c.box.y1 for c in unders) - 0.12 * unders[0].box.h
        typed.segs.append(Seg(unders[0].box.x0, y, unders[-1].box.x1, y))
        unders.clear()


def _shade(o: dict[str, Any]) -> bool:
    colour = o.get("non_stroking_color")
    values = colour if isinstance(colour, (list, tuple)) else (colour,)
    values = [v for v in values if isinstance(v, (int, float))]
    if not o.get("fill") or not values:
        return False
    if len(values) == 4:  # CMYK: any ink at all
        return sum(values) > 0.03
    return min(values) < 0.97


def _rect(sheet: Sheet, b: Rect, o: dict[str, Any]) -> None:
    stroked = bool(o.get("stroke"))
    if b.w < THIN or b.h < THIN:  # a filled or stroked bar: a ruled line
        if b.w >= THIN or b.h >= THIN:
            if b.w >= b.h:
                sheet.segs.append(Seg(b.x0, b.cy, b.x1, b.cy))
            else:
                sheet.segs.append(Seg(b.cx, b.y0, b.cx, b.y1))
        return
    if _shade(o) and b.w > 3 and b.h > 3:
        sheet.shaded.append(b)
    if stroked:
        sheet.segs += [Seg(b.x0, b.y0, b.x1, b.y0), Seg(b.x0, b.y1, b.x1, b.y1), Seg(b.x0, b.y0, b.x0, b.y1),
                       Seg(b.x1, b.y0, b.x1, b.y1)]
        if SQUARE_MIN <= b.w <= SQUARE_MAX and SQUARE_MIN <= b.h <= SQUARE_MAX and max(b.w, b.h) <= 1.3 * min(b.w, b.h):
            sheet.squares.append(b)


def _line(sheet: Sheet, o: dict[str, Any], ox: float, oy: float) -> None:
    pts = [((float(x) - ox) * MM, (float(y) - oy) * MM) for x, y in (o.get("pts") or [])]
    _polyline(sheet, pts)


def _curve(sheet: Sheet, o: dict[str, Any], ox: float, oy: float) -> None:
    path = o.get("path") or []
    if any(cmd[0] in ("c", "v", "y") for cmd in path):
        return  # a real curve (a printed ○): not ruling
    pts = [((float(x) - ox) * MM, (float(y) - oy) * MM) for x, y in (o.get("pts") or [])]
    if any(cmd[0] == "h" for cmd in path) and pts:
        pts.append(pts[0])
    _polyline(sheet, pts)


def _polyline(sheet: Sheet, pts: list[tuple[float, float]]) -> None:
    for (x0, y0), (x1, y1) in pairwise(pts):
        if abs(y1 - y0) <= AXIS and abs(x1 - x0) > AXIS:
            y = (y0 + y1) / 2
            sheet.segs.append(Seg(min(x0, x1), y, max(x0, x1), y))
        elif abs(x1 - x0) <= AXIS and abs(y1 - y0) > AXIS:
            x = (x0 + x1) / 2
            sheet.segs.append(Seg(x, min(y0, y1), x, max(y0, y1)))


def clean_label(text: str) -> str:
    """A printed label as a field label, as the town wrote it: without notes in brackets, ※,
    colons or spaces."""
    import re

    t = re.sub(r"[(（][^)）]*([)）]|$)", "", text)  # a note in brackets, also one cut off at the end
    t = re.sub(r"[\s:：※＊*]", "", t)
    return t.strip("・、。")
