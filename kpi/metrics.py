"""KPIs over the time log: report periods (month, 年度, custom) and the 削減効果 table.

The table keeps full float precision; rounding belongs to `kpi/report.py` only, so a total is
never the sum of rounded parts.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd

from kakari.config import KpiConfig
from kakari.errors import ConfigError
from kakari.wareki import wareki_year

TOKYO = ZoneInfo("Asia/Tokyo")
TOTAL_LABEL = "合計"
RETURNED = "差戻"  # the time log's status of a document a clerk sent back (jobs.decisions)
# a person decided the item on the review screen: its 導入後 minutes are the measured ones
MEASURED = frozenset({"確認済", RETURNED})
REVIEWED = frozenset({"要確認", *MEASURED})  # a person looked at the item (pending or done)
REQUIRED_COLUMNS = ("date", "items", "minutes_before", "minutes_after", "robot_seconds", "status", "source")
METRIC_COLUMNS = ("items", "hours_before", "hours_after", "hours_after_measured", "hours_after_estimated",
                  "hours_saved", "reduction_rate", "robot_hours", "review_rate")
_SUMS = ["items", "minutes_before", "minutes_after", "after_measured", "after_estimated", "kakari_rows",
         "robot_seconds", "review_den", "review_num"]
_UNRANKED = 1 << 30  # a name the town's order does not list comes after every listed one
Ranks = Mapping[str, Mapping[str, int]]  # column → name_key(name) → its place in the town's order


def name_key(name: object) -> str:
    """What two spellings of one 原課 or 業務名 share: NFKC (全角/半角, Ⅱ and II, （） and ()) without
    spaces. Rows are grouped by it; the report shows the name as the town wrote it."""
    return "".join(unicodedata.normalize("NFKC", "" if name is None else str(name)).split())


class ReportError(ConfigError, ValueError):
    """A report request that cannot be met (bad period, frame without the time-log columns, ...).

    A ConfigError so the CLI prints the Japanese message; a ValueError for Python callers.
    """


@dataclass(frozen=True)
class Period:
    """A report period: `start` inclusive, `end` EXCLUSIVE (the day after the last day).

    Half-open bounds make months and 年度 tile without gaps or overlaps and match
    `TimeLog.frame(start, end)`. `last` is the inclusive last day, for display.
    """

    start: date
    end: date
    label: str  # Japanese, e.g. "2026年4月", "令和7年度", "2026年4月1日〜2026年4月15日"
    kind: Literal["month", "fiscal_year", "custom"]

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    def __contains__(self, d: date) -> bool:
        day = d.date() if isinstance(d, datetime) else d
        return self.start <= day < self.end


def fiscal_year_of(d: date) -> int:
    """The 年度 (April–March) a day belongs to, by its starting Gregorian year: 2026-03-31 → 2025."""
    return d.year if d.month >= 4 else d.year - 1


def fiscal_year_label(fiscal_year: int) -> str:
    """2025 → "令和7年度" (April 2025 – March 2026)."""
    try:
        return f"{wareki_year(fiscal_year)}年度"
    except ValueError:
        raise ReportError(f"{fiscal_year}年は和暦に変換できません (明治より前です)") from None


def _jp_day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


_MONTH = re.compile(r"^(\d{4})\s*(?:-|/|年)\s*(\d{1,2})\s*月?$")


def _parse_month(month: str) -> tuple[int, int]:
    text = unicodedata.normalize("NFKC", month).strip()  # full-width digits from a pasted value
    m = _MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1868 <= int(m.group(1)) <= 9998:
        raise ReportError(f"対象月「{month}」の形式が正しくありません (例: 2026-04)")
    return int(m.group(1)), int(m.group(2))


def period_bounds(month: str | None = None, fiscal_year: int | None = None, start: date | None = None,
                  end: date | None = None) -> Period:
    """Exactly one of: `month` ("2026-04", "2026/4", "2026年4月"); `fiscal_year` (2025 = 令和7年度,
    2025-04-01 ≤ d < 2026-04-01); or `start` and `end`, both INCLUSIVE days as a person says them
    (the returned Period.end is the day after `end`)."""
    given = [month is not None, fiscal_year is not None, start is not None or end is not None]
    if sum(given) != 1:
        raise ReportError("対象期間は 月・年度・開始日と終了日 のいずれか一つを指定してください")
    if month is not None:
        y, m = _parse_month(month)
        first = date(y, m, 1)
        nxt = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
        return Period(first, nxt, f"{y}年{m}月", "month")
    if fiscal_year is not None:
        if not 1868 <= fiscal_year <= 9998:
            raise ReportError(f"年度「{fiscal_year}」が正しくありません (例: 2025 = 令和7年度)")
        return Period(date(fiscal_year, 4, 1), date(fiscal_year + 1, 4, 1), fiscal_year_label(fiscal_year),
                      "fiscal_year")
    if start is None or end is None:
        raise ReportError("期間を指定する場合は開始日と終了日の両方が必要です")
    s = start.date() if isinstance(start, datetime) else start
    e = end.date() if isinstance(end, datetime) else end
    if e < s:
        raise ReportError(f"終了日 {_jp_day(e)} が開始日 {_jp_day(s)} より前です")
    label = _jp_day(s) if s == e else f"{_jp_day(s)}〜{_jp_day(e)}"
    return Period(s, e + timedelta(days=1), label, "custom")


def _local_dates(col: pd.Series) -> pd.Series:
    """The column as naive Tokyo wall-clock datetimes (aware timestamps are converted, not cut)."""
    dates = pd.to_datetime(col)
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_convert(TOKYO).dt.tz_localize(None)
    return dates


def _checked(frame: pd.DataFrame, by: list[str]) -> None:
    if not by:
        raise ReportError("集計の単位 (by) を一つ以上指定してください")
    missing = [c for c in (*REQUIRED_COLUMNS, *by) if c not in frame.columns]
    if missing:
        raise ReportError(f"時間記録に必要な列がありません: {', '.join(missing)}")
    clash = [c for c in by if c in METRIC_COLUMNS]
    if clash:
        raise ReportError(f"集計の単位に指標の列は使えません: {', '.join(clash)}")


def _metrics(sums: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Summed minutes/seconds/counts → hours and rates. Undefined rates are NaN, never a division by 0."""
    before = sums["minutes_before"].astype("float64") / 60.0
    after = sums["minutes_after"].astype("float64") / 60.0
    saved = before - after
    ours = sums["kakari_rows"].astype("int64") > 0  # only kakari's own rows are measured or estimated by it
    out = sums[by].copy()
    out["items"] = sums["items"].astype("int64")
    out["hours_before"] = before
    out["hours_after"] = after
    out["hours_after_measured"] = (sums["after_measured"].astype("float64") / 60.0).where(ours)
    out["hours_after_estimated"] = (sums["after_estimated"].astype("float64") / 60.0).where(ours)
    out["hours_saved"] = saved
    out["reduction_rate"] = saved / before.where(before != 0)  # 0 → NaN → the quotient is NaN
    out["robot_hours"] = sums["robot_seconds"].astype("float64") / 3600.0
    den = sums["review_den"].astype("float64")
    out["review_rate"] = sums["review_num"].astype("float64") / den.where(den != 0)
    return out


def kpi_table(frame: pd.DataFrame, period: Period, by: Sequence[str] = ("department", "task"),
              order: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """The 削減効果 table for rows with period.start ≤ date < period.end, grouped by `by`.

    Columns: *by, items, hours_before, hours_after — of which hours_after_measured (minutes a person
    was measured spending on the review screen) and hours_after_estimated (kakari's estimates; NaN
    for a group with no kakari rows: imported totals are neither) — hours_saved, reduction_rate
    (saved ÷ before, NaN when before is 0), robot_hours (reference only), review_rate (要確認 and
    decided share among kakari rows that carry a status; NaN when there are none).

    Rows are grouped by ``name_key`` of each `by` column and show the spelling of the group's
    earliest row. They come in the town's order: `order` maps a column to its names in the order
    the town keeps them (config order); unlisted names follow in the order they first appear in the
    time log. The last row is always the totals row (first `by` column "合計"), from the raw rows.
    """
    keys = list(by)
    _checked(frame, keys)
    dates = _local_dates(frame["date"])
    inside = (dates >= pd.Timestamp(period.start)) & (dates < pd.Timestamp(period.end))
    rows = frame.loc[inside]

    status = rows["status"].fillna("").astype(str).str.strip()  # StrEnum → its Japanese value
    kakari = rows["source"].fillna("").astype(str) == "kakari"
    has_status = kakari & (status != "")
    spelled = {c: rows[c].fillna("").astype(str).str.strip() for c in keys}
    work = pd.DataFrame({c: spelled[c].map(name_key) for c in keys}, index=rows.index)
    work["items"] = pd.to_numeric(rows["items"]).fillna(0).astype("int64")
    for c in ("minutes_before", "minutes_after", "robot_seconds"):
        work[c] = pd.to_numeric(rows[c]).astype("float64").fillna(0.0)
    records = pd.to_numeric(rows["rows"]).astype("int64") if "rows" in rows else 1  # TimeLog.daily sums
    measured = kakari & status.isin(MEASURED)
    work["after_measured"] = work["minutes_after"].where(measured, 0.0)
    work["after_estimated"] = work["minutes_after"].where(kakari & ~measured, 0.0)
    work["kakari_rows"] = kakari.astype("int64") * records
    work["review_den"] = has_status.astype("int64") * records
    work["review_num"] = (has_status & status.isin(REVIEWED)).astype("int64") * records
    work["first"] = dates[inside]

    grouped = work.groupby(keys, sort=False, dropna=False)
    sums = grouped.agg({**dict.fromkeys(_SUMS, "sum"), "first": "min"}).reset_index()
    body = _metrics(sums, keys)
    body = body.loc[_town_order(sums, keys, order or {})]
    for c in keys:
        body[c] = body[c].map(_spellings(work[c], spelled[c], work["first"]))

    total_sums = pd.DataFrame([work[_SUMS].sum()])
    for i, c in enumerate(keys):
        total_sums[c] = TOTAL_LABEL if i == 0 else ""
    totals = _metrics(total_sums, keys)

    table = pd.concat([body, totals], ignore_index=True) if len(body) else totals.reset_index(drop=True)
    for c in keys:
        table[c] = table[c].astype(object)
    table["items"] = table["items"].astype("int64")
    return table[[*keys, *METRIC_COLUMNS]]


def _town_order(sums: pd.DataFrame, keys: list[str], order: Mapping[str, Sequence[str]]) -> pd.Index:
    """The groups' index in the town's order, level by level (原課, then 業務名 within it). A group's
    place is the first place `order` gives it or anything under it (a 原課 comes where its first
    listed 業務名 does); unlisted ones follow by the day they first appear, then by name."""
    ranks = []
    for c in keys:
        listed: dict[str, int] = {}
        for n, name in enumerate(order.get(c, ())):
            listed.setdefault(name_key(name), n)
        ranks.append(sums[c].map(lambda k, listed=listed: listed.get(k, _UNRANKED)))
    sort = pd.DataFrame(index=sums.index)
    below = pd.Series(_UNRANKED, index=sums.index)
    for i in reversed(range(len(keys))):  # bottom up: a level's rank is the best of its own and those under it
        below = pd.concat([ranks[i], below], axis=1).min(axis=1)
        below = below.groupby([sums[k] for k in keys[: i + 1]], sort=False).transform("min")
        sort[f"rank{i}"] = below
    columns = []
    for i, c in enumerate(keys):
        sort[f"first{i}"] = sums.groupby(keys[: i + 1], sort=False)["first"].transform("min")
        sort[f"key{i}"] = sums[c]
        columns += [f"rank{i}", f"first{i}", f"key{i}"]
    return sort.sort_values(columns, kind="stable").index


def _spellings(keys: pd.Series, spelled: pd.Series, first: pd.Series) -> dict[str, str]:
    """name_key → the spelling of its earliest row (ties: the first in code point order, so the same
    log always shows the same spelling)."""
    seen = pd.DataFrame({"key": keys, "name": spelled, "first": first}).sort_values(["first", "name"], kind="stable")
    earliest = seen.drop_duplicates("key")
    return dict(zip(earliest["key"], earliest["name"]))


# --- the manager's report: targets, baselines, conversions, monthly trend ------------------------
EXTRA_COLUMNS = ("target_rate", "achieved", "human_minutes_per_item", "fte_saved", "cost_saved", "baseline")
ACHIEVED, NOT_ACHIEVED = "達成", "未達"
MEASURED_LABEL, ESTIMATE_LABEL, IMPORTED_LABEL = "実測", "見積", "外部実績"  # where a 導入前 figure comes from


def enrich(table: pd.DataFrame, kpi: KpiConfig, measured: Mapping[tuple[str, str], Any] | None = None,
           imported_tasks: set[tuple[str, str]] | None = None,
           own_tasks: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Add target vs achieved, minutes a person still spends per item, FTE and cost saved, and
    where each "before" figure comes from (実測 n=…, 見積, 外部実績) to a department/task table.

    `measured`, `imported_tasks` (tasks with imported rows) and `own_tasks` (tasks with kakari's own
    rows; None: every task not only imported) are keyed by (name_key(原課), name_key(業務名))."""
    out = table.copy()
    measured = {(name_key(d), name_key(t)): b for (d, t), b in (measured or {}).items()}
    imported_tasks = imported_tasks or set()
    targets = {name_key(task): rate for task, rate in kpi.targets.items()}
    is_total = out["department"] == TOTAL_LABEL
    rates = [kpi.target_rate if total else targets.get(name_key(task), kpi.target_rate)
             for total, task in zip(is_total, out["task"])]
    out["target_rate"] = pd.Series(rates, index=out.index, dtype="float64")
    def verdict(rate: float, target: float) -> str:
        if pd.isna(target) or pd.isna(rate):
            return ""
        return ACHIEVED if rate + 1e-12 >= target else NOT_ACHIEVED
    out["achieved"] = [verdict(r, t) for r, t in zip(out["reduction_rate"], out["target_rate"])]
    items = out["items"].astype("float64")
    out["human_minutes_per_item"] = out["hours_after"] * 60.0 / items.where(items != 0)
    out["fte_saved"] = out["hours_saved"] / kpi.annual_hours
    out["cost_saved"] = out["hours_saved"] * kpi.hourly_cost if kpi.hourly_cost else float("nan")
    labels = []
    for total, dept, task in zip(is_total, out["department"], out["task"]):
        key = (name_key(dept), name_key(task))
        own = key not in imported_tasks if own_tasks is None else key in own_tasks
        if total:
            labels.append("")
        elif key in measured:
            labels.append(f"{MEASURED_LABEL} (n={measured[key].observations})")
        elif key in imported_tasks:
            labels.append(f"{ESTIMATE_LABEL}・{IMPORTED_LABEL}" if own else IMPORTED_LABEL)
        else:
            labels.append(ESTIMATE_LABEL)
    out["baseline"] = labels
    return out


def trend_table(frame: pd.DataFrame, months: list[Period]) -> pd.DataFrame:
    """One totals row per month: the monthly trend of hours saved and 削減率."""
    rows = []
    for p in months:
        total = kpi_table(frame, p, by=("department",)).iloc[-1]
        rows.append({"month": p.label, **{c: total[c] for c in METRIC_COLUMNS}})
    return pd.DataFrame(rows, columns=["month", *METRIC_COLUMNS])


def department_trend(frame: pd.DataFrame, months: list[Period],
                     order: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """The monthly trend per 原課: one row per month and 原課 with items that month (no totals rows)."""
    parts = []
    for p in months:
        table = kpi_table(frame, p, by=("department",), order=order).iloc[:-1]
        parts.append(table.assign(month=p.label))
    columns = ["month", "department", *METRIC_COLUMNS]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def months_of(period: Period) -> list[Period]:
    """The months a period spans (a 年度 → April … March); a month → the 年度 up to that month."""
    if period.kind == "month":
        fy = fiscal_year_of(period.start)
        first, last = date(fy, 4, 1), period.start
    else:
        first, last = period.start.replace(day=1), period.last.replace(day=1)
    out, d = [], first
    while d <= last:
        out.append(period_bounds(month=f"{d.year}-{d.month:02d}"))
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out
