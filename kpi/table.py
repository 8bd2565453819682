"""The computed report: one table per period (原課 × 業務名, enriched with targets and baselines)
and the monthly trend, plus the one way each cell is rounded and written. Every renderer (md, csv,
xlsx in kpi/report.py; html and pdf in kpi/html.py) reads its cells from `ReportData.sections()`:
the same `Cell` gives md/html/pdf their text, xlsx its rounded number and the number format that
shows it as that text, csv its plain number. So the five formats cannot disagree.

Rounding happens here and only here, half up (away from zero on a tie, like Excel's ROUND and
what managers do by hand): 0.25 h → "0.3", a rate of 0.0625 → "6.3%". Python's round() and
"%.1f" would give "0.2" and "6.2%" (banker's rounding / binary floats), so we use
decimal.Decimal with ROUND_HALF_UP. Before that, a value is cut to 10 significant digits so that
float noise (0.24999999999999997 from summing minutes) does not move it off its tie.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from typing import Any

import pandas as pd

from jobs.store import Store
from jobs.timelog import TimeLog
from kakari.config import KakariConfig
from kakari.errors import KakariError
from kpi import baseline
from kpi.metrics import (
    NOT_ACHIEVED,
    TOTAL_LABEL,
    Period,
    department_trend,
    enrich,
    kpi_table,
    months_of,
    name_key,
    trend_table,
)

TITLE = "RPA・AI-OCR 削減効果報告"
UNDEFINED = "—"  # a rate with no base (導入前 = 0, or no status to count)
HEADERS: dict[str, str] = {
    "department": "原課",
    "task": "業務名",
    "bot": "ボット",
    "job": "ジョブ",
    "step": "工程",
    "month": "月",
    "items": "件数",
    "hours_before": "導入前(時間)",
    "hours_after": "導入後(時間)",
    "hours_after_measured": "導入後のうち実測(時間)",
    "hours_after_estimated": "導入後のうち見積(時間)",
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
}
# The CSV other tools read: exactly these columns, hours as numbers, 削減率 as a percentage number.
CSV_COLUMNS = ("原課", "業務名", "件数", "導入前時間", "導入後時間", "削減時間", "削減率", "RPA処理時間")
CSV_SOURCE = ("department", "task", "items", "hours_before", "hours_after", "hours_saved", "reduction_rate",
              "robot_hours")
HOURS = frozenset({"hours_before", "hours_after", "hours_after_measured", "hours_after_estimated", "hours_saved",
                   "robot_hours"})
RATES = frozenset({"reduction_rate", "review_rate", "target_rate"})
COUNTS = frozenset({"items"})
MINUTES = frozenset({"human_minutes_per_item"})
FTE = frozenset({"fte_saved"})
YEN = frozenset({"cost_saved"})
HOURS_FORMAT, RATE_FORMAT, COUNT_FORMAT, FTE_FORMAT = "#,##0.0", "0.0%", "#,##0", "0.00"
_NOISE = Context(prec=10, rounding=ROUND_HALF_EVEN)


def round_half_up(x: float, places: int) -> Decimal:
    """`x` rounded half up (away from zero) to `places` decimals; -0.0 comes back as 0."""
    d = _NOISE.create_decimal(repr(float(x)))  # shortest repr, then strip float noise
    q = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return q.copy_abs() if q.is_zero() else q


def undefined(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x)


def fmt_hours(x: float) -> str:
    """Hours with one decimal and thousands separators: 0.25 → "0.3", 1234.56 → "1,234.6"; NaN → "—"."""
    return UNDEFINED if undefined(x) else f"{round_half_up(x, 1):,}"


def fmt_rate(x: float) -> str:
    """A 0..1 rate as a percent with one decimal: 0.0625 → "6.3%"; NaN → "—"."""
    return UNDEFINED if undefined(x) else f"{round_half_up(x, 3).scaleb(2)}%"


@dataclass(frozen=True)
class Cell:
    """One cell of the report, as every format writes it."""

    column: str
    text: str  # what md, html and pdf show
    number: Decimal | int | None = None  # what xlsx stores (csv writes it plainly); None: text only
    number_format: str | None = None  # the xlsx format that shows `number` exactly as `text`

    @property
    def is_number(self) -> bool:
        return is_number(self.column)


def cell(column: str, value: Any) -> Cell:
    """The report's one way of writing a value of `column`."""
    if not is_number(column):
        return Cell(column, "" if undefined(value) else str(value))
    if undefined(value):
        return Cell(column, UNDEFINED)
    if column in COUNTS:
        return Cell(column, f"{int(value):,}", int(value), COUNT_FORMAT)
    if column in RATES:
        return Cell(column, fmt_rate(value), round_half_up(value, 3), RATE_FORMAT)
    if column in FTE:
        return Cell(column, str(round_half_up(value, 2)), round_half_up(value, 2), FTE_FORMAT)
    if column in YEN:
        yen = round_half_up(value, 0)
        return Cell(column, f"{int(yen):,}", int(yen), COUNT_FORMAT)
    return Cell(column, fmt_hours(value), round_half_up(value, 1), HOURS_FORMAT)  # hours and minutes


def cell_text(column: str, value: Any) -> str:
    return cell(column, value).text


def headers(table: pd.DataFrame) -> list[str]:
    return [HEADERS.get(c, c) for c in table.columns]


def cells(table: pd.DataFrame) -> list[list[Cell]]:
    return [[cell(c, v) for c, v in zip(table.columns, row)] for row in table.itertuples(index=False)]


def text_rows(table: pd.DataFrame) -> list[list[str]]:
    return [[c.text for c in row] for row in cells(table)]


def is_number(column: str) -> bool:
    return column in HOURS or column in RATES or column in COUNTS or column in MINUTES or column in FTE or column in YEN


def title(period: Period, department: str | None = None) -> str:
    return f"{TITLE} {period.label}" + (f"（{department}）" if department else "")


@dataclass(frozen=True)
class Section:
    """One table of the report: a heading, its columns and their header labels, its rows of cells."""

    key: str  # "summary", "department", "trend"
    heading: str
    name: str  # the 原課 of a department section (its xlsx sheet), else the key
    columns: list[str]
    headers: list[str]
    rows: list[list[Cell]]
    totals: list[bool]  # per row: the totals row (bold, ruled)
    frame: pd.DataFrame = field(repr=False)  # the visible table the cells come from (charts, tests)

    def column(self, name: str) -> int:
        return self.columns.index(name)


def section(key: str, heading: str, table: pd.DataFrame, name: str = "") -> Section:
    shown = visible(table)
    first = shown.columns[0]
    return Section(key, heading, name or key, list(shown.columns), headers(shown), cells(shown),
                   [first != "month" and v == TOTAL_LABEL for v in shown[first]], shown)


@dataclass
class ReportData:
    """Everything one report shows: the 原課/業務名 table (enriched), the monthly trend (overall and
    per 原課), for all 原課 or one (`department`)."""

    period: Period
    table: pd.DataFrame
    trend: pd.DataFrame | None = None
    target_rate: float | None = None
    department: str | None = None
    department_trend: pd.DataFrame | None = None

    @property
    def title(self) -> str:
        return title(self.period, self.department)

    @property
    def totals(self) -> pd.Series:
        return self.table.iloc[-1]

    @property
    def empty(self) -> bool:
        return int(self.totals["items"]) == 0

    def departments(self) -> list[str]:
        return [d for d in dict.fromkeys(self.table["department"]) if d != TOTAL_LABEL]

    def department_table(self, dept: str) -> pd.DataFrame:
        """The rows of one 原課 and its own totals row (recomputed from hours, not rounded parts)."""
        part = self.table[self.table["department"] == dept]
        total: dict[str, Any] = {c: "" for c in part.columns}
        for c in ("items", "hours_before", "hours_after", "hours_after_measured", "hours_after_estimated",
                  "hours_saved", "robot_hours", "fte_saved", "cost_saved"):
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
        if self.target_rate is not None and "achieved" in part and not undefined(total["reduction_rate"]):
            total["achieved"] = "達成" if total["reduction_rate"] + 1e-12 >= self.target_rate else NOT_ACHIEVED
        if "baseline" in part:
            total["baseline"] = ""
        return pd.concat([part, pd.DataFrame([total])], ignore_index=True)[list(part.columns)]

    def trend_with_target(self) -> pd.DataFrame | None:
        if self.trend is None or not len(self.trend):
            return None
        trend = self.trend.copy()
        trend["target_rate"] = self.target_rate if self.target_rate is not None else float("nan")
        return trend

    def sections(self) -> list[Section]:
        """The report's tables in reading order: the summary, one per 原課 (when there are several
        or none is chosen), the monthly trend."""
        out = [section("summary", self.title, self.table)]
        if self.department is None:
            out += [section("department", f"{d} {self.period.label}", self.department_table(d), d)
                    for d in self.departments()]
        trend = self.trend_with_target()
        if trend is not None:
            out.append(section("trend", f"月別推移 ({self.period.label}まで)", trend))
        return out

    def figures(self) -> list[tuple[str, str]]:
        """The summary figures a report opens with: (label, text), from the totals row's cells."""
        t = self.totals
        out = [("件数", cell("items", t["items"]).text + "件"),
               ("導入前", cell("hours_before", t["hours_before"]).text + " 時間"),
               ("導入後", cell("hours_after", t["hours_after"]).text + " 時間" + self.after_note()),
               ("削減時間", cell("hours_saved", t["hours_saved"]).text + " 時間"),
               ("削減率", cell("reduction_rate", t["reduction_rate"]).text
                + (f" (目標 {fmt_rate(self.target_rate)})" if self.target_rate is not None else ""))]
        if "fte_saved" in t and not undefined(t["fte_saved"]):
            out.append(("削減人工", cell("fte_saved", t["fte_saved"]).text + " 人"))
        if "cost_saved" in t and not undefined(t["cost_saved"]):
            out.append(("削減額", cell("cost_saved", t["cost_saved"]).text + " 円"))
        return out

    def after_note(self) -> str:
        """「 (うち実測 0.3・見積 1.2)」: how much of 導入後 the review screen measured."""
        t = self.totals
        if undefined(t.get("hours_after_measured")):
            return ""
        return (f" (うち実測 {cell('hours_after_measured', t['hours_after_measured']).text}・"
                f"見積 {cell('hours_after_estimated', t['hours_after_estimated']).text})")

    def after_sentence(self) -> str:
        """The same as a sentence under the table; empty when kakari has no rows in the period."""
        t = self.totals
        if undefined(t.get("hours_after_measured")):
            return ""
        return (f"導入後 {cell('hours_after', t['hours_after']).text} 時間のうち、確認画面で実測した時間 "
                f"{cell('hours_after_measured', t['hours_after_measured']).text} 時間・見積 "
                f"{cell('hours_after_estimated', t['hours_after_estimated']).text} 時間"
                "（取り込んだ外部実績はどちらにも含みません）。")

    def headline(self) -> str:
        """「目標の削減率50.0%に対し、結果は64.9%」 as DX plans write it; an empty period says so."""
        if self.empty:
            return f"{self.period.label}の記録はありません (自動化された処理も取り込んだ実績もありません)。"
        rate = self.totals["reduction_rate"]
        if undefined(rate):
            return "導入前の時間が 0 のため、削減率は算出できません。"
        if self.target_rate is None:
            return f"削減率は {fmt_rate(rate)} でした。"
        verdict = "目標を達成しました" if rate + 1e-12 >= self.target_rate else "目標に届いていません"
        return f"目標の削減率 {fmt_rate(self.target_rate)} に対し、結果は {fmt_rate(rate)} ({verdict})。"


def visible(table: pd.DataFrame) -> pd.DataFrame:
    """Drop optional columns with nothing to say (no targets set, no hourly cost)."""
    drop = [c for c in ("target_rate", "achieved", "cost_saved")
            if c in table and all(undefined(v) or v == "" for v in table[c])]
    return table.drop(columns=drop)


def as_data(table_or_data: pd.DataFrame | ReportData, period: Period) -> ReportData:
    return table_or_data if isinstance(table_or_data, ReportData) else ReportData(period, table_or_data)


def town_order(config: KakariConfig) -> dict[str, list[str]]:
    """業務名 in the order the town keeps them: [kpi] order, then the jobs' as kakari.toml lists them
    (a 原課 comes where its first task does). Names the config does not know follow in the report by
    first appearance."""
    from bots import registry

    tasks = list(config.kpi.order)
    for job in config.jobs.values():
        task = job.task
        if task is None:
            try:
                task = str(getattr(registry.get(job.bots[0]), "task", job.name))
            except KakariError:  # a job naming a missing bot still has its place in the report
                task = job.name
        tasks.append(task)
    return {"task": tasks}


def gather(config: KakariConfig, period: Period, with_trend: bool = True, department: str | None = None) -> ReportData:
    """Read the time log, apply measured baselines and targets: what every report format shows,
    for every 原課 or only `department` (numbers, trend and charts alike). The table does not depend
    on `with_trend` (which only spares reading the 年度's earlier months)."""
    store = Store(config.database_url)
    months = months_of(period) if with_trend else []
    start = min([period.start, *(m.start for m in months)])
    frame = TimeLog(store).daily(start, period.end)
    if department:
        frame = frame[frame["department"].map(name_key) == name_key(department)]
    measured = baseline.medians(store)
    frame = baseline.apply(frame, measured)
    order = town_order(config)
    in_period = frame[(frame["date"] >= pd.Timestamp(period.start)) & (frame["date"] < pd.Timestamp(period.end))]
    keys = list(zip(in_period["department"].map(name_key), in_period["task"].map(name_key)))
    imported = {k for k, src in zip(keys, in_period["source"]) if str(src).startswith("import")}
    own = {k for k, src in zip(keys, in_period["source"]) if str(src) == "kakari"}
    table = enrich(kpi_table(frame, period, order=order), config.kpi, measured, imported, own)
    trend = trend_table(frame, months) if months else None
    by_department = department_trend(frame, months, order) if months else None
    return ReportData(period, table, trend, config.kpi.target_rate, department or None, by_department)
