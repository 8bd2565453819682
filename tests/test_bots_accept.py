"""`kakari bots test --accept`: a town's regression set from its own documents. The expected values
are what a clerk confirmed on the review screen (確認済 in the documents table), never what the bot
registered on its own; `--job` brings the job's confirmed documents into the folder first."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from jobs.runner import run_job
from jobs.store import Store, record_from_dict
from kakari.config import RunContext, load_config
from kakari.model import Status
from web import review
from web.accounts import User

ROOT = Path(__file__).resolve().parents[1]
KAKARI = str(Path(sys.executable).with_name("kakari"))


def test_accept_writes_what_the_clerk_confirmed(tmp_path: Path) -> None:
    from samples.generate import generate

    generate(tmp_path / "s", count=20, seed=8, forms=["child_medical"])  # two documents go to 要確認
    config = load_config(ROOT / "samples" / "kakari.toml", tmp_path / "home")
    job = config.job("kodomo_iryo")
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    pdfs = sorted((tmp_path / "s" / "child_medical").glob("child_medical_*.pdf"))
    for pdf in pdfs:
        shutil.copy2(pdf, inbox / pdf.name)
    run_job(job, RunContext(config))
    store = Store(config.database_url)
    pending = store.documents_for("kodomo_iryo", Status.REVIEW.value)
    assert len(pending) >= 2
    clerk = User("tanaka", "clerk", "子育て支援課")
    row = pending[0]
    rec = record_from_dict(row["record"])
    read_as = rec.fields["insurer_name"].value
    rec.fields["insurer_name"].value = "みどり町国保"  # the clerk's correction is what the regression set expects
    review.decide(config, clerk, "kodomo_iryo", row["doc_id"], rec, Status.CONFIRMED, 40.0)

    folder = tmp_path / "regression"
    folder.mkdir()
    registered = next(p for p in pdfs if p.name not in {r["original_name"] for r in pending})
    shutil.copy2(registered, folder / registered.name)  # read by the bot alone: nobody confirmed it
    env = os.environ | {"COLUMNS": "200"}
    proc = subprocess.run([KAKARI, "bots", "test", "child_medical", str(folder), "--accept", "--job", "kodomo_iryo",
                           "--config", str(ROOT / "samples" / "kakari.toml"), "--home", str(config.home)],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    out = proc.stdout + proc.stderr
    assert "確認済の文書を 1件" in out and "期待値を 1件" in out, out
    assert f"確認済の記録がありません: {registered.name}" in out
    copied = folder / row["original_name"]
    expected = json.loads(copied.with_suffix(".json").read_text(encoding="utf-8"))
    assert expected["fields"]["insurer_name"] == "みどり町国保" and expected["confirmed"]["by"] == "tanaka"
    assert expected["fields"]["guardian_name"] == rec.fields["guardian_name"].value
    # the bot reads what the document says: the regression set shows where the clerk differed
    assert proc.returncode == 4 and f"insurer_name: 読取 '{read_as}' / 期待 'みどり町国保'" in out, out
    assert "17/18" in out
    # accepting again adds nothing and keeps the JSON
    again = subprocess.run([KAKARI, "bots", "test", "child_medical", str(folder), "--accept", "--job", "kodomo_iryo",
                            "--config", str(ROOT / "samples" / "kakari.toml"), "--home", str(config.home)],
                           capture_output=True, text=True, cwd=ROOT, env=env)
    assert "確認済の文書を" not in again.stdout and "期待値を 0件" in again.stdout


def test_without_expected_values_the_message_says_how(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy2(ROOT / "bots" / "child_medical.blank.pdf", folder / "a.pdf")
    proc = subprocess.run([KAKARI, "bots", "test", "child_medical", str(folder), "--home", str(tmp_path / "h")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "--accept" in proc.stdout + proc.stderr
