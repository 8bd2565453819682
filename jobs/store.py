"""The one database (SQLite by default, PostgreSQL by URL): documents, events, time log, runs and
the durable outbox of pending ledger writes. Append-only where it can be; keyed by doc_id so a
replay after a crash changes nothing. The tables here and in their owners' modules are the models;
the schema itself is made and changed by the migrations in jobs/migrations (jobs/migrate.py)."""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from jobs.migrate import ensure_current
from kakari.files import PRIVATE_FILE, make_private_dir
from kakari.log import clean
from kakari.model import Box, Field, Record, Status

metadata = MetaData()

documents = Table(
    "documents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc_id", String(64), nullable=False),
    Column("job", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("bot", String(100)),
    Column("original_name", Text),
    Column("stored_path", Text),  # where the file ends up (archive/review/errors)
    Column("received_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("reason", Text),
    Column("run_id", String(40)),
    Column("record", JSON),  # the extracted record, for the review screen and re-sends
    UniqueConstraint("doc_id", "job", name="uq_documents_doc_job"),
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("doc_id", String(64)),
    Column("job", String(100)),
    Column("event", String(40), nullable=False),
    Column("detail", Text),
    Column("run_id", String(40)),
)


runs = Table(
    "runs", metadata,
    Column("run_id", String(40), primary_key=True),
    Column("job", String(100), nullable=False),
    Column("trigger", String(40)),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
    Column("status", String(20), nullable=False),  # running, ok, failed, partial
    Column("counts", JSON),
    Column("robot_seconds", Float),
    Column("stats", JSON),
    Column("log_excerpt", Text),
)

pending_writes = Table(
    "pending_writes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc_id", String(64), nullable=False),
    Column("job", String(100), nullable=False),
    Column("sink", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("done_at", DateTime(timezone=True)),
    UniqueConstraint("doc_id", "job", "sink", name="uq_pending_doc_job_sink"),
)



def now() -> datetime:
    return datetime.now(timezone.utc)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per URL per process."""
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        make_private_dir(db.parent)
        if not db.exists():  # password hashes and every record: the service account's alone (SQLite
            os.close(os.open(db, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))  # gives -wal/-shm the same mode)
        eng = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:  # WAL: readers never block the writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # a power cut must not lose a committed document
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()
    else:
        eng = create_engine(url, pool_pre_ping=True)
    return eng


def dispose(url: str) -> None:
    """Close this process's pooled connections to `url` (before a restore replaces the database)."""
    engine_for(url).dispose()


def insert_ignore(conn: Connection, table: Table, rows: dict[str, Any] | list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL; returns rows inserted (counted from
    RETURNING: a driver's rowcount for such a statement may be -1)."""
    if isinstance(rows, list) and not rows:
        return 0
    statement: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        statement = postgresql_insert(table).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).on_conflict_do_nothing()
    statement = statement.returning(*table.primary_key.columns)
    return len(conn.execute(statement, rows).all())


# -- records as JSON (the outbox payload and the review screen's input) ---------------------------
def record_to_dict(rec: Record) -> dict[str, Any]:
    return {
        "doc_id": rec.doc_id,
        "bot": rec.bot,
        "min_confidence": rec.min_confidence,
        "meta": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in rec.meta.items()},
        "fields": [
            {
                "name": f.name, "label": f.label, "value": f.value, "raw": f.raw,
                "confidence": f.confidence, "problems": list(f.problems), "personal": f.personal,
                "box": [f.box.page, f.box.x, f.box.y, f.box.w, f.box.h] if f.box else None,
            }
            for f in rec.fields.values()
        ],
    }


def record_from_dict(data: dict[str, Any]) -> Record:
    meta = dict(data.get("meta") or {})
    if isinstance(meta.get("received_at"), str):
        meta["received_at"] = datetime.fromisoformat(meta["received_at"])
    fields = {}
    for f in data["fields"]:
        box = Box(*f["box"]) if f.get("box") else None
        fields[f["name"]] = Field(
            name=f["name"], label=f["label"], value=f["value"], raw=f.get("raw", ""),
            confidence=f.get("confidence", 1.0), problems=list(f.get("problems", [])), box=box,
            personal=f.get("personal", False),
        )
    return Record(doc_id=data["doc_id"], bot=data["bot"], fields=fields,
                  min_confidence=data.get("min_confidence", 0.0), meta=meta)


# -- writes of the pipeline's tables, each inside the caller's transaction ---------------------------
def insert_document(conn: Connection, row: dict[str, Any]) -> bool:
    """The documents row of a first outcome; False if (doc_id, job) was committed before."""
    return insert_ignore(conn, documents, row) == 1


def queue_writes(conn: Connection, doc_id: str, job: str, sinks: Iterable[str], payload: dict[str, Any],
                 created: datetime) -> None:
    """One outbox row per sink, written later by jobs.outbox.flush_pending."""
    insert_ignore(conn, pending_writes, [{"doc_id": doc_id, "job": job, "sink": s, "payload": payload,
                                          "created": created, "attempts": 0} for s in sinks])


def decide_document(conn: Connection, doc_id: str, job: str, status: str, payload: dict[str, Any],
                    stored_path: str, reason: str) -> bool:
    """A person's decision on a 要確認 document, and its outbox rows queued again with the decided
    record; False if someone decided it first (the row is no longer 要確認)."""
    done = conn.execute(update(documents).where(documents.c.doc_id == doc_id, documents.c.job == job,
                                                documents.c.status == Status.REVIEW.value)
                        .values(status=status, record=payload, stored_path=stored_path, reason=reason))
    if done.rowcount != 1:
        return False
    conn.execute(update(pending_writes).where(pending_writes.c.doc_id == doc_id, pending_writes.c.job == job)
                 .values(payload=payload, done_at=None, attempts=0, next_try=None, last_error=None))
    return True


def forget_document(conn: Connection, row_id: int, doc_id: str, job: str) -> None:
    """Drop a failed document's row and its outbox rows so a retry counts once (`jobs retry`)."""
    conn.execute(delete(documents).where(documents.c.id == row_id))
    conn.execute(delete(pending_writes).where(pending_writes.c.doc_id == doc_id, pending_writes.c.job == job))


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = engine_for(url)
        ensure_current(self.engine)  # the schema is Alembic's (jobs/migrations): upgraded on first use

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- documents ---------------------------------------------------------------------------
    def document(self, doc_id: str, job: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(documents).where(documents.c.doc_id == doc_id, documents.c.job == job)
            ).mappings().first()
        return dict(row) if row else None

    def documents_for(self, job: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        q = select(documents).order_by(documents.c.id)
        if job:
            q = q.where(documents.c.job == job)
        if status:
            q = q.where(documents.c.status == status)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def committed(self, doc_ids: Iterable[str], job: str) -> dict[str, dict[str, Any]]:
        """doc_id → (status, bot, reason, stored_path) of those of `doc_ids` the job has committed."""
        ids = list(doc_ids)
        if not ids:
            return {}
        cols = (documents.c.doc_id, documents.c.status, documents.c.bot, documents.c.reason, documents.c.stored_path)
        with self.engine.connect() as conn:
            rows = conn.execute(select(*cols).where(documents.c.job == job, documents.c.doc_id.in_(ids))).mappings()
            return {r["doc_id"]: dict(r) for r in rows}

    def set_stored_path(self, doc_id: str, job: str, path: str) -> None:
        with self.begin() as conn:
            conn.execute(update(documents).where(documents.c.doc_id == doc_id, documents.c.job == job)
                         .values(stored_path=path))

    # -- events (audit trail) -------------------------------------------------------------------
    def add_event(self, event_name: str, doc_id: str | None, job: str | None, detail: str = "",
                  run_id: str | None = None, conn: Connection | None = None, ts: datetime | None = None) -> None:
        """An audit event; its detail is stored masked (kakari.log.clean), like a log line."""
        row = {"ts": ts or now(), "doc_id": doc_id, "job": job, "event": event_name, "detail": clean(detail),
               "run_id": run_id}
        if conn is not None:
            conn.execute(events.insert(), row)
        else:
            with self.begin() as c:
                c.execute(events.insert(), row)

    def history(self, doc_id_prefix: str | None = None, original_name: str | None = None) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            ids: set[str] = set()
            if doc_id_prefix:
                q = select(events.c.doc_id).where(events.c.doc_id.like(f"{doc_id_prefix}%")).distinct()
                ids |= {r[0] for r in conn.execute(q)}
            if original_name:
                q = select(documents.c.doc_id).where(documents.c.original_name == original_name)
                ids |= {r[0] for r in conn.execute(q)}
                q = select(events.c.doc_id).where(events.c.detail.like(f"%{original_name}%")).distinct()
                ids |= {r[0] for r in conn.execute(q) if r[0]}
            if not ids:
                return []
            q = select(events).where(events.c.doc_id.in_(ids)).order_by(events.c.ts, events.c.id)
            return [dict(r) for r in conn.execute(q).mappings()]

    # -- outbox ----------------------------------------------------------------------------------
    def pending(self, job: str, sink: str, due: datetime | None = None) -> list[dict[str, Any]]:
        q = (select(pending_writes)
             .where(pending_writes.c.job == job, pending_writes.c.sink == sink, pending_writes.c.done_at.is_(None))
             .order_by(pending_writes.c.id))
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(q).mappings()]
        if due is not None:
            rows = [r for r in rows if r["next_try"] is None or aware_utc(r["next_try"]) <= due]
        return rows

    def pending_count(self, job: str | None = None) -> int:
        q = select(pending_writes.c.id).where(pending_writes.c.done_at.is_(None))
        if job:
            q = q.where(pending_writes.c.job == job)
        with self.engine.connect() as conn:
            return len(conn.execute(q).all())

    def mark_written(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        if ids:
            with self.begin() as conn:
                conn.execute(update(pending_writes).where(pending_writes.c.id.in_(ids)).values(done_at=now()))

    def mark_failed(self, ids: Iterable[int], error: str, next_try: datetime) -> None:
        ids = list(ids)
        if ids:
            with self.begin() as conn:
                conn.execute(update(pending_writes).where(pending_writes.c.id.in_(ids))
                             .values(attempts=pending_writes.c.attempts + 1, last_error=error, next_try=next_try))

    # -- runs --------------------------------------------------------------------------------------
    def start_run(self, run_id: str, job: str, trigger: str) -> None:
        with self.begin() as conn:
            conn.execute(runs.insert(), {"run_id": run_id, "job": job, "trigger": trigger, "started": now(),
                                         "status": "running", "counts": {}})

    def finish_run(self, run_id: str, status: str, counts: dict[str, int], robot_seconds: float,
                   stats: dict[str, Any], log_excerpt: str = "") -> None:
        with self.begin() as conn:
            conn.execute(update(runs).where(runs.c.run_id == run_id).values(
                finished=now(), status=status, counts=counts, robot_seconds=robot_seconds,
                stats=json.loads(json.dumps(stats, default=str)),
                log_excerpt="\n".join(clean(line) for line in log_excerpt.splitlines())[-4000:]))

    def runs_for(self, job: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        q = select(runs).order_by(runs.c.started.desc()).limit(limit)
        if job:
            q = q.where(runs.c.job == job)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]


def aware_utc(dt: datetime) -> datetime:
    """A database datetime as aware UTC (SQLite keeps no zone; we always store UTC)."""
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
