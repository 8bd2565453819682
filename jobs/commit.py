"""An item's outcome, committed in one transaction: its documents row, its time-log row, one outbox
row per sink and its events. A document (jobs/runner.py), a row of an online export (jobs/exports.py)
and a task bot's record are all committed here, keyed by doc_id, so a replay changes nothing."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy.engine import Connection

from bots import registry as bot_registry
from bots.base import Bot
from jobs import timelog
from jobs.store import Store, insert_document, queue_writes, record_to_dict
from jobs.timelog import TaskRecord
from kakari.config import JobConfig, RunContext
from kakari.log import redact
from kakari.model import Record, Status


@dataclass
class Outcome:
    doc_id: str
    original_name: str
    status: Status
    bot: str = ""
    reason: str = ""
    stored_path: str = ""
    replayed: bool = False  # already committed earlier (crash recovery or a re-sent copy)
    seconds: float = 0.0


Step = tuple[str, str, datetime]  # (event, detail, when): written with the outcome, in its transaction


def minutes_for(job: JobConfig, bot: type[Bot] | None, estimate: float | None = None,
                review_estimate: float | None = None) -> tuple[float, float]:
    """(manual minutes before, review minutes after) for one item: the job's config beats `estimate`
    (an export mapping's), which beats the bot's own."""
    before = None
    if bot is not None:
        before = job.manual_minutes_by_bot.get(bot.name)
    if before is None:
        before = job.manual_minutes
    if before is None:
        before = estimate
    if before is None:
        first = bot or bot_registry.get(job.bots[0])
        before = float(getattr(first, "manual_minutes", 0.0) or 0.0)
    review = job.review_minutes
    if review is None:
        review = review_estimate
    if review is None:
        review = float(getattr(bot, "review_minutes", 2.0) or 2.0) if bot else 2.0
    return float(before), float(review)


def commit(store: Store, job: JobConfig, ctx: RunContext, rec: Record, status: Status, reason: str,
           bot_cls: type[Bot] | None, started: datetime, finished: datetime, *, original_name: str,
           stored_path: str, received_at: datetime, steps: Sequence[Step] = ()) -> bool:
    """One item's outcome in one transaction: documents row, time-log row, pending ledger rows, events.
    False if the item was already committed (its doc_id is the key)."""
    with store.begin() as conn:
        return commit_outcome(conn, store, job, ctx, rec, status, reason, bot_cls, started, finished,
                              original_name=original_name, stored_path=stored_path, received_at=received_at,
                              steps=steps)


def commit_outcome(conn: Connection, store: Store, job: JobConfig, ctx: RunContext, rec: Record, status: Status,
                   reason: str, bot_cls: type[Bot] | None, started: datetime, finished: datetime, *,
                   original_name: str, stored_path: str, received_at: datetime, steps: Sequence[Step] = (),
                   task: str | None = None, minutes: tuple[float, float] | None = None) -> bool:
    """`commit` inside the caller's transaction; the steps that led to the outcome are its first events.
    `task` (業務名) and `minutes` (before, review) replace the job's and the bot's when given."""
    before, review = minutes or minutes_for(job, bot_cls)
    after = {Status.REGISTERED: 0.0, Status.REVIEW: review}.get(status, before)
    bot_name = bot_cls.name if bot_cls else ""
    task = task or cast(str, job.task or (getattr(bot_cls, "task", None) if bot_cls else None) or getattr(
        bot_registry.get(job.bots[0]), "task", job.name))
    for name, detail, ts in steps:
        store.add_event(name, rec.doc_id, job.name, detail, ctx.run_id, conn=conn, ts=ts)
    inserted = insert_document(conn, {
        "doc_id": rec.doc_id, "job": job.name, "status": status.value, "bot": bot_name,
        "original_name": original_name, "stored_path": stored_path, "received_at": received_at,
        "finished_at": finished, "reason": reason, "run_id": ctx.run_id, "record": record_to_dict(rec)})
    if inserted:
        timelog.record(conn, TaskRecord(
            doc_id=rec.doc_id, job=job.name, step="ledger", department=job.department or "(未設定)",
            task=task, bot=bot_name, status=status.value, started=started, finished=finished,
            minutes_before=before, minutes_after=after))
        queue_writes(conn, rec.doc_id, job.name, job.sinks, record_to_dict(rec), finished)
        event = {Status.REGISTERED: "registered", Status.REVIEW: "review", Status.ERROR: "error"}[status]
        store.add_event(event, rec.doc_id, job.name, redact(reason), ctx.run_id, conn=conn)
    return inserted
