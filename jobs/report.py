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
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from jobs.kpi import NOT_ACHIEVED, TOTAL_LABEL, Period, ReportError
from kakari.config import KakariConfig
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
    "target_rate": "目標削減率",
    "achieved": "達成",
    "human_minutes_per_item": "1件あたり人手(分)",
    "fte_saved": "削減人工(人)",
    "cost_saved": "削減額(円)",
    "baseline": "導入前の根拠",
    "month": "月",
}
# The CSV other tools read: exactly these columns, hours as numbers, 削減率 as a percentage number.
CSV_COLUMNS = ("原課", "業務名", "件数", "導入前時間", "導入後時間", "削減時間", "削減率", "RPA処理時間")
HOURS = frozenset({"hours_before", "hours_after", "hours_saved", "robot_hours"})
RATES = frozenset({"reduction_rate", "review_rate", "target_rate"})
COUNTS = frozenset({"items"})
MINUTES = frozenset({"human_minutes_per_item"})
FTE = frozenset({"fte_saved"})
YEN = frozenset({"cost_saved"})
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
    if column in HOURS or column in MINUTES:
        return fmt_hours(value)
    if column in RATES:
        return fmt_rate(value)
    if column in COUNTS:
        return str(int(value))
    if column in FTE:
        return UNDEFINED if _undefined(value) else str(round_half_up(value, 2))
    if column in YEN:
        return UNDEFINED if _undefined(value) else f"{int(round_half_up(value, 0)):,}"
    return "" if _undefined(value) else str(value)


def _headers(table: pd.DataFrame) -> list[str]:
    return [HEADERS.get(c, c) for c in table.columns]


def _text_rows(table: pd.DataFrame) -> list[list[str]]:
    return [[_cell_text(c, v) for c, v in zip(table.columns, row)] for row in table.itertuples(index=False)]


def _is_number(column: str) -> bool:
    return column in HOURS or column in RATES or column in COUNTS or column in MINUTES or column in FTE or column in YEN


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
    """CSV for other tools (BOM, so Excel reads UTF-8): CSV_COLUMNS, one row per 原課/業務名 and the
    totals row (原課 = 合計); hours with one decimal, 削減率 as a percent number (64.9), empty if undefined."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in table.itertuples(index=False):
        rate = "" if _undefined(r.reduction_rate) else str(round_half_up(r.reduction_rate, 3).scaleb(2))
        writer.writerow([r.department, r.task, int(r.items), *(str(round_half_up(getattr(r, c), 1)) for c in (
            "hours_before", "hours_after", "hours_saved")), rate, str(round_half_up(r.robot_hours, 1))])
    return "\ufeff" + buf.getvalue()


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "FW" else 1 for ch in text)


def _xlsx_value(column: str, value: Any) -> Any:
    """Numbers stay numbers, rounded as the text formats round them, so copy-paste shows the same."""
    if column in COUNTS:
        return int(value)
    if column in HOURS or column in RATES or column in MINUTES or column in FTE or column in YEN:
        if _undefined(value):
            return UNDEFINED
        places = 3 if column in RATES else 2 if column in FTE else 0 if column in YEN else 1
        return float(round_half_up(value, places))
    return "" if _undefined(value) else str(value)


@dataclass
class ReportData:
    """Everything one report shows: the 原課/業務名 table (enriched), and the monthly trend."""

    period: Period
    table: pd.DataFrame
    trend: pd.DataFrame | None = None
    target_rate: float | None = None

    def departments(self) -> list[str]:
        return [d for d in dict.fromkeys(self.table["department"]) if d != TOTAL_LABEL]

    def department_table(self, dept: str) -> pd.DataFrame:
        """The rows of one 原課 and its own totals row (recomputed from hours, not rounded parts)."""
        part = self.table[self.table["department"] == dept]
        total = {c: "" for c in part.columns}
        for c in ("items", "hours_before", "hours_after", "hours_saved", "robot_hours", "fte_saved", "cost_saved"):
            if c in part:
                total[c] = part[c].sum(min_count=1)
        total.update(department=TOTAL_LABEL, task="")
        before = total["hours_before"]
        total["reduction_rate"] = total["hours_saved"] / before if before else float("nan")
        total["target_rate"] = self.target_rate if self.target_rate is not None else float("nan")
        for c in ("review_rate", "human_minutes_per_item"):
            if c in part:
                total[c] = float("nan")
        if "achieved" in part:
            total["achieved"] = ""
        if self.target_rate is not None and "achieved" in part and not _undefined(total["reduction_rate"]):
            total["achieved"] = "達成" if total["reduction_rate"] + 1e-12 >= self.target_rate else "未達"
        return pd.concat([part, pd.DataFrame([total])], ignore_index=True)[list(part.columns)]

    def headline(self) -> str:
        """「目標の削減率50.0%に対し、結果は64.9%」 as DX plans write it."""
        rate = self.table.iloc[-1]["reduction_rate"]
        if self.target_rate is None:
            return f"削減率は {fmt_rate(rate)} でした。"
        verdict = "目標を達成しました" if not _undefined(rate) and rate + 1e-12 >= self.target_rate else "目標に届いていません"
        return f"目標の削減率 {fmt_rate(self.target_rate)} に対し、結果は {fmt_rate(rate)} ({verdict})。"


def visible(table: pd.DataFrame) -> pd.DataFrame:
    """Drop optional columns with nothing to say (no targets set, no hourly cost)."""
    drop = [c for c in ("target_rate", "achieved", "cost_saved")
            if c in table and all(_undefined(v) or v == "" for v in table[c])]
    return table.drop(columns=drop)


def as_data(table_or_data: pd.DataFrame | ReportData, period: Period) -> ReportData:
    return table_or_data if isinstance(table_or_data, ReportData) else ReportData(period, table_or_data)


HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")


def _table_sheet(ws: Any, table: pd.DataFrame, heading: str, first_row: int = 1, whole_hours: bool = False) -> int:
    """Heading, header row, body, bold totals; returns the header row number. `whole_hours` shows
    hours as published municipal reports do (the cell keeps one decimal; only the format rounds)."""
    ws.cell(row=first_row, column=1, value=heading).font = Font(bold=True, size=14)
    head = first_row + 1
    for j, h in enumerate(_headers(table), start=1):
        c = ws.cell(row=head, column=j, value=h)
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
            c = ws.cell(row=i, column=j, value=_xlsx_value(col, v))
            if col in formats:
                c.number_format = formats[col]
                c.alignment = Alignment(horizontal="right")
            if col == "achieved" and v == NOT_ACHIEVED:
                c.font = Font(bold=True, color="FFC00000")  # a task below target stands out
            if totals:
                c.font = Font(bold=True)
                c.border = Border(top=Side(style="thin"))
    widths = [_display_width(h) for h in _headers(table)]
    for row in _text_rows(table):
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
    ws.cell(row=head + len(data.table) + 2, column=1, value=data.headline())
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
        tw.cell(row=th, column=1, value="月")
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


def write_atomic(out: Path, write: Callable[[Path], None]) -> Path:
    """Write to a temp file beside `out`, then os.replace: a reader never sees half a report."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a filed report is for the whole section
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
        from jobs.report_charts import to_html

        text = to_html(data)
    elif fmt == "xlsx":
        wb = build_workbook(data, period)
        return write_atomic(Path(out), lambda p: wb.save(p))
    elif fmt == "pdf":
        from jobs.report_charts import write_pdf

        return write_atomic(Path(out), lambda p: write_pdf(data, p))
    else:
        raise ReportError(f"出力形式「{fmt}」には対応していません ({'・'.join(FORMATS)})")
    if out is None:
        return text
    raw = text.encode("utf-8")  # csv: the BOM is the first character of the text
    return write_atomic(Path(out), lambda p: p.write_bytes(raw))


def gather(config: KakariConfig, period: Period, with_trend: bool = True) -> ReportData:
    """Read the time log, apply measured baselines and targets: what every report format shows."""
    from jobs import baseline
    from jobs.kpi import enrich, kpi_table, months_of, trend_table
    from jobs.store import Store
    from jobs.timelog import TimeLog

    store = Store(config.database_url)
    months = months_of(period) if with_trend else []
    start = min([period.start, *(m.start for m in months)])
    frame = TimeLog(store).daily(start, period.end)
    measured = baseline.medians(store)
    frame = baseline.apply(frame, measured)
    imported = {(d, t) for d, t, src in zip(frame["department"], frame["task"], frame["source"])
                if str(src).startswith("import")}
    table = enrich(kpi_table(frame, period), config.kpi, measured, imported)
    trend = trend_table(frame, months) if months else None
    return ReportData(period, table, trend, config.kpi.target_rate)


def file_monthly_report(config: KakariConfig, month: str, folder: Path | None = None) -> list[Path]:
    """Write the month's report as xlsx, pdf and csv into the report folder (the scheduled job on the 1st)."""
    from jobs.kpi import period_bounds

    period = period_bounds(month=month)
    target = folder or config.kpi.report_dir or Path("reports")
    target = target if target.is_absolute() else config.home / target
    data = gather(config, period)
    stem = f"削減効果報告_{period.start:%Y-%m}"
    return [Path(render(data, period, fmt, target / f"{stem}.{fmt}")) for fmt in ("xlsx", "pdf", "csv")]
