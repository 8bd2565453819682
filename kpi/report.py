"""The report as Markdown, CSV or Excel (html and pdf: kpi/charts.py), from `kpi.table.ReportData`,
and the monthly filing of it."""
from __future__ import annotations

import csv
import io
import os
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from connectors.cells import csv_row, set_cell
from kakari.config import KakariConfig
from kakari.errors import TransientError
from kpi.metrics import NOT_ACHIEVED, TOTAL_LABEL, Period, ReportError
from kpi.table import (
    COUNT_FORMAT,
    COUNTS,
    CSV_COLUMNS,
    FTE,
    HOURS,
    HOURS_FORMAT,
    MINUTES,
    RATE_FORMAT,
    RATES,
    UNDEFINED,
    YEN,
    ReportData,
    as_data,
    gather,
    headers,
    is_number,
    round_half_up,
    text_rows,
    title,
    undefined,
    visible,
)


def to_markdown(table: pd.DataFrame, period: Period) -> str:
    """Title line, blank line, GitHub table with numbers right-aligned."""
    def cell(s: str) -> str:  # a pipe or newline in a 業務名 would break the table
        return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    lines = [f"## {title(period)}", ""]
    lines.append("| " + " | ".join(cell(h) for h in headers(table)) + " |")
    lines.append("| " + " | ".join("---:" if is_number(c) else "---" for c in table.columns) + " |")
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in text_rows(table)]
    return "\n".join(lines) + "\n"


def to_csv(table: pd.DataFrame) -> str:
    """CSV for other tools (BOM, so Excel reads UTF-8): CSV_COLUMNS, one row per 原課/業務名 and the
    totals row (原課 = 合計); hours with one decimal, 削減率 as a percent number (64.9), empty if undefined."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in table.itertuples(index=False):
        rate = None if undefined(r.reduction_rate) else round_half_up(r.reduction_rate, 3).scaleb(2)
        hours = [round_half_up(getattr(r, c), 1) for c in ("hours_before", "hours_after", "hours_saved")]
        robot = round_half_up(r.robot_hours, 1)
        writer.writerow(csv_row([r.department, r.task, int(r.items), *hours, rate, robot]))
    return "\ufeff" + buf.getvalue()


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "FW" else 1 for ch in text)


def _xlsx_value(column: str, value: Any) -> Any:
    """Numbers stay numbers, rounded as the text formats round them, so copy-paste shows the same."""
    if column in COUNTS:
        return int(value)
    if column in HOURS or column in RATES or column in MINUTES or column in FTE or column in YEN:
        if undefined(value):
            return UNDEFINED
        places = 3 if column in RATES else 2 if column in FTE else 0 if column in YEN else 1
        return float(round_half_up(value, places))
    return "" if undefined(value) else str(value)


HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")


def _table_sheet(ws: Any, table: pd.DataFrame, heading: str, first_row: int = 1, whole_hours: bool = False) -> int:
    """Heading, header row, body, bold totals; returns the header row number. `whole_hours` shows
    hours as published municipal reports do (the cell keeps one decimal; only the format rounds)."""
    set_cell(ws.cell(row=first_row, column=1), heading)
    ws.cell(row=first_row, column=1).font = Font(bold=True, size=14)
    head = first_row + 1
    for j, h in enumerate(headers(table), start=1):
        c = ws.cell(row=head, column=j)
        set_cell(c, h)
        c.font = Font(bold=True)
        c.fill = HEADER_FILL
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    formats = {}
    for c in table.columns:
        if c in HOURS:
            formats[c] = "#,##0" if whole_hours else HOURS_FORMAT  # published tables: whole hours
        elif c in RATES:
            formats[c] = RATE_FORMAT
        elif c in COUNTS or c in YEN:
            formats[c] = COUNT_FORMAT
        elif c in MINUTES:
            formats[c] = "0.0"
        elif c in FTE:
            formats[c] = "0.00"
    for i, row in enumerate(table.itertuples(index=False), start=head + 1):
        totals = row[0] == TOTAL_LABEL
        for j, (col, v) in enumerate(zip(table.columns, row), start=1):
            c = ws.cell(row=i, column=j)
            set_cell(c, _xlsx_value(col, v))
            if col in formats:
                c.number_format = formats[col]
                c.alignment = Alignment(horizontal="right")
            if col == "achieved" and v == NOT_ACHIEVED:
                c.font = Font(bold=True, color="FFC00000")  # a task below target stands out
            if totals:
                c.font = Font(bold=True)
                c.border = Border(top=Side(style="thin"))
    widths = [_display_width(h) for h in headers(table)]
    for row in text_rows(table):
        widths = [max(w, _display_width(s)) for w, s in zip(widths, row)]
    for j in range(1, len(table.columns) + 1):
        ws.column_dimensions[get_column_letter(j)].width = max(8, min(50, widths[j - 1] + 2))
    ws.freeze_panes = ws.cell(row=head + 1, column=1).coordinate  # title and header stay visible
    return head


def build_workbook(table: pd.DataFrame | ReportData, period: Period) -> Workbook:
    """Summary sheet (+ chart), one sheet per 原課, and the monthly trend (+ chart) when known."""
    from openpyxl.chart import BarChart, LineChart, Reference

    data = as_data(table, period)
    wb = Workbook()
    ws = wb.active
    ws.title = "削減効果"
    shown = visible(data.table)
    head = _table_sheet(ws, shown, title(period), whole_hours=True)
    body = len(data.table) - 1  # without the totals row
    cols = list(shown.columns)
    set_cell(ws.cell(row=head + len(data.table) + 2, column=1), data.headline())
    if body > 0:
        chart = BarChart()
        chart.title = "業務別 導入前・導入後の時間"
        chart.y_axis.title = "時間"
        for key in ("hours_before", "hours_after"):
            j = cols.index(key) + 1
            chart.add_data(Reference(ws, min_col=j, min_row=head, max_row=head + body), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=cols.index("task") + 1, min_row=head + 1, max_row=head + body))
        chart.width, chart.height = 22, 9
        ws.add_chart(chart, ws.cell(row=head + len(data.table) + 4, column=1).coordinate)
    for dept in data.departments():
        sheet = wb.create_sheet(_sheet_name(dept, wb.sheetnames))
        _table_sheet(sheet, visible(data.department_table(dept)), f"{dept} {period.label}", whole_hours=True)
    if data.trend is not None and len(data.trend):
        tw = wb.create_sheet("月別推移")
        trend = data.trend.copy()
        trend["target_rate"] = data.target_rate if data.target_rate is not None else float("nan")
        trend = trend.rename(columns={"month": "department"})  # the heading column
        th = _table_sheet(tw, trend, f"月別推移 ({period.label}まで)", whole_hours=True)
        set_cell(tw.cell(row=th, column=1), "月")
        n = len(trend)
        tcols = list(trend.columns)
        bars = BarChart()
        bars.title = "月別 削減時間と削減率 (目標)"
        bars.y_axis.title = "削減時間"
        bars.add_data(Reference(tw, min_col=tcols.index("hours_saved") + 1, min_row=th, max_row=th + n),
                      titles_from_data=True)
        bars.set_categories(Reference(tw, min_col=1, min_row=th + 1, max_row=th + n))
        line = LineChart()
        for key in ("reduction_rate", "target_rate"):
            line.add_data(Reference(tw, min_col=tcols.index(key) + 1, min_row=th, max_row=th + n),
                          titles_from_data=True)
        line.y_axis.axId = 200
        line.y_axis.title = "削減率"
        line.y_axis.number_format = "0%"
        line.y_axis.crosses = "max"
        bars += line
        bars.width, bars.height = 22, 9
        tw.add_chart(bars, tw.cell(row=th + n + 3, column=1).coordinate)
    return wb


def _sheet_name(name: str, taken: list[str]) -> str:
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:28] or "原課"
    out, i = base, 2
    while out in taken:
        out, i = f"{base[:26]}_{i}", i + 1
    return out


def write_atomic(out: Path, write: Callable[[Path], object]) -> Path:
    """Write to a temp file beside `out`, then os.replace: a reader never sees half a report."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)  # mkstemp made it 0600: like everything kakari writes, the service account's
        os.replace(tmp, out)
    except PermissionError as e:  # Windows: the report is open in Excel
        tmp.unlink(missing_ok=True)
        raise TransientError(f"報告ファイル {out.name} に書き込めません。Excel などで開いていれば閉じてください") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out


FORMATS = ("md", "csv", "xlsx", "html", "pdf")


def render(table: pd.DataFrame | ReportData, period: Period, fmt: str, out: Path | None = None) -> str | Path:
    """The report as text (md, csv with a BOM, html) when `out` is None, else the written file's
    Path. xlsx and pdf need `out`. Files are written atomically."""
    data = as_data(table, period)
    if fmt in ("xlsx", "pdf") and out is None:
        raise ReportError(f"{fmt} 形式では出力ファイルを指定してください")
    if fmt == "md":
        text = to_markdown(visible(data.table), period) + ("\n" + data.headline() + "\n" if data.target_rate is not None else "")
    elif fmt == "csv":
        text = to_csv(data.table)
    elif fmt == "html":
        from kpi.charts import to_html

        text = to_html(data)
    elif fmt == "xlsx":
        wb = build_workbook(data, period)
        assert out is not None  # checked above
        return write_atomic(Path(out), lambda p: wb.save(p))
    elif fmt == "pdf":
        from kpi.charts import write_pdf

        assert out is not None  # checked above
        return write_atomic(Path(out), lambda p: write_pdf(data, p))
    else:
        raise ReportError(f"出力形式「{fmt}」には対応していません ({'・'.join(FORMATS)})")
    if out is None:
        return text
    raw = text.encode("utf-8")  # csv: the BOM is the first character of the text
    return write_atomic(Path(out), lambda p: p.write_bytes(raw))


def file_monthly_report(config: KakariConfig, month: str, folder: Path | None = None) -> list[Path]:
    """Write the month's report as xlsx, pdf and csv into the report folder (the scheduled job on the 1st)."""
    from kpi.metrics import period_bounds

    period = period_bounds(month=month)
    target = folder or config.kpi.report_dir or Path("reports")
    target = target if target.is_absolute() else config.home / target
    data = gather(config, period)
    stem = f"削減効果報告_{period.start:%Y-%m}"
    return [Path(render(data, period, fmt, target / f"{stem}.{fmt}")) for fmt in ("xlsx", "pdf", "csv")]
