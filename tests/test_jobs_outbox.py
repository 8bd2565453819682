"""A ledger open in Excel on Windows: the replace of the workbook fails (or another program holds its
lock), the rows are parked with a reason, nothing is lost, and they are written once it is closed."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import connectors.excel
from connectors.excel import read_ledger, writers_lock
from jobs.outbox import flush_pending
from jobs.runner import run_job
from jobs.store import Store
from kakari.config import KakariConfig, RunContext, load_config
from tests.locks import held_by_another_process

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    from samples.generate import generate

    out = tmp_path_factory.mktemp("samples")
    generate(out, count=5, seed=31, forms=["child_medical"])
    return sorted((out / "child_medical").glob("child_medical_*.pdf"))


def drop(config: KakariConfig, *files: Path) -> None:
    inbox = config.job("kodomo_iryo").folders(config.home)["inbox"]
    inbox.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy(f, inbox / f.name)


def names(ledger: Path) -> list[str]:
    return sorted(r["元ファイル名"] for r in read_ledger(ledger))


class ExcelOnWindows:
    """Excel holds the workbook open without a lock Linux can see: Windows refuses os.replace over it
    with a sharing violation (PermissionError, winerror 32). Simulated at that call, for that file."""

    def __init__(self, ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ledger, self.open, self.refused = ledger, True, 0
        real = os.replace

        def replace(src, dst):  # noqa: ANN001, ANN202
            if self.open and Path(dst) == self.ledger:
                self.refused += 1
                e = PermissionError(13, "別のプロセスが使用中のため、プロセスはファイルにアクセスできません")
                e.winerror = 32  # type: ignore[attr-defined]
                raise e
            return real(src, dst)

        monkeypatch.setattr(connectors.excel.os, "replace", replace)


def test_rows_for_a_ledger_open_in_excel_are_parked_and_written_later(
        tmp_path: Path, pdfs: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(ROOT / "samples" / "kakari.toml", tmp_path / "home")
    job = config.job("kodomo_iryo")
    ledger = job.ledger_path(config.home)
    store = Store(config.database_url)
    drop(config, pdfs[0])
    run_job(job, RunContext(config))
    assert names(ledger) == [pdfs[0].name]
    before = ledger.read_bytes()

    # 1. the clerk opens the ledger in Excel on Windows: the replace is refused
    excel = ExcelOnWindows(ledger, monkeypatch)
    drop(config, pdfs[1], pdfs[2])
    summary = run_job(job, RunContext(config))
    assert summary.counts["read"] == 2 and summary.pending == 2 and excel.refused >= 1
    assert ledger.read_bytes() == before  # the open workbook was not touched
    [row] = {r["last_error"] for r in store.pending(job.name, "excel")}
    assert "開いています" in row  # the reason a person reads in `kakari jobs status` / the log
    excel.open = False  # closed
    flush_pending(job, RunContext(config), store, force=True)
    assert names(ledger) == sorted(p.name for p in pdfs[:3]) and store.pending_count(job.name) == 0

    # 2. another kakari process (a second PC's watcher) is writing the ledger: its lock is held
    monkeypatch.setattr(connectors.excel, "LOCK_WAIT_SECONDS", 0.5)  # the wait, not the behaviour
    written = ledger.read_bytes()
    with held_by_another_process(writers_lock(ledger)):
        drop(config, pdfs[3], pdfs[4])
        summary = run_job(job, RunContext(config))
        assert summary.pending == 2 and ledger.read_bytes() == written  # not written under the holder
        [row] = {r["last_error"] for r in store.pending(job.name, "excel")}
        assert "書き込み中" in row
    flush_pending(job, RunContext(config), store, force=True)
    assert names(ledger) == sorted(p.name for p in pdfs) and store.pending_count(job.name) == 0
    assert len(read_ledger(ledger)) == len(pdfs)  # each once
