"""`kakari scheduler`: jobs with a cron `schedule` (Asia/Tokyo), and the monthly report filing.

The cron arithmetic is APScheduler's CronTrigger; the state that must survive a restart (the last
cron time each entry ran or skipped) is a row per entry in the kakari database, so a second
scheduler on another machine sharing PostgreSQL sees the same history. `tick(now)` does one step
for a given time — the tests drive it with a fake clock, the command with the real one.

- Missed runs (machine off over the cron time): `misfire = "run_once"` runs once for all of them
  (coalesced); `"skip"` skips them when the newest is more than `grace` late.
- No overlap: an entry still running when its next time comes is not started again (recorded as
  skipped-overlap); across processes a lock file per entry in <home>/locks guards the same.
- The first start of a new entry does not run its past: it starts counting from now.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger
from filelock import FileLock, Timeout
from sqlalchemy import Column, DateTime, String, Table, select

from jobs.store import Store, aware_utc, insert_ignore, metadata
from jobs.timelog import TOKYO
from kakari.config import KakariConfig, RunContext, cron_trigger
from kakari.log import logger, redact

schedule_state = Table(  # kakari scheduler: the last fire time of each scheduled job survives restarts
    "schedule_state", metadata,
    Column("name", String(100), primary_key=True),
    Column("last_fire", DateTime(timezone=True)),  # the cron time last run (or skipped), not the wall clock
    Column("last_run_id", String(40)),
    Column("last_status", String(20)),  # started, skipped-overlap, skipped-misfire
)

REPORT_ENTRY = "monthly_report"


@dataclass(frozen=True)
class Entry:
    name: str
    cron: str
    misfire: str
    action: Callable[[datetime], str]  # runs one fire (its cron time); returns a short result text

    @property
    def trigger(self) -> CronTrigger:
        return cron_trigger(self.cron)

    def fires_between(self, after: datetime, until: datetime, limit: int = 1000) -> list[datetime]:
        """Cron times t with after < t <= until (at most `limit`, the newest kept)."""
        out: list[datetime] = []
        trig, prev = self.trigger, after
        while True:
            nxt = trig.get_next_fire_time(prev, prev)
            if nxt is None or nxt > until:
                return out[-limit:]
            out.append(nxt)
            prev = nxt

    def next_after(self, moment: datetime) -> datetime | None:
        return self.trigger.get_next_fire_time(moment, moment)


def entries_from_config(config: KakariConfig) -> list[Entry]:
    out = []
    for name, job in config.jobs.items():
        if job.schedule:
            out.append(Entry(name, job.schedule, job.misfire, _job_action(config, name)))
    if config.kpi.report_schedule:
        out.append(Entry(REPORT_ENTRY, config.kpi.report_schedule, "run_once", _report_action(config)))
    return out


def _job_action(config: KakariConfig, name: str) -> Callable[[datetime], str]:
    def run(fire: datetime) -> str:
        from jobs.runner import run_job

        s = run_job(config.job(name), RunContext(config), trigger="schedule")
        c = s.counts
        return f"{c['read']}件 (自動登録 {c['自動登録']} / 要確認 {c['要確認']} / エラー {c['エラー']})"
    return run


def previous_month(day: date) -> str:
    first = day.replace(day=1)
    prev = first - timedelta(days=1)
    return f"{prev.year}-{prev.month:02d}"


def _report_action(config: KakariConfig) -> Callable[[datetime], str]:
    def run(fire: datetime) -> str:
        from kpi.report import file_monthly_report

        paths = file_monthly_report(config, previous_month(fire.astimezone(TOKYO).date()))
        return "、".join(p.name for p in paths)
    return run


class Scheduler:
    def __init__(self, config: KakariConfig, entries: list[Entry] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(TOKYO),
                 grace: timedelta = timedelta(minutes=10)) -> None:
        self.config = config
        self.entries = entries if entries is not None else entries_from_config(config)
        self.clock = clock
        self.grace = grace
        self.store = Store(config.database_url)
        self.locks = config.home / "locks"
        self._running: dict[str, threading.Thread] = {}

    # -- state -------------------------------------------------------------------------------------
    def _state(self, name: str) -> dict | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(schedule_state).where(schedule_state.c.name == name)).mappings().first()
        return dict(row) if row else None

    def _save(self, name: str, last_fire: datetime, status: str, run_id: str | None = None) -> None:
        last_fire = last_fire.astimezone(timezone.utc)  # SQLite keeps no zone: store UTC, read as UTC
        with self.store.begin() as conn:
            if not insert_ignore(conn, schedule_state, {"name": name, "last_fire": last_fire,
                                                          "last_status": status, "last_run_id": run_id}):
                conn.execute(schedule_state.update().where(schedule_state.c.name == name).values(
                    last_fire=last_fire, last_status=status, last_run_id=run_id))

    def last_fire(self, name: str) -> datetime | None:
        state = self._state(name)
        if not state or state["last_fire"] is None:
            return None
        return aware_utc(state["last_fire"]).astimezone(TOKYO)

    # -- one step ----------------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> list[tuple[str, str]]:
        """Start what is due at `now`; returns (entry, what happened) for each entry that was due."""
        now = now or self.clock()
        happened = []
        for entry in self.entries:
            last = self.last_fire(entry.name)
            if last is None:  # a new entry: count from now, do not run the past
                self._save(entry.name, now, "registered")
                continue
            fires = entry.fires_between(last, now)
            if not fires:
                continue
            newest = fires[-1]
            if entry.misfire == "skip" and now - newest > self.grace:
                self._save(entry.name, newest, "skipped-misfire")
                logger.warning(f"{entry.name}: 停止中に予定時刻 {len(fires)}回を過ぎたため実行しません (misfire=skip)")
                happened.append((entry.name, "skipped-misfire"))
                continue
            if self.is_running(entry.name) or not self._start(entry, newest):
                self._save(entry.name, newest, "skipped-overlap")
                logger.warning(f"{entry.name}: 前回の実行が終わっていないため {newest:%Y-%m-%d %H:%M} の実行を見送りました")
                happened.append((entry.name, "skipped-overlap"))
                continue
            self._save(entry.name, newest, "started")
            happened.append((entry.name, "started" if len(fires) == 1 else f"started ({len(fires)}回分をまとめて)"))
        return happened

    def is_running(self, name: str) -> bool:
        t = self._running.get(name)
        return t is not None and t.is_alive()

    def _start(self, entry: Entry, fire: datetime) -> bool:
        """Run the entry in a thread under its lock file; False if another process holds the lock."""
        self.locks.mkdir(parents=True, exist_ok=True)
        # not thread-local: taken here, released by the run's thread when it ends
        lock = FileLock(self.locks / f"schedule-{entry.name}.lock", thread_local=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return False

        def body() -> None:
            try:
                result = entry.action(fire)
                logger.info(f"{entry.name}: {fire:%Y-%m-%d %H:%M} の実行が終わりました — {result}")
            except Exception:  # noqa: BLE001 - logged; the scheduler goes on with the next entry
                logger.error(redact(f"{entry.name}: 実行に失敗しました: {traceback.format_exc()}"))
            finally:
                lock.release()

        t = threading.Thread(target=body, name=f"kakari-{entry.name}", daemon=True)
        self._running[entry.name] = t
        t.start()
        return True

    def wait_idle(self, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        for t in list(self._running.values()):
            t.join(max(0.0, end - time.monotonic()))

    def next_fire(self, entry: Entry) -> datetime | None:
        return entry.next_after(self.last_fire(entry.name) or self.clock())

    # -- the command ---------------------------------------------------------------------------------
    def run_forever(self, stop: threading.Event, max_sleep: float = 30.0) -> None:
        while not stop.is_set():
            self.tick()
            upcoming = [n for n in (self.next_fire(e) for e in self.entries) if n is not None]
            wait = max_sleep
            if upcoming:
                wait = min(max_sleep, max(0.5, (min(upcoming) - self.clock()).total_seconds()))
            stop.wait(wait)
        self.wait_idle(timeout=float(os.environ.get("KAKARI_STOP_WAIT", "600")))

