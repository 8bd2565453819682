"""The report as Markdown, CSV or Excel (html: kpi/html.py, pdf: kpi/pdf.py), each written from
the cells of `kpi.table.ReportData.sections()`, and the monthly filing of it."""
from __future__ import annotations

import csv
import io
import os
import tempfile
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from connectors.cells import csv_field, set_cell
from kakari.config import KakariConfig
from kakari.errors import TransientError
from kpi.metrics import NOT_ACHIEVED, Period, ReportError
from kpi.table import (
    CSV_COLUMNS,
    CSV_SOURCE,
    RATES,
    UNDEFINED,
    Cell,
    ReportData,
    Section,
    as_data,
    gather,
)


def to_markdown(data: ReportData) -> str:
    """Title line, blank line, the summary table (numbers right-aligned), then the headline."""
    def md(s: str) -> str:  # a pipe or newline in a 業務名 would break the table
        return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    sec = data.sections()[0]
    lines = [f"## {data.title}", ""]
    lines.append("| " + " | ".join(md(h) for h in sec.headers) + " |")
    lines.append("| " + " | ".join("---:" if c.is_number else "---" for c in sec.rows[0]) + " |")
    lines += ["| " + " | ".join(md(c.text) for c in row) + " |" for row in sec.rows]
    lines += ["", data.headline()]
    if data.after_sentence():
        lines.append(data.after_sentence())
    return "\n".join(lines) + "\n"


def csv_value(c: Cell) -> str:
    """A cell as the CSV writes it: the report's rounded number, plainly (削減率 64.9 for 64.9%); empty
    when undefined; text never starting like a formula (connectors.cells)."""
    if c.number is None:
        return "" if c.text == UNDEFINED else csv_field(c.text)
    if c.column in RATES:
        return csv_field(Decimal(c.number).scaleb(2))
    return csv_field(c.number)


def to_csv(data: ReportData) -> str:
    """CSV for other tools (BOM, so Excel reads UTF-8): CSV_COLUMNS, one row per 原課/業務名 and the
    totals row (原課 = 合計); hours with one decimal, 削減率 as a percent number (64.9), empty if undefined."""
    sec = data.sections()[0]
    picks = [sec.column(c) for c in CSV_SOURCE]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in sec.rows:
        writer.writerow([csv_value(row[i]) for i in picks])
    return "\ufeff" + buf.getvalue()


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "FW" else 1 for ch in text)


def xlsx_value(c: Cell) -> Any:
    """What the sheet stores: the report's rounded number (its format shows it as the report's text), else the text."""
    if c.number is None:
        return c.text or None
    return c.number if isinstance(c.number, int) else float(c.number)


HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
MISS_FILL = PatternFill(fill_type="solid", start_color="FFFDE8E8", end_color="FFFDE8E8")


def _table_sheet(ws: Any, sec: Section, first_row: int = 1) -> int:
    """Heading, header row, body, bold totals, print setup; returns the header row number."""
    set_cell(ws.cell(row=first_row, column=1), sec.heading)
    ws.cell(row=first_row, column=1).font = Font(bold=True, size=14)
    head = first_row + 1
    for j, h in enumerate(sec.headers, start=1):
        c = ws.cell(row=head, column=j)
        set_cell(c, h)
        c.font = Font(bold=True)
        c.fill = HEADER_FILL
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for i, (row, total) in enumerate(zip(sec.rows, sec.totals), start=head + 1):
        for j, cell in enumerate(row, start=1):
            c = ws.cell(row=i, column=j)
            set_cell(c, xlsx_value(cell))
            if cell.number_format:
                c.number_format = cell.number_format
            if cell.is_number:
                c.alignment = Alignment(horizontal="right")
            if cell.text == NOT_ACHIEVED:  # a task below target stands out, on screen and on paper
                c.font = Font(bold=True, color="FFC00000")
                c.fill = MISS_FILL
            if total:
                c.font = Font(bold=True)
                c.border = Border(top=Side(style="thin"))
    widths = [_display_width(h) for h in sec.headers]
    for row in sec.rows:
        widths = [max(w, _display_width(c.text)) for w, c in zip(widths, row)]
    for j in range(1, len(sec.columns) + 1):
        ws.column_dimensions[get_column_letter(j)].width = max(8, min(50, widths[j - 1] + 2))
    ws.freeze_panes = ws.cell(row=head + 1, column=1).coordinate  # title and header stay visible
    # printed as the PDF is: A4 landscape, one page wide, the header row on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{head}:{head}"
    return head


def build_workbook(table: pd.DataFrame | ReportData, period: Period) -> Workbook:
    """Summary sheet (+ chart), one sheet per 原課, and the monthly trend (+ chart) when known."""
    from openpyxl.chart import BarChart, LineChart, Reference

    data = as_data(table, period)
    sections = data.sections()
    wb = Workbook()
    ws = wb.active
    ws.title = "削減効果"
    summary = sections[0]
    head = _table_sheet(ws, summary)
    n = len(summary.rows)
    body = n - 1  # without the totals row
    set_cell(ws.cell(row=head + n + 2, column=1), data.headline())
    if data.after_sentence():
        set_cell(ws.cell(row=head + n + 3, column=1), data.after_sentence())
    if body > 0:
        chart = BarChart()
        chart.title = "業務別 導入前・導入後の時間"
        chart.y_axis.title = "時間"
        for key in ("hours_before", "hours_after"):
            j = summary.column(key) + 1
            chart.add_data(Reference(ws, min_col=j, min_row=head, max_row=head + body), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=summary.column("task") + 1, min_row=head + 1, max_row=head + body))
        chart.width, chart.height = 22, 9
        ws.add_chart(chart, ws.cell(row=head + n + 5, column=1).coordinate)
    for sec in sections[1:]:
        if sec.key == "department":
            _table_sheet(wb.create_sheet(_sheet_name(sec.name, wb.sheetnames)), sec)
            continue
        tw = wb.create_sheet("月別推移")
        th = _table_sheet(tw, sec)
        rows = len(sec.rows)
        bars = BarChart()
        bars.title = "月別 削減時間と削減率 (目標)"
        bars.y_axis.title = "削減時間"
        bars.add_data(Reference(tw, min_col=sec.column("hours_saved") + 1, min_row=th, max_row=th + rows),
                      titles_from_data=True)
        bars.set_categories(Reference(tw, min_col=1, min_row=th + 1, max_row=th + rows))
        line = LineChart()
        for key in ("reduction_rate", "target_rate"):
            if key in sec.columns:
                line.add_data(Reference(tw, min_col=sec.column(key) + 1, min_row=th, max_row=th + rows),
                              titles_from_data=True)
        line.y_axis.axId = 200
        line.y_axis.title = "削減率"
        line.y_axis.number_format = "0%"
        line.y_axis.crosses = "max"
        bars += line
        bars.width, bars.height = 22, 9
        tw.add_chart(bars, tw.cell(row=th + rows + 3, column=1).coordinate)
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
        text = to_markdown(data)
    elif fmt == "csv":
        text = to_csv(data)
    elif fmt == "html":
        from kpi.html import to_html

        text = to_html(data)
    elif fmt == "xlsx":
        wb = build_workbook(data, period)
        assert out is not None  # checked above
        return write_atomic(Path(out), lambda p: wb.save(p))
    elif fmt == "pdf":
        from kpi.pdf import write_pdf

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
