"""`kakari jobs retry RUN_ID`: send the documents that failed in a run through the job again
(after a template fix, a missing package installed, …); the others are left alone.

Each failed file goes back from errors/ to the inbox under its first name; its documents row and
time-log row (and its done ledger write) are removed in one transaction so the new attempt is counted once, not twice; its
ledger row (状態 エラー) is replaced in place by the new outcome (ExcelLedger treats an エラー row
as replaceable), so the ledger still has one row per document.
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import select

from jobs import timelog
from jobs.store import Store, documents, forget_document, runs
from kakari.config import KakariConfig
from kakari.errors import ConfigError


def requeue_failed(config: KakariConfig, run_id: str) -> tuple[str, list[str]]:
    """Move the run's failed documents back to their inbox; (job name, original names moved)."""
    store = Store(config.database_url)
    with store.engine.connect() as conn:
        run = conn.execute(select(runs).where(runs.c.run_id == run_id)).mappings().first()
        if run is None:
            raise ConfigError(f"実行 {run_id} は見つかりません (kakari jobs history で確認してください)")
        failed = conn.execute(select(documents).where(documents.c.run_id == run_id,
                                                      documents.c.status == "エラー")).mappings().all()
    job = config.job(run["job"])
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True, exist_ok=True)
    moved = []
    for doc in failed:
        stored = Path(doc["stored_path"] or "")
        if not stored.is_file():
            continue  # already retried, or moved away by a person: nothing to send again
        target = inbox / (doc["original_name"] or stored.name)
        if target.exists():
            target = inbox / f"再実行_{stored.name}"
        with store.begin() as conn:  # forget the failure first: a crash here leaves the file to retry by hand
            timelog.forget(conn, doc["doc_id"], job.name)
            forget_document(conn, doc["id"], doc["doc_id"], job.name)
            store.add_event("retry", doc["doc_id"], job.name, f"実行 {run_id} の失敗を再実行します", run_id, conn=conn)
        os.rename(stored, target)
        stored.with_name(stored.name + ".error.txt").unlink(missing_ok=True)
        moved.append(target.name)
    return job.name, moved
