"""`kakari watch`: live intake from the jobs' inboxes.

watchdog events only wake the loop; what is processed is always decided by a scan of the folder
(FolderSource.scan: complete, stable, readable files), so a missed event costs at most one rescan
interval and a burst of events costs one scan. Each non-empty pass is one recorded run
(trigger "watch") through the same `run_job` as `kakari run`, so claiming, crash recovery and
exactly-once ledger writes are the same code. Rows parked because the ledger was open are retried
on every rescan until they land.
"""
from __future__ import annotations

import secrets
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from watchdog.events import (
    EVENT_TYPE_CLOSED_NO_WRITE,
    EVENT_TYPE_OPENED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from jobs.outbox import flush_pending
from jobs.runner import RunSummary, run_job, source_for
from jobs.store import Store
from kakari.config import JobConfig, KakariConfig, RunContext
from kakari.errors import ConfigError, MissingDependency
from kakari.log import logger, redact

# our own scan opens each candidate to see that it is readable: waking on that would rescan forever
_READ_ONLY_EVENTS = frozenset({EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE})
REPEAT_NOTE_SECONDS = 600.0  # the same internal error again: one short line at most this often


class _Wake(FileSystemEventHandler):
    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _READ_ONLY_EVENTS:
            self.event.set()


@dataclass
class Watcher:
    config: KakariConfig
    jobs: list[str]
    rescan_seconds: float = 10.0  # safety net for missed events (network shares send none)
    min_age: float = 1.0  # a file must hold still this long before it is taken
    on_run: Callable[[RunSummary], None] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        unknown = [j for j in self.jobs if j not in self.config.jobs]
        if unknown:
            raise ConfigError(f"ジョブ「{'・'.join(unknown)}」は設定にありません (kakari jobs list)")
        self._jobs: list[JobConfig] = [self.config.job(j) for j in self.jobs]
        self._sources = {j.name: source_for(j, self.config.home, self.min_age) for j in self._jobs}
        self._store = Store(self.config.database_url)
        self._failing: dict[str, tuple[str, float, int]] = {}  # job → (traceback, last told, times since)

    def request_stop(self) -> None:
        """Finish the document in hand, leave the rest in the inbox, return from run()."""
        self.stop.set()
        self._wake.set()

    def run(self) -> None:
        """Until `stop` is set: recover, then process whatever becomes ready, job by job."""
        observer = Observer()
        for job in self._jobs:
            observer.schedule(_Wake(self._wake), str(self._sources[job.name].inbox), recursive=False)
        observer.start()
        try:
            first = True
            while not self.stop.is_set():
                self._wake.clear()
                for job in self._jobs:
                    if self.stop.is_set():
                        break
                    self._safe_pass(job, recover=first)
                first = False
                due = [s.next_ready for s in self._sources.values() if s.next_ready is not None]
                # a file still being written is looked at again as soon as it may be ready, not after the rescan
                self._wake.wait(max(0.05, min(due)) if due else self.rescan_seconds)
                if self._wake.is_set():
                    time.sleep(0.05)  # let a burst of events (a copied batch) settle into one scan
        finally:
            observer.stop()
            observer.join(timeout=5)

    def _safe_pass(self, job: JobConfig, recover: bool) -> None:
        """One pass; whatever goes wrong is logged and the watching goes on (files stay where they are)."""
        try:
            self._pass(job, recover)
            self._failing.pop(job.name, None)
        except MissingDependency as e:  # e.g. a scan arrived and Tesseract is missing: it waits in the inbox
            self._tell(job, f"{e.message} 対処: {e.fix}", f"{job.name}: {e.message} 対処: {e.fix}")
        except Exception:  # noqa: BLE001 - a bug or the database: never let the watcher die
            incident = secrets.token_hex(4)
            trace = traceback.format_exc()
            self._tell(job, trace, redact(f"{job.name}: 監視中の内部エラー {incident}: {trace}"))

    def _tell(self, job: JobConfig, what: str, message: str) -> None:
        """Log a failure in full the first time; the same failure again only as a short line now and then,
        so a fault that repeats on every pass cannot fill the disk."""
        last = self._failing.get(job.name)
        now = time.monotonic()
        if last is None or last[0] != what:
            logger.error(message)
            self._failing[job.name] = (what, now, 0)
        elif now - last[1] >= REPEAT_NOTE_SECONDS:
            logger.error(f"{job.name}: 同じエラーが続いています (前回の記録から {last[2] + 1}回)")
            self._failing[job.name] = (what, now, 0)
        else:
            self._failing[job.name] = (what, last[1], last[2] + 1)

    def _pass(self, job: JobConfig, recover: bool) -> None:
        source = self._sources[job.name]
        leftovers = recover and any(source.processing.iterdir())
        ready = list(source.scan())
        if ready or leftovers:
            summary = run_job(job, RunContext(self.config), trigger="watch", source=source,
                              paths=ready, recover=recover, stop=self.stop, flush_every=20)
            if self.on_run:
                self.on_run(summary)
        elif self._store.pending_count(job.name):
            result = flush_pending(job, RunContext(self.config), self._store)  # when due (backoff)
            if result.written:
                logger.info(f"{job.name}: 保留中だった {result.written}件を台帳に書き込みました")
