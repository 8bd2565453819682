"""The computed report: one table per period (原課 × 業務名, enriched with targets and baselines)
and the monthly trend, plus the one way each cell is rounded and written as text. Every renderer
(md, csv, xlsx in kpi/report.py; html, pdf in kpi/charts.py) starts from `ReportData`.

Rounding happens here and only here, half up (away from zero on a tie, like Excel's ROUND and
what managers do by hand): 0.25 h → "0.3", a rate of 0.0625 → "6.3%". Python's round() and
"%.1f" would give "0.2" and "6.2%" (banker's rounding / binary floats), so we use
decimal.Decimal with ROUND_HALF_UP. Before that, a value is cut to 10 significant digits so that
float noise (0.24999999999999997 from summing minutes) does not move it off its tie.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from typing import Any

import pandas as pd

from jobs.store import Store
from jobs.timelog import TimeLog
from kakari.config import KakariConfig
from kpi import baseline
from kpi.metrics import TOTAL_LABEL, Period, enrich, kpi_table, months_of, trend_table

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


def undefined(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x)


def fmt_hours(x: float) -> str:
    """Hours with one decimal: 0.25 → "0.3"; NaN → "—"."""
    return UNDEFINED if undefined(x) else str(round_half_up(x, 1))


def fmt_rate(x: float) -> str:
    """A 0..1 rate as a percent with one decimal: 0.0625 → "6.3%"; NaN → "—"."""
    return UNDEFINED if undefined(x) else f"{round_half_up(x, 3).scaleb(2)}%"


def cell_text(column: str, value: Any) -> str:
    if column in HOURS or column in MINUTES:
        return fmt_hours(value)
    if column in RATES:
        return fmt_rate(value)
    if column in COUNTS:
        return str(int(value))
    if column in FTE:
        return UNDEFINED if undefined(value) else str(round_half_up(value, 2))
    if column in YEN:
        return UNDEFINED if undefined(value) else f"{int(round_half_up(value, 0)):,}"
    return "" if undefined(value) else str(value)


def headers(table: pd.DataFrame) -> list[str]:
    return [HEADERS.get(c, c) for c in table.columns]


def text_rows(table: pd.DataFrame) -> list[list[str]]:
    return [[cell_text(c, v) for c, v in zip(table.columns, row)] for row in table.itertuples(index=False)]


def is_number(column: str) -> bool:
    return column in HOURS or column in RATES or column in COUNTS or column in MINUTES or column in FTE or column in YEN


def title(period: Period) -> str:
    return f"{TITLE} {period.label}"


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
        total: dict[str, Any] = {c: "" for c in part.columns}
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
        if self.target_rate is not None and "achieved" in part and not undefined(total["reduction_rate"]):
            total["achieved"] = "達成" if total["reduction_rate"] + 1e-12 >= self.target_rate else "未達"
        return pd.concat([part, pd.DataFrame([total])], ignore_index=True)[list(part.columns)]

    def headline(self) -> str:
        """「目標の削減率50.0%に対し、結果は64.9%」 as DX plans write it."""
        rate = self.table.iloc[-1]["reduction_rate"]
        if self.target_rate is None:
            return f"削減率は {fmt_rate(rate)} でした。"
        verdict = "目標を達成しました" if not undefined(rate) and rate + 1e-12 >= self.target_rate else "目標に届いていません"
        return f"目標の削減率 {fmt_rate(self.target_rate)} に対し、結果は {fmt_rate(rate)} ({verdict})。"


def visible(table: pd.DataFrame) -> pd.DataFrame:
    """Drop optional columns with nothing to say (no targets set, no hourly cost)."""
    drop = [c for c in ("target_rate", "achieved", "cost_saved")
            if c in table and all(undefined(v) or v == "" for v in table[c])]
    return table.drop(columns=drop)


def as_data(table_or_data: pd.DataFrame | ReportData, period: Period) -> ReportData:
    return table_or_data if isinstance(table_or_data, ReportData) else ReportData(period, table_or_data)


def gather(config: KakariConfig, period: Period, with_trend: bool = True) -> ReportData:
    """Read the time log, apply measured baselines and targets: what every report format shows."""
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
