"""Scale-out on Celery: `executor = "celery"` makes `kakari run`/`watch` claim documents and enqueue
them here; `kakari worker` processes (jobs/celery_app.py) run `jobs.runner.process` on them, the same
code as in-process. Tasks are sent by name, so enqueuing never imports the pipeline it feeds.

Exactly once does not depend on Celery: a document's outcome is committed under its doc_id before
its file moves, and ledger rows are written from the outbox keyed by doc_id. Celery only has to
deliver at least once: tasks are acknowledged late and re-queued when a worker dies
(`task_acks_late`, `task_reject_on_worker_lost`, Redis visibility timeout), and a redelivered task
for a finished document returns at once.
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from celery import Celery

from kakari.config import JobConfig, RunContext
from kakari.model import DocRef

PROCESS_DOCUMENT = "kakari.process_document"
app = Celery("kakari")
app.conf.update(
    broker_url=os.environ.get("KAKARI_BROKER_URL", "redis://127.0.0.1:6379/0"),
    task_serializer="json", accept_content=["json"], result_backend=None, task_ignore_result=True,
    task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
    # a task not acknowledged within this time is given to another worker (its worker died)
    # and the sweep that finds such tasks runs every 5 s (kombu's default, 10 s × throttle 10, took
    # 100 s to give a killed worker's document to the other one)
    broker_transport_options={"visibility_timeout": int(os.environ.get("KAKARI_CELERY_VISIBILITY", "600")),
                              "unacked_restore_interval": 5, "unacked_restore_throttle": 1},
)


def enqueue(job: JobConfig, refs: Iterable[DocRef], ctx: RunContext) -> int:
    """Hand claimed documents to the workers; returns how many."""
    app.conf.broker_url = ctx.config.broker
    n = 0
    for ref in refs:
        app.send_task(PROCESS_DOCUMENT, args=(
            str(ctx.config.path) if ctx.config.path else None, str(ctx.home), job.name, str(ref.path),
            ref.original_name, ref.doc_id, ref.received_at.isoformat(), ctx.run_id))
        n += 1
    return n
