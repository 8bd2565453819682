"""The time log: one row per document (or imported row), job and step; the KPIs are queries over it.

This module is the table's only writer. Every producer — the runner's commit, web entry's
reconcile, a clerk's decision, `timelog import`, `jobs retry` — calls these functions with its own
open transaction, so the row is written if and only if the producer's own outcome is committed:
the unique key (doc_id, job, step) makes a replay a no-op. Reads go through `TimeLog`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    func,
    select,
    type_coerce,
    update,
)

from jobs.store import Store, insert_ignore, metadata

if TYPE_CHECKING:  # pandas takes most of a second to import: the pipeline itself never needs it
    import pandas as pd

time_log = Table(
    "time_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc_id", String(200), nullable=False),  # a document id, or an import key
    Column("job", String(100), nullable=False),
    Column("step", String(100), nullable=False),
    Column("department", String(100), nullable=False),
    Column("task", String(200), nullable=False),
    Column("bot", String(100)),
    Column("status", String(20)),
    Column("work_date", DateTime, nullable=False),  # local (Asia/Tokyo) date the work counts for
    Column("started", DateTime(timezone=True)),
    Column("finished", DateTime(timezone=True)),
    Column("items", Integer, nullable=False, default=1),
    Column("robot_seconds", Float, nullable=False, default=0.0),
    Column("minutes_before", Float, nullable=False),
    Column("minutes_after", Float, nullable=False),
    Column("baseline", String(20), nullable=False, default="estimate"),
    Column("source", String(40), nullable=False, default="kakari"),
    UniqueConstraint("doc_id", "job", "step", name="uq_time_log_doc_job_step"),
)

TOKYO = ZoneInfo("Asia/Tokyo")
FRAME_COLUMNS = ["date", "department", "task", "bot", "job", "step", "items", "minutes_before",
                 "minutes_after", "robot_seconds", "status", "baseline", "source"]
GROUP_KEYS = ["department", "task", "bot", "job", "step", "status", "baseline", "source"]


@dataclass(frozen=True)
class TaskRecord:
    doc_id: str
    job: str
    step: str  # "ledger", "web:<system>"
    department: str  # 原課
    task: str  # 業務名
    bot: str
    status: str
    started: datetime
    finished: datetime
    minutes_before: float  # manual minutes this item took before automation
    minutes_after: float  # minutes a person still spends on it
    baseline: Literal["measured", "estimate"] = "estimate"
    items: int = 1
    source: str = "kakari"
    work_date: date | None = None  # the Tokyo day the work counts for (default: the day it finished)

    @property
    def robot_seconds(self) -> float:
        return max(0.0, (self.finished - self.started).total_seconds())


def local_date(ts: datetime) -> datetime:
    """The Tokyo calendar day a timestamp belongs to, as a naive midnight (what the KPI groups by)."""
    d = ts.astimezone(TOKYO).date() if ts.tzinfo else ts.date()
    return datetime.combine(d, time())


def _row(r: TaskRecord) -> dict[str, object]:
    day = datetime.combine(r.work_date, time()) if r.work_date else local_date(r.finished)
    return asdict(r) | {"robot_seconds": r.robot_seconds, "work_date": day}


def record(conn: Connection, r: TaskRecord) -> bool:
    """Insert once per (doc_id, job, step); False if it was already recorded."""
    return insert_ignore(conn, time_log, _row(r)) == 1


def record_many(conn: Connection, records: list[TaskRecord]) -> int:
    """Insert each once; returns how many were new."""
    return insert_ignore(conn, time_log, [_row(r) for r in records]) if records else 0


def set_human_minutes(conn: Connection, doc_id: str, job: str, minutes: float, status: str | None = None,
                      step: str = "ledger") -> None:
    """A person's measured minutes on the item replace the estimate (the review screen measures them)."""
    values: dict[str, object] = {"minutes_after": minutes}
    if status:
        values["status"] = status
    conn.execute(update(time_log).where(time_log.c.doc_id == doc_id, time_log.c.job == job,
                                        time_log.c.step == step).values(**values))


def forget(conn: Connection, doc_id: str, job: str, step: str = "ledger") -> None:
    """Drop an item's row so a new attempt is counted once (`jobs retry`)."""
    conn.execute(delete(time_log).where(time_log.c.doc_id == doc_id, time_log.c.job == job,
                                        time_log.c.step == step))


class TimeLog:
    """Reads of the time log for the KPIs."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def frame(self, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """Rows with start <= date < end (either bound optional), in FRAME_COLUMNS.

        Only the report's columns are read, and the day comes back as the driver gives it (text in
        SQLite) to be parsed once for the whole column: per-row datetime objects made a 年度 of a
        million records three times slower and several times bigger.
        """
        import pandas as pd

        cols: list[ColumnElement[Any]] = [type_coerce(time_log.c.work_date, String).label("date")]
        cols += [time_log.c[c] for c in FRAME_COLUMNS if c != "date"]
        q = select(*cols)
        if start:
            q = q.where(time_log.c.work_date >= datetime.combine(start, time()))
        if end:
            q = q.where(time_log.c.work_date < datetime.combine(end, time()))
        with self.store.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(q)]  # plain tuples: pandas is 5× slower on Row objects
        if not rows:
            return empty_frame()
        df = pd.DataFrame.from_records(rows, columns=FRAME_COLUMNS)
        del rows
        df["date"] = pd.to_datetime(df["date"], format="ISO8601")
        df["status"] = df["status"].fillna("")
        df["bot"] = df["bot"].fillna("")
        return df

    def daily(self, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """Like `frame`, summed in the database per day and key (FRAME_COLUMNS + `rows`, the number
        of records behind each line). A 年度 of a million records is a few thousand lines, so a
        report's memory does not grow with the log."""
        import pandas as pd

        keys = [time_log.c[c] for c in GROUP_KEYS]
        sums = [func.sum(time_log.c[c]).label(c) for c in ("items", "minutes_before", "minutes_after", "robot_seconds")]
        q = select(type_coerce(time_log.c.work_date, String).label("date"), *keys, *sums,
                   func.count().label("rows")).group_by(time_log.c.work_date, *keys)
        if start:
            q = q.where(time_log.c.work_date >= datetime.combine(start, time()))
        if end:
            q = q.where(time_log.c.work_date < datetime.combine(end, time()))
        with self.store.engine.connect() as conn:
            found = [tuple(r) for r in conn.execute(q)]
        if not found:
            return empty_frame().assign(rows=pd.Series(dtype="int64"))
        df = pd.DataFrame.from_records(found, columns=["date", *GROUP_KEYS, "items", "minutes_before",
                                                       "minutes_after", "robot_seconds", "rows"])
        df["date"] = pd.to_datetime(df["date"], format="ISO8601")
        df["status"] = df["status"].fillna("")
        df["bot"] = df["bot"].fillna("")
        for c in ("minutes_before", "minutes_after", "robot_seconds"):
            df[c] = df[c].astype("float64")
        return df[[*FRAME_COLUMNS, "rows"]]

    def count(self, job: str | None = None, step: str | None = None) -> int:
        q = select(time_log.c.id)
        if job:
            q = q.where(time_log.c.job == job)
        if step:
            q = q.where(time_log.c.step == step)
        with self.store.engine.connect() as conn:
            return len(conn.execute(q).all())


def empty_frame() -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame({c: pd.Series(dtype="object") for c in FRAME_COLUMNS})
    df["date"] = pd.to_datetime(df["date"])
    for c in ("items",):
        df[c] = df[c].astype("int64")
    for c in ("minutes_before", "minutes_after", "robot_seconds"):
        df[c] = df[c].astype("float64")
    return df

