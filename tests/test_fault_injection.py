"""Nothing lost, nothing doubled: hundreds of workers killed with SIGKILL at random moments.

tests/killer.py forks a worker per step and kills it after a random delay, dropping one more file
each time (the corpus, broken files, then re-sent copies under new names). Afterwards every
document must be in the ledger exactly once and in the time log exactly once, and every file
dropped must be in exactly one of archive / review / errors.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.excel import read_ledger
from jobs.store import Store, documents
from jobs.timelog import time_log
from kakari.config import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "samples" / "kakari.toml"
KILLS = int(os.environ.get("KAKARI_FAULT_KILLS", "200"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reportlab.pdfgen import canvas

    from samples.generate import generate

    out = tmp_path_factory.mktemp("fault")
    generate(out / "gen", count=90, seed=31, forms=["child_medical"])
    corpus = out / "corpus"
    corpus.mkdir()
    for pdf in sorted((out / "gen" / "child_medical").glob("child_medical_*.pdf")):
        pdf.rename(corpus / pdf.name)
    first = sorted(corpus.iterdir())[0].read_bytes()
    (corpus / "zz_途中まで.pdf").write_bytes(first[: len(first) // 2])
    (corpus / "zz_メモ.pdf").write_text("PDF ではない文書", encoding="utf-8")
    (corpus / "zz_空.pdf").write_bytes(b"")
    c = canvas.Canvas(str(corpus / "zz_鍵付き.pdf"), encrypt="secret")
    c.drawString(100, 700, "locked")
    c.save()
    return corpus


@pytest.mark.slow
def test_sigkill_at_random_points_loses_and_doubles_nothing(corpus: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.run([sys.executable, "-m", "tests.killer", str(CONFIG), str(home), "kodomo_iryo", str(corpus),
                           "--kills", str(KILLS), "--resend", "25", "--seed", "7"],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["kills"] >= KILLS and summary["final_exit"] == 0, summary
    dropped = summary["dropped"]
    assert len(dropped) == 94 + 25

    config = load_config(CONFIG, home)
    job = config.job("kodomo_iryo")
    folders = job.folders(home)
    store = Store(config.database_url)
    with store.engine.connect() as conn:
        doc_ids = [r[0] for r in conn.execute(select(documents.c.doc_id).where(documents.c.job == job.name))]
        per_doc = dict(conn.execute(select(time_log.c.doc_id, func.count()).where(time_log.c.job == job.name)
                                    .group_by(time_log.c.doc_id)).all())
    assert len(doc_ids) == len(set(doc_ids)) == 94  # 90 forms + 4 broken files; the re-sent copies are the same documents
    assert per_doc == {d: 1 for d in doc_ids}  # the time log: exactly once each

    rows = read_ledger(job.ledger_path(home))
    in_ledger = Counter(r["文書ID"] for r in rows)
    assert set(in_ledger) == set(doc_ids) and set(in_ledger.values()) == {1}  # the ledger: exactly once each
    assert store.pending_count(job.name) == 0

    placed = Counter()
    for where in ("archive", "review", "errors"):
        for p in folders[where].iterdir():
            if not p.name.endswith(".error.txt"):
                placed[p.name] += 1
    assert placed == Counter(dropped)  # every file dropped is in exactly one place, none extra
    assert list(folders["inbox"].iterdir()) == [] and list(folders["processing"].iterdir()) == []
    for name in ("zz_途中まで.pdf", "zz_メモ.pdf", "zz_空.pdf", "zz_鍵付き.pdf"):
        assert (folders["errors"] / f"{name}.error.txt").exists(), name
    leftovers = [p.name for p in job.ledger_path(home).parent.iterdir() if ".tmp" in p.name]
    assert leftovers == []  # a save cut short leaves no temp workbook behind for good
