"""Measured baselines: manual timing studies before automation (業務量調査).

Each observation is the minutes one item took by hand. The median per (原課, 業務名) replaces the
estimated "minutes before" of every kakari item of that task in the report, so a task's savings
rest on what was measured; the report shows the number of observations behind each figure.
"""
from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
from sqlalchemy import Column, DateTime, Float, Integer, String, Table, Text, select

from connectors.tabular import ImportError_, day, number, read_table, text
from jobs.store import Store, insert_ignore, metadata
from kpi.metrics import name_key

baselines = Table(  # manual timing studies before automation (kakari baseline record/import)
    "baselines", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),  # content hash: importing twice adds nothing
    Column("department", String(100), nullable=False),
    Column("task", String(200), nullable=False),
    Column("minutes", Float, nullable=False),  # observed minutes for ONE item
    Column("observed_on", DateTime),
    Column("note", Text),
    Column("source", String(200)),
)

ALIASES = {
    "department": ("原課", "課", "部署"),
    "task": ("業務名", "業務"),
    "minutes": ("分", "所要時間(分)", "所要分", "observed_minutes"),
    "date": ("日付", "測定日", "observed_on"),
    "note": ("備考", "メモ"),
}


@dataclass(frozen=True)
class Baseline:
    median: float  # minutes per item
    observations: int


def _key(department: str, task: str, minutes: float, observed_on: date | None, note: str, seq: str) -> str:
    raw = "\x1f".join([department, task, repr(float(minutes)), str(observed_on or ""), note, seq])
    return hashlib.sha256(raw.encode()).hexdigest()


def record(store: Store, department: str, task: str, minutes: list[float], observed_on: date | None = None,
           note: str = "", source: str = "cli") -> int:
    """Add observations from a timing study; returns how many were new."""
    if not minutes:
        raise ImportError_("所要時間 (分) を1つ以上指定してください")
    if any(m <= 0 for m in minutes):
        raise ImportError_("所要時間 (分) は0より大きい数値にしてください")
    stamp = datetime.now().isoformat()  # typed twice on purpose = two observations
    rows = [{"key": _key(department, task, m, observed_on, note, f"{source}:{stamp}:{i}"), "department": department,
             "task": task, "minutes": float(m), "note": note, "source": source,
             "observed_on": datetime.combine(observed_on, time()) if observed_on else None}
            for i, m in enumerate(minutes)]
    with store.begin() as conn:
        return insert_ignore(conn, baselines, rows)


def import_file(store: Store, path: Path) -> tuple[int, int]:
    """Import a study sheet (CSV/xlsx: 原課,業務名,分[,日付,備考]); all rows or none. (new, already there)."""
    rows, errors = [], []
    occurrences: dict[tuple, int] = defaultdict(int)
    for line, cells in read_table(path, ALIASES, ("department", "task", "minutes")):
        try:
            dept = text(cells.get("department"), "原課")
            task = text(cells.get("task"), "業務名")
            minutes = number(cells.get("minutes"), "所要時間(分)", allow_zero=False)
            observed = day(cells["date"]) if str(cells.get("date") or "").strip() else None
        except ValueError as e:
            errors.append(f"  {line}行目: {e}")
            continue
        note = str(cells.get("note") or "").strip()
        # identical lines are separate observations; their occurrence number keeps them apart, and
        # re-importing the same file yields the same keys
        ident = (dept, task, minutes, observed, note)
        occurrences[ident] += 1
        rows.append({"key": _key(dept, task, minutes, observed, note, f"{Path(path).name}#{occurrences[ident]}"),
                     "department": dept, "task": task, "minutes": minutes, "note": note,
                     "observed_on": datetime.combine(observed, time()) if observed else None,
                     "source": Path(path).name})
    if errors:
        raise ImportError_(f"{Path(path).name} に誤りがあるため、取り込みませんでした:\n" + "\n".join(errors))
    with store.begin() as conn:
        new = insert_ignore(conn, baselines, rows) if rows else 0
    return new, len(rows) - new


def medians(store: Store) -> dict[tuple[str, str], Baseline]:
    """(原課, 業務名) → median minutes per item and the number of observations. Spellings of one task
    (name_key) are one study, under the spelling first recorded."""
    with store.engine.connect() as conn:
        found = conn.execute(select(baselines.c.department, baselines.c.task, baselines.c.minutes)
                             .order_by(baselines.c.id)).all()
    by_task: dict[tuple[str, str], list[float]] = defaultdict(list)
    spelling: dict[tuple[str, str], tuple[str, str]] = {}
    for dept, task, minutes in found:
        key = (name_key(dept), name_key(task))
        spelling.setdefault(key, (dept, task))
        by_task[key].append(float(minutes))
    return {spelling[k]: Baseline(statistics.median(v), len(v)) for k, v in by_task.items()}


def apply(frame: pd.DataFrame, measured: dict[tuple[str, str], Baseline]) -> pd.DataFrame:
    """Rows of a measured task get items × median as minutes before, and baseline "measured".

    Every row of the task, imported ones included: a task the report calls 実測 has its 導入前 from
    the town's own timing study, whatever another tool reported. Tasks are matched by name_key, so
    「（）」 typed in the study and 「()」 in the log are one task.
    """
    if not measured or frame.empty:
        return frame
    out = frame.copy()
    keys = list(zip(out["department"].map(name_key), out["task"].map(name_key)))
    by_key = {(name_key(d), name_key(t)): b for (d, t), b in measured.items()}
    medians = pd.Series([by_key[k].median if k in by_key else float("nan") for k in keys], index=out.index)
    hit = medians.notna()
    out.loc[hit, "minutes_before"] = pd.to_numeric(out.loc[hit, "items"]).astype("float64") * medians[hit]
    out.loc[hit, "baseline"] = "measured"
    return out
