"""Read a table file — CSV/TSV (UTF-8 with or without BOM, Shift_JIS as Excel saves it, UTF-16 with a
BOM; other encodings and mojibake refused, see connectors/encodings.py), an .xlsx sheet or a JSON list
of objects — into rows with the line each came from, for row-by-row validation: the time-log import
and online applications' exports read their files here."""
from __future__ import annotations

import csv
import io
import json
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from connectors.encodings import EncodingRefused, decode
from kakari.errors import ConfigError
from kakari.wareki import parse_wareki

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
SHEET_SUFFIXES = (".xlsx", ".xlsm")
TABLE_SUFFIXES = (*TEXT_SUFFIXES, *SHEET_SUFFIXES, ".json")


class ImportError_(ConfigError):
    """A file that cannot be imported; the message lists every bad line."""


def _norm(text: Any) -> str:
    return unicodedata.normalize("NFKC", "" if text is None else str(text)).strip().lower()


@dataclass
class Grid:
    """A table file's records as read (blank ones included), before a header row is chosen."""

    name: str
    lines: list[tuple[int, list[Any]]]  # (where the record starts, its cells)
    encoding: str = ""  # text files: the encoding read ("Shift_JIS" …)
    unit: str = "行目"  # how a position is said: 行目 (a CSV line, a sheet row) or 件目 (a JSON item)
    sheet: str = ""

    def table(self, header_row: int = 1) -> Table:
        """The records after the header (the record at line `header_row`; a JSON list's keys), blank
        records dropped."""
        at = 0 if self.unit == "件目" else next((i for i, (n, _) in enumerate(self.lines) if n == header_row), None)
        if at is None or all(_norm(c) == "" for c in self.lines[at][1]):
            raise ImportError_(f"{self.name}: {header_row}{self.unit}に見出しがありません")
        body = [(n, c) for n, c in self.lines[at + 1:] if any(_norm(x) != "" for x in c)]
        return Table(self.name, [str(h or "") for h in self.lines[at][1]], body, self.encoding, self.unit, self.sheet)


@dataclass
class Table:
    name: str
    header: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    encoding: str = ""
    unit: str = "行目"
    sheet: str = ""


def read_grid(path: Path, data: bytes | None = None, sheet: str | None = None) -> Grid:
    """Every record of a CSV/TSV, xlsx or JSON file (`data`: its bytes, when not read from `path`,
    e.g. a member of a ZIP); ImportError_ names the file and what is wrong with it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ImportError_(f"{path.name}: CSV (.csv)・Excel (.xlsx)・JSON (.json) のいずれかを指定してください")
    if data is None:
        if not path.is_file():
            raise ImportError_(f"ファイル {path} が見つかりません")
        data = path.read_bytes()
    if not data.strip():
        raise ImportError_(f"{path.name}: 空のファイルです")
    if suffix in SHEET_SUFFIXES:
        return _xlsx_grid(path.name, data, sheet)
    try:
        decoded = decode(data)
    except EncodingRefused as e:
        raise ImportError_(f"{path.name}: {e}") from None
    if suffix == ".json":
        return _json_grid(path.name, decoded.text, decoded.label)
    return _csv_grid(path.name, decoded.text, decoded.label, suffix == ".tsv")


def read_table(path: Path, aliases: Mapping[str, tuple[str, ...]], required: tuple[str, ...]
               ) -> list[tuple[int, dict[str, Any]]]:
    """[(line number, {canonical name: cell value})]; empty lines are skipped.

    `aliases` maps each canonical name to the headers accepted for it (English and Japanese).
    """
    table = read_grid(Path(path)).table()
    lookup = {_norm(a): canon for canon, names in aliases.items() for a in (canon, *names)}
    columns = [lookup.get(_norm(h)) for h in table.header]
    missing = [r for r in required if r not in columns]
    if missing:
        wanted = "、".join(f"{m} ({'/'.join(aliases[m])})" for m in missing)
        raise ImportError_(f"{table.name}: 見出し行に必要な列がありません: {wanted}")
    return [(line, {col: cell for col, cell in zip(columns, cells) if col}) for line, cells in table.rows]


def _csv_grid(name: str, text: str, encoding: str, tabs: bool) -> Grid:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if tabs or first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines: list[tuple[int, list[Any]]] = []
    start = 1
    try:
        for cells in reader:
            lines.append((start, cells))  # a quoted cell may span lines: a record is where it starts
            start = reader.line_num + 1
    except csv.Error as e:
        raise ImportError_(f"{name}: {start}行目が CSV として読めません ({e})") from None
    return Grid(name, lines, encoding)


def _xlsx_grid(name: str, data: bytes, sheet: str | None) -> Grid:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable workbook is the user's file problem
        raise ImportError_(f"{name}: Excel ブックとして読めません ({type(e).__name__})") from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise ImportError_(f"{name}: シート「{sheet}」がありません (あるシート: {'、'.join(wb.sheetnames)})")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        lines = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)]
        title = ws.title
    finally:
        wb.close()
    if not lines:
        raise ImportError_(f"{name}: 空のシートです")
    return Grid(name, lines, sheet=title)


def _json_grid(name: str, text: str, encoding: str) -> Grid:
    """A list of objects, or an object holding one such list ({"applications": [...]}); nested
    objects become dotted columns (applicant.name), lists of values one cell with a line each."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportError_(f"{name}: JSON として読めません ({e.lineno}行目 {e.colno}文字目: {e.msg})") from None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise ImportError_(f"{name}: 申請の一覧 (オブジェクトの配列) が見つかりません")
        data = lists[0]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ImportError_(f"{name}: 申請の一覧はオブジェクトの配列にしてください")
    flat = [_flatten(item) for item in data]
    header = list(dict.fromkeys(k for item in flat for k in item))
    lines: list[tuple[int, list[Any]]] = [(0, list(header))]
    lines += [(i, [item.get(k) for k in header]) for i, item in enumerate(flat, start=1)]
    return Grid(name, lines, encoding, unit="件目")


def _flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _flatten(value, f"{name}.")
        elif isinstance(value, list):
            out[name] = "\n".join("" if v is None else str(v) for v in value)
        else:
            out[name] = value
    return out


def number(value: Any, what: str, allow_zero: bool = True) -> float:
    """A non-negative number from a cell ("1,234" and full-width digits accepted)."""
    text = _norm(value).replace(",", "")
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"{what}「{value}」が数値ではありません") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{what}「{value}」は{'0以上' if allow_zero else '0より大きい'}の数値にしてください")
    return x


def text(value: Any, what: str) -> str:
    """A name (原課, 業務名) exactly as the town wrote it, surrounding spaces removed: 「さくらⅡ」 stays
    「さくらⅡ」 and 「（株）」 stays full-width (reports group spellings by a normalised key)."""
    s = ("" if value is None else str(value)).strip()
    if not s:
        raise ValueError(f"{what}が空です")
    return s


def day(value: Any, what: str = "日付") -> date:
    """A day from a cell: a date, 2026-10-05, 2026/10/5, 2026-10 (the month's first day) or 和暦."""
    import re
    from datetime import datetime

    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = unicodedata.normalize("NFKC", str(value or "")).strip()
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?", s)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
        parsed, problems = parse_wareki(s)
        if parsed is not None and not problems:
            return parsed
    except ValueError:
        pass
    raise ValueError(f"{what}「{value}」を日付として読めません (例: 2026-10-31)")
