"""kpi/metrics.py: periods (month, 年度, custom) and the KPI table, on hand-built time-log frames."""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd
import pytest

from jobs.timelog import FRAME_COLUMNS, empty_frame
from kakari.errors import ConfigError
from kakari.model import Status
from kpi.metrics import (
    METRIC_COLUMNS,
    TOTAL_LABEL,
    Period,
    ReportError,
    fiscal_year_label,
    fiscal_year_of,
    kpi_table,
    name_key,
    period_bounds,
)

APRIL = period_bounds(month="2026-04")


def row(when: str | datetime, department: str = "子育て支援課", task: str = "子ども医療費申請入力", *,
        items: int = 1, before: float = 8.0, after: float = 0.0, robot: float = 0.0, status: str = "自動登録",
        source: str = "kakari") -> dict[str, Any]:
    return {"date": pd.Timestamp(when), "department": department, "task": task, "bot": "child_medical",
            "job": "child", "step": "ledger", "items": items, "minutes_before": before, "minutes_after": after,
            "robot_seconds": robot, "status": status,
            "baseline": "estimate", "source": source}


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=FRAME_COLUMNS)
    df["date"] = pd.to_datetime(df["date"])
    return df


def body(table: pd.DataFrame) -> pd.DataFrame:
    return table.iloc[:-1]


def totals(table: pd.DataFrame) -> pd.Series:
    last = table.iloc[-1]
    assert last["department"] == TOTAL_LABEL
    return last


# --- periods ----------------------------------------------------------------------------------
def test_month_period_is_half_open_with_japanese_label() -> None:
    p = period_bounds(month="2026-04")
    assert (p.start, p.end, p.label, p.kind) == (date(2026, 4, 1), date(2026, 5, 1), "2026年4月", "month")
    assert p.last == date(2026, 4, 30)
    assert date(2026, 4, 30) in p and date(2026, 5, 1) not in p and date(2026, 3, 31) not in p


@pytest.mark.parametrize("text", ["2026-4", "2026/04", "2026年4月", "２０２６－０４"])
def test_month_spellings(text: str) -> None:
    assert period_bounds(month=text).start == date(2026, 4, 1)


def test_december_rolls_into_next_year() -> None:
    p = period_bounds(month="2025-12")
    assert (p.start, p.end, p.label) == (date(2025, 12, 1), date(2026, 1, 1), "2025年12月")


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "April", "26-04", ""])
def test_bad_month_is_a_japanese_report_error(bad: str) -> None:
    with pytest.raises(ReportError, match="形式が正しくありません") as e:
        period_bounds(month=bad)
    assert isinstance(e.value, ConfigError) and isinstance(e.value, ValueError)


def test_fiscal_year_boundaries() -> None:
    # 2026-03-31 is the last day of 令和7年度; 2026-04-01 the first day of 令和8年度
    assert fiscal_year_of(date(2026, 3, 31)) == 2025
    assert fiscal_year_of(date(2026, 4, 1)) == 2026
    assert fiscal_year_of(datetime(2026, 1, 15, 9, 0)) == 2025
    fy = period_bounds(fiscal_year=2025)
    assert (fy.start, fy.end, fy.label, fy.kind) == (date(2025, 4, 1), date(2026, 4, 1), "令和7年度", "fiscal_year")
    assert date(2026, 3, 31) in fy and date(2026, 4, 1) not in fy
    assert period_bounds(fiscal_year=2026).label == "令和8年度"


@pytest.mark.parametrize("year, label", [(2019, "令和元年度"), (2020, "令和2年度"), (2018, "平成30年度"),
                                         (1989, "平成元年度"), (1988, "昭和63年度")])
def test_fiscal_year_labels_in_wareki(year: int, label: str) -> None:
    assert fiscal_year_label(year) == label


def test_custom_period_takes_inclusive_days() -> None:
    p = period_bounds(start=date(2026, 4, 1), end=date(2026, 4, 15))
    assert (p.start, p.end, p.last) == (date(2026, 4, 1), date(2026, 4, 16), date(2026, 4, 15))
    assert p.label == "2026年4月1日〜2026年4月15日"
    assert period_bounds(start=date(2026, 4, 1), end=date(2026, 4, 1)).label == "2026年4月1日"


@pytest.mark.parametrize("kwargs", [{}, {"month": "2026-04", "fiscal_year": 2025}, {"start": date(2026, 4, 1)},
                                    {"start": date(2026, 4, 2), "end": date(2026, 4, 1)}])
def test_period_arguments_must_name_one_period(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ReportError):
        period_bounds(**kwargs)


# --- the table --------------------------------------------------------------------------------
def test_three_documents_one_reviewed() -> None:
    # 3 docs × 8.0 min before = 24 min = 0.4 h; one 要確認 with 2.0 min after = 0.0333 h;
    # saved 22 min = 0.3667 h; rate 22/24 = 0.91667; review 1 of 3 rows
    t = kpi_table(frame(row("2026-04-03"), row("2026-04-03"),
                        row("2026-04-07", after=2.0, status="要確認", robot=30)), APRIL)
    assert list(t.columns) == ["department", "task", *METRIC_COLUMNS]
    assert len(t) == 2
    r = t.iloc[0]
    assert (r["department"], r["task"], r["items"]) == ("子育て支援課", "子ども医療費申請入力", 3)
    assert r["hours_before"] == pytest.approx(0.4)
    assert r["hours_after"] == pytest.approx(2 / 60)
    assert r["hours_saved"] == pytest.approx(22 / 60)
    assert r["reduction_rate"] == pytest.approx(22 / 24)
    assert r["robot_hours"] == pytest.approx(30 / 3600)
    assert r["review_rate"] == pytest.approx(1 / 3)
    # full precision is kept: 0.36666… is not 0.4 nor 0.37
    assert r["hours_saved"] != pytest.approx(0.37, abs=1e-6)


def test_rows_in_first_appearance_order_and_totals_equal_column_sums() -> None:
    f = frame(
        row("2026-04-10", "福祉課", "障害福祉申請", before=10.0, after=3.0, robot=40, status="確認済"),
        row("2026-04-11", "保険年金課", "国保資格入力", before=5.0, robot=20),
        row("2026-04-12", "福祉課", "介護認定入力", before=6.0, after=1.0, robot=10, status="要確認"),
        row("2026-04-12", "保険年金課", "国保資格入力", before=5.0, after=5.0, robot=25, status="エラー"),
        row("2026-04-13", "福祉課", "介護認定入力", before=6.0, robot=15),
    )
    t = kpi_table(f, APRIL)
    keys = list(zip(body(t)["department"], body(t)["task"]))
    # no order given: 原課 by the day they first appear, tasks within them likewise (not code point order)
    assert keys == [("福祉課", "障害福祉申請"), ("福祉課", "介護認定入力"), ("保険年金課", "国保資格入力")]
    tot = totals(t)
    assert tot["task"] == ""
    for col in ("items", "hours_before", "hours_after", "hours_saved", "robot_hours"):
        assert tot[col] == pytest.approx(body(t)[col].sum()), col
    # before 32 min, after 9 min → saved 23 min; rate 23/32 — not the mean of the row rates
    assert tot["hours_before"] == pytest.approx(32 / 60)
    assert tot["reduction_rate"] == pytest.approx(23 / 32)
    assert tot["reduction_rate"] != pytest.approx(body(t)["reduction_rate"].mean())
    # 要確認 + 確認済 = 2 of 5 status rows (エラー counts in the denominator)
    assert tot["review_rate"] == pytest.approx(2 / 5)
    hoken = body(t)[body(t)["department"] == "保険年金課"].iloc[0]
    assert hoken["reduction_rate"] == pytest.approx(5 / 10) and hoken["review_rate"] == 0.0


def test_zero_baseline_gives_nan_rate_not_an_error() -> None:
    t = kpi_table(frame(row("2026-04-01", task="新規業務", before=0.0, after=0.0)), APRIL)
    assert math.isnan(t.iloc[0]["reduction_rate"])
    assert t.iloc[0]["hours_saved"] == 0.0
    assert math.isnan(totals(t)["reduction_rate"])


def test_empty_period_gives_a_zero_totals_row() -> None:
    t = kpi_table(frame(row("2026-03-31"), row("2026-05-01")), APRIL)
    assert len(t) == 1
    tot = totals(t)
    assert tot["items"] == 0 and tot["hours_before"] == 0.0 and tot["hours_saved"] == 0.0
    assert math.isnan(tot["reduction_rate"]) and math.isnan(tot["review_rate"])
    assert len(kpi_table(empty_frame(), APRIL)) == 1


def test_month_boundary_last_minute_of_april() -> None:
    f = frame(row("2026-04-30 23:59", before=10.0), row("2026-05-01 00:00", before=7.0))
    assert kpi_table(f, APRIL).iloc[0]["hours_before"] == pytest.approx(10 / 60)
    may = kpi_table(f, period_bounds(month="2026-05"))
    assert may.iloc[0]["hours_before"] == pytest.approx(7 / 60) and may.iloc[0]["items"] == 1


def test_aware_timestamps_count_on_their_tokyo_day() -> None:
    # 2026-04-30 15:30 UTC is 2026-05-01 00:30 in Tokyo: May, not April
    f = frame(row("2026-04-30 10:00"))
    f["date"] = pd.to_datetime(["2026-04-30T15:30:00Z"])
    assert kpi_table(f, APRIL).iloc[-1]["items"] == 0
    assert kpi_table(f, period_bounds(month="2026-05")).iloc[-1]["items"] == 1


def test_fiscal_year_table_boundaries() -> None:
    f = frame(row("2026-03-31", before=12.0), row("2026-04-01", before=30.0), row("2025-04-01", before=6.0))
    fy7 = kpi_table(f, period_bounds(fiscal_year=2025))
    assert totals(fy7)["items"] == 2 and totals(fy7)["hours_before"] == pytest.approx(18 / 60)
    fy8 = kpi_table(f, period_bounds(fiscal_year=2026))
    assert totals(fy8)["items"] == 1 and totals(fy8)["hours_before"] == pytest.approx(0.5)


def test_imported_rows_carry_totals_and_no_review_status() -> None:
    # an imported month of manual work: 120 items, 600 min before, 60 min after (totals for the row)
    imported = row("2026-04-30", "税務課", "軽自動車税申告入力", items=120, before=600.0, after=60.0,
                   status="", source="import")
    t = kpi_table(frame(imported), APRIL)
    r = t.iloc[0]
    assert r["items"] == 120
    assert (r["hours_before"], r["hours_after"], r["hours_saved"]) == pytest.approx((10.0, 1.0, 9.0))
    assert r["reduction_rate"] == pytest.approx(0.9)
    assert math.isnan(r["review_rate"])  # no kakari rows with a status
    # mixed with one kakari row of the same task: the review rate counts only the kakari row
    mixed = kpi_table(frame(imported, row("2026-04-02", "税務課", "軽自動車税申告入力", before=5.0, after=1.0,
                                          status="要確認")), APRIL)
    assert mixed.iloc[0]["items"] == 121 and mixed.iloc[0]["review_rate"] == 1.0
    assert mixed.iloc[0]["hours_before"] == pytest.approx(605 / 60)


def test_status_enum_values_and_custom_grouping() -> None:
    f = frame(row("2026-04-01", status=Status.REVIEW), row("2026-04-02", status=Status.CONFIRMED),
              row("2026-04-03", task="別業務", status=Status.REGISTERED), row("2026-04-04", "税務課", "x"))
    t = kpi_table(f, APRIL, by=("department",))
    assert list(t.columns) == ["department", *METRIC_COLUMNS]
    assert list(t["department"]) == ["子育て支援課", "税務課", TOTAL_LABEL]
    assert t.iloc[0]["items"] == 3 and t.iloc[0]["review_rate"] == pytest.approx(2 / 3)


def test_missing_columns_are_named() -> None:
    with pytest.raises(ReportError, match="minutes_before"):
        kpi_table(frame(row("2026-04-01")).drop(columns=["minutes_before"]), APRIL)


def test_period_is_frozen() -> None:
    p = Period(date(2026, 4, 1), date(2026, 5, 1), "2026年4月", "month")
    with pytest.raises(AttributeError):
        p.start = date(2026, 1, 1)  # type: ignore[misc]


def test_from_a_real_time_log(db_url: str) -> None:
    # TimeLog in SQLite and PostgreSQL → frame(period.start, period.end) → table: both use the same half-open bounds
    from datetime import timezone

    from jobs import timelog
    from jobs.store import Store
    from jobs.timelog import TaskRecord, TimeLog

    store = Store(db_url)
    log = TimeLog(store)
    # 2026-04-30 14:59:30Z = 23:59:30 JST (April); 15:00:30Z = 2026-05-01 00:00:30 JST (May)
    for doc, end, after, status in (("a", datetime(2026, 4, 30, 14, 59, 30, tzinfo=timezone.utc), 0.0, "自動登録"),
                                    ("b", datetime(2026, 4, 30, 15, 0, 30, tzinfo=timezone.utc), 2.0, "要確認")):
        with store.begin() as conn:
            timelog.record(conn, TaskRecord(doc_id=doc, job="child", step="ledger", department="子育て支援課",
                                            task="入力", bot="child_medical", status=status,
                                            started=end.replace(second=0), finished=end, minutes_before=6.0,
                                            minutes_after=after))
    april = kpi_table(log.frame(APRIL.start, APRIL.end), APRIL)
    assert april.iloc[0]["items"] == 1 and april.iloc[0]["robot_hours"] == pytest.approx(30 / 3600)
    may_p = period_bounds(month="2026-05")
    may = kpi_table(log.frame(may_p.start, may_p.end), may_p)
    # 6 min before, 2 min after → saved 4 min; rate 4/6
    assert may.iloc[0]["reduction_rate"] == pytest.approx(4 / 6) and may.iloc[0]["review_rate"] == 1.0


def test_the_towns_order_and_spelling_are_kept() -> None:
    f = frame(row("2026-04-01", "総務課", "文書収受"),
              row("2026-04-02", "子育て支援課", "入園申込(さくらⅡシステム)業務"),
              row("2026-04-03", "子育て支援課", "入園申込（さくらIIシステム）業務"),  # another spelling, one task
              row("2026-04-04", "子育て支援課", "㈱保育サービス委託"),
              row("2026-04-05", "市民課", "住民票"))
    order = {"department": ["市民課", "子育て支援課"], "task": ["住民票", "㈱保育サービス委託", "入園申込(さくらⅡシステム)業務"]}
    t = kpi_table(f, APRIL, order=order)
    assert list(zip(body(t)["department"], body(t)["task"])) == [
        ("市民課", "住民票"), ("子育て支援課", "㈱保育サービス委託"), ("子育て支援課", "入園申込(さくらⅡシステム)業務"),
        ("総務課", "文書収受")]  # listed names first, in the town's order; an unlisted one after them
    assert body(t).iloc[2]["items"] == 2  # both spellings counted together, shown as first written
    assert name_key("入園申込（さくらIIシステム）業務") == name_key("入園申込(さくらⅡシステム)業務")


def test_measured_and_estimated_minutes_after() -> None:
    f = frame(row("2026-04-01", after=3.0, status="確認済"), row("2026-04-02", after=1.5, status="差戻"),
              row("2026-04-03", after=2.0, status="要確認"), row("2026-04-04", after=8.0, status="エラー"),
              row("2026-04-05"),
              row("2026-04-06", "税務課", "軽自動車税申告入力", items=10, before=60.0, after=6.0, status="",
                  source="import"))
    t = kpi_table(f, APRIL)
    kodomo, imported, tot = t.iloc[0], t.iloc[1], totals(t)
    assert kodomo["hours_after_measured"] == pytest.approx(4.5 / 60)  # the clerks' minutes, kept or sent back
    assert kodomo["hours_after_estimated"] == pytest.approx(10 / 60)  # 要確認's estimate and an error's manual time
    assert kodomo["hours_after"] == pytest.approx(14.5 / 60) and kodomo["review_rate"] == pytest.approx(3 / 5)
    assert math.isnan(imported["hours_after_measured"]) and math.isnan(imported["hours_after_estimated"])
    assert tot["hours_after_measured"] == pytest.approx(4.5 / 60) and tot["hours_after"] == pytest.approx(20.5 / 60)
