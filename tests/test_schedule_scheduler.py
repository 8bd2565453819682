"""kakari scheduler with a controllable clock: cron triggers, no overlap, missed-run policy, state
that survives a restart; the monthly report filed on the 1st; `jobs retry` of a failed run."""
from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from jobs import timelog
from jobs.timelog import TOKYO
from kakari.config import KakariConfig, KpiConfig, load_config
from schedule.scheduler import Entry, Scheduler, previous_month
from tests.locks import held_by_another_process

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 10, 30, 9, 0, tzinfo=TOKYO)  # a Friday


class Recorder:
    def __init__(self, block: bool = False) -> None:
        self.fires: list[datetime] = []
        self.release = threading.Event()
        if not block:
            self.release.set()

    def __call__(self, fire: datetime) -> str:
        self.fires.append(fire)
        self.release.wait(30)
        return "ok"


def sched(tmp_path: Path, *entries: Entry) -> Scheduler:
    return Scheduler(KakariConfig(home=tmp_path), list(entries), clock=lambda: T0)


def test_cron_fires_at_its_times_in_tokyo(tmp_path: Path) -> None:
    rec = Recorder()
    s = sched(tmp_path, Entry("nightly", "0 2 * * 1-5", "run_once", rec))  # weekdays 2:00
    assert s.tick(T0) == []  # first start: registered, the past is not run
    assert s.tick(T0 + timedelta(hours=10)) == []  # Friday 19:00: nothing due
    # Saturday and Sunday 2:00 are not weekdays; Monday 2:00 is
    assert s.tick(datetime(2026, 11, 1, 12, 0, tzinfo=TOKYO)) == []
    assert s.tick(datetime(2026, 11, 2, 2, 0, tzinfo=TOKYO)) == [("nightly", "started")]
    s.wait_idle()
    assert rec.fires == [datetime(2026, 11, 2, 2, 0, tzinfo=TOKYO)]
    assert s.tick(datetime(2026, 11, 2, 2, 0, 30, tzinfo=TOKYO)) == []  # the same time is not run twice
    assert s.next_fire(s.entries[0]) == datetime(2026, 11, 3, 2, 0, tzinfo=TOKYO)


def test_a_run_never_overlaps_itself(tmp_path: Path) -> None:
    rec = Recorder(block=True)
    s = sched(tmp_path, Entry("every5", "*/5 * * * *", "run_once", rec))
    s.tick(T0)
    assert s.tick(T0 + timedelta(minutes=5)) == [("every5", "started")]
    assert s.tick(T0 + timedelta(minutes=10)) == [("every5", "skipped-overlap")]  # still running
    rec.release.set()
    s.wait_idle()
    assert s.tick(T0 + timedelta(minutes=15)) == [("every5", "started")]
    s.wait_idle()
    assert len(rec.fires) == 2


def test_no_overlap_across_processes(tmp_path: Path) -> None:
    rec = Recorder()
    s = sched(tmp_path, Entry("every5", "*/5 * * * *", "run_once", rec))
    s.tick(T0)
    lock = tmp_path / "locks" / "schedule-every5.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with held_by_another_process(lock):  # another scheduler is running this entry
        assert s.tick(T0 + timedelta(minutes=5)) == [("every5", "skipped-overlap")]
    assert s.tick(T0 + timedelta(minutes=10)) == [("every5", "started")]
    s.wait_idle()
    assert len(rec.fires) == 1


@pytest.mark.parametrize("policy", ["run_once", "skip"])
def test_missed_runs_after_downtime(tmp_path: Path, policy: str) -> None:
    rec = Recorder()
    s = sched(tmp_path, Entry("daily", "0 7 * * *", policy, rec))
    s.tick(T0)
    # the machine was off for three days; a new scheduler process starts on Monday 9:00
    later = Scheduler(KakariConfig(home=tmp_path), s.entries, clock=lambda: T0)
    result = later.tick(T0 + timedelta(days=3))
    later.wait_idle()
    if policy == "run_once":
        assert result == [("daily", "started (3回分をまとめて)")]
        assert rec.fires == [datetime(2026, 11, 2, 7, 0, tzinfo=TOKYO)]  # once, for the newest time
    else:
        assert result == [("daily", "skipped-misfire")] and rec.fires == []
    # either way the missed times are settled: the next tick that day does nothing
    assert later.tick(T0 + timedelta(days=3, minutes=1)) == []


def test_monthly_report_is_filed_on_the_first(tmp_path: Path) -> None:
    from jobs.store import Store
    from jobs.timelog import TaskRecord

    config = KakariConfig(home=tmp_path, kpi=KpiConfig(report_schedule="0 6 1 * *", report_dir=tmp_path / "共有"))
    when = datetime(2026, 10, 15, 10, tzinfo=TOKYO)
    with Store(config.database_url).begin() as conn:
        timelog.record(conn, TaskRecord("d1", "j", "ledger", "市民課", "住民票", "b", "自動登録",
                                        when, when + timedelta(seconds=20), 8.0, 0.0))
    s = Scheduler(config, clock=lambda: T0)
    assert [e.name for e in s.entries] == ["monthly_report"]
    s.tick(T0)
    assert s.tick(datetime(2026, 11, 1, 6, 0, tzinfo=TOKYO)) == [("monthly_report", "started")]
    s.wait_idle()
    files = sorted(p.name for p in (tmp_path / "共有").iterdir())
    assert files == [f"削減効果報告_2026-10.{x}" for x in ("csv", "pdf", "xlsx")]
    assert "市民課" in (tmp_path / "共有" / "削減効果報告_2026-10.csv").read_text(encoding="utf-8-sig")
    assert previous_month(datetime(2027, 1, 1).date()) == "2026-12"


def test_bad_cron_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    from kakari.errors import ConfigError

    cfg = tmp_path / "kakari.toml"
    cfg.write_text('[jobs.a]\nbots = ["child_medical"]\nschedule = "0 25 * * *"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(cfg, tmp_path)
    assert "schedule" in str(e.value) and "cron" in str(e.value)


def test_jobs_retry_reruns_only_the_failed_documents(tmp_path: Path) -> None:
    from connectors.excel import read_ledger
    from jobs.runner import run_job
    from jobs.store import Store
    from jobs.timelog import TimeLog
    from kakari.cli import main
    from kakari.config import RunContext
    from samples.generate import generate

    generate(tmp_path / "s", count=2, seed=5)
    toml = (ROOT / "samples" / "kakari.toml").read_text(encoding="utf-8")
    cfg_file = tmp_path / "kakari.toml"
    cfg_file.write_text(toml, encoding="utf-8")
    home = tmp_path / "home"
    config = load_config(cfg_file, home)
    job = config.job("kodomo_iryo")
    inbox = job.folders(home)["inbox"]
    inbox.mkdir(parents=True)
    good = sorted((tmp_path / "s" / "child_medical").glob("child_medical_*.pdf"))[0]
    other = sorted((tmp_path / "s" / "restaurant_permit").glob("restaurant_permit_*.pdf"))[0]
    shutil.copy2(good, inbox / good.name)
    shutil.copy2(other, inbox / other.name)  # a form this job does not accept yet
    first = run_job(job, RunContext(config))
    assert first.counts["エラー"] == 1 and first.counts["read"] == 2

    # IT staff add the form to the job, then retry the failed run
    cfg_file.write_text(toml.replace('bots = ["child_medical"]', 'bots = ["child_medical", "restaurant_permit"]'),
                        encoding="utf-8")
    assert main(["jobs", "retry", first.run_id, "--config", str(cfg_file), "--home", str(home)]) == 0
    rows = read_ledger(job.ledger_path(home))
    assert len(rows) == 2  # the エラー row was replaced, not duplicated
    by_name = {r["元ファイル名"]: r for r in rows}
    assert by_name[other.name]["状態"] in ("自動登録", "要確認")
    frame = TimeLog(Store(config.database_url)).frame()
    assert len(frame) == 2 and sorted(frame["status"]) == sorted(["自動登録", by_name[other.name]["状態"]])
    assert not (job.folders(home)["errors"] / other.name).exists()
    assert main(["jobs", "retry", first.run_id, "--config", str(cfg_file), "--home", str(home)]) == 0  # nothing left


def test_scheduler_and_status_commands(tmp_path: Path) -> None:
    import os
    import signal

    from kakari.cli import main

    cfg = tmp_path / "kakari.toml"
    cfg.write_text('[kpi]\nreport_schedule = "0 6 1 * *"\n\n[jobs.a]\nbots = ["child_medical"]\n'
                   'schedule = "30 2 * * 1-5"\nmisfire = "skip"\n', encoding="utf-8")
    home = tmp_path / "home"
    proc = subprocess.Popen([str(Path(sys.executable).with_name("kakari")), "scheduler", "--config", str(cfg),
                             "--home", str(home)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ | {"COLUMNS": "200"})
    try:
        first = proc.stdout.readline() + proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        rest, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "a: 30 2 * * 1-5 (次回" in first and "monthly_report: 0 6 1 * *" in first
    assert "スケジューラーを終了しました" in rest
    assert main(["jobs", "status", "--config", str(cfg), "--home", str(home)]) == 0
