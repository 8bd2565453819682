"""Durable per-record state of web entry: pending → submitted → confirmed (or rejected).

One row per (doc_id, system), in the same database as the rest of kakari but on its own MetaData,
so connectors never import jobs/. The row is written *before* each irreversible step:
``submitted`` is committed before the final 登録 click, so a run killed at any point resumes by
searching the system for the record's key instead of typing it a second time.

A lease (owner + expiry) keeps two processes from entering the same record at once; a lease held
by a dead process on this machine is taken over at once rather than waiting for it to expire.
"""
from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

PENDING, SUBMITTED, CONFIRMED, REJECTED = "pending", "submitted", "confirmed", "rejected"
STATES = (PENDING, SUBMITTED, CONFIRMED, REJECTED)

metadata = MetaData()

web_submissions = Table(
    "web_submissions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc_id", String(64), nullable=False),
    Column("system", String(100), nullable=False),
    Column("job", String(100), nullable=False),
    Column("key", String(64), nullable=False),  # what the system stores (外部連携番号) and is searched by
    Column("state", String(20), nullable=False),
    Column("confirmation", String(100)),  # the system's 受付番号
    Column("via", String(20)),  # entry | search | duplicate | manual: how the confirmation was obtained
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),  # Japanese, never personal values
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("started", DateTime(timezone=True)),  # robot time of the successful entry
    Column("submitted_at", DateTime(timezone=True)),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("synced_at", DateTime(timezone=True)),  # time log + ledger write-back done
    Column("lease_owner", String(200)),
    Column("lease_until", DateTime(timezone=True)),
    UniqueConstraint("doc_id", "system", name="uq_web_submissions_doc_system"),
    UniqueConstraint("system", "key", name="uq_web_submissions_system_key"),
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def aware_utc(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt


@dataclass(frozen=True)
class Submission:
    doc_id: str
    system: str
    job: str
    key: str
    state: str
    confirmation: str | None = None
    via: str | None = None
    attempts: int = 0
    last_error: str | None = None
    started: datetime | None = None
    submitted_at: datetime | None = None
    confirmed_at: datetime | None = None
    synced_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Any) -> Submission:
        names = cls.__dataclass_fields__
        data = {k: row[k] for k in names}
        for k in ("started", "submitted_at", "confirmed_at", "synced_at"):
            data[k] = aware_utc(data[k])
        return cls(**data)


def new_owner() -> str:
    """host:pid:token — the pid lets a later run on the same host see that the holder is gone."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine: trust the expiry time
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WebState:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # its schema (web_submissions) is made by the database's migrations

    # -- reading ---------------------------------------------------------------------------------
    def get(self, doc_id: str, system: str) -> Submission | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(web_submissions).where(
                web_submissions.c.doc_id == doc_id, web_submissions.c.system == system)).mappings().first()
        return Submission.from_row(row) if row else None

    def all(self, system: str | None = None) -> list[Submission]:
        q = select(web_submissions).order_by(web_submissions.c.id)
        if system:
            q = q.where(web_submissions.c.system == system)
        with self.engine.connect() as conn:
            return [Submission.from_row(r) for r in conn.execute(q).mappings()]

    def counts(self, system: str) -> dict[str, int]:
        q = (select(web_submissions.c.state, func.count()).where(web_submissions.c.system == system)
             .group_by(web_submissions.c.state))
        with self.engine.connect() as conn:
            found = dict(conn.execute(q).all())
        return {s: int(found.get(s, 0)) for s in STATES}

    def rejected(self, system: str, job: str | None = None) -> list[Submission]:
        """Records the system refused, waiting for a person (oldest first)."""
        q = select(web_submissions).where(web_submissions.c.system == system,
                                          web_submissions.c.state == REJECTED).order_by(web_submissions.c.id)
        if job:
            q = q.where(web_submissions.c.job == job)
        with self.engine.connect() as conn:
            return [Submission.from_row(r) for r in conn.execute(q).mappings()]

    def unsynced(self, system: str, job: str | None = None) -> list[Submission]:
        q = select(web_submissions).where(web_submissions.c.system == system,
                                          web_submissions.c.state == CONFIRMED,
                                          web_submissions.c.synced_at.is_(None)).order_by(web_submissions.c.id)
        if job:
            q = q.where(web_submissions.c.job == job)
        with self.engine.connect() as conn:
            return [Submission.from_row(r) for r in conn.execute(q).mappings()]

    # -- writing ---------------------------------------------------------------------------------
    def ensure(self, doc_id: str, system: str, job: str, key: str) -> Submission:
        """The record's row, created as pending on first sight."""
        found = self.get(doc_id, system)
        if found:
            return found
        t = _now()
        try:
            with self.engine.begin() as conn:
                conn.execute(web_submissions.insert(), {
                    "doc_id": doc_id, "system": system, "job": job, "key": key, "state": PENDING,
                    "attempts": 0, "created": t, "updated": t})
        except IntegrityError:
            pass  # another worker created it first, or the key is taken (raised below)
        found = self.get(doc_id, system)
        if found is None:
            raise ValueError(f"外部連携番号 {key} は別の文書に使われています")
        return found

    def acquire(self, doc_id: str, system: str, owner: str, seconds: float = 600.0) -> bool:
        """Take the lease on one record; False while another live worker holds it."""
        t = _now()
        cond = [web_submissions.c.doc_id == doc_id, web_submissions.c.system == system]
        with self.engine.begin() as conn:
            row = conn.execute(select(web_submissions.c.lease_owner, web_submissions.c.lease_until)
                               .where(*cond)).first()
            if row is None:
                return False
            holder, until = row[0], aware_utc(row[1])
            if holder and holder != owner and until and until > t and _owner_alive(holder):
                return False
            res = conn.execute(update(web_submissions).where(
                *cond, or_(web_submissions.c.lease_owner.is_(None), web_submissions.c.lease_owner == holder))
                .values(lease_owner=owner, lease_until=t + timedelta(seconds=seconds)))
            return bool(res.rowcount)

    def release(self, doc_id: str, system: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(web_submissions).where(
                web_submissions.c.doc_id == doc_id, web_submissions.c.system == system,
                web_submissions.c.lease_owner == owner).values(lease_owner=None, lease_until=None))

    def _set(self, doc_id: str, system: str, only_from: tuple[str, ...], **values: Any) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(update(web_submissions).where(
                web_submissions.c.doc_id == doc_id, web_submissions.c.system == system,
                web_submissions.c.state.in_(only_from)).values(updated=_now(), **values))
            return bool(res.rowcount)

    def mark_submitted(self, doc_id: str, system: str, started: datetime) -> bool:
        """Committed just before the irreversible click: from now on, search before any retry."""
        return self._set(doc_id, system, (PENDING, SUBMITTED), state=SUBMITTED, submitted_at=_now(),
                         started=started)

    def mark_confirmed(self, doc_id: str, system: str, confirmation: str, via: str,
                       started: datetime | None = None) -> bool:
        values: dict[str, Any] = {"state": CONFIRMED, "confirmation": confirmation, "via": via,
                                  "confirmed_at": _now(), "last_error": None}
        if started is not None:
            values["started"] = started
        return self._set(doc_id, system, (PENDING, SUBMITTED, REJECTED), **values)

    def mark_rejected(self, doc_id: str, system: str, reason: str) -> bool:
        return self._set(doc_id, system, (PENDING, SUBMITTED), state=REJECTED, last_error=reason)

    def note_error(self, doc_id: str, system: str, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(web_submissions).where(
                web_submissions.c.doc_id == doc_id, web_submissions.c.system == system)
                .values(attempts=web_submissions.c.attempts + 1, last_error=error, updated=_now()))

    def reset(self, doc_id: str, system: str) -> bool:
        """A person fixed a rejected record (or checked the system by hand): enter it again."""
        return self._set(doc_id, system, (REJECTED,), state=PENDING, last_error=None)

    def mark_synced(self, doc_ids: list[str], system: str) -> None:
        if doc_ids:
            with self.engine.begin() as conn:
                conn.execute(update(web_submissions).where(
                    web_submissions.c.system == system, web_submissions.c.doc_id.in_(doc_ids))
                    .values(synced_at=_now()))
