"""The masking bot in a job: a ledger row and a time-log entry per document, the masked copy in the
output folder and the original in archive/, 要確認 documents not released, exactly once across
crashes (between the commit, the release and the move; and SIGKILL at random moments), originals
deleted after the job's period, and no personal number in logs, events, error files or runs."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bots import registry as bot_registry
from connectors.excel import read_ledger
from jobs import artifacts
from jobs.runner import run_job
from jobs.store import Store, documents, events, pending_writes, runs
from jobs.timelog import TimeLog, time_log
from kakari.config import RunContext, load_config
from samples.masking import Sheet, Truth, generate_text, my_number

ROOT = Path(__file__).resolve().parents[1]


def setup_job(tmp_path: Path, extra: str = "", top: str = "") -> tuple:
    cfg = tmp_path / "kakari.toml"
    cfg.write_text(f'{top}[jobs.masking]\ndepartment = "市民課"\nbots = ["mask_numbers"]\n'
                   f'ledger = "ledgers/墨塗り台帳.xlsx"\n{extra}', encoding="utf-8")
    config = load_config(cfg, tmp_path / "home")
    job = config.job("masking")
    folders = job.folders(config.home)
    folders["inbox"].mkdir(parents=True)
    return config, job, folders


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("docs")
    made = generate_text(out, count=3, seed=21)  # boxes, sentence, table
    bad = out / "bad.pdf"
    sheet = Sheet(bad, Truth("bad", "sentence"))
    value = my_number(__import__("random").Random(4), valid=False)
    sheet.number(20 + sheet.text(20, 50, "個人番号", 10.5)[0] + 3, 50, "個人番号", "my_number", value, value, False,
                 "sentence")
    sheet.save()
    bad.with_suffix(".json").write_text(json.dumps({"numbers": [{"value": value}]}), encoding="utf-8")
    broken = out / "壊れた.pdf"
    broken.write_bytes(made[0].read_bytes()[:400])
    return {"good": made[0], "sentence": made[1], "table": made[2], "bad": bad, "broken": broken}


def values_of(docs: dict[str, Path]) -> list[str]:
    out = []
    for p in docs.values():
        if p.with_suffix(".json").exists():
            out += [n["value"] for n in json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))["numbers"]]
    return out


def test_a_job_masks_releases_logs_and_keeps_numbers_out_of_every_record(docs: dict[str, Path], tmp_path: Path,
                                                                        db_url: str) -> None:
    from kakari.log import setup_logging

    config, job, folders = setup_job(tmp_path)
    assert config.database_url.partition(":")[0] == db_url.partition(":")[0]
    setup_logging(config.home, "DEBUG")  # every line the run writes goes to the file
    for name in ("good", "sentence", "bad", "broken"):
        shutil.copy2(docs[name], folders["inbox"] / docs[name].name)
    summary = run_job(job, RunContext(config))
    assert summary.counts["自動登録"] == 2 and summary.counts["要確認"] == 1 and summary.counts["エラー"] == 1

    output = job.output_folder(config.home)
    assert sorted(p.name for p in output.iterdir()) == sorted([docs["good"].name, docs["sentence"].name])
    assert sorted(p.name for p in folders["archive"].iterdir()) == sorted([docs["good"].name, docs["sentence"].name])
    assert [p.name for p in folders["review"].iterdir()] == ["bad.pdf"]  # not released: a clerk looks first
    assert list((folders["processing"] / artifacts.STAGED).iterdir()) == []

    rows = {r["元ファイル名"]: r for r in read_ledger(job.ledger_path(config.home))}
    assert len(rows) == 4
    good = rows[docs["good"].name]
    assert list(good)[:3] == ["文書ID", "受付日時", "元ファイル名"]
    assert {"ページ数", "マスク箇所数", "種類別の件数", "状態"} <= set(good)
    assert good["ページ数"] == 1 and good["マスク箇所数"] == 2 and good["種類別の件数"] == "個人番号 1・基礎年金番号 1"
    assert good["状態"] == "自動登録" and rows["bad.pdf"]["状態"] == "要確認"
    assert "チェックデジット" in rows["bad.pdf"]["備考"]

    frame = TimeLog(Store(config.database_url)).frame()
    assert len(frame) == 4 and set(frame["task"]) == {"PDF取込・マスキング"} and set(frame["department"]) == {"市民課"}

    # personal numbers nowhere: logs, events, error files, run excerpts, stored records and outbox
    store = Store(config.database_url)
    with store.engine.connect() as conn:
        stored = [json.dumps([dict(r) for r in conn.execute(select(t)).mappings()], default=str, ensure_ascii=False)
                  for t in (events, runs, documents, pending_writes)]
    texts = stored + [p.read_text(encoding="utf-8") for p in (config.home / "logs").glob("*.log")]
    texts += [p.read_text(encoding="utf-8") for p in folders["errors"].glob("*.error.txt")]
    assert len(texts) >= 6
    for value in values_of(docs):
        for variant in (value, f"{value[:4]} {value[4:8]} {value[8:]}", f"{value[:4]}-{value[4:8]}-{value[8:]}"):
            assert not any(variant in t for t in texts), variant


def test_masking_is_stopped_at_the_time_limit_and_nothing_is_released(docs: dict[str, Path], tmp_path: Path) -> None:
    """Masking runs in a reader process like reading: killed at [limits] timeout_seconds from any
    thread, the document goes to errors/ with the reason, and no partial copy is left or released."""
    config, job, folders = setup_job(tmp_path, top="[limits]\ntimeout_seconds = 0.5\n\n")
    shutil.copy2(docs["good"], folders["inbox"] / "届出.pdf")
    summary = run_job(job, RunContext(config))
    assert summary.counts["エラー"] == 1
    assert "制限時間" in (folders["errors"] / "届出.pdf.error.txt").read_text(encoding="utf-8")
    assert (folders["errors"] / "届出.pdf").read_bytes() == docs["good"].read_bytes()
    output = job.output_folder(config.home)
    assert not output.exists() or list(output.iterdir()) == []
    assert list((folders["processing"] / artifacts.STAGED).iterdir()) == []
    [row] = read_ledger(job.ledger_path(config.home))
    assert row["状態"] == "エラー"


class Crash(Exception):
    pass


@pytest.mark.parametrize("where", ["release", "move"])
def test_a_crash_after_the_commit_neither_loses_nor_doubles_the_masked_copy(docs: dict[str, Path], tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch,
                                                                          where: str, db_url: str) -> None:
    config, job, folders = setup_job(tmp_path)
    assert config.database_url.partition(":")[0] == db_url.partition(":")[0]  # SQLite in the home, or PostgreSQL
    shutil.copy2(docs["table"], folders["inbox"] / "世帯.pdf")
    with monkeypatch.context() as mp:  # undone after the crash; the database's own setting stays
        if where == "release":  # committed, the masked copy still staged
            mp.setattr(artifacts, "move_staged", lambda *a: (_ for _ in ()).throw(Crash()))
        else:  # committed and released, the original still in processing/
            from connectors.folder import FolderSource

            mp.setattr(FolderSource, "finish", lambda *a, **k: (_ for _ in ()).throw(Crash()))
        with pytest.raises(Crash):
            run_job(job, RunContext(config))
    assert [p.name for p in folders["processing"].iterdir() if p.is_file()]  # the replay's trigger is still there
    summary = run_job(job, RunContext(config))
    assert [o.replayed for o in summary.outcomes] == [True]
    assert [p.name for p in job.output_folder(config.home).iterdir()] == ["世帯.pdf"]
    assert [p.name for p in folders["archive"].iterdir()] == ["世帯.pdf"]
    assert len(read_ledger(job.ledger_path(config.home))) == 1
    assert len(TimeLog(Store(config.database_url)).frame()) == 1
    run_job(job, RunContext(config))  # and again: nothing more
    assert len(list(job.output_folder(config.home).iterdir())) == 1


def test_a_crash_before_the_commit_masks_the_document_again(docs: dict[str, Path], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    config, job, folders = setup_job(tmp_path)
    shutil.copy2(docs["good"], folders["inbox"] / "届出.pdf")
    import jobs.runner as runner

    monkeypatch.setattr(runner, "commit_outcome", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        run_job(job, RunContext(config))
    monkeypatch.undo()
    assert list((folders["processing"] / artifacts.STAGED).iterdir())  # staged, never released
    assert not job.output_folder(config.home).exists() or not list(job.output_folder(config.home).iterdir())
    summary = run_job(job, RunContext(config))
    assert summary.counts["自動登録"] == 1
    assert [p.name for p in job.output_folder(config.home).iterdir()] == ["届出.pdf"]
    assert list((folders["processing"] / artifacts.STAGED).iterdir()) == []


def test_originals_are_deleted_after_the_jobs_period(docs: dict[str, Path], tmp_path: Path, db_url: str) -> None:
    config, job, folders = setup_job(tmp_path, "keep_originals_days = 30\n")
    assert config.database_url.partition(":")[0] == db_url.partition(":")[0]
    shutil.copy2(docs["good"], folders["inbox"] / "届出.pdf")
    run_job(job, RunContext(config))
    assert (folders["archive"] / "届出.pdf").is_file()
    store = Store(config.database_url)
    run_job(job, RunContext(config))  # within the period: kept
    assert (folders["archive"] / "届出.pdf").is_file()
    with store.begin() as conn:  # 31 days later
        row = conn.execute(select(documents.c.finished_at)).scalar_one()
        conn.execute(update(documents).values(finished_at=row - timedelta(days=31)))
    run_job(job, RunContext(config))
    assert not (folders["archive"] / "届出.pdf").exists()
    assert (job.output_folder(config.home) / "届出.pdf").is_file()  # the masked copy stays
    assert [e["event"] for e in store.history(original_name="届出.pdf")].count("purged") == 1


@pytest.mark.slow
def test_sigkill_at_random_moments_releases_each_masked_copy_exactly_once(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    made = generate_text(tmp_path / "gen", count=6, seed=33)
    corpus.mkdir()
    for p in made:
        shutil.copy2(p, corpus / p.name)
    cfg = tmp_path / "kakari.toml"
    cfg.write_text('[jobs.masking]\ndepartment = "市民課"\nbots = ["mask_numbers"]\n', encoding="utf-8")
    home = tmp_path / "home"
    proc = subprocess.run([sys.executable, "-m", "tests.killer", str(cfg), str(home), "masking", str(corpus),
                           "--kills", "24", "--max-rounds", "30", "--resend", "3", "--max-delay", "5.0", "--seed", "5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["final_exit"] == 0, summary
    config = load_config(cfg, home)
    job = config.job("masking")
    folders = job.folders(home)
    store = Store(config.database_url)
    rows = store.documents_for("masking")
    assert len(rows) == len({r["doc_id"] for r in rows}) == 6
    ledger = Counter(r["文書ID"] for r in read_ledger(job.ledger_path(home)))
    assert set(ledger.values()) == {1} and len(ledger) == 6
    with store.engine.connect() as conn:
        logged = Counter(conn.execute(select(time_log.c.doc_id).where(time_log.c.job == "masking")).scalars())
    assert logged == {r["doc_id"]: 1 for r in rows}
    released = [r for r in rows if r["status"] == "自動登録"]
    outputs = sorted(p.name for p in job.output_folder(home).iterdir())
    assert len(outputs) == len(released)  # one masked copy per released document, re-sent copies too
    assert outputs == sorted(Path(r["record"]["meta"]["output_path"]).name for r in released)
    placed = Counter(p.name for w in ("archive", "review", "errors") for p in folders[w].iterdir()
                     if not p.name.endswith(".error.txt"))
    assert placed == Counter(summary["dropped"])
    assert [p for p in folders["processing"].iterdir() if p.is_file()] == []
    assert list((folders["processing"] / artifacts.STAGED).iterdir()) == []


def test_a_scanned_document_in_a_job_is_read_by_both_engines_within_its_readers_limit(tmp_path: Path) -> None:
    from kakari.log import setup_logging
    from samples.masking import generate

    config, job, folders = setup_job(tmp_path)
    setup_logging(config.home, "DEBUG")
    scan = next(p for p in generate(tmp_path / "corpus", 0, 2, 42) if p.stem.startswith("scan_"))
    shutil.copy2(scan, folders["inbox"] / scan.name)
    summary = run_job(job, RunContext(config))
    assert summary.counts.get("エラー", 0) == 0
    logs = "".join(p.read_text(encoding="utf-8") for p in (config.home / "logs").glob("*.log"))
    assert "Tesseract だけで読みました" not in logs  # PP-OCR fitted in the masking reader's memory
    assert config.limits.memory_mb < bot_registry.get("mask_numbers").reader_memory_mb
