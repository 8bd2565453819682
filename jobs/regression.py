"""What clerks confirmed, as a bot's expected values: the source `kakari bots test --accept` writes a
town's own regression set from (registered under the entry-point group ``kakari.confirmed``, so
bots/ reads it without importing the job layer).

A document is matched by its 文書ID (the sha256 of its bytes, as the runner keys it), so a copy of
an archived file anywhere is found; only records a person confirmed on the review screen (確認済)
count, never what the bot registered on its own.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jobs.store import Store, documents, record_from_dict
from kakari.config import KakariConfig
from kakari.model import Status


def confirmed_fields(config: KakariConfig, bot: str, doc_ids: set[str] | None = None,
                     job: str | None = None) -> list[dict[str, Any]]:
    """Confirmed records of `bot` (only these 文書ID, or only this job, when given), newest first:
    {"doc_id", "job", "original_name", "stored_path", "reviewed_by", "fields": {name: value}}."""
    store = Store(config.database_url)
    query = select(documents).where(documents.c.status == Status.CONFIRMED.value, documents.c.bot == bot)
    if job is not None:
        query = query.where(documents.c.job == job)
    if doc_ids is not None:
        query = query.where(documents.c.doc_id.in_(sorted(doc_ids)))
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(documents.c.finished_at.desc(), documents.c.id.desc())).mappings().all()
    out = []
    for row in rows:
        if not row["record"]:
            continue
        rec = record_from_dict(row["record"])
        out.append({"doc_id": row["doc_id"], "job": row["job"], "original_name": row["original_name"] or "",
                    "stored_path": row["stored_path"] or "", "reviewed_by": rec.meta.get("reviewed_by", ""),
                    "fields": rec.row()})
    return out
