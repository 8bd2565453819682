"""The Celery worker's tasks (`kakari worker` loads this module): one claimed document, processed by
the same `jobs.runner.process` as in-process runs."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jobs.queue import PROCESS_DOCUMENT, app
from kakari.config import KakariConfig, RunContext, load_config
from kakari.model import DocRef


@lru_cache(maxsize=8)
def _config(config_path: str | None, home: str) -> KakariConfig:
    return load_config(Path(config_path) if config_path else None, Path(home))


@app.task(name=PROCESS_DOCUMENT)
def process_document(config_path: str | None, home: str, job_name: str, path: str, original_name: str,
                     doc_id: str, received_at: str, run_id: str | None = None) -> str:
    from jobs.outbox import flush_pending
    from jobs.runner import process
    from jobs.store import Store

    config = _config(config_path, home)
    job = config.job(job_name)
    ctx = RunContext(config, run_id)
    ref = DocRef(doc_id, Path(path), original_name, datetime.fromisoformat(received_at))
    outcome = process(job, ref, ctx)
    flush_pending(job, ctx, Store(config.database_url))  # locked by another worker: parked, retried later
    return outcome.status.value
