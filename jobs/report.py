"""Render a KPI table (`jobs.kpi.kpi_table`) as Markdown, CSV or Excel, with Japanese headers.

Rounding happens here and only here, half up (away from zero on a tie, like Excel's ROUND and
what managers do by hand): 0.25 h → "0.3", a rate of 0.0625 → "6.3%". Python's round() and
"%.1f" would give "0.2" and "6.2%" (banker's rounding / binary floats), so we use
decimal.Decimal with ROUND_HALF_UP. Before that, a value is cut to 10 significant digits so that
float noise (0.24999999999999997 from summing minutes) does not move it off its tie.
"""
from __future__ import annotations

import csv
import io
import math
import os
import tempfile
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from jobs.kpi import TOTAL_LABEL, Period, ReportError
from kakari.errors import TransientError

TITLE = "RPA・AI-OCR 削減効果報告"
UNDEFINED = "—"  # a rate with no base (導入前 = 0, or no status to count)
HEADERS: dict[str, str] = {
    "department": "原課",
    "task": "業務名",
    "bot": "ボット",
    "job": "ジョブ",
    "step": "工程",
    "items": "件数",
    "hours_before": "導入前(時間)",
    "hours_after": "導入後(時間)",
    "hours_saved": "削減時間(時間)",
    "reduction_rate": "削減率",
    "robot_hours": "RPA処理時間(時間)",
    "review_rate": "要確認率",
}
HOURS = frozenset({"hours_before", "hours_after", "hours_saved", "robot_hours"})
RATES = frozenset({"reduction_rate", "review_rate"})
COUNTS = frozenset({"items"})
HOURS_FORMAT, RATE_FORMAT, COUNT_FORMAT = "0.0", "0.0%", "#,##0"
_NOISE = Context(prec=10, rounding=ROUND_HALF_EVEN)


def round_half_up(x: float, places: int) -> Decimal:
    """`x` rounded half up (away from zero) to `places` decimals; -0.0 comes back as 0."""
    d = _NOISE.create_decimal(repr(float(x)))  # shortest repr, then strip float noise
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return q.copy_abs() if q.is_zero() else q


def _undefined(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x)


def fmt_hours(x: float) -> str:
    """Hours with one decimal: 0.25 → "0.3"; NaN → "—"."""
    return UNDEFINED if _undefined(x) else str(round_half_up(x, 1))


def fmt_rate(x: float) -> str:
    """A 0..1 rate as a percent with one decimal: 0.0625 → "6.3%"; NaN → "—"."""
    return UNDEFINED if _undefined(x) else f"{round_half_up(x, 3).scaleb(2)}%"


def _cell_text(column: str, value: Any) -> str:
    if column in HOURS:
        return fmt_hours(value)
    if column in RATES:
        return fmt_rate(value)
    if column in COUNTS:
        return str(int(value))
    return "" if _undefined(value) else str(value)


def _headers(table: pd.DataFrame) -> list[str]:
    return [HEADERS.get(c, c) for c in table.columns]


def _text_rows(table: pd.DataFrame) -> list[list[str]]:
    return [[_cell_text(c, v) for c, v in zip(table.columns, row)] for row in table.itertuples(index=False)]


def _is_number(column: str) -> bool:
    return column in HOURS or column in RATES or column in COUNTS


def title(period: Period) -> str:
    return f"{TITLE} {period.label}"


def to_markdown(table: pd.DataFrame, period: Period) -> str:
    """Title line, blank line, GitHub table with numbers right-aligned."""
    def cell(s: str) -> str:  # a pipe or newline in a 業務名 would break the table
        return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    lines = [f"## {title(period)}", ""]
    lines.append("| " + " | ".join(cell(h) for h in _headers(table)) + " |")
    lines.append("| " + " | ".join("---:" if _is_number(c) else "---" for c in table.columns) + " |")
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in _text_rows(table)]
    return "\n".join(lines) + "\n"


def to_csv(table: pd.DataFrame) -> str:
    """CSV text starting with a BOM so Excel reads it as UTF-8; header row, then rounded values."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(_headers(table))
    writer.writerows(_text_rows(table))
    return "\ufeff" + buf.getvalue()


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "FW" else 1 for ch in text)


def _xlsx_value(column: str, value: Any) -> Any:
    """Numbers stay numbers, rounded as the text formats round them, so copy-paste shows the same."""
    if column in COUNTS:
        return int(value)
    if column in HOURS or column in RATES:
        if _undefined(value):
            return UNDEFINED
        return float(round_half_up(value, 1 if column in HOURS else 3))  # 0.0% shows the 3rd decimal
    return "" if _undefined(value) else str(value)


def build_workbook(table: pd.DataFrame, period: Period) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "削減効果"
    ncol = len(table.columns)
    ws.cell(row=1, column=1, value=title(period)).font = Font(bold=True, size=14)
    header_fill = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
    for j, h in enumerate(_headers(table), start=1):
        c = ws.cell(row=2, column=j, value=h)
        c.font = Font(bold=True)
        c.fill = header_fill
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    formats = {c: HOURS_FORMAT if c in HOURS else RATE_FORMAT if c in RATES else COUNT_FORMAT
               for c in table.columns if _is_number(c)}
    last = len(table) + 2
    for i, row in enumerate(table.itertuples(index=False), start=3):
        totals = i == last and row[0] == TOTAL_LABEL
        for j, (col, v) in enumerate(zip(table.columns, row), start=1):
            c = ws.cell(row=i, column=j, value=_xlsx_value(col, v))
            if col in formats:
                c.number_format = formats[col]
                c.alignment = Alignment(horizontal="right")
            if totals:
                c.font = Font(bold=True)
                c.border = Border(top=Side(style="thin"))
    widths = [_display_width(h) for h in _headers(table)]
    for row in _text_rows(table):
        widths = [max(w, _display_width(s)) for w, s in zip(widths, row)]
    for j in range(1, ncol + 1):
        ws.column_dimensions[get_column_letter(j)].width = max(8, widths[j - 1] + 2)
    ws.freeze_panes = "A3"  # title and header stay visible while scrolling
    return wb


def write_atomic(out: Path, write: Callable[[Path], None]) -> Path:
    """Write to a temp file beside `out`, then os.replace: a reader never sees half a report."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, out)
    except PermissionError as e:  # Windows: the report is open in Excel
        tmp.unlink(missing_ok=True)
        raise TransientError(f"報告ファイル {out.name} に書き込めません。Excel などで開いていれば閉じてください") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


def render(table: pd.DataFrame, period: Period, fmt: Literal["md", "csv", "xlsx"],
           out: Path | None = None) -> str | Path:
    """The report as text (md, csv; csv text starts with a BOM) when `out` is None, else the
    written file's Path. xlsx needs `out`. Files are written atomically."""
    if fmt == "md":
        text = to_markdown(table, period)
    elif fmt == "csv":
        text = to_csv(table)
    elif fmt == "xlsx":
        if out is None:
            raise ReportError("xlsx 形式では出力ファイルを指定してください")
        wb = build_workbook(table, period)
        return write_atomic(Path(out), lambda p: wb.save(p))
    else:
        raise ReportError(f"出力形式「{fmt}」には対応していません (md・csv・xlsx)")
    if out is None:
        return text
    data = text.encode("utf-8")  # csv: the BOM is the first character of the text
    return write_atomic(Path(out), lambda p: p.write_bytes(data))
