"""Where an applicant writes, guessed from what a blank form prints (a Sheet).

One guess per field, each with the rule that made it, a sentence saying why (for the template's
comments) and a confidence: how often that rule's guesses are right, as measured on the seeded
blank corpus by ``benchmarks/blank_forms.py --fit`` (``reliability.json``), lowered when OCR was
unsure of the label. The rules, in the order they claim cells:

* tables: a header row of labelled cells over two or more rows of empty cells with the same column
  edges → one field per column and row (a printed No. column is left out);
* value cells: an empty cell (or one holding only a unit, 〒, 年 月 日, character boxes or choices)
  takes its label from the labelled cell on its left, else the one above, else printed text just
  above or left of it; a printed unit (円, 通) is cut off the zone, 〒 starts a postal code zone;
* labels inside a cell: a cell whose only text sits at its top (or left) with room to write below
  (or right of) it;
* outside cells: underlines (drawn, or typed as ＿＿) after a label on the same line; 年　月　日
  groups; rows of □ with their texts (one □ alone is a checkbox); runs of character boxes.
Areas headed 処理欄 / 記入しないで (the office's part of the form) are left out.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from bots.blankform.cells import cells as find_cells, underlines
from bots.blankform.sheet import SQUARE_MAX, SQUARE_MIN, Rect, Run, Seg, Sheet, clean_label

INSET = 0.5  # mm kept clear of the ruling on each side of a zone
DATE_UNITS = ("年", "月", "日")
ERAS = ("令和", "平成", "昭和", "大正", "明治")
POSTAL_MARKS = frozenset("〒")
DASHES = frozenset("-－―‐ー—−~〜")
UNITS = ("円", "歳", "才", "通", "枚", "部", "人", "名", "件", "回", "台", "席", "本", "個", "冊", "頭", "匹", "戸", "世帯",
         "箇所", "か所", "㎡", "m²", "m2", "坪", "m", "km", "kg", "か月", "ヶ月", "日間", "時間", "分", "号")
OFFICE = re.compile(r"処理欄|記入しないで|記入不要|使用欄|事務処理|受付印|決裁")
CIRCLE_HINT = re.compile(r"○|〇|該当|いずれか|選択|囲")
NUMBERED = re.compile(r"^(?:\d{1,2}[.．)）]?|[①-⑳]|[(（]\d{1,2}[)）])\s*(\D.*)$")  # OCR may drop the dot
NUMBER_ONLY = re.compile(r"^(?:\d{1,3}|No\.?|NO\.?|№)$")
RELIABILITY = Path(__file__).with_name("reliability.json")
UNCERTAIN = 0.8  # guesses less sure than this are listed for a person to check

# label → field type; the first match wins
TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"フリガナ|ふりがな|カナ", "kana"),
    (r"郵便番号|〒", "postal_code"),
    (r"電話|TEL|Tel|携帯|連絡先", "phone"),
    (r"法人番号", "corporate_number"),
    (r"個人番号|マイナンバー", "my_number"),
    (r"年月日|申請日|届出日|記入日|請求日|日付|期日|転入日|転出日|異動日|.+日$", "wareki_date"),
    (r"金額|手数料|料金|円|数$|面積|年齢|歳", "amount"),
    (r"番号", "digits"),  # 記号 (保険証の記号 みどり12) may be letters: text
    (r"氏名|名前|代表者|責任者", "name"),
)
PERSONAL = re.compile(r"氏名|名前|住所|住まい|フリガナ|ふりがな|生年月日|電話|連絡先|個人番号|マイナンバー|代表者|口座")
# common labels → field names, so most fields need no renaming
NAMES: tuple[tuple[str, str], ...] = (
    (r"^(申請|届出|記入|請求)日$", "applied_on"), (r"フリガナ|ふりがな", "kana"), (r"郵便番号|〒", "postal_code"),
    (r"^(現)?住所$|住まい", "address"), (r"世帯主", "householder_name"), (r"代理人", "agent_name"),
    (r"氏名|名前", "name"), (r"生年月日", "birth_date"), (r"電話|連絡先", "phone"), (r"性別", "sex"),
    (r"続柄", "relation"), (r"職業", "occupation"), (r"勤務先", "employer"), (r"個人番号|マイナンバー", "my_number"),
    (r"口座番号", "account_number"), (r"目的", "purpose"), (r"通数|枚数", "copies"), (r"備考", "note"),
    (r"理由", "reason"), (r"方法", "method"), (r"種類", "kind"),
)


@dataclass
class Rows:
    """Repeated rows: (label, type, x, w) per column, the first row's top, the pitch, zone height."""

    columns: list[tuple[str, str, float, float]]
    y: float
    rows: int
    pitch: float
    h: float


@dataclass
class Found:
    """One guessed field. ``box`` is its zone (x, y, w, h mm), or the union of its parts/options."""

    label: str
    type: str
    box: tuple[float, float, float, float]
    options: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    unit: str = ""
    parts: list[tuple[float, float, float, float]] = field(default_factory=list)
    format: str = ""
    table: Rows | None = None
    rule: str = ""
    why: str = ""
    type_why: str = ""
    confidence: float = 1.0
    label_confidence: float = 1.0

    @property
    def personal(self) -> bool:
        """Masked in logs (names, addresses, phones, birthdays)."""
        return bool(PERSONAL.search(self.label))

    @property
    def kind(self) -> str:
        return "table" if self.table else "parts" if self.parts else "options" if self.options else "box"

    @property
    def uncertain(self) -> bool:
        return self.confidence < UNCERTAIN


def guess_type(label: str, unit: str = "") -> str:
    """The field type a label suggests (then the printed unit: 円 → amount)."""
    for text in (label, unit):
        for pattern, kind in TYPE_RULES:
            if text and re.search(pattern, text):
                return kind
    return "amount" if unit and unit != "〒" else "text"


def guess_name(label: str, taken: set[str], index: int) -> str:
    """A field name from a common label (氏名 → name), else field_NN; never one already taken."""
    base = next((name for pattern, name in NAMES if re.search(pattern, label)), f"field_{index:02d}")
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def reliability() -> dict[str, float]:
    """Rule → share of its guesses that were right on the fitted blank corpus."""
    try:
        data = json.loads(RELIABILITY.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in data.get("rules", {}).items()}


# =============================================================================================
# Tokens: what a run of printed text is
# =============================================================================================
def _is_unit(t: str) -> bool:
    return t in UNITS


def _is_era(t: str) -> bool:
    return t in ERAS or (sum(e in t for e in ERAS) >= 2 and len(t) <= 16)


def _is_note(t: str) -> bool:
    if not t.strip("()（）「」[]［］、。,.:："):
        return True  # brackets or punctuation on their own (「（　　　）」 to write in)
    return t.startswith(("※", "(", "（", "＊", "*", "例", "記入例")) or bool(re.search(r"ください|記入しないで|ご記入|こと。$", t))


def _special(r: Run) -> bool:
    """Printed furniture of a value area rather than a label."""
    t = r.text
    return (t in DATE_UNITS or t in POSTAL_MARKS or t in DASHES or _is_unit(t) or _is_era(t) or _is_note(t))


def _labelish(r: Run) -> bool:
    t = clean_label(r.text)
    return bool(t) and not _special(r) and len(t) <= 16 and not NUMBER_ONLY.match(t)


# =============================================================================================
# The analysis
# =============================================================================================
@dataclass
class Cell:
    box: Rect
    runs: list[Run] = field(default_factory=list)
    squares: list[Rect] = field(default_factory=list)
    shaded: bool = False
    used: bool = False  # claimed as a label or by a table

    @property
    def labels(self) -> list[Run]:
        return [r for r in self.runs if _labelish(r)]

    @property
    def empty(self) -> bool:
        return not self.runs and not self.squares


class Finder:
    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.runs = [part for r in sheet.runs for part in _split_era(r)]
        self.rel = reliability()
        boxes = find_cells(sheet)
        self.squares = list(sheet.squares)
        big: list[Rect] = []
        for b in boxes:
            if _square_like(b) and not any(b.contains(r.box.cx, r.box.cy) for r in self.runs):
                if not any(_same(b, s, 0.8) for s in self.squares):
                    self.squares.append(b.inset(0.0))
            else:
                big.append(b)
        self.squares = _dedupe(self.squares)
        self.cells = [self._cell(b) for b in big]
        self.free_runs = [r for r in self.runs if not any(c.box.contains(r.box.cx, r.box.cy) for c in self.cells)]
        self.free_squares = [s for s in self.squares if not any(c.box.contains(s.cx, s.cy) for c in self.cells)]
        self.lines = underlines(sheet, boxes)
        self.found: list[Found] = []

    def _cell(self, b: Rect) -> Cell:
        inner = b.inset(0.3)
        runs = [r for r in self.runs if inner.contains(r.box.cx, r.box.cy)]
        squares = [s for s in self.squares if inner.contains(s.cx, s.cy)]
        shaded = any(s.overlap_x(b) * s.overlap_y(b) >= 0.6 * b.area for s in self.sheet.shaded)
        return Cell(b, runs, squares, shaded)

    # -- output -------------------------------------------------------------------------------
    def add(self, f: Found, label_run: Run | None = None) -> None:
        base = self.rel.get(f.rule, 0.7)
        f.label_confidence = label_run.confidence if label_run is not None else 1.0
        f.confidence = round(base * (1.0 if f.label_confidence >= 0.85 else 0.8), 2)
        self.found.append(f)

    def run(self) -> list[Found]:
        office = self._office_lines()
        self._tables()
        self._value_cells()
        self._inside_labels()
        self._free_lines()
        kept = [f for f in self.found if not any(_below(f, y, x0) for y, x0 in office)]
        return _ordered(_without_overlaps(kept))

    def _office_lines(self) -> list[tuple[float, float]]:
        """(y, x) of texts that head the office's part of the form."""
        return [(r.box.y0, r.box.x0) for r in self.runs if OFFICE.search(r.text)]

    # -- tables -------------------------------------------------------------------------------
    def _tables(self) -> None:
        rows = _rows(self.cells)
        keys = sorted(rows)
        for i, key in enumerate(keys):
            header = rows[key]
            if len(header) < 2 or any(c.used for c in header) or not all(c.labels or _numbering(c) for c in header) \
                    or sum(1 for c in header if c.labels) < 2:
                continue
            body: list[list[Cell]] = []
            y = key[1]
            for other in keys[i + 1:]:
                if abs(other[0] - y) > 0.8:
                    continue
                row = rows[other]
                if not _same_columns(header, row) or any(c.used for c in row):
                    break
                if not all(c.empty or _numbering(c) for c in row):
                    break
                body.append(row)
                y = other[1]
            if len(body) < 2:
                continue
            heights = [r[0].box.h for r in body]
            if max(heights) - min(heights) > 1.0:
                continue
            columns = []
            for h in header:
                col_cells = [_match(h, r) for r in body]
                if not h.labels or all(c is not None and _numbering(c) and c.runs for c in col_cells):
                    continue  # the printed No. column
                label = clean_label("".join(r.text for r in h.labels))
                columns.append((label, guess_type(label), round(h.box.x0 + INSET, 2), round(h.box.w - 2 * INSET, 2)))
            if not columns:
                continue
            for c in header:
                c.used = True
            for r in body:
                for c in r:
                    c.used = True
            pitch = (body[-1][0].box.y0 - body[0][0].box.y0) / (len(body) - 1)
            top = body[0][0].box.y0
            table = Rows(columns, round(top + INSET, 2), len(body), round(pitch, 2), round(heights[0] - 2 * INSET, 2))
            caption = self._caption(Rect(min(c.box.x0 for c in header), min(c.box.y0 for c in header),
                                         max(c.box.x1 for c in header), max(c.box.y1 for c in header)))
            union = (header[0].box.x0, top, header[-1].box.x1 - header[0].box.x0, body[-1][0].box.y1 - top)
            self.add(Found(caption or "表", "table", _r(union), table=table, rule="table",
                           why=f"見出し行 ({'・'.join(c[0] for c in columns)}) の下に空の行が{len(body)}行"))

    def _caption(self, header: Rect) -> str:
        """Printed text just above a table (世帯員（記入してください）) names it."""
        above = [r for r in self.free_runs if r.box.y1 <= header.y0 + 0.5 and header.y0 - r.box.y1 < 8
                 and r.box.x0 < header.x1 and r.box.x1 > header.x0 and _labelish(r)]
        if not above:
            return ""
        line = max(r.box.y1 for r in above)
        return clean_label(min((r for r in above if line - r.box.y1 < 2.0), key=lambda r: r.box.x0).text)

    # -- value cells --------------------------------------------------------------------------
    def _value_cells(self) -> None:
        pending: list[Cell] = []
        for cell in self.cells:
            if cell.used:
                continue
            if self._content(cell) is None:
                continue
            label_cell = self._left_label(cell)
            if label_cell is not None:
                label_cell.used = True
                self._emit(cell, label_cell.labels, "left_cell", f"左の見出しセル「{_text(label_cell.labels)}」")
            else:
                pending.append(cell)
        for cell in pending:
            if self._own_label(cell):
                continue
            above = self._above_label(cell)
            if above is not None:
                above.used = True
                self._emit(cell, above.labels, "above_cell", f"上の見出しセル「{_text(above.labels)}」")
                continue
            run = self._free_label(cell)
            if run is not None:
                where = "above_text" if run.box.y1 <= cell.box.y0 + 0.5 else "left_text"
                self._emit(cell, [run], where, f"{'上' if where == 'above_text' else '左'}に印刷された「{run.text}」")

    def _content(self, cell: Cell) -> str | None:
        """What kind of value area a cell is, or None if it is not one (a label, printed text)."""
        if cell.empty:
            return "empty"
        if _digit_runs(cell.squares, cell.runs):
            return "digits"
        if self._options_in(cell):
            return "options"
        if _date_tokens(cell.runs):
            return "date"
        if all(_special(r) for r in cell.runs):
            return "units"
        return None

    def _left_label(self, cell: Cell) -> Cell | None:
        for c in self.cells:
            if c is cell or c.used or not c.labels or self._content(c) is not None:
                continue
            beside = abs(c.box.x1 - cell.box.x0) <= 1.5 and c.box.overlap_y(cell.box) >= 0.6 * min(c.box.h, cell.box.h)
            if beside and c.box.h <= 1.6 * cell.box.h + 2:
                return c
        return None

    def _above_label(self, cell: Cell) -> Cell | None:
        for c in self.cells:
            if c is cell or c.used or not c.labels or self._content(c) is not None:
                continue
            if abs(c.box.y1 - cell.box.y0) <= 1.5 and c.box.overlap_x(cell.box) >= 0.8 * min(c.box.w, cell.box.w) \
                    and c.box.w <= 1.3 * cell.box.w + 2 and c.box.h < cell.box.h * 1.5:
                return c
        return None

    def _free_label(self, cell: Cell) -> Run | None:
        b = cell.box
        above = [r for r in self.free_runs if _labelish(r) and 0 <= b.y0 - r.box.y1 < 4.5
                 and r.box.x0 < b.x0 + 0.5 * b.w and r.box.x1 > b.x0 - 1]
        if above:
            return max(above, key=lambda r: r.box.y1)
        left = [r for r in self.free_runs if _labelish(r) and 0 <= b.x0 - r.box.x1 < 10
                and r.box.overlap_y(b) >= 0.5 * r.box.h]
        return max(left, key=lambda r: r.box.x1) if left else None

    def _own_label(self, cell: Cell) -> bool:
        """Choices, a date group or character boxes led by their own label in the same cell."""
        kind = self._content(cell)
        if kind in ("empty", "units"):
            return False
        lead = [r for r in cell.labels if not self._is_option_text(cell, r)]
        if not lead:
            return False
        first = min(lead, key=lambda r: r.box.x0)
        self._emit(cell, [first], "own_label", f"同じ欄の先頭の「{first.text}」", after=first.box.x1)
        return True

    def _emit(self, cell: Cell, label_runs: list[Run], rule: str, why: str, after: float | None = None) -> None:
        label = clean_label(_text(label_runs))
        lr = min(label_runs, key=lambda r: r.confidence) if label_runs else None
        kind = self._content(cell)
        b = cell.box
        x0 = max(b.x0, after) if after is not None else b.x0
        if kind == "digits":
            f = _digits_field(label, _digit_runs(cell.squares, cell.runs), cell.runs)
            f.rule, f.why = rule, why + "の右の文字枠"
            self.add(f, lr)
            return
        if kind == "options":
            opts = self._options_in(cell)
            if len(opts) == 1:  # one □: ticked or not
                f = Found(label, "checkbox", _union_of(opts.values()), options=opts, rule=rule + "+checkbox",
                          why=why + f"の右の □「{next(iter(opts))}」", type_why="□ が1つ")
            else:
                f = Found(label, "choice", _union_of(opts.values()), options=opts, rule=rule + "+options",
                          why=why + f"の右の選択肢 ({'・'.join(opts)})", type_why="選択肢が印刷されている")
            self.add(f, lr)
            return
        if kind == "date":
            parts, fmt = _date_parts(cell.runs, Rect(x0, b.y0, b.x1, b.y1), whole_height=True)
            if parts:
                f = Found(label, "wareki_date", _union_of(parts), parts=parts, format=fmt, rule=rule + "+date",
                          why=why + "の右の「年 月 日」の空き", type_why="年 月 日 が印刷されている")
                self.add(f, lr)
            return
        zone = Rect(x0 + INSET, b.y0 + INSET, b.x1 - INSET, b.y1 - INSET)
        unit = ""
        postal = next((r for r in cell.runs if r.text in POSTAL_MARKS), None)
        if postal is not None and b.y1 - postal.box.y1 >= 5.0 and postal.box.y0 - b.y0 < 3.0:
            # 〒 on the first line of a tall cell: the postal code there, the address below it
            band = min(b.y1 - INSET, 2 * postal.box.cy - b.y0 - INSET)
            pz = Rect(postal.box.x1 + INSET, b.y0 + INSET, min(b.x1 - INSET, postal.box.x1 + 50.0), band)
            self.add(Found("郵便番号", "postal_code", _r(pz.xywh()), unit="〒", rule=rule + "+postal",
                           why=why + "の欄の〒の右", type_why="〒 が印刷されている"), lr)
            zone = Rect(zone.x0, band, zone.x1, zone.y1)
        for r in cell.runs:
            if not (zone.y0 <= r.box.cy <= zone.y1):
                continue
            if r.text in POSTAL_MARKS or (_is_unit(r.text) and r.box.cx < zone.cx):
                zone = Rect(max(zone.x0, r.box.x1 + INSET), zone.y0, zone.x1, zone.y1)
                unit = unit or r.text
            elif _is_unit(r.text):
                zone = Rect(zone.x0, zone.y0, min(zone.x1, r.box.x0 - INSET), zone.y1)
                unit = unit or r.text
        if zone.w < 3 or zone.h < 2:
            return
        postal_here = unit == "〒"
        ftype = "postal_code" if postal_here else guess_type(label, unit)
        type_why = "〒 が印刷されている" if postal_here else (f"見出し「{label}」から" if ftype != "text" else "")
        self.add(Found(label, ftype, _r(zone.xywh()), unit=unit, rule=rule, why=why + "の右の空欄" if rule.startswith("left")
                       else why + "の下の空欄" if rule.startswith("above") else why, type_why=type_why), lr)

    # -- labels inside a cell -----------------------------------------------------------------
    def _inside_labels(self) -> None:
        for cell in self.cells:
            if cell.used or cell.shaded or self._content(cell) is not None or len(cell.runs) != 1:
                continue
            r = cell.runs[0]
            if not _labelish(r):
                continue
            b, t = cell.box, r.box
            label = clean_label(r.text)
            if t.y0 - b.y0 < 0.35 * b.h and b.y1 - t.y1 >= 4.5 and t.x0 - b.x0 < 0.3 * b.w:
                zone = Rect(b.x0 + INSET, t.y1 + 0.3, b.x1 - INSET, b.y1 - INSET)
                self.add(Found(label, guess_type(label), _r(zone.xywh()), rule="inside_top",
                               why=f"枠の左上の「{r.text}」の下", type_why=_type_why(label)), r)
            elif t.x0 - b.x0 < 0.2 * b.w and b.x1 - t.x1 >= max(15.0, 2 * t.w) and b.h < 3 * t.h:
                if any(abs(c.box.x0 - b.x1) <= 1.5 and c.box.overlap_y(b) > 0.5 * b.h for c in self.cells):
                    continue  # a label cell whose value cell did not qualify (printed text in it)
                zone = Rect(t.x1 + 1.0, b.y0 + INSET, b.x1 - INSET, b.y1 - INSET)
                self.add(Found(label, guess_type(label), _r(zone.xywh()), rule="inside_left",
                               why=f"枠の左の「{r.text}」の右", type_why=_type_why(label)), r)

    # -- outside cells ------------------------------------------------------------------------
    def _free_lines(self) -> None:
        taken: set[int] = set()
        # underlines first: their labels are on the same line
        for seg in self.lines:
            if seg.length < 8.0:
                continue
            f = self._underline(seg, taken)
            if f is not None:
                self.found.append(f)
        # 年 月 日 groups, options and character boxes outside cells, line by line
        for line in _text_lines(self.free_runs, self.free_squares):
            runs = [e for e in line if isinstance(e, Run) and id(e) not in taken]
            squares = [e for e in line if isinstance(e, Rect)]
            tokens = _date_tokens(runs)
            if tokens:
                self._free_date(runs, tokens, taken)
            digit = _digit_runs(squares, runs)
            if digit:
                lead = [r for r in runs if _labelish(r) and r.box.x1 <= digit[0][0].x0 + 1]
                label_run = max(lead, key=lambda r: r.box.x1) if lead else None
                f = _digits_field(clean_label(label_run.text) if label_run else "番号", digit, runs)
                f.rule, f.why = "free_digits", f"「{label_run.text if label_run else ''}」の右の文字枠"
                self.add(f, label_run)
                squares = [s for s in squares if not any(s in g for g in digit)]
            opts = _check_options(squares, runs)
            if opts:
                first = min(b[0] for b in opts.values())
                lead = [r for r in runs if _labelish(r) and r.box.x1 <= first + 0.5 and clean_label(r.text) not in opts]
                label_run = max(lead, key=lambda r: r.box.x1) if lead else None
                if len(opts) == 1 and label_run is None:
                    name = next(iter(opts))
                    self.add(Found(name, "checkbox", _union_of(opts.values()), options=opts, rule="free_checkbox",
                                   why=f"□ と「{name}」", type_why="□ が1つ"))
                else:
                    label = clean_label(label_run.text) if label_run else self._label_above(line)
                    self.add(Found(label or "選択", "choice", _union_of(opts.values()), options=opts,
                                   rule="free_options", why=f"□ 付きの選択肢 ({'・'.join(opts)})",
                                   type_why="選択肢が印刷されている"), label_run)

    def _label_above(self, line: list[Run | Rect]) -> str:
        y0 = min(e.box.y0 if isinstance(e, Run) else e.y0 for e in line)
        above = [r for r in self.free_runs if 0 <= y0 - r.box.y1 < 6 and _labelish(r)]
        return clean_label(max(above, key=lambda r: r.box.y1).text) if above else ""

    def _underline(self, seg: Seg, taken: set[int]) -> Found | None:
        same = [r for r in self.runs if seg.y0 - 6.0 <= r.box.y1 <= seg.y0 + 1.5 and _labelish(r)
                and r.box.x1 <= seg.x0 + 0.6 * seg.length and seg.x0 - r.box.x1 < 10.0]
        lead = [r for r in same if r.box.x0 < seg.x0 + 1.0]
        if not lead:
            return None
        label_run = max(lead, key=lambda r: r.box.x1)
        taken.add(id(label_run))
        x0 = max(seg.x0, label_run.box.x1 + 0.3)
        obstacles = [r.box.y1 for r in self.runs if r.box.x0 < seg.x1 and r.box.x1 > x0
                     and r.box.y1 < seg.y0 - 5.0 and r is not label_run]
        obstacles += [s.y0 for s in self.lines if s is not seg and s.x0 < seg.x1 and s.x1 > x0 and s.y0 < seg.y0 - 2]
        room = seg.y0 - max(obstacles, default=seg.y0 - 12.0) - 0.8
        h = max(4.5, min(8.0, room))
        zone = Rect(x0, seg.y0 - h, seg.x1, seg.y0 + 1.0)  # a little below the line: writing sags onto it
        label = clean_label(label_run.text)
        f = Found(label, guess_type(label), _r(zone.xywh()), rule="underline", why=f"「{label_run.text}」に続く下線の上",
                  type_why=_type_why(label))
        base = self.rel.get(f.rule, 0.7)
        f.label_confidence = label_run.confidence
        f.confidence = round(base * (1.0 if label_run.confidence >= 0.85 else 0.8), 2)
        return f

    def _free_date(self, runs: list[Run], tokens: list[Run], taken: set[int]) -> None:
        first = tokens[0]
        lead = [r for r in runs if r.box.x1 <= first.box.x0 + 0.5 and not _special(r) and _labelish(r)
                and first.box.x0 - r.box.x1 < 40]
        label_run = max(lead, key=lambda r: r.box.x1) if lead else None
        start = label_run.box.x1 if label_run else first.box.x0 - 20.0
        y0 = min(t.box.y0 for t in tokens) - 2.5  # the printed line's height and 2 mm above and below
        y1 = max(t.box.y1 for t in tokens) + 2.5
        parts, fmt = _date_parts(runs, Rect(start, y0, tokens[-1].box.x1, y1))
        if not parts:
            return
        for r in runs:
            taken.add(id(r))
        label = clean_label(label_run.text) if label_run else "記入日"
        self.add(Found(label, "wareki_date", _union_of(parts), parts=parts, format=fmt, rule="free_date",
                       why=f"「{label_run.text if label_run else ''}」に続く「年 月 日」の空き",
                       type_why="年 月 日 が印刷されている"), label_run)

    # -- choices ------------------------------------------------------------------------------
    def _options_in(self, cell: Cell) -> dict[str, tuple[float, float, float, float]]:
        checks = _check_options(cell.squares, cell.runs)
        if checks:
            return checks
        return self._circle_options(cell)

    def _circle_options(self, cell: Cell) -> dict[str, tuple[float, float, float, float]]:
        """Printed choices to circle: numbered (1.窓口 2.郵送), separated by ・ (男・女), or two or more
        short words with a 「該当するものに○」 hint, on one line of a cell."""
        hint = any(CIRCLE_HINT.search(r.text) for r in cell.runs) or any(
            CIRCLE_HINT.search(r.text) for r in self.runs if r.box.overlap_y(cell.box) > 0.5 * r.box.h
            and r.box.x0 >= cell.box.x1 - 1 and r.box.x0 - cell.box.x1 < 40)
        words = [r for r in cell.runs if not _is_note(r.text) and not CIRCLE_HINT.search(r.text)]
        if not words:
            return {}
        base = words[0].box.cy
        if any(abs(r.box.cy - base) > 0.5 * r.box.h for r in words):
            return {}
        numbered = [r for r in words if NUMBERED.match(r.text)]
        out: dict[str, tuple[float, float, float, float]] = {}
        separated = [r for r in words if r.text not in ("・", "･", "/", "／")]
        if len(separated) >= 2 and len(words) == 2 * len(separated) - 1 and all(
                words[i].text in ("・", "･", "/", "／") for i in range(1, len(words), 2)):
            return {r.text: _circle_zone(r.box) for r in separated}  # 男 ・ 女 printed apart
        if len(numbered) >= 2:
            for r in numbered:
                out[NUMBERED.match(r.text).group(1)] = _circle_zone(r.box)  # type: ignore[union-attr]
            return out
        dotted = [r for r in words if "・" in r.text and len(r.chars) == len(r.text)]
        if len(words) == 1 and dotted:
            return _split_dotted(dotted[0])
        if hint and len(words) >= 2 and all(len(r.text) <= 12 for r in words):
            return {r.text: _circle_zone(r.box) for r in words}
        return {}

    def _is_option_text(self, cell: Cell, r: Run) -> bool:
        opts = self._options_in(cell)
        return clean_label(r.text) in opts or (NUMBERED.match(r.text) is not None and len(opts) > 0)


# =============================================================================================
# Geometry helpers
# =============================================================================================
def _r(t: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return tuple(round(v, 1) for v in t)  # type: ignore[return-value]


def _text(runs: list[Run]) -> str:
    """The runs of a cell in reading order: line by line (a small kana's top is lower than its
    neighbours'), left to right."""
    return "".join(item.text for line in _text_lines(runs, []) for item in line if isinstance(item, Run))


def _type_why(label: str) -> str:
    return f"見出し「{label}」から" if guess_type(label) != "text" else ""


def _square_like(b: Rect) -> bool:
    return SQUARE_MIN <= b.w <= SQUARE_MAX and SQUARE_MIN <= b.h <= SQUARE_MAX and max(b.w, b.h) <= 1.35 * min(b.w, b.h)


def _same(a: Rect, b: Rect, tol: float) -> bool:
    return abs(a.x0 - b.x0) <= tol and abs(a.y0 - b.y0) <= tol and abs(a.x1 - b.x1) <= tol and abs(a.y1 - b.y1) <= tol


def _dedupe(squares: list[Rect]) -> list[Rect]:
    out: list[Rect] = []
    for s in sorted(squares, key=lambda s: -s.area):
        if not any(o.contains(s.cx, s.cy) and s.area < 1.6 * o.area for o in out):
            out.append(s)
    return out


def _union_of(boxes: object) -> tuple[float, float, float, float]:
    items = list(boxes)  # type: ignore[call-overload]
    x0 = min(b[0] for b in items)
    y0 = min(b[1] for b in items)
    x1 = max(b[0] + b[2] for b in items)
    y1 = max(b[1] + b[3] for b in items)
    return _r((x0, y0, x1 - x0, y1 - y0))


def _rows(cells: list[Cell]) -> dict[tuple[float, float], list[Cell]]:
    rows: dict[tuple[float, float], list[Cell]] = {}
    for c in cells:
        key = next((k for k in rows if abs(k[0] - c.box.y0) <= 0.8 and abs(k[1] - c.box.y1) <= 0.8), None)
        rows.setdefault(key or (round(c.box.y0, 1), round(c.box.y1, 1)), []).append(c)
    for row in rows.values():
        row.sort(key=lambda c: c.box.x0)
    return rows


def _same_columns(header: list[Cell], row: list[Cell]) -> bool:
    return len(header) == len(row) and all(abs(a.box.x0 - b.box.x0) <= 1.0 and abs(a.box.x1 - b.box.x1) <= 1.0
                                           for a, b in zip(header, row))


def _match(h: Cell, row: list[Cell]) -> Cell | None:
    return next((c for c in row if abs(c.box.x0 - h.box.x0) <= 1.0), None)


def _numbering(c: Cell) -> bool:
    return all(NUMBER_ONLY.match(r.text.strip()) for r in c.runs) and not c.squares


def _below(f: Found, y: float, x0: float) -> bool:
    fx0, fy0, fw, _ = f.box
    return 0 <= fy0 - y <= 30.0 and fx0 + fw > x0 - 5  # the office's part lies below and right of its heading


def _without_overlaps(found: list[Found]) -> list[Found]:
    """A zone mostly inside a surer guess's zone is the same field found twice."""
    out: list[Found] = []
    for f in sorted(found, key=lambda f: -f.confidence):
        a = Rect(f.box[0], f.box[1], f.box[0] + f.box[2], f.box[1] + f.box[3])
        clash = False
        for g in out:
            b = Rect(g.box[0], g.box[1], g.box[0] + g.box[2], g.box[1] + g.box[3])
            if a.overlap_x(b) * a.overlap_y(b) > 0.5 * min(a.area, b.area):
                clash = True
                break
        if not clash:
            out.append(f)
    return out


def _ordered(found: list[Found]) -> list[Found]:
    """Reading order: rows top to bottom (a 2 mm band), left to right."""
    return sorted(found, key=lambda f: (round(f.box[1] / 3.0), f.box[0]))


def _text_lines(runs: list[Run], squares: list[Rect]) -> list[list[Run | Rect]]:
    items: list[tuple[Rect, Run | Rect]] = [(r.box, r) for r in runs] + [(s, s) for s in squares]
    lines: list[list[tuple[Rect, Run | Rect]]] = []
    for box, item in sorted(items, key=lambda t: (t[0].cy, t[0].x0)):
        for line in lines:
            ref = line[0][0]
            if abs(ref.cy - box.cy) <= 0.4 * max(ref.h, box.h):
                line.append((box, item))
                break
        else:
            lines.append([(box, item)])
    return [[item for _, item in sorted(line, key=lambda t: t[0].x0)] for line in lines]


# -- character boxes ------------------------------------------------------------------------------
def _digit_runs(squares: list[Rect], runs: list[Run]) -> list[list[Rect]]:
    """Groups of equal boxes side by side on one line (a printed hyphen may split groups; text
    between two boxes means they are tick boxes, not character boxes). [] if fewer than two."""
    if len(squares) < 2:
        return []
    line = sorted(squares, key=lambda s: s.x0)
    groups: list[list[Rect]] = [[line[0]]]
    for s in line[1:]:
        prev = groups[-1][-1]
        similar = abs(s.h - prev.h) <= 0.25 * prev.h and abs(s.cy - prev.cy) <= 0.3 * prev.h
        between = [r for r in runs if prev.x1 - 0.3 <= r.box.cx <= s.x0 + 0.3 and r.box.overlap_y(s) > 0]
        gap = s.x0 - prev.x1
        if similar and not between and gap <= 0.6 * prev.w:
            groups[-1].append(s)
        elif similar and gap <= 2.5 * prev.w and all(r.text in DASHES for r in between) and between:
            groups.append([s])
        else:
            return []
    if sum(len(g) for g in groups) < 2 or any(len(g) < 1 for g in groups):
        return []
    texts_inside = [r for r in runs if any(g[0].x0 <= r.box.cx <= g[-1].x1 for g in groups) and r.text not in DASHES]
    return [] if texts_inside else groups


def _digits_field(label: str, groups: list[list[Rect]], runs: list[Run]) -> Found:
    n = [len(g) for g in groups]
    total = sum(n)
    parts = [_r(s.inset(0.6).xywh()) for g in groups for s in g]
    postal = any(r.text in POSTAL_MARKS for r in runs)
    if postal or n == [3, 4]:
        ftype, why = "postal_code", "〒 と 3-4 桁の文字枠"
    elif total == 12:
        ftype, why = "my_number", "12 桁の文字枠"
    elif total == 13:
        ftype, why = "corporate_number", "13 桁の文字枠"
    elif guess_type(label) == "phone" or (len(n) == 3 and 10 <= total <= 11):
        ftype, why = "phone", "3 組の文字枠" if guess_type(label) != "phone" else f"見出し「{label}」から"
    else:
        guessed = guess_type(label)
        ftype, why = (guessed, f"見出し「{label}」から") if guessed in ("digits", "amount", "kana", "name") else \
            ("digits", f"{total} 桁の文字枠")
    fmt = "-".join("{}" * k for k in n) if len(n) > 1 else ""
    return Found(label or "番号", ftype, _union_of(parts), parts=parts, format=fmt, type_why=why)


# -- tick boxes and choices -----------------------------------------------------------------------
def _check_options(squares: list[Rect], runs: list[Run]) -> dict[str, tuple[float, float, float, float]]:
    """□ followed by its text on the same line: option name → zone around the □ (where a tick goes)."""
    out: dict[str, tuple[float, float, float, float]] = {}
    for s in sorted(squares, key=lambda s: s.x0):
        after = [r for r in runs if 0 <= r.box.x0 - s.x1 < max(3.0, 0.9 * s.w) and abs(r.box.cy - s.cy) < 0.6 * s.h]
        if not after:
            continue
        r = min(after, key=lambda r: r.box.x0)
        name = clean_label(r.text)
        if not name:
            continue
        out[name] = _r((s.x0 - 1.0, s.y0 - 2.0, s.w + 2.5, s.h + 3.5))
    return out


def _circle_zone(b: Rect) -> tuple[float, float, float, float]:
    """Around an option's text, wide enough for the circle drawn around it."""
    return _r((b.x0 - 2.0, b.y0 - 2.0, b.w + 4.0, b.h + 4.0))


def _split_dotted(r: Run) -> dict[str, tuple[float, float, float, float]]:
    """男・女 printed as one run: each word its own zone, from the characters' positions."""
    out: dict[str, tuple[float, float, float, float]] = {}
    word: list[int] = []
    for i, ch in enumerate(r.text + "・"):
        if ch == "・":
            if word:
                x0, x1 = r.chars[word[0]][0], r.chars[word[-1]][1]
                out[r.text[word[0]:word[-1] + 1]] = _circle_zone(Rect(x0, r.box.y0, x1, r.box.y1))
            word = []
        else:
            word.append(i)
    return out if len(out) >= 2 else {}


# -- 年 月 日 ----------------------------------------------------------------------------------------
def _split_era(r: Run) -> list[Run]:
    """「申請日令和」 printed close together: the label and the era of a date group, apart."""
    era = next((e for e in ERAS if r.text.endswith(e) and len(r.text) > len(e)), None)
    if era is None:
        return [r]
    cut = len(r.text) - len(era)
    x = r.chars[cut][0] if len(r.chars) == len(r.text) else r.box.x0 + r.box.w * cut / len(r.text)
    head = Run(r.text[:cut], Rect(r.box.x0, r.box.y0, x, r.box.y1), r.confidence, r.chars[:cut])
    tail = Run(era, Rect(x, r.box.y0, r.box.x1, r.box.y1), r.confidence, r.chars[cut:])
    return [head, tail]


def _date_tokens(runs: list[Run]) -> list[Run]:
    """年, 月, 日 printed apart on one line, in that order (the gaps are where the date goes)."""
    found: list[Run] = []
    for unit in DATE_UNITS:
        cands = [r for r in runs if r.text == unit and (not found or (r.box.x0 > found[-1].box.x1 + 2.0
                                                                       and abs(r.box.cy - found[-1].box.cy) < r.box.h))]
        if not cands:
            return []
        found.append(min(cands, key=lambda r: r.box.x0))
    return found


def _date_parts(runs: list[Run], area: Rect, whole_height: bool = False) -> tuple[list[tuple[float, float, float, float]], str]:
    """The three gaps before 年, 月 and 日 within `area` (its whole height in a cell, else the printed
    line's with a margin), and the format (the printed era first)."""
    tokens = _date_tokens(runs)
    if not tokens:
        return [], ""
    era = next((r for r in runs if _is_era(r.text) and r.box.x1 <= tokens[0].box.x0 + 0.5), None)
    start = era.box.x1 if era is not None and era.text in ERAS else (era.box.x1 if era is not None else area.x0)
    y0 = area.y0 + INSET if whole_height else max(area.y0 + INSET, min(t.box.y0 for t in tokens) - 2.0)
    y1 = area.y1 - INSET if whole_height else min(area.y1 - INSET, max(t.box.y1 for t in tokens) + 2.0)
    parts = []
    prev = start
    for t in tokens:
        x0, x1 = prev + 0.3, t.box.x0 - 0.3
        if x1 - x0 < 2.0:
            return [], ""
        parts.append(_r((x0, y0, x1 - x0, y1 - y0)))
        prev = t.box.x1
    lead = era.text if era is not None and era.text in ERAS else ""
    return parts, f"{lead}{{}}年{{}}月{{}}日"


def find(sheet: Sheet) -> list[Found]:
    """Every field guessed on a sheet, in reading order."""
    return Finder(sheet).run()
