"""Document, Page, Word: everything in millimetres with a top-left origin (pages count from 1).

Bots never see pixels or points. They ask a Document for the text in a zone (``read``) or whether a
zone is marked (``mark``); a text-layer page answers from its characters, a scanned page from OCR of
the zone's crop. That keeps bots engine-agnostic.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from kakari.model import Box

# kinds of zone reading; on scanned pages they choose Tesseract's model and characters, and the spaces
ReadKind = Literal["text", "line", "digits", "kana", "date", "char", "amount"]
MARK_GLYPHS = frozenset("☑☒✓✔✗✘■●◉レ×xX")


@dataclass(frozen=True)
class Word:
    """A run of text (or a single character) with its box and the engine's confidence (0..1)."""

    text: str
    box: Box
    confidence: float = 1.0
    font: str = ""  # text layer: the PDF font that drew it

    @property
    def cx(self) -> float:
        return self.box.x + self.box.w / 2

    @property
    def cy(self) -> float:
        return self.box.y + self.box.h / 2


@dataclass(frozen=True)
class Reading:
    text: str
    confidence: float  # 0..1
    evidence: Any = None  # scanned zones: what the trust policy weighs (ocr.reader.ZoneEvidence)


class ZoneReader(Protocol):
    """Reads zones of a scanned page (implemented in ocr/ by ``ocr.reader.ScanReader``)."""

    def read(self, page: Page, box: Box, kind: ReadKind) -> Reading: ...

    def mark(self, page: Page, box: Box) -> Reading: ...  # text "1" marked / "" not, with confidence

    def prefetch(self, page: Page, zones: list[tuple[Box, ReadKind]]) -> None: ...  # read these together


@dataclass
class Page:
    number: int
    width: float  # mm
    height: float  # mm
    source: Literal["text", "scan"] = "text"
    chars: list[Word] = field(default_factory=list)  # text layer: one Word per character
    marks: list[Box] = field(default_factory=list)  # vector strokes that are not ruling lines (ticks, circles)
    image: Any = None  # scanned page: a PIL image after preprocessing (registration done by ZoneReader)
    reader: ZoneReader | None = None
    lines: list[Word] = field(default_factory=list)  # whole-page OCR: text lines in reading order
    writing: Literal["horizontal", "vertical"] = "horizontal"
    # what is derived from chars/lines (text, centres, anchor order), asked for by every bot and
    # field; kept with the very lists it came from, so a page given new chars computes it afresh
    _derived: dict[str, tuple[list[Word], int, list[Word], int, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def _cached(self, key: str, make: Any) -> Any:
        got = self._derived.get(key)
        if got is not None and got[0] is self.chars and got[1] == len(self.chars) \
                and got[2] is self.lines and got[3] == len(self.lines):
            return got[4]
        value = make()
        self._derived[key] = (self.chars, len(self.chars), self.lines, len(self.lines), value)
        return value

    def chars_in(self, box: Box) -> list[Word]:
        """The characters whose centre lies in the box, in the layer's order."""
        x0, y0, x1, y1 = box.x, box.y, box.x1, box.y1
        return [c for c, (cx, cy) in zip(self.chars, self._centres(), strict=True)
                if x0 <= cx <= x1 and y0 <= cy <= y1]

    def _centres(self) -> list[tuple[float, float]]:
        return self._cached("centres", lambda: [(c.box.x + c.box.w / 2, c.box.y + c.box.h / 2) for c in self.chars])

    @property
    def text(self) -> str:
        if self.lines:  # read as a whole by OCR, in its reading order (vertical columns too)
            return "\n".join(w.text for w in self.lines)
        return self._cached("text", lambda: join_chars(self.chars))

    def find(self, label: str) -> Box | None:
        """Box of the first occurrence of `label` in this page's text layer, or None."""
        seq, text = self._cached("anchor order", lambda: anchor_order(self.chars))
        return _found(seq, text, label, self.number)


def join_chars(chars: list[Word], line_tol: float = 2.0, space_gap: float = 2.5) -> str:
    """Characters in reading order: lines top to bottom, left to right; a wide gap or a space glyph
    between two characters becomes one space."""
    if not chars:
        return ""
    # (centre y, centre x, position, char): sorting these is the stable sort by (cy, cx)
    ordered = sorted((c.box.y + c.box.h / 2, c.box.x + c.box.w / 2, i, c) for i, c in enumerate(chars))
    lines: list[list[tuple[float, int, Word]]] = []
    line_cy = 0.0
    for k, (cy, cx, _, c) in enumerate(ordered):
        if lines and abs(line_cy - cy) <= line_tol:
            lines[-1].append((cx, k, c))
        else:
            lines.append([(cx, k, c)])
            line_cy = cy
    out = []
    for line in lines:
        line.sort()  # by centre x, ties in the order above
        parts: list[str] = []
        prev: Word | None = None
        spaced = False  # a space glyph since the previous character
        for _, _, cur in line:
            if not cur.text.strip():
                spaced = prev is not None
                continue
            if prev is not None:
                # a half-width space is narrower than space_gap: compare with the glyphs' own width too
                gap = cur.box.x - prev.box.x1
                if spaced or gap > min(space_gap, 0.6 * min(prev.box.w, cur.box.w)):
                    parts.append(" ")
            parts.append(cur.text)
            prev, spaced = cur, False
        if parts:
            out.append("".join(parts))
    return "\n".join(out)


@dataclass
class Document:
    doc_id: str
    path: Path
    pages: list[Page]
    engine: str = "textlayer"  # which engine produced it, for stats
    notes: list[str] = field(default_factory=list)  # why pages were read the way they were (Japanese)

    def page(self, number: int) -> Page | None:
        return self.pages[number - 1] if 1 <= number <= len(self.pages) else None

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.pages)

    def read(self, box: Box, kind: ReadKind = "text") -> Reading:
        page = self.page(box.page)
        if page is None:
            return Reading("", 0.0)
        if page.source == "text":
            chars = page.chars_in(box)
            conf = min((c.confidence for c in chars), default=1.0)
            return Reading(join_chars(chars), conf)
        if page.reader is None:
            return Reading("", 0.0)
        return page.reader.read(page, box, kind)

    def prefetch(self, zones: list[tuple[Box, ReadKind]]) -> None:
        """Scanned pages: read these zones together (one recognition batch per page), so that the
        ``read`` calls that follow cost nothing. Text-layer pages need nothing."""
        by_page: dict[int, list[tuple[Box, ReadKind]]] = {}
        for box, kind in zones:
            by_page.setdefault(box.page, []).append((box, kind))
        for number, page_zones in by_page.items():
            page = self.page(number)
            fetch = getattr(page.reader, "prefetch", None) if page is not None and page.source == "scan" else None
            if fetch is not None:
                fetch(page, page_zones)

    def mark(self, box: Box) -> Reading:
        """Is the zone ticked or circled? Text "1" if marked, "" if not, with a confidence."""
        page = self.page(box.page)
        if page is None:
            return Reading("", 0.0)
        if page.source == "text":
            glyph = any(c.text in MARK_GLYPHS for c in page.chars_in(box))
            stroke = any(_inside(m, box.grown(1.0)) for m in page.marks if m.page == box.page)
            return Reading("1" if glyph or stroke else "", 1.0)
        if page.reader is None:
            return Reading("", 0.0)
        return page.reader.mark(page, box)

    def find(self, label: str, page: int | None = None) -> Box | None:
        """Box of the first occurrence of `label` in the text layer (anchor lookup), or None."""
        for p in self.pages:
            if page is not None and p.number != page:
                continue
            box = p.find(label)
            if box is not None:
                return box
        return None


def find_in_chars(chars: list[Word], label: str, page: int) -> Box | None:
    """Box of the first occurrence of `label` among these characters (spaces ignored), or None."""
    seq, text = anchor_order(chars)
    return _found(seq, text, label, page)


def anchor_order(chars: list[Word]) -> tuple[list[Word], str]:
    """The visible characters in the order anchors are looked up in (rows of 2 mm, left to right),
    and their text."""
    ordered = sorted(chars, key=lambda c: (round(c.cy / 2.0), c.cx))
    seq = [c for c in ordered if c.text.strip()]
    return seq, "".join(c.text for c in seq)


def _found(seq: list[Word], text: str, label: str, page: int) -> Box | None:
    target = label.replace(" ", "").replace("\u3000", "")
    if not target:
        return None
    i = text.find(target)
    if i < 0:
        return None
    hit = seq[i : i + len(target)]
    x0 = min(c.box.x for c in hit)
    y0 = min(c.box.y for c in hit)
    x1 = max(c.box.x1 for c in hit)
    y1 = max(c.box.y1 for c in hit)
    return Box(page, x0, y0, x1 - x0, y1 - y0)


def _inside(inner: Box, outer: Box) -> bool:
    return outer.x <= inner.x and outer.y <= inner.y and inner.x1 <= outer.x1 and inner.y1 <= outer.y1
