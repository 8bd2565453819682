"""Seeded generator of blank forms in the styles towns really print, with ground truth, and filled
copies of each: the corpus `kakari bots new` and the zone editor are measured on.

    python -m samples.blanks --out DIR [--seed 42] [--fills 1] [--styles unshaded_cells,…]

For every style this writes OUT/<style>/blank.<pdf|png|tif|jpg> (a text-layer PDF, or a scan of the
printed blank), blank.json (title, fonts, scan damage, and every field's value area in mm: where the
applicant writes), and filled_NN.<pdf|png|…> + filled_NN.json (``{"fields": {name: value}}``, the
values normalised as the template grammar defines them). Half of the styles come out as scans.

Styles: unshaded label cells drawn as rectangles; ruled lines only; labels above or inside the
box; underline fields (氏名＿＿＿＿); digit boxes (〒□□□-□□□□); 年　月　日 groups; option rows
(□/○ with their labels, 「該当するものに○」); a table of repeated rows. Fonts, sizes, positions,
widths, label sets and order are drawn from the seed, so another seed gives blanks nobody tuned for.
Only synthetic people (samples.generate's lists).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from samples.generate import (
    PURPOSES,
    make_person,
    norm_name,
    norm_phone,
    norm_text,
    phone_number,
    random_date,
    town_address,
    wareki,
    written_kana,
)

PAGE_W, PAGE_H = 210.0, 297.0
PT = 25.4 / 72
ASCENT = 0.88  # baseline below the top of the em box, as a share of the size (IPA and most CJK fonts)
STYLES = ("unshaded_cells", "ruled_lines", "labels_above", "underline", "digit_boxes", "date_groups",
          "option_rows", "table_rows")
# printed fonts of samples.fonts' catalogue: the suite's blanks use these six; other seeds draw from
# every printed font found here (Noto, Sawarabi Mincho, M PLUS … too)
SUITE_FONTS = ("ipa-mincho", "ipa-gothic", "ipaex-mincho", "vl-gothic", "sawarabi-gothic", "ipaex-gothic")
VALUE_FONT = "ipa-gothic"  # what the filled copies are "written" in
VALUE_PT = 11.0

Rect4 = tuple[float, float, float, float]  # x, y, w, h in mm from the top-left


def fonts_for(seed: int) -> list[str]:
    """The fonts a seed's blanks may be printed in."""
    if seed == 42:
        return list(SUITE_FONTS)
    from samples.fonts import available

    return [f.name for f in available("printed") if f.spec is not None and f.spec.source.startswith("Debian")]


def _need_fonts(names: list[str]) -> None:
    """Register the fonts with reportlab (as single-face TrueType files, converted where needed)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from kakari.errors import MissingDependency
    from samples.fonts import font

    for name in {*names, VALUE_FONT}:
        if name in pdfmetrics.getRegisteredFontNames():
            continue
        try:
            pdfmetrics.registerFont(TTFont(name, str(font(name).truetype())))
        except FileNotFoundError as e:
            raise MissingDependency(f"日本語フォントがありません: {name}", fix=str(e)) from None


# =============================================================================================
# What a blank is made of
# =============================================================================================
@dataclass
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    font: str
    align: Literal["left", "centre", "right"] = "left"


@dataclass
class Line:
    x0: float
    y0: float
    x1: float
    y1: float
    width: float = 0.5  # points


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    stroke: bool = True
    fill: float | None = None  # grey level of a shaded cell
    width: float = 0.5


@dataclass
class Column:
    name: str
    label: str
    type: str
    x: float
    w: float


@dataclass
class Truth:
    """One field of a blank: where its value goes. ``box`` is the value area (the union of the parts
    or options for those); a person's mark goes on ``marks`` (the option's text or its □)."""

    name: str
    label: str
    type: str
    kind: Literal["box", "parts", "options", "table"]
    box: Rect4
    value: str  # what kind of value is written (see _VALUES)
    parts: list[Rect4] = field(default_factory=list)
    format: str = ""
    options: dict[str, Rect4] = field(default_factory=dict)
    marks: dict[str, Rect4] = field(default_factory=dict)
    mark_style: Literal["circle", "check", ""] = ""
    unit: str = ""
    columns: list[Column] = field(default_factory=list)  # table: one field per column …
    rows: int = 0  # … and this many rows
    row_y: float = 0.0  # top of the first row's value area
    row_pitch: float = 0.0
    row_h: float = 0.0


@dataclass
class Blank:
    style: str
    title: str
    fonts: list[str]
    texts: list[Text] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    rects: list[Rect] = field(default_factory=list)
    fields: list[Truth] = field(default_factory=list)
    scan: dict[str, Any] | None = None  # the damage of the scanned blank, if it is one

    def text(self, x: float, y: float, s: str, size: float, font: str, align: str = "left") -> None:
        self.texts.append(Text(x, y, s, size, font, align))  # type: ignore[arg-type]

    def add(self, t: Truth) -> Truth:
        self.fields.append(t)
        return t


def text_width(s: str, size: float, font: str) -> float:
    from reportlab.pdfbase import pdfmetrics

    return pdfmetrics.stringWidth(s, font, size) * PT


def baseline(top: float, h: float, size: float) -> float:
    """Baseline that centres a line of `size` pt text in a band."""
    s = size * PT
    return top + h / 2 + (ASCENT - 0.12) / 2 * s


def inset(r: Rect4, d: float = 1.0) -> Rect4:
    return (round(r[0] + d, 2), round(r[1] + d, 2), round(r[2] - 2 * d, 2), round(r[3] - 2 * d, 2))


# =============================================================================================
# The styles
# =============================================================================================
@dataclass
class Pen:
    """The seed's choices for one blank: fonts, sizes, margins."""

    rng: random.Random
    font: str
    title_font: str
    size: float
    left: float
    right: float
    label_w: float


def _pen(rng: random.Random, fonts: list[str]) -> Pen:
    font = rng.choice(fonts)
    left = round(rng.uniform(14.0, 24.0), 1)
    return Pen(rng, font, rng.choice(fonts), round(rng.choice([8.5, 9.0, 9.5, 10.0, 10.5]), 1), left,
               round(rng.uniform(186.0, 196.0), 1), round(rng.uniform(26.0, 36.0), 1))


TITLES = {
    "unshaded_cells": ["転入届出書", "住民登録申請書", "印鑑登録申請書"],
    "ruled_lines": ["各種証明書交付申請書", "住民票の写し等請求書", "税証明交付申請書"],
    "labels_above": ["粗大ごみ収集申込書", "集会所使用許可申請書", "道路占用許可申請書"],
    "underline": ["委任状", "同意書", "申出書"],
    "digit_boxes": ["口座振替依頼書", "児童手当認定請求書", "給付金申請書"],
    "date_groups": ["住所変更届", "臨時福祉給付金申請書", "乳幼児健診申込書"],
    "option_rows": ["各種証明書交付申込書", "ごみ収集容器購入申込書", "図書館利用登録申込書"],
    "table_rows": ["世帯員一覧届", "就学援助申請書", "扶養親族申告書"],
}

# label → (field type, kind of value written). The label a town prints varies; the value does not.
_LABELS: dict[str, list[tuple[str, str, str]]] = {
    "applied": [("申請日", "wareki_date", "date_applied"), ("届出日", "wareki_date", "date_applied"),
                ("記入日", "wareki_date", "date_applied")],
    "address": [("住所", "text", "address"), ("現住所", "text", "address"), ("お住まい", "text", "address")],
    "kana": [("フリガナ", "kana", "kana"), ("ふりがな", "kana", "kana")],
    "name": [("氏名", "name", "name"), ("申請者氏名", "name", "name"), ("お名前", "name", "name")],
    "birth": [("生年月日", "wareki_date", "date_birth")],
    "phone": [("電話番号", "phone", "phone"), ("連絡先電話番号", "phone", "phone"), ("電話", "phone", "phone")],
    "head": [("世帯主氏名", "name", "name2"), ("代理人氏名", "name", "name2")],
    "relation": [("続柄", "text", "relation"), ("世帯主との続柄", "text", "relation")],
    "job": [("職業", "text", "job"), ("勤務先", "text", "company")],
    "purpose": [("使用目的", "text", "purpose"), ("利用目的", "text", "purpose")],
    "copies": [("通数", "amount", "copies"), ("必要枚数", "amount", "copies")],
}
UNITS = {"copies": "通", "必要枚数": "枚"}


def _pick(rng: random.Random, key: str) -> tuple[str, str, str]:
    return rng.choice(_LABELS[key])


def _header(b: Blank, p: Pen) -> float:
    """Title, addressee; returns the y where the form's body starts."""
    rng = p.rng
    b.text(p.left, 14.0, rng.choice(["様式第1号", "様式第2号（第3条関係）", "別記様式"]), 8.5, p.font)
    b.text(PAGE_W / 2, 26.0, b.title, rng.choice([15.0, 16.0, 18.0]), p.title_font, "centre")
    b.text(p.left + 4, 38.0, rng.choice(["みどり町長　様", "（宛先）みどり町長", "みどり町長　あて"]), 11.0, p.font)
    return 44.0 + rng.uniform(0, 4)


def _row_h(rng: random.Random) -> float:
    return round(rng.uniform(8.5, 12.5), 1)


def _cells(b: Blank, p: Pen, y: float, h: float, label: str) -> Rect4:
    """A label cell and its value cell across the table; returns the value cell."""
    b.rects += [Rect(p.left, y, p.label_w, h), Rect(p.left + p.label_w, y, p.right - p.left - p.label_w, h)]
    b.text(p.left + p.label_w / 2, baseline(y, h, p.size), label, p.size, p.font, "centre")
    return (p.left + p.label_w, y, p.right - p.left - p.label_w, h)


def _text_row(b: Blank, p: Pen, y: float, key: str) -> float:
    """A labelled row to write a value of `key` in; returns its height."""
    label, ftype, value = _pick(p.rng, key)
    h = _row_h(p.rng)
    b.add(Truth(key, label, ftype, "box", inset(_cells(b, p, y, h, label)), value))
    return h


def _cell_table(b: Blank, p: Pen, y: float, keys: list[str], lines_only: bool, shade: bool) -> float:
    """Label | value rows (sometimes two pairs in a row) as rectangles or as ruled lines only."""
    rng = p.rng
    x0, x1 = p.left, p.right
    rows: list[list[str]] = []
    i = 0
    while i < len(keys):
        pair = keys[i] in ("name", "birth", "phone", "relation", "job") and i + 1 < len(keys) and rng.random() < 0.4
        rows.append(keys[i:i + 2] if pair else [keys[i]])
        i += 2 if pair else 1
    top = y
    for row in rows:
        h = _row_h(rng)
        n = len(row)
        span = (x1 - x0) / n
        for j, key in enumerate(row):
            label, ftype, value = _pick(rng, key)
            lx = x0 + j * span
            lw = p.label_w if n == 1 else min(p.label_w, span * 0.4)
            vx, vw = lx + lw, span - lw
            unit = UNITS.get(key, "")
            if lines_only:
                if shade:
                    b.rects.append(Rect(lx, y, lw, h, stroke=False, fill=0.9))
                b.lines.append(Line(vx, y, vx, y + h))
                if j:
                    b.lines.append(Line(lx, y, lx, y + h))
            else:
                b.rects.append(Rect(lx, y, lw, h, fill=0.9 if shade else None))
                b.rects.append(Rect(vx, y, vw, h))
            centred = rng.random() < 0.6
            b.text(lx + lw / 2 if centred else lx + 1.5, baseline(y, h, p.size), label, p.size, p.font,
                   "centre" if centred else "left")
            area = (vx, y, vw, h)
            if unit:
                b.text(vx + vw - 2.0, baseline(y, h, p.size), unit, p.size, p.font, "right")
                area = (vx, y, vw - text_width(unit, p.size, p.font) - 3.0, h)
            b.add(Truth(f"{key}", label, ftype, "box", inset(area), value, unit=unit))
        if lines_only:
            b.lines.append(Line(x0, y, x1, y))
        y += h
    if lines_only:
        b.lines.append(Line(x0, y, x1, y))
        b.lines += [Line(x0, top, x0, y, 1.0), Line(x1, top, x1, y, 1.0)]
    return y


def style_unshaded_cells(b: Blank, p: Pen) -> None:
    """Nine unshaded label cells and the value cell right of each, drawn as rectangles."""
    y = _header(b, p)
    keys = ["applied", "address", "kana", "name", "birth", "phone", "head", "relation", "job"]
    _cell_table(b, p, y, keys, lines_only=False, shade=False)


def style_ruled_lines(b: Blank, p: Pen) -> None:
    """The same kind of table drawn with ruled lines only (no rectangles), labels shaded or not."""
    y = _header(b, p)
    keys = ["applied", "address", "name", "birth", "phone", "purpose", "copies"]
    p.rng.shuffle(keys[2:])
    _cell_table(b, p, y, keys, lines_only=True, shade=p.rng.random() < 0.5)


def style_labels_above(b: Blank, p: Pen) -> None:
    """Boxes with the label printed inside at the top left, or just above the box."""
    rng = p.rng
    y = _header(b, p) + 2
    rows = [["name", "kana"], ["address"], ["phone", "birth"], ["job", "relation"], ["purpose"]]
    inside = rng.random() < 0.5
    gap = round(rng.uniform(3.0, 6.0), 1)
    for row in rows:
        h = round(rng.uniform(12.0, 16.0), 1)
        span = (p.right - p.left - gap * (len(row) - 1)) / len(row)
        small = min(p.size, 8.5)
        for j, key in enumerate(row):
            label, ftype, value = _pick(rng, key)
            x = p.left + j * (span + gap)
            if inside:  # label in the top-left corner of the box, the value below it
                b.rects.append(Rect(x, y, span, h))
                b.text(x + 1.5, y + 1.2 + ASCENT * small * PT, label, small, p.font)
                label_bottom = y + 1.2 + small * PT
                area = (x, label_bottom + 0.5, span, y + h - label_bottom - 0.5)
                b.add(Truth(key, label, ftype, "box", inset(area, 0.8), value))
            else:  # label above the box
                b.text(x + 0.5, y + 3.0, label, p.size, p.font)
                b.rects.append(Rect(x, y + 4.5, span, h - 4.5))
                b.add(Truth(key, label, ftype, "box", inset((x, y + 4.5, span, h - 4.5)), value))
        y += h + (rng.uniform(3.0, 5.0) if not inside else rng.uniform(2.0, 4.0))


def style_underline(b: Blank, p: Pen) -> None:
    """No boxes: each label followed by an underline to write on (drawn, or typed as ＿)."""
    rng = p.rng
    y = _header(b, p) + 8
    b.text(p.left, y, "私は、次の者を代理人と定め、下記の権限を委任します。", p.size + 1, p.font)
    y += 12
    rows = [["applied"], ["address"], ["name", "phone"], ["birth"], ["head", "relation"], ["purpose"]]
    typed = rng.random() < 0.4  # ＿＿＿ typed in the word processor instead of a drawn line
    for row in rows:
        span = (p.right - p.left) / len(row)
        for j, key in enumerate(row):
            label, ftype, value = _pick(rng, key)
            x = p.left + j * span
            sep = rng.choice(["", "：", "　"])
            b.text(x, y, label + sep, p.size + 1, p.font)
            start = x + text_width(label + sep, p.size + 1, p.font) + 1.0
            end = x + span - (4.0 if j < len(row) - 1 else 0.0)
            under = y + 1.2
            if typed:
                n = int((end - start) / text_width("＿", p.size + 1, p.font))
                b.text(start, y, "＿" * n, p.size + 1, p.font)
                end = start + n * text_width("＿", p.size + 1, p.font)
                under = y + 0.9
            else:
                b.lines.append(Line(start, under, end, under, 0.6))
            b.add(Truth(key, label, ftype, "box", (round(start, 2), round(under - 6.5, 2), round(end - start, 2), 6.0),
                        value))
        y += round(rng.uniform(12.0, 16.0), 1)


def _digit_run(b: Blank, p: Pen, x: float, top: float, groups: list[int], size: float, gap: float,
               dash: str) -> tuple[list[Rect4], float]:
    """Rows of adjacent character boxes, groups split by a printed hyphen; returns (slots, end x)."""
    slots: list[Rect4] = []
    for g, n in enumerate(groups):
        if g:
            b.text(x + 1.5, baseline(top, size, p.size), dash, p.size, p.font, "centre")
            x += 3.0
        for _ in range(n):
            b.rects.append(Rect(x, top, size, size))
            slots.append(inset((x, top, size, size), 0.6))
            x += size + gap
        x -= gap
    return slots, x


def style_digit_boxes(b: Blank, p: Pen) -> None:
    """〒□□□-□□□□, a phone number and account numbers in one box per character, inside a table."""
    rng = p.rng
    y = _header(b, p)
    size = round(rng.uniform(5.5, 7.0), 1)
    gap = rng.choice([0.0, 0.0, 1.0])
    dash = rng.choice(["-", "－", "―"])
    specs = [("postal", "郵便番号", "postal_code", [3, 4], "postal"),
             ("address", None, None, None, None), ("name", None, None, None, None),
             ("phone", "電話番号", "phone", [3, 4, 4], "phone_mobile"),
             ("account", rng.choice(["口座番号", "振込先口座番号"]), "digits", [7], "account"),
             ("my_number", "個人番号", "my_number", [12], "my_number")]
    for key, label, ftype, groups, value in specs:
        h = size + 4.0 if groups else _row_h(rng)
        if groups is None:
            label, ftype, value = _pick(rng, key)
            b.add(Truth(key, label, ftype, "box", inset(_cells(b, p, y, h, label)), value))
            y += h
            continue
        _cells(b, p, y, h, label)
        x = p.left + p.label_w + 3.0
        if key == "postal":
            b.text(x, baseline(y, h, p.size), "〒", p.size, p.font)
            x += 5.0
        slots, _ = _digit_run(b, p, x, y + 2.0, groups, size, gap, dash)
        fmt = "-".join("{}" * n for n in groups)
        union = _union(slots)
        b.add(Truth(key, label, ftype, "parts", union, value, parts=slots, format=fmt))
        y += h


def _union(boxes: list[Rect4]) -> Rect4:
    x0, y0 = min(r[0] for r in boxes), min(r[1] for r in boxes)
    x1, y1 = max(r[0] + r[2] for r in boxes), max(r[1] + r[3] for r in boxes)
    return (round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2))


def _date_group(b: Blank, p: Pen, x: float, top: float, h: float, era: str, size: float) -> tuple[list[Rect4], str]:
    """令和　　年　　月　　日: the era (if printed), then a gap before each of 年 月 日."""
    parts: list[Rect4] = []
    base = baseline(top, h, size)
    fmt = ""
    if era:
        b.text(x, base, era, size, p.font)
        x += text_width(era, size, p.font) + 0.5
        fmt = era
    for unit, gap in (("年", 16.0 if not era else 10.0), ("月", 9.0), ("日", 9.0)):
        parts.append((round(x + 0.3, 2), round(top + 1.0, 2), round(gap - 0.6, 2), round(h - 2.0, 2)))
        x += gap
        b.text(x, base, unit, size, p.font)
        x += text_width(unit, size, p.font) + 0.5
        fmt += "{}" + unit
    return parts, fmt


def style_date_groups(b: Blank, p: Pen) -> None:
    """年　月　日 printed with gaps to fill: at the top right, and in the value cells of a table."""
    rng = p.rng
    y = _header(b, p)
    # the date of the request, top right above the table, outside any cell
    x = p.right - 58.0
    parts, fmt = _date_group(b, p, x, y - 4.0, 8.0, "令和", p.size + 1)
    b.add(Truth("applied", "申請日", "wareki_date", "parts", _union(parts), "date_parts_reiwa", parts=parts,
                format=fmt))
    b.text(x - 2.0, baseline(y - 4.0, 8.0, p.size + 1), "申請日", p.size + 1, p.font, "right")
    y += 8.0
    for key in ("address", "kana", "name"):
        y += _text_row(b, p, y, key)
    for key, label, era, value in (("birth", "生年月日", "", "date_parts_birth"),
                                   ("moved", rng.choice(["転入日", "異動日", "住み始めた日"]), "令和", "date_parts_reiwa")):
        h = _row_h(rng)
        _cells(b, p, y, h, label)
        parts, fmt = _date_group(b, p, p.left + p.label_w + rng.uniform(4.0, 20.0), y, h, era, p.size + 1)
        b.add(Truth(key, label, "wareki_date", "parts", _union(parts), value, parts=parts, format=fmt))
        y += h
    _text_row(b, p, y, "phone")


def _options(b: Blank, p: Pen, x: float, top: float, h: float, names: list[str], style: str,
             numbered: bool) -> tuple[dict[str, Rect4], dict[str, Rect4]]:
    """Printed choices in a row; returns (zone per option, where the mark goes per option)."""
    zones: dict[str, Rect4] = {}
    marks: dict[str, Rect4] = {}
    size = p.size + 0.5
    s = size * PT
    base = baseline(top, h, size)
    glyph_top = base - ASCENT * s
    for i, name in enumerate(names, start=1):
        shown = f"{i}.{name}" if numbered else name
        if style == "check":
            if p.rng.random() < 0.5:  # typed as □, or drawn as a little square
                b.text(x, base, "□", size, p.font)
                w = text_width("□", size, p.font)
            else:
                w = round(0.8 * s, 2)
                b.rects.append(Rect(x, glyph_top + 0.1 * s, w, w, width=0.6))
            marks[name] = (round(x, 2), round(glyph_top, 2), round(w, 2), round(s, 2))
            zones[name] = (round(x - 1.0, 2), round(glyph_top - 2.0, 2), round(w + 2.5, 2), round(s + 3.5, 2))
            b.text(x + w + 0.6, base, shown, size, p.font)
            x += w + 0.6 + text_width(shown, size, p.font) + p.rng.uniform(5.0, 9.0)
        else:
            w = text_width(shown, size, p.font)
            b.text(x, base, shown, size, p.font)
            marks[name] = (round(x, 2), round(glyph_top, 2), round(w, 2), round(s, 2))
            zones[name] = (round(x - 2.0, 2), round(glyph_top - 2.0, 2), round(w + 4.0, 2), round(s + 4.0, 2))
            x += w + p.rng.uniform(6.0, 10.0)
    return zones, marks


def style_option_rows(b: Blank, p: Pen) -> None:
    """Choices to tick (□) or circle (「該当するものに○」), a consent box, and a few text fields."""
    rng = p.rng
    y = _header(b, p)
    for key in ("address", "name", "phone"):
        y += _text_row(b, p, y, key)
    rows = [("sex", "性別", ["男", "女"]),
            ("kind", rng.choice(["証明書の種類", "申込みの種類"]), rng.choice([["住民票の写し", "印鑑登録証明書", "戸籍謄本"],
                                                                   ["新規", "追加", "交換"]])),
            ("method", rng.choice(["受取方法", "交付方法"]), ["窓口", "郵送"]),
            ("reason", rng.choice(["申請の理由", "届出の理由"]), ["転入", "出生", "その他"])]
    for key, label, names in rows:
        h = round(rng.uniform(10.0, 13.0), 1)
        style = rng.choice(["check", "circle"])
        _cells(b, p, y, h, label)
        zones, marks = _options(b, p, p.left + p.label_w + 4.0, y, h, names, style, numbered=style == "circle")
        if style == "circle":
            b.text(p.right - 2.0, baseline(y, h, 7.5), "（該当するものに○）", 7.5, p.font, "right")
        b.add(Truth(key, label, "choice", "options", _union(list(zones.values())), "choice", options=zones,
                    marks=marks, mark_style=style))
        y += h
    y += 6.0
    consent = rng.choice(["上記の内容に相違ありません。", "記載事項を確認しました。"])
    zones, marks = _options(b, p, p.left + 2.0, y, 8.0, [consent], "check", numbered=False)
    b.add(Truth("consent", consent, "checkbox", "options", zones[consent], "checkbox", options=zones, marks=marks,
                mark_style="check"))


def style_table_rows(b: Blank, p: Pen) -> None:
    """Applicant cells, then a table with a header row and N empty rows (one field per column)."""
    rng = p.rng
    y = _header(b, p)
    for key in ("address", "name", "phone"):
        y += _text_row(b, p, y, key)
    y += 8.0
    caption = rng.choice(["世帯員", "扶養親族", "同居の家族"])
    b.text(p.left, y - 2.0, f"{caption}（記入してください）", p.size + 1, p.font)
    cols = [("name", "氏名", "name", 1.0), ("relation", "続柄", "text", 0.45), ("birth", "生年月日", "wareki_date", 0.9),
            ("job", rng.choice(["職業", "備考"]), "text", 0.7)]
    if rng.random() < 0.5:
        cols.insert(1, ("kana", "フリガナ", "kana", 1.0))
    numbered = rng.random() < 0.6
    no_w = 10.0 if numbered else 0.0
    total = sum(c[3] for c in cols)
    width = p.right - p.left - no_w
    header_h = round(rng.uniform(7.0, 9.0), 1)
    pitch = round(rng.uniform(8.5, 11.0), 1)
    rows = rng.randint(4, 6)
    x = p.left
    columns: list[Column] = []
    if numbered:
        b.rects.append(Rect(x, y, no_w, header_h, fill=0.9 if rng.random() < 0.5 else None))
        b.text(x + no_w / 2, baseline(y, header_h, p.size), "No.", p.size, p.font, "centre")
        for r in range(rows):
            b.rects.append(Rect(x, y + header_h + r * pitch, no_w, pitch))
            b.text(x + no_w / 2, baseline(y + header_h + r * pitch, pitch, p.size), str(r + 1), p.size, p.font, "centre")
        x += no_w
    shade = rng.random() < 0.5
    for name, label, ftype, share in cols:
        w = round(width * share / total, 2)
        b.rects.append(Rect(x, y, w, header_h, fill=0.9 if shade else None))
        b.text(x + w / 2, baseline(y, header_h, p.size), label, p.size, p.font, "centre")
        for r in range(rows):
            b.rects.append(Rect(x, y + header_h + r * pitch, w, pitch))
        columns.append(Column(name, label, ftype, round(x + 1.0, 2), round(w - 2.0, 2)))
        x += w
    body = (p.left + no_w, y + header_h, width, rows * pitch)
    b.add(Truth("members", caption, "table", "table", body, "table", columns=columns, rows=rows,
                row_y=round(y + header_h + 1.0, 2), row_pitch=pitch, row_h=round(pitch - 2.0, 2)))


BUILD = {name: globals()[f"style_{name}"] for name in STYLES}


def make_blank(style: str, seed: int) -> Blank:
    rng = random.Random(f"{seed}/{style}/blank")
    fonts = fonts_for(seed)
    rng.shuffle(fonts)
    _need_fonts(fonts[:2])
    b = Blank(style, rng.choice(TITLES[style]), fonts[:2])
    BUILD[style](b, _pen(rng, fonts[:2]))
    return b


# =============================================================================================
# Values written into a blank
# =============================================================================================
@dataclass
class Filled:
    written: list[tuple[Rect4, str, Literal["left", "centre"]]] = field(default_factory=list)  # where, what
    marks: list[tuple[Rect4, str]] = field(default_factory=list)  # (mark box, "circle"|"check")
    truth: dict[str, Any] = field(default_factory=dict)


RELATIONS = ["妻", "夫", "子", "長男", "長女", "母", "父"]
JOBS = ["会社員", "自営業", "学生", "パート", "公務員", "無職"]
COMPANIES = ["みどり精機株式会社", "若葉電機株式会社", "みどり町役場", "さくら食品有限会社"]
WORDS = {"relation": RELATIONS, "job": JOBS, "company": COMPANIES, "purpose": PURPOSES}


def _my_number(rng: random.Random) -> str:
    from bots.fields import my_number_check_digit

    first = "".join(str(rng.randint(0, 9)) for _ in range(11))
    return first + str(my_number_check_digit(first))


def _written_value(kind: str, rng: random.Random, person: Any, today: date) -> tuple[str, Any]:
    """(as written, normalised value) for one kind of value."""
    if kind == "name":
        return person.name, norm_name(person.name)
    if kind == "name2":
        other = make_person(rng, date(1950, 1, 1), date(2000, 12, 31), surname=(person.surname, person.surname_kana))
        return other.name, norm_name(other.name)
    if kind == "kana":
        w = written_kana(person.kana, rng)
        return w, person.kana
    if kind == "address":
        _, addr = town_address(rng)
        return addr, norm_text(addr)
    if kind == "postal":
        postal, _ = town_address(rng)
        return postal.replace("-", ""), postal
    if kind == "phone":
        tel = phone_number(rng, mobile=rng.random() < 0.6)
        return tel, norm_phone(tel)
    if kind == "phone_mobile":
        tel = phone_number(rng, mobile=True)
        return tel.replace("-", ""), tel
    if kind == "date_applied":
        d = random_date(rng, date(2024, 4, 1), today)
        return wareki(d, rng), d.isoformat()
    if kind == "date_birth":
        d = person.birth
        return wareki(d, rng), d.isoformat()
    if kind in WORDS:  # written as they are
        v = rng.choice(WORDS[kind])
        return v, v
    if kind == "copies":
        n = rng.randint(1, 3)
        return str(n), n
    if kind == "account":
        v = f"{rng.randint(0, 9999999):07d}"
        return v, v
    if kind == "my_number":
        v = _my_number(rng)
        return v, v
    raise ValueError(f"unknown value kind {kind}")


def fill(blank: Blank, seed: int, index: int) -> Filled:
    """What one applicant writes into the blank, and what a reader must get back."""
    from samples.generate import era_of

    rng = random.Random(f"{seed}/{blank.style}/fill/{index}")
    today = date(2025, 9, 30)
    person = make_person(rng, date(1950, 1, 1), date(2004, 12, 31))
    out = Filled()
    for t in blank.fields:
        if t.kind == "box":
            written, value = _written_value(t.value, rng, person, today)
            if t.type == "amount" or t.value == "copies":
                out.written.append((t.box, written, "centre"))
            else:
                out.written.append((t.box, written, "left"))
            out.truth[t.name] = value
        elif t.kind == "parts" and t.type == "wareki_date":
            d = random_date(rng, date(2024, 4, 1), today) if t.value == "date_parts_reiwa" else person.birth
            era, _, year = era_of(d)
            first = str(year) if t.format.startswith("令和") else f"{era}{year}"
            for box, text in zip(t.parts, (first, str(d.month), str(d.day))):
                out.written.append((box, text, "centre"))
            out.truth[t.name] = d.isoformat()
        elif t.kind == "parts":
            written, value = _written_value(t.value, rng, person, today)
            digits = [ch for ch in written if ch.isdigit()]
            for box, ch in zip(t.parts, digits):
                out.written.append((box, ch, "centre"))
            out.truth[t.name] = value
        elif t.kind == "options" and t.type == "checkbox":
            on = rng.random() < 0.8
            if on:
                out.marks.append((next(iter(t.marks.values())), t.mark_style))
            out.truth[t.name] = on
        elif t.kind == "options":
            choice = rng.choice(list(t.options))
            out.marks.append((t.marks[choice], t.mark_style))
            out.truth[t.name] = choice
        else:  # a table: the first rows filled, the rest left empty
            used = rng.randint(2, t.rows)
            for r in range(t.rows):
                member = make_person(rng, date(1950, 1, 1), date(2020, 12, 31), surname=(person.surname, person.surname_kana))
                for col in t.columns:
                    name = f"{t.name}_{r + 1}_{col.name}"
                    box = (col.x, t.row_y + r * t.row_pitch, col.w, t.row_h)
                    if r >= used:
                        out.truth[name] = None
                        continue
                    if col.name == "name":
                        written, value = member.name, norm_name(member.name)
                    elif col.name == "kana":
                        written, value = member.kana, member.kana
                    elif col.name == "birth":
                        d = member.birth
                        era, _, year = era_of(d)
                        written, value = f"{era}{year}年{d.month}月{d.day}日", d.isoformat()
                    elif col.name == "relation":
                        written = value = rng.choice(RELATIONS)
                    else:
                        written = value = rng.choice(JOBS)
                    out.written.append((box, written, "left"))
                    out.truth[name] = value
    return out


# =============================================================================================
# Drawing (reportlab), and scans of the printed page
# =============================================================================================
def _canvas(path: Path, title: str, fonts: list[str]) -> Any:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    _need_fonts(fonts)
    c = Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    c.setCreator("kakari samples.blanks")
    c.setTitle(title)
    return c


def _xy(x: float, y: float) -> tuple[float, float]:
    return x / PT, (PAGE_H - y) / PT


def draw(blank: Blank, path: Path, filled: Filled | None = None) -> None:
    c = _canvas(path, blank.title, blank.fonts)
    for r in blank.rects:
        if r.fill is not None:
            c.setFillGray(r.fill)
        c.setLineWidth(r.width)
        x, y = _xy(r.x, r.y + r.h)
        c.rect(x, y, r.w / PT, r.h / PT, stroke=1 if r.stroke else 0, fill=1 if r.fill is not None else 0)
        c.setFillGray(0)
    for ln in blank.lines:
        c.setLineWidth(ln.width)
        c.line(*_xy(ln.x0, ln.y0), *_xy(ln.x1, ln.y1))
    for t in blank.texts:
        c.setFont(t.font, t.size)
        x, y = _xy(t.x, t.y)
        {"left": c.drawString, "centre": c.drawCentredString, "right": c.drawRightString}[t.align](x, y, t.text)
    if filled is not None:
        _draw_filled(c, filled, random.Random(path.name))
    c.showPage()
    c.save()


def _draw_filled(c: Any, filled: Filled, rng: random.Random) -> None:
    for (x, y, w, h), text, align in filled.written:
        size = VALUE_PT
        while size > 6.0 and text_width(text, size, VALUE_FONT) > w - 1.0:
            size -= 0.5
        size = min(size, max(6.0, h / PT * 0.85))
        base = baseline(y, h, size) + rng.uniform(-0.3, 0.3)
        c.setFont(VALUE_FONT, size)
        if align == "centre":
            c.drawCentredString(*_xy(x + w / 2, base), text)
        else:
            c.drawString(*_xy(x + 0.8 + rng.uniform(0, 1.5), base), text)
    c.setLineWidth(0.9)
    for (x, top, w, h), style in filled.marks:
        j = lambda: rng.uniform(-0.3, 0.3)  # noqa: E731 - no two drawn marks are the same
        if style == "circle":
            ax, ay = _xy(x - 1.4 + j(), top + h + 0.9 + j())
            bx, by = _xy(x + w + 1.4 + j(), top - 0.9 + j())
            c.ellipse(ax, ay, bx, by, stroke=1, fill=0)
        else:
            p = c.beginPath()
            p.moveTo(*_xy(x + 0.7 + j(), top + 2.0 + j()))
            p.lineTo(*_xy(x + 1.7 + j(), top + h - 0.4 + j()))
            p.lineTo(*_xy(x + 4.5 + j(), top - 0.8 + j()))
            c.drawPath(p, stroke=1, fill=0)


def scan(pdf: Path, out: Path, rng: random.Random, mild: bool) -> dict[str, Any]:
    """A scan of the printed page: a blank scanned with care (`mild`), or a filled copy off the
    counter's multifunction printer. Returns the damage done (for ground truth)."""
    from samples.scanlike import EXT, degrade, draw_params, save

    p = draw_params(rng, rng.choice([200, 300]))
    p.turns = 0  # upside-down intake is the OCR reader's problem, not the blank's
    p.seal = False
    if mild:
        p.rotation = round(rng.uniform(-1.0, 1.0), 3)
        p.dx_mm, p.dy_mm = round(rng.uniform(-3.0, 3.0), 2), round(rng.uniform(-3.0, 3.0), 2)
        p.scale = 1.0
        p.faint = 1.0
        p.fmt = rng.choice(["png", "pdf", "tiff", "jpeg"])
        p.quality = max(p.quality, 80)
    img = degrade(pdf, {"form": "", "fields": {}}, p, rng)
    path = out.with_suffix(EXT[p.fmt])
    save(img, path, p)
    return asdict(p) | {"file": path.name, "width_px": int(img.shape[1]), "height_px": int(img.shape[0])}


def scanned_styles(seed: int) -> set[str]:
    """Half the styles come out as scans: every other one for the suite's seed, a random half otherwise."""
    if seed == 42:
        return set(STYLES[1::2])
    rng = random.Random(f"{seed}/scanned")
    return set(rng.sample(STYLES, len(STYLES) // 2))


def truth_json(blank: Blank) -> dict[str, Any]:
    return {"style": blank.style, "title": blank.title, "fonts": blank.fonts, "scan": blank.scan,
            "fields": [asdict(t) for t in blank.fields]}


def generate(out: Path, seed: int = 42, fills: int = 1, styles: tuple[str, ...] | list[str] = STYLES) -> list[Path]:
    """Write every style's blank (+ truth) and `fills` filled copies; returns the blank files."""
    unknown = [s for s in styles if s not in STYLES]
    if unknown:
        raise ValueError(f"unknown style(s): {', '.join(unknown)}; known: {', '.join(STYLES)}")
    scanned = scanned_styles(seed)
    written: list[Path] = []
    for style in styles:
        folder = Path(out) / style
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*"):
            old.unlink()
        blank = make_blank(style, seed)
        pdf = folder / "blank.pdf"
        draw(blank, pdf)
        if style in scanned:
            printed = folder / "printed.pdf"
            pdf.rename(printed)
            blank.scan = scan(printed, folder / "blank", random.Random(f"{seed}/{style}/scan"), mild=True)
            printed.unlink()
            written.append(folder / blank.scan["file"])
        else:
            written.append(pdf)
        (folder / "blank.json").write_text(json.dumps(truth_json(blank), ensure_ascii=False, indent=1) + "\n",
                                           encoding="utf-8")
        for i in range(1, fills + 1):
            filled = fill(blank, seed, i)
            target = folder / f"filled_{i:02d}.pdf"
            draw(blank, target, filled)
            doc: dict[str, Any] = {"fields": filled.truth}
            if style in scanned:
                printed = folder / f"printed_{i:02d}.pdf"
                target.rename(printed)
                doc["scan"] = scan(printed, folder / f"filled_{i:02d}", random.Random(f"{seed}/{style}/scan/{i}"),
                                   mild=False)
                printed.unlink()
            (folder / f"filled_{i:02d}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n",
                                                         encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.blanks", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--fills", type=int, default=1, help="filled copies per blank")
    ap.add_argument("--styles", default=",".join(STYLES))
    args = ap.parse_args(argv)
    try:
        paths = generate(args.out, args.seed, args.fills, [s.strip() for s in args.styles.split(",") if s.strip()])
    except ValueError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{len(paths)} blank forms written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
