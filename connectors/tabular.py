"""Read a CSV (UTF-8, BOM or not; Shift_JIS as Excel saves it) or an .xlsx sheet into rows keyed by
canonical column names, with the line number each row came from, for row-by-row validation."""
from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from kakari.errors import ConfigError
from kakari.wareki import parse_wareki


class ImportError_(ConfigError):
    """A file that cannot be imported; the message lists every bad line."""


def _norm(text: Any) -> str:
    return unicodedata.normalize("NFKC", "" if text is None else str(text)).strip().lower()


def read_table(path: Path, aliases: Mapping[str, tuple[str, ...]], required: tuple[str, ...]
               ) -> list[tuple[int, dict[str, Any]]]:
    """[(line number, {canonical name: cell value})]; empty lines are skipped.

    `aliases` maps each canonical name to the headers accepted for it (English and Japanese).
    """
    path = Path(path)
    if not path.is_file():
        raise ImportError_(f"ファイル {path} が見つかりません")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, body = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        header, body = _csv_rows(path)
    else:
        raise ImportError_(f"{path.name}: CSV (.csv) または Excel (.xlsx) を指定してください")
    lookup = {_norm(a): canon for canon, names in aliases.items() for a in (canon, *names)}
    columns = [lookup.get(_norm(h)) for h in header]
    missing = [r for r in required if r not in columns]
    if missing:
        wanted = "、".join(f"{m} ({'/'.join(aliases[m])})" for m in missing)
        raise ImportError_(f"{path.name}: 見出し行に必要な列がありません: {wanted}")
    out = []
    for line, cells in body:
        if all(_norm(c) == "" for c in cells):
            continue
        out.append((line, {col: cell for col, cell in zip(columns, cells) if col}))
    return out


def _csv_rows(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportError_(f"{path.name}: 文字コードが UTF-8 でも Shift_JIS でもありません")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ImportError_(f"{path.name}: 空のファイルです")
    return rows[0], [(i, r) for i, r in enumerate(rows[1:], start=2)]


def _xlsx_rows(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable workbook is the user's file problem
        raise ImportError_(f"{path.name}: Excel ブックとして読めません ({type(e).__name__})") from None
    try:
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()
    if not rows:
        raise ImportError_(f"{path.name}: 空のシートです")
    return [str(h or "") for h in rows[0]], [(i, r) for i, r in enumerate(rows[1:], start=2)]


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
    s = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()
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
