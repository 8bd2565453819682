"""How a form bot reads one zone of a document: its text, whether it is marked, and the parts of a
field written one character (or one gap of 年 月 日) at a time. On a text-layer page, what the blank
form itself prints in the zone (＿＿ typed as an underline, 年 月 日 between the gaps, a unit, a ○
drawn as a curve) is not read as anyone's writing; scanned pages get the same from the blank by ink
subtraction in ocr/."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bots.fields import field_type
from bots.template import FieldSpec, FormTemplate
from kakari.errors import KakariError
from kakari.model import Box
from ocr.document import MARK_GLYPHS, Document, Reading, Word, join_chars


def scanned(doc: Document, box: Box) -> bool:
    """Is the zone's page a scan (read by OCR)?"""
    page = doc.page(box.page)
    return page is not None and page.source != "text"


def read_zone(doc: Document, box: Box, kind: str, printed: Printed) -> Reading:
    """A zone's text; on a text-layer page without the characters the blank form prints at the same
    place (＿＿ typed as an underline, 年 月 日 between the gaps, a unit), which are no one's writing."""
    page = doc.page(box.page)
    if page is None or page.source != "text" or not printed.chars:
        return doc.read(box, kind=kind)  # type: ignore[arg-type]
    chars = [c for c in page.chars_in(box) if not printed.has_char(c)]
    return Reading(join_chars(chars), min((c.confidence for c in chars), default=1.0))


def read_part(doc: Document, box: Box, kind: str, printed: Printed) -> Reading:
    """One character box or gap. A box with ink the engine could not read in its kind's mode (a
    lone 9 eng's line mode drops) is read once more as a plain line of text."""
    reading = read_zone(doc, box, kind, printed)
    if not reading.text.strip() and reading.confidence < 0.5 and kind != "line":
        again = read_zone(doc, box, "line", printed)
        if again.text.strip():
            return again
    return reading


def read_mark(doc: Document, box: Box, printed: Printed) -> Reading:
    """Is the zone marked? On a text-layer page, strokes the blank form itself draws there (a ○
    printed as a curve) are not marks."""
    page = doc.page(box.page)
    if page is None or page.source != "text" or not printed.marks:
        return doc.mark(box)
    glyph = any(c.text in MARK_GLYPHS and not printed.has_char(c) for c in page.chars_in(box))
    zone = box.grown(1.0)
    stroke = any(zone.x <= m.x and zone.y <= m.y and m.x1 <= zone.x1 and m.y1 <= zone.y1 and not printed.has_mark(m)
                 for m in page.marks if m.page == box.page)
    return Reading("1" if glyph or stroke else "", 1.0)


PRINTED_TOLERANCE = 0.6  # mm: the same character or stroke this close to where the blank prints it is print


@dataclass(frozen=True)
class Printed:
    """What the blank form prints on one page: characters by text (their centres) and strokes."""

    chars: dict[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    marks: tuple[Box, ...] = ()

    def has_char(self, c: Word) -> bool:
        return any(abs(c.cx - x) <= PRINTED_TOLERANCE and abs(c.cy - y) <= PRINTED_TOLERANCE
                   for x, y in self.chars.get(c.text, ()))

    def has_mark(self, m: Box) -> bool:
        return any(max(abs(m.x - p.x), abs(m.y - p.y), abs(m.x1 - p.x1), abs(m.y1 - p.y1)) <= PRINTED_TOLERANCE
                   for p in self.marks)


NOTHING_PRINTED = Printed()


def printed_on(template: FormTemplate, spec: FieldSpec) -> Printed:
    """What the blank form prints on the field's page (nothing known without a blank)."""
    ref = template.reference_path()
    if ref is None or not ref.is_file():
        return NOTHING_PRINTED
    page = spec.zones[0].page if spec.zones else 1
    return _blank_print(str(ref), ref.stat().st_mtime_ns).get(page, NOTHING_PRINTED)


@lru_cache(maxsize=32)
def _blank_print(path: str, mtime_ns: int) -> dict[int, Printed]:
    from kakari.config import LimitsConfig
    from ocr.textlayer import read_textlayer

    try:
        pages = read_textlayer(Path(path), "blank", LimitsConfig())
    except KakariError:
        return {}
    out: dict[int, Printed] = {}
    for p in pages:
        by_text: dict[str, list[tuple[float, float]]] = {}
        for c in p.chars:
            by_text.setdefault(c.text, []).append((c.cx, c.cy))
        out[p.number] = Printed({k: tuple(v) for k, v in by_text.items()}, tuple(p.marks))
    return out


def part_kind(spec: FieldSpec, index: int, box: Box) -> str:
    """How a scan engine reads one part: a single character box as one character (a digit for
    numeric types); a gap of a date group as digits, or as an era and a year when no era is printed
    before the first gap (昭和58 written in 「　　年」)."""
    kind = field_type(spec.type).read_kind
    if spec.type == "wareki_date":
        era_printed = bool(spec.format) and not spec.format.startswith("{}")
        return "date" if index == 0 and not era_printed else "digits"
    if kind in ("digits", "amount"):
        return "digits"
    return "char" if box.w <= 1.3 * box.h else kind
