"""The time log: one row per document, job and step; the KPIs are pandas queries over it."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, select, update

from jobs.store import Store, insert_ignore, time_log

TOKYO = ZoneInfo("Asia/Tokyo")
FRAME_COLUMNS = ["date", "department", "task", "bot", "job", "step", "items", "minutes_before",
                 "minutes_after", "robot_seconds", "status", "baseline", "source"]


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

    @property
    def robot_seconds(self) -> float:
        return max(0.0, (self.finished - self.started).total_seconds())


def local_date(ts: datetime) -> datetime:
    """The Tokyo calendar day a timestamp belongs to, as a naive midnight (what the KPI groups by)."""
    d = ts.astimezone(TOKYO).date() if ts.tzinfo else ts.date()
    return datetime.combine(d, time())


class TimeLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, r: TaskRecord, conn: Connection | None = None) -> bool:
        """Insert once per (doc_id, job, step); False if it was already recorded."""
        row = asdict(r) | {"robot_seconds": r.robot_seconds, "work_date": local_date(r.finished)}
        if conn is not None:
            return insert_ignore(conn, time_log, row) == 1
        with self.store.begin() as c:
            return insert_ignore(c, time_log, row) == 1

    def set_human_minutes(self, doc_id: str, job: str, minutes: float, status: str | None = None,
                          step: str = "ledger") -> None:
        """The review screen measured how long a person spent: it replaces the estimate."""
        values: dict[str, object] = {"minutes_after": minutes}
        if status:
            values["status"] = status
        with self.store.begin() as conn:
            conn.execute(update(time_log).where(time_log.c.doc_id == doc_id, time_log.c.job == job,
                                                time_log.c.step == step).values(**values))

    def frame(self, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """Rows with start <= date < end (either bound optional), in FRAME_COLUMNS."""
        q = select(time_log)
        if start:
            q = q.where(time_log.c.work_date >= datetime.combine(start, time()))
        if end:
            q = q.where(time_log.c.work_date < datetime.combine(end, time()))
        with self.store.engine.connect() as conn:
            df = pd.DataFrame(conn.execute(q).mappings().all())
        if df.empty:
            return empty_frame()
        df = df.rename(columns={"work_date": "date"})
        df["date"] = pd.to_datetime(df["date"])
        df["status"] = df["status"].fillna("")
        df["bot"] = df["bot"].fillna("")
        return df[FRAME_COLUMNS]

    def count(self, job: str | None = None, step: str | None = None) -> int:
        q = select(time_log.c.id)
        if job:
            q = q.where(time_log.c.job == job)
        if step:
            q = q.where(time_log.c.step == step)
        with self.store.engine.connect() as conn:
            return len(conn.execute(q).all())


def empty_frame() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype="object") for c in FRAME_COLUMNS})
    df["date"] = pd.to_datetime(df["date"])
    for c in ("items",):
        df[c] = df[c].astype("int64")
    for c in ("minutes_before", "minutes_after", "robot_seconds"):
        df[c] = df[c].astype("float64")
    return df

