"""The review screen of a row of an online export: the row as the applicant typed it and links to its
attachments instead of a page image; a clerk's decision leaves the export (which holds other rows)
where it is archived."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from jobs.decisions import record_decision
from jobs.runner import run_job
from jobs.store import Store, record_from_dict
from kakari.config import RunContext, load_config
from kakari.model import Status
from web.accounts import add_user, sections_of
from web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
JOB = "kodomo_iryo_online"
PASSWORD = "midori-2026-test"


def test_a_row_in_review_shows_its_cells_and_attachments(tmp_path: Path) -> None:
    from samples.exports import generate

    e = generate(tmp_path / "s", "child_medical", count=12, seed=5, attachments="zip", attachment_rate=1.0)
    config = load_config(ROOT / "samples" / "kakari.toml", tmp_path / "home")
    job = config.job(JOB)
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    assert e.companion is not None
    shutil.copy2(e.companion, inbox / e.companion.name)
    shutil.copy2(e.path, inbox / e.path.name)
    run_job(job, RunContext(config))
    store = Store(config.database_url)
    add_user(store, "tanaka", PASSWORD, "clerk", "子育て支援課", sections=sections_of(config))
    waiting = [d for d in store.documents_for(JOB, Status.REVIEW.value)
               if any(a.get("member") for a in (d["record"]["meta"].get("attachments") or []))]
    assert waiting, "the sample has wrong rows with their attachments"
    doc = waiting[0]
    meta = doc["record"]["meta"]

    client = TestClient(create_app(config))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    client.post("/login", data={"username": "tanaka", "password": PASSWORD, "csrf_token": token.group(1)})
    page = client.get(f"/review/{JOB}/{doc['doc_id']}")
    assert page.status_code == 200
    html = page.text
    assert 'id="row"' in html and "page.png" not in html  # the row, not a page image
    assert meta["export"]["receipt"] in html and f"{meta['export']['line']}行目" in html
    link = f"/review/{JOB}/{doc['doc_id']}/attachment/0"
    assert link in html
    got = client.get(link)
    assert got.status_code == 200 and got.headers["cache-control"] == "private, no-store"
    assert got.content[:4] in (b"%PDF", b"\x89PNG")
    assert client.get(f"/review/{JOB}/{doc['doc_id']}/attachment/99").status_code == 404

    rec = record_from_dict(doc["record"])
    before = len(store.documents_for(JOB, Status.REVIEW.value))
    archived = record_decision(config, JOB, doc["doc_id"], rec, Status.CONFIRMED, "tanaka", 1.5)
    assert archived == Path(doc["stored_path"]) and archived.is_file()  # the export stays, whole
    assert store.document(doc["doc_id"], JOB)["status"] == Status.CONFIRMED.value
    assert len(store.documents_for(JOB, Status.REVIEW.value)) == before - 1
