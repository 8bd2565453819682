"""A clerk's decision is committed at once and the ledger follows from the outbox: the decision never
waits on a sink, two decisions of one document cannot both land, and the time log gets the minutes."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connectors.excel import read_ledger
from jobs.decisions import AlreadyDecided, record_decision
from jobs.outbox import Flusher
from jobs.runner import run_job
from jobs.store import Store, record_from_dict
from jobs.timelog import TimeLog
from kakari.config import KakariConfig, RunContext, load_config
from kakari.model import Status

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def reviewed(tmp_path: Path, db_url: str) -> tuple[KakariConfig, str]:
    """A home whose kodomo_iryo run left one document in 要確認: (config, its doc_id); on SQLite and
    on PostgreSQL."""
    from samples.generate import generate

    generate(tmp_path / "s", count=20, seed=8, forms=["child_medical"])
    config = load_config(ROOT / "samples" / "kakari.toml", tmp_path / "home")
    job = config.job("kodomo_iryo")
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    for pdf in sorted((tmp_path / "s" / "child_medical").glob("child_medical_*.pdf")):
        shutil.copy2(pdf, inbox / pdf.name)
    run_job(job, RunContext(config))
    doc = Store(config.database_url).documents_for("kodomo_iryo", Status.REVIEW.value)[0]
    return config, doc["doc_id"]


def ledger_state(config: KakariConfig, doc_id: str) -> str:
    rows = [r for r in read_ledger(config.job("kodomo_iryo").ledger_path(config.home)) if r["文書ID"] == doc_id]
    assert len(rows) == 1
    return rows[0]["状態"]


def test_decision_commits_now_and_the_flusher_writes_the_ledger(reviewed: tuple[KakariConfig, str]) -> None:
    config, doc_id = reviewed
    store = Store(config.database_url)
    rec = record_from_dict(store.document(doc_id, "kodomo_iryo")["record"])
    dest = record_decision(config, "kodomo_iryo", doc_id, rec, Status.CONFIRMED, "tanaka", 1.25)

    assert dest.parent == config.job("kodomo_iryo").folders(config.home)["archive"] and dest.is_file()
    assert store.document(doc_id, "kodomo_iryo")["status"] == "確認済"
    frame = TimeLog(store).frame()
    assert 1.25 in frame["minutes_after"].tolist() and "確認済" in frame["status"].tolist()
    # nothing was written to the ledger inside the decision: the outbox holds it
    assert ledger_state(config, doc_id) == "要確認" and store.pending_count("kodomo_iryo") == 1

    assert Flusher(config).flush_once() == 1
    assert ledger_state(config, doc_id) == "確認済" and store.pending_count("kodomo_iryo") == 0
    assert [e["event"] for e in store.history(doc_id)][-2:] == ["confirmed", "written"]


def test_a_document_is_decided_once(reviewed: tuple[KakariConfig, str]) -> None:
    config, doc_id = reviewed
    store = Store(config.database_url)
    rec = record_from_dict(store.document(doc_id, "kodomo_iryo")["record"])
    record_decision(config, "kodomo_iryo", doc_id, rec, Status.ERROR, "tanaka", 0.5, reason="記入漏れ")
    with pytest.raises(AlreadyDecided, match="エラー"):
        record_decision(config, "kodomo_iryo", doc_id, rec, Status.CONFIRMED, "suzuki", 0.5)
    assert [e["event"] for e in store.history(doc_id)].count("rejected") == 1
    errors = config.job("kodomo_iryo").folders(config.home)["errors"]
    assert "記入漏れ" in next(errors.glob("*.error.txt")).read_text(encoding="utf-8")
