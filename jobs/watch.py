"""`kakari watch`: live intake from the jobs' inboxes.

watchdog events only wake the loop; what is processed is always decided by a scan of the folder
(FolderSource.scan: complete, stable, readable files), so a missed event costs at most one rescan
interval and a burst of events costs one scan. Each non-empty pass is one recorded run
(trigger "watch") through the same `run_job` as `kakari run`, so claiming, crash recovery and
exactly-once ledger writes are the same code. Rows parked because the ledger was open are retried
on every rescan until they land.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from connectors.folder import FolderSource
from jobs.runner import RunSummary, run_job
from jobs.sinks import flush_pending
from jobs.store import Store
from kakari.config import JobConfig, KakariConfig, RunContext
from kakari.errors import ConfigError
from kakari.log import logger


class _Wake(FileSystemEventHandler):
    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def on_any_event(self, event: FileSystemEvent) -> None:
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
        self._sources = {j.name: FolderSource(j.folders(self.config.home), min_age=self.min_age) for j in self._jobs}
        self._store = Store(self.config.database_url)

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
                    self._pass(job, recover=first)
                first = False
                young = any(s.young for s in self._sources.values())
                # a file still being written is looked at again after min_age, not after the rescan
                self._wake.wait(self.min_age if young else self.rescan_seconds)
                if self._wake.is_set():
                    time.sleep(0.05)  # let a burst of events (a copied batch) settle into one scan
        finally:
            observer.stop()
            observer.join(timeout=5)

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
