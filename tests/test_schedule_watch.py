"""`kakari watch`: live intake with real folders, a real watchdog observer and real processes."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest

import connectors.excel
from connectors.excel import writers_lock
from jobs.store import Store
from kakari.config import KakariConfig, load_config
from schedule.watch import Watcher
from tests.locks import held_by_another_process

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "samples" / "kakari.toml"
LEDGER = "子ども医療費受給資格証_台帳.xlsx"


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from samples.generate import generate

    out = tmp_path_factory.mktemp("samples")
    generate(out, count=5, seed=23, forms=["child_medical"])
    return sorted((out / "child_medical").glob("child_medical_*.pdf"))


def until(check: Callable[[], bool], seconds: float = 60.0, what: str = "") -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


def ledger_names(home: Path) -> list[str]:
    path = home / "ledgers" / LEDGER
    if not path.exists():
        return []
    ws = openpyxl.load_workbook(path)["台帳"]
    header = [c.value for c in ws[1]]
    col = header.index("元ファイル名")
    return [row[col].value for row in ws.iter_rows(min_row=2)]


@pytest.fixture()
def watching(tmp_path: Path) -> Iterator[tuple[KakariConfig, Watcher, Path]]:
    config = load_config(CONFIG, tmp_path / "home")
    watcher = Watcher(config, ["kodomo_iryo"], rescan_seconds=1.0, min_age=0.5)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    inbox = config.job("kodomo_iryo").folders(config.home)["inbox"]
    until(inbox.exists, 10, "the inbox")
    yield config, watcher, inbox
    watcher.request_stop()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the watcher did not stop"


def test_files_dropped_in_are_processed_once(watching: tuple[KakariConfig, Watcher, Path], pdfs: list[Path]) -> None:
    config, _, inbox = watching
    for pdf in pdfs[:3]:
        shutil.copy(pdf, inbox / pdf.name)
    until(lambda: len(ledger_names(config.home)) == 3, what="three ledger rows")
    # temp and partial names are left alone; a file written slowly is taken only when complete
    for name in ("~$申請.pdf", ".隠し.pdf", "申請.pdf.part", "申請.tmp"):
        (inbox / name).write_bytes(pdfs[3].read_bytes())
    data = pdfs[3].read_bytes()
    with open(inbox / "ゆっくり 届く.pdf", "wb") as fh:  # a scanner writing over SMB
        for i in range(0, len(data), len(data) // 6 + 1):
            fh.write(data[i:i + len(data) // 6 + 1])
            fh.flush()
            time.sleep(0.25)
    until(lambda: len(ledger_names(config.home)) == 4, what="the slowly written file")
    time.sleep(1.5)  # another rescan or two: nothing else is taken, nothing doubled
    names = ledger_names(config.home)
    assert sorted(names) == sorted([p.name for p in pdfs[:3]] + ["ゆっくり 届く.pdf"])
    job = config.job("kodomo_iryo").folders(config.home)
    assert sorted(p.name for p in inbox.iterdir()) == sorted(["~$申請.pdf", ".隠し.pdf", "申請.pdf.part", "申請.tmp"])
    slow = [p for p in (job["archive"] / "ゆっくり 届く.pdf", job["review"] / "ゆっくり 届く.pdf") if p.exists()]
    assert len(slow) == 1 and slow[0].read_bytes() == data  # whole, not a half-written copy
    runs = Store(config.database_url).runs_for("kodomo_iryo")
    assert runs and all(r["trigger"] == "watch" for r in runs)


def test_broken_file_goes_to_errors_and_watching_goes_on(watching: tuple[KakariConfig, Watcher, Path],
                                                        pdfs: list[Path]) -> None:
    config, _, inbox = watching
    (inbox / "壊れた.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    until(lambda: (config.job("kodomo_iryo").folders(config.home)["errors"] / "壊れた.pdf.error.txt").exists(),
          what="the error file")
    shutil.copy(pdfs[0], inbox / pdfs[0].name)
    until(lambda: pdfs[0].name in ledger_names(config.home), what="the next good file")


def test_locked_ledger_rows_arrive_when_the_lock_is_gone(watching: tuple[KakariConfig, Watcher, Path],
                                                         pdfs: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import jobs.outbox

    monkeypatch.setattr(jobs.outbox, "BACKOFF_SECONDS", (0.5, 1.0))  # the schedule, not the behaviour
    config, _, inbox = watching
    shutil.copy(pdfs[0], inbox / pdfs[0].name)
    until(lambda: len(ledger_names(config.home)) == 1, what="the first row")
    ledger = config.home / "ledgers" / LEDGER
    monkeypatch.setattr(connectors.excel, "LOCK_WAIT_SECONDS", 0.5)  # the wait, not the behaviour
    written = ledger.read_bytes()
    # another kakari process is writing the workbook: it holds the writers' lock
    with held_by_another_process(writers_lock(ledger)):
        for pdf in pdfs[1:3]:
            shutil.copy(pdf, inbox / pdf.name)
        store = Store(config.database_url)
        until(lambda: store.pending_count("kodomo_iryo") == 2, what="rows parked while locked")
        time.sleep(2.0)  # several retries while still locked: the rows wait, nothing is lost
        assert len(ledger_names(config.home)) == 1 and store.pending_count("kodomo_iryo") == 2
        assert ledger.read_bytes() == written  # and not rewritten under the holder
    until(lambda: len(ledger_names(config.home)) == 3, what="rows after the lock is gone")
    assert store.pending_count("kodomo_iryo") == 0
    assert sorted(ledger_names(config.home)) == sorted(p.name for p in pdfs[:3])


def test_recovers_leftovers_from_a_crash_on_start(tmp_path: Path, pdfs: list[Path]) -> None:
    config = load_config(CONFIG, tmp_path / "home")
    folders = config.job("kodomo_iryo").folders(config.home)
    for f in folders.values():
        f.mkdir(parents=True, exist_ok=True)
    shutil.copy(pdfs[0], folders["processing"] / f"20261123000000abcdef__{pdfs[0].name}")
    watcher = Watcher(config, ["kodomo_iryo"], rescan_seconds=0.5, min_age=0.2)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        until(lambda: ledger_names(config.home) == [pdfs[0].name], what="the recovered document")
        assert list(folders["processing"].iterdir()) == []
    finally:
        watcher.request_stop()
        thread.join(timeout=30)


def test_unknown_job_is_a_clear_error(tmp_path: Path) -> None:
    from kakari.errors import ConfigError

    with pytest.raises(ConfigError, match="ありません"):
        Watcher(load_config(CONFIG, tmp_path), ["no_such_job"])


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])  # a service manager; Ctrl-C (NSSM's stop on Windows)
def test_kakari_watch_stops_cleanly(tmp_path: Path, pdfs: list[Path], stop: str) -> None:
    home = tmp_path / "home"
    inbox = home / "jobs" / "kodomo_iryo" / "inbox"
    proc = subprocess.Popen([str(Path(sys.executable).with_name("kakari")), "watch", "kodomo_iryo", "--config",
                             str(CONFIG), "--home", str(home), "--rescan", "1", "--settle", "0.3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=os.environ | {"COLUMNS": "200"})
    try:
        until(inbox.exists, 30, "the inbox")
        for pdf in pdfs[:2]:
            shutil.copy(pdf, inbox / pdf.name)
        until(lambda: len(ledger_names(home)) == 2, what="rows from kakari watch")
        proc.send_signal(getattr(signal, stop))
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "監視を開始しました" in stdout and "監視を終了しました" in stdout and "終了します" in stderr
