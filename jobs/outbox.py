"""Builds a job's sinks and flushes the outbox (pending_writes) into them in batches; `Flusher` does
it in the background for processes that only decide (the web server)."""
from __future__ import annotations

import secrets
import threading
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from connectors.base import Refusal, Sink
from jobs.ledger import build_ledger
from jobs.store import Store, now, record_from_dict
from kakari.config import JobConfig, KakariConfig, RunContext
from kakari.errors import ConfigError, KakariError, LedgerRefused, TransientError
from kakari.log import logger, redact

BACKOFF_SECONDS = (5, 15, 60, 300, 900)  # then every 15 minutes: a locked ledger is never given up on


def build_sink(name: str, job: JobConfig, ctx: RunContext) -> Sink:
    """The sink a job's `sinks` entry names: "excel" (the ledger) or "web:<system>"."""
    if name == "excel":
        return build_ledger(job, ctx)
    if name.startswith("web:"):
        from jobs.websteps import (
            build_web_sink,  # Playwright is imported only by jobs that type into a system
        )

        return build_web_sink(name, job, ctx)
    raise ConfigError(f"ジョブ「{job.name}」の出力先「{name}」は未対応です (使用可能: excel, web:<システム名>)")


@contextmanager
def sinks_read_ahead(job: JobConfig, ctx: RunContext) -> Iterator[None]:
    """The job's sinks prepare their next write while a run reads its documents (Sink.read_ahead)."""
    with ExitStack() as stack:
        for name in job.sinks:
            try:
                sink = build_sink(name, job, ctx)
            except KakariError:  # the flush builds it again and reports what is wrong
                continue
            stack.enter_context(sink.read_ahead())
        yield


@dataclass
class FlushResult:
    written: int = 0
    skipped: int = 0
    parked: int = 0
    errors: list[str] = field(default_factory=list)
    rejected: list[Refusal] = field(default_factory=list)  # refused by a web system: wait for a person


def flush_pending(job: JobConfig, ctx: RunContext, store: Store, force: bool = False) -> FlushResult:
    """Write every due pending row of the job into its sinks, one save per sink."""
    result = FlushResult()
    for sink_name in job.sinks:
        rows = store.pending(job.name, sink_name, due=None if force else now())
        if not rows:
            continue
        sink = build_sink(sink_name, job, ctx)
        records = [record_from_dict(r["payload"]) for r in rows]
        try:
            sink.open(ctx)
            res = sink.write_many(records)
            sink.close()
        except (TransientError, LedgerRefused) as e:
            # locked: retried with backoff; refused (a workbook we must not rewrite): parked until fixed
            attempts = max(r["attempts"] for r in rows)
            delay = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS) - 1)]
            store.mark_failed([r["id"] for r in rows], e.message, now() + timedelta(seconds=delay))
            for r in rows:
                store.add_event("parked", r["doc_id"], job.name, f"{sink_name}: {e.message}", ctx.run_id)
            logger.warning(f"{job.name}: {e.message} — {len(rows)}件を保留し、{delay}秒後に再試行します")
            result.parked += len(rows)
            result.errors.append(e.message)
            continue
        store.mark_written(r["id"] for r in rows)
        with store.begin() as conn:
            for r in rows:
                what = "written" if r["doc_id"] in res.written else "already_written"
                store.add_event(what, r["doc_id"], job.name, sink_name, ctx.run_id, conn=conn)
        result.written += len(res.written)
        result.skipped += len(res.skipped)
        result.rejected += res.rejected
    return result


class Flusher:
    """A background thread that writes what a job's outbox holds when it is due: the web server
    runs one, so a clerk's decision reaches the ledger without the request waiting for it."""

    def __init__(self, config: KakariConfig, interval: float = 5.0) -> None:
        self.config, self.interval = config, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kakari-outbox", daemon=True)

    def start(self) -> Flusher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def flush_once(self) -> int:
        """Flush every job with rows waiting; returns rows written."""
        store = Store(self.config.database_url)
        written = 0
        for job in self.config.jobs.values():
            if store.pending_count(job.name):
                try:
                    written += flush_pending(job, RunContext(self.config), store).written
                except Exception:  # noqa: BLE001 - a sink's bug must not stop later flushes; logged with its id
                    incident = secrets.token_hex(4)
                    logger.error(redact(f"{job.name}: 台帳への書き込みで内部エラー {incident}: {traceback.format_exc()}"))
        return written

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush_once()
