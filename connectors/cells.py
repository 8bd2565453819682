"""The one way kakari writes a spreadsheet cell, in a workbook (openpyxl) or a CSV file.

Ledgers, KPI reports and their CSV twins all hold text that came from outside: a name read from an
application, a 原課 or 業務名 from an imported time log. Excel runs a cell that begins with = + - @
(or a tab / carriage return before them) as a formula — =HYPERLINK(…) opens a web page,
+cmd|' /C calc'!A0 starts a program — so such text is always written as text: an xlsx cell gets the
string type and the text format, a CSV field gets a leading apostrophe (OWASP's advice; Excel then
shows the text instead of running it). Numbers stay numbers, negative ones included.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Strip control characters that corrupt a workbook or hide content."""
    return _CONTROL.sub("", value)


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START)


def set_cell(cell: Any, value: Any) -> None:
    """Write `value` into an openpyxl cell: 有/無 for booleans, dates and times with a date format
    (a town's own format, e.g. 和暦, is kept), numbers as numbers, anything else as plain text."""
    if isinstance(value, bool):
        value = "有" if value else "無"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(TOKYO).replace(tzinfo=None)
        cell.value = value.replace(microsecond=0)
        if cell.number_format == "General":
            cell.number_format = "yyyy/mm/dd hh:mm"
        return
    if isinstance(value, date):
        cell.value = value
        if cell.number_format == "General":
            cell.number_format = "yyyy/mm/dd"
        return
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, (int, float)) or value is None:
        cell.value = value
        return
    # line breaks as LF: an XML reader turns a raw CR into LF, but openpyxl's lxml writer escapes it
    # (and keeps it), so without this the stored text would depend on whether lxml is installed
    text = clean_text(str(value)).replace("\r\n", "\n").replace("\r", "\n")
    cell.value = text
    if is_formula_like(text):
        cell.data_type = "s"  # never a formula, whatever openpyxl guessed from the leading "="
        cell.number_format = "@"


def csv_field(value: Any) -> str:
    """One CSV field: numbers as written, text never starting like a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "有" if value else "無"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    text = clean_text(str(value))
    return "'" + text if is_formula_like(text) else text


def csv_row(values: Any) -> list[str]:
    return [csv_field(v) for v in values]
