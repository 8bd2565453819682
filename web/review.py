"""What the review screen does, without HTTP: the queue a clerk may see, and confirming or rejecting
a 要確認 document (recorded by jobs.decisions; the ledger row is rewritten by the outbox)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bots import registry
from bots.base import parse_checked
from jobs.decisions import AlreadyDecided, record_decision
from jobs.store import Store, documents, record_from_dict
from kakari.config import KakariConfig
from kakari.model import Record, Status
from web.accounts import User

IDLE_CAP_SECONDS = 120.0  # a pause longer than this between key presses counts as this long (set in the page)
MAX_MINUTES = 60.0  # one document's review never counts more than this


def active_seconds(value: Any) -> float:
    """The page's measured active seconds; anything but a finite number (the page sends nothing
    else) raises ValueError with the clerk's message."""
    try:
        seconds = float(str(value if value not in (None, "") else 0))
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise ValueError("作業時間 (active_seconds) の値が正しくありません。画面を開き直してください")
    return seconds


class Forbidden(Exception):
    pass


class Gone(Exception):
    """Someone else decided this document already."""


@dataclass
class Item:
    job: str
    doc_id: str
    original_name: str
    department: str
    received_at: Any
    problems: int


def department_of(config: KakariConfig, job: str) -> str | None:
    return config.jobs[job].department if job in config.jobs else None


def queue(config: KakariConfig, user: User) -> list[Item]:
    """要確認 documents of the jobs the user may see, oldest first."""
    store = Store(config.database_url)
    with store.engine.connect() as conn:
        rows = conn.execute(select(documents).where(documents.c.status == Status.REVIEW.value)
                            .order_by(documents.c.received_at, documents.c.id)).mappings().all()
    out = []
    for r in rows:
        dept = department_of(config, r["job"])
        if not user.may_see(dept):
            continue
        problems = sum(len(f.get("problems") or []) for f in (r["record"] or {}).get("fields", []))
        out.append(Item(r["job"], r["doc_id"], r["original_name"] or "", dept or "", r["received_at"], problems))
    return out


def load(config: KakariConfig, user: User, job: str, doc_id: str) -> tuple[dict[str, Any], Record]:
    store = Store(config.database_url)
    row = store.document(doc_id, job)
    if row is None:
        raise Gone("文書が見つかりません")
    if not user.may_see(department_of(config, job)):
        raise Forbidden("この文書を見る権限がありません")
    return row, record_from_dict(row["record"])


def ordered_fields(rec: Record) -> list[Any]:
    """Fields that need attention first (problems, then low confidence), then the rest in form order."""
    fields = list(rec.fields.values())
    return sorted(fields, key=lambda f: (0 if f.problems else 1 if rec.doubts(f) else 2,
                                         fields.index(f)))


def apply_corrections(rec: Record, values: dict[str, str]) -> Record:
    """The clerk's values, parsed and checked as the bot would; problems left are shown again."""
    bot_cls = registry.get(rec.bot)
    template = getattr(bot_cls, "template", None)
    for name, field in rec.fields.items():
        if name not in values:
            continue
        raw = values[name].strip()
        field.problems = []
        field.raw = raw
        if template is not None and name in template.fields:
            field.value, field.problems = parse_checked(raw, template.fields[name])
        else:
            field.value = raw or None
        field.confidence = 1.0  # a person has read it
    return bot_cls().validate(rec) if template is not None else rec


def _minutes(active_seconds: float) -> float:
    return round(min(MAX_MINUTES, max(0.0, active_seconds) / 60.0), 2)


def decide(config: KakariConfig, user: User, job: str, doc_id: str, rec: Record, status: Status,
           active_seconds: float, reason: str = "", note: str = "") -> Path:
    """Record a person's decision (確認済 or エラー); the ledger row is rewritten by the outbox flusher.
    `note` (what a screen's decision consisted of: the boxes of a masking) goes into its event."""
    load(config, user, job, doc_id)  # 403 for another section, Gone if deleted
    try:
        return record_decision(config, job, doc_id, rec, status, user.username, _minutes(active_seconds), reason,
                               note=note)
    except AlreadyDecided as e:
        raise Gone(str(e)) from None
