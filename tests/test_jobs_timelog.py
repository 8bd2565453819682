"""Time log: once per (doc_id, job, step), Tokyo calendar day, measured minutes replace estimates."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from jobs import timelog
from jobs.store import Store, record_from_dict, record_to_dict
from jobs.timelog import TaskRecord, TimeLog
from kakari.model import Box, Field, Record

UTC = timezone.utc


def rec(doc: str, finished: datetime, status: str = "自動登録", before: float = 8.0, after: float = 0.0) -> TaskRecord:
    return TaskRecord(doc_id=doc, job="kodomo", step="ledger", department="子育て支援課", task="受付入力",
                      bot="child_medical", status=status, started=finished - timedelta(seconds=3),
                      finished=finished, minutes_before=before, minutes_after=after)


def write(store: Store, r: TaskRecord) -> bool:
    with store.begin() as conn:
        return timelog.record(conn, r)


def test_record_once_and_frame(db_url: str) -> None:
    store = Store(db_url)
    log = TimeLog(store)
    t = datetime(2026, 4, 10, 1, 0, tzinfo=UTC)
    assert write(store, rec("a", t)) is True
    assert write(store, rec("a", t)) is False  # a replay after a crash adds nothing
    assert write(store, rec("b", t, "要確認", after=2.0)) is True
    df = log.frame(date(2026, 4, 1), date(2026, 5, 1))
    assert len(df) == 2
    assert df["minutes_before"].sum() == 16.0 and df["minutes_after"].sum() == 2.0
    assert df["robot_seconds"].tolist() == [3.0, 3.0]
    assert set(df["status"]) == {"自動登録", "要確認"}


def test_work_date_is_tokyo_day(db_url: str) -> None:
    store = Store(db_url)
    log = TimeLog(store)
    # 2026-04-30 15:30 UTC is 2026-05-01 00:30 in Tokyo: it counts for May
    write(store, rec("late", datetime(2026, 4, 30, 15, 30, tzinfo=UTC)))
    assert log.frame(date(2026, 4, 1), date(2026, 5, 1)).empty
    may = log.frame(date(2026, 5, 1), date(2026, 6, 1))
    assert may["date"].dt.date.tolist() == [date(2026, 5, 1)]


def test_measured_minutes_replace_estimate(db_url: str) -> None:
    store = Store(db_url)
    write(store, rec("a", datetime(2026, 4, 10, tzinfo=UTC), "要確認", after=2.0))
    with store.begin() as conn:
        timelog.set_human_minutes(conn, "a", "kodomo", 0.75, status="確認済")
    df = TimeLog(store).frame()
    assert df["minutes_after"].tolist() == [0.75] and df["status"].tolist() == ["確認済"]


def test_record_json_round_trip() -> None:
    r = Record("d" * 64, "child_medical", {
        "name": Field("name", "氏名", "山田　花子", "山田 花子", 0.93, ["確認"], Box(1, 1.5, 2, 3, 4), True),
        "seat": Field("seat", "客席", True),
    }, 0.8, {"received_at": datetime(2026, 4, 1, tzinfo=UTC), "original_name": "a.pdf"})
    back = record_from_dict(record_to_dict(r))
    assert back == r
