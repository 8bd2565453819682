"""End to end: generated applications entered into the sample system (real uvicorn subprocess, real
Chromium) as the job step "web:eisei", checked in the system's own SQLite database: each exactly once
with the right values — under 503s, slow pages and logouts, after timeouts, and after kill -9."""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from connectors.webmapping import load_system
from connectors.webstate import CONFIRMED, SUBMITTED, WebState
from jobs import timelog
from jobs.store import Store, events, record_from_dict, record_to_dict
from jobs.timelog import TaskRecord, TimeLog, time_log
from jobs.websteps import build_web_sink, reconcile
from kakari.config import JobConfig, KakariConfig, RunContext
from kakari.errors import PageTimeout, TransientError
from kakari.model import Field, Record
from samples.backoffice.records import mismatches, sample_records
from samples.backoffice.server import Backoffice
from tests import webworker
from tests.webhome import assert_exactly_once, mapping_home, point_at

JOB = "inshoku_kyoka"


@pytest.fixture(autouse=True)
def _env(server: Backoffice, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, server, "EISEI")


def setup_home(home: Path, *replacements: tuple[str, str]) -> Path:
    return mapping_home(home, "eisei", *replacements)


def context(home: Path, browser: object | None = None, sinks: list[str] | None = None) -> tuple[JobConfig, RunContext]:
    job = JobConfig(bots=["restaurant_permit"], sinks=sinks or ["web:eisei"], department="生活環境課",
                    task="飲食店営業許可申請の受付入力")
    cfg = KakariConfig(home=home, db_url=f"sqlite:///{home / 'kakari.db'}", jobs={JOB: job})
    extras = {"web_browser": browser} if browser is not None else {}
    return cfg.job(JOB), RunContext(cfg, run_id="e2e", extras=extras)


def as_outbox(records: list[Record]) -> list[Record]:
    """What jobs.outbox.flush_pending hands the sink: records through the JSON outbox payload."""
    return [record_from_dict(json.loads(json.dumps(record_to_dict(r), default=str))) for r in records]


def test_sample_system_itself_refuses_a_second_registration_of_a_key(server: Backoffice) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=True) as c:
        c.post("/login", data={"user_id": server.user, "password": server.password})
        page1 = {"kakari_ref": "KK-E2EDUPLICATE", "applied_era": "令和", "applied_year": "7", "applied_month": "4",
                 "applied_day": "1", "applicant_type": "個人", "applicant_sei": "佐藤", "applicant_mei": "翔太",
                 "applicant_sei_kana": "サトウ", "applicant_mei_kana": "ショウタ", "zip1": "989", "zip2": "6101",
                 "addr_pref": "若葉県", "addr_city": "みどり町", "addr_rest": "本町1-2-3", "tel": "0229-12-3456"}
        page2 = {"shop_name": "食堂みどり", "shop_address": "若葉県みどり町本町1-2-3", "business_type": "飲食店営業",
                 "manager_sei": "佐藤", "manager_mei": "翔太", "manager_qualification": "調理師", "seating": "無",
                 "fee": "16000"}
        receipts = []
        for _ in range(2):
            c.get("/eisei/permit/new")
            assert c.post("/eisei/permit/new/1", data=page1).url.path == "/eisei/permit/new/2"
            c.post("/eisei/permit/new/2", data=page2)
            receipts.append(c.post("/eisei/permit/new/register").text)
        assert "登録完了" in receipts[0] and "既に登録されています" in receipts[1]
        wrong = c.post("/eisei/permit/new/1", data=page1 | {"tel": "12-34"}).text
        assert "電話番号は0から始まる10桁または11桁" in wrong
    assert len([r for r in server.applications() if r["kakari_ref"] == "KK-E2EDUPLICATE"]) == 1


def test_job_step_enters_a_batch_under_503s_slow_pages_and_logouts(tmp_path: Path, server: Backoffice,
                                                                  browser: object) -> None:
    home = setup_home(tmp_path)
    job, ctx = context(home, browser)
    records = sample_records(8, seed=21, salt=str(tmp_path))
    store = Store(ctx.config.database_url)
    now = datetime.now(timezone.utc)
    with store.begin() as conn:  # the ledger step the runner recorded before: the web step copies 原課・業務名
        timelog.record_many(conn, [TaskRecord(rec.doc_id, JOB, "ledger", "生活環境課", "飲食店営業許可申請の受付入力",
                                              "restaurant_permit", "自動登録", now, now, 12.0, 0.0) for rec in records])
    before = server.injected()
    server.faults(error_rate=0.08, slow_ms=400, slow_rate=0.25, logout_every=45, seed=21, duplicate_check=False)
    sink = build_web_sink("web:eisei", job, ctx)
    result = sink.write_many(as_outbox(records))
    server.calm()
    injected = server.injected()
    assert injected["503"] > before["503"] and injected["slow"] > before["slow"]
    assert injected["logout"] > before["logout"]
    assert sorted(result.written) == sorted(r.doc_id for r in records)
    receipts = assert_exactly_once(server, records)
    state = WebState(store.engine)
    assert {s.confirmation for s in state.all("eisei")} == set(receipts.values())
    assert all(s.synced_at is not None for s in state.all("eisei"))
    with store.engine.connect() as conn:
        rows = conn.execute(select(time_log).where(time_log.c.step == "web:eisei")).mappings().all()
        confirmed = conn.execute(select(events).where(events.c.event == "web_confirmed")).mappings().all()
    assert len(rows) == len(records) and len(confirmed) == len(records)
    for row in rows:
        assert (row["minutes_before"], row["minutes_after"]) == (7.0, 0.0)  # typing_minutes of the mapping
        assert (row["department"], row["task"]) == ("生活環境課", "飲食店営業許可申請の受付入力")
        assert row["robot_seconds"] > 0
    assert all(any(v in e["detail"] for v in receipts.values()) for e in confirmed)
    count = len(server.applications())
    again = build_web_sink("web:eisei", job, ctx).write_many(as_outbox(records))
    assert again.written == [] and len(again.skipped) == len(records)
    assert len(server.applications()) == count


def test_run_killed_mid_submission_resumes_without_a_second_entry(tmp_path: Path, server: Backoffice) -> None:
    home = setup_home(tmp_path)
    records = sample_records(6, seed=31, salt=str(tmp_path))
    records_file = tmp_path / "records.json"
    records_file.write_text(json.dumps([record_to_dict(r) for r in records], default=str), encoding="utf-8")
    db = home / "kakari.db"
    seed = int(os.environ.get("KAKARI_KILL_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    # every request slower, so the 登録 click is in flight long enough to be cut; and no duplicate check
    # in the system, so only kakari's own state and search stand between a replay and a second entry
    server.faults(slow_ms=400, duplicate_check=False)
    system = load_system("eisei")

    # run 1: killed 0.15–0.35 s after a record became "submitted" (登録 clicked, answer not read yet),
    # once k records are confirmed: the request is then usually inside the server, which finishes it
    k = rng.randint(1, 3)
    proc = webworker.start(home, records_file, "eisei", "restaurant_permit")
    deadline, in_flight = time.monotonic() + 90, None
    while time.monotonic() < deadline and proc.poll() is None:
        states = webworker.states(db)
        submitted = [d for d, s in states if s == SUBMITTED]
        if submitted and sum(s == CONFIRMED for _, s in states) >= k:
            in_flight = submitted[0]
            time.sleep(rng.uniform(0.15, 0.35))
            webworker.kill(proc)
            break
        time.sleep(0.02)  # polling another process's database; the sink itself never sleeps to wait
    assert in_flight, f"seed {seed}: run 1 ended before the kill ({proc.returncode})"
    key = system.key_for(in_flight)
    landed = False
    for _ in range(50):  # the orphaned request may still be inside the server
        landed = any(r["kakari_ref"] == key for r in server.applications())
        if landed:
            break
        time.sleep(0.1)

    # run 2: killed at a random moment
    proc = webworker.start(home, records_file, "eisei", "restaurant_permit")
    try:
        proc.wait(rng.uniform(2.0, 8.0))
    except subprocess.TimeoutExpired:
        webworker.kill(proc)

    # run 3: to the end
    server.faults(slow_ms=0)
    proc = webworker.start(home, records_file, "eisei", "restaurant_permit")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, f"seed {seed}: {err.decode(errors='replace')[-3000:]}"
    receipts = assert_exactly_once(server, records)
    state = WebState(Store(f"sqlite:///{db}").engine)
    subs = {s.doc_id: s for s in state.all("eisei")}
    assert all(s.state == CONFIRMED for s in subs.values()) and len(subs) == len(records)
    assert {s.confirmation for s in subs.values()} == set(receipts.values())
    # the record cut in flight: registered by the orphaned request → found by search, else entered now
    assert subs[in_flight].via == ("search" if landed else "entry"), f"seed {seed}, landed={landed}"
    with Store(f"sqlite:///{db}").engine.connect() as conn:
        logged = conn.execute(select(time_log.c.doc_id).where(time_log.c.step == "web:eisei")).all()
    assert sorted(r[0] for r in logged) == sorted(subs)  # one time-log row each, none doubled by the replays


def test_pages_slower_than_the_timeout_park_the_batch_and_a_later_run_finishes(tmp_path: Path, server: Backoffice,
                                                                               browser: object) -> None:
    home = setup_home(tmp_path, ("navigation_seconds = 30", "navigation_seconds = 1"),
                      ("attempts = 4 ", "attempts = 2 "), ("step_attempts = 3", "step_attempts = 1"))
    job, ctx = context(home, browser)
    records = sample_records(2, seed=41, salt=str(tmp_path))
    server.faults(slow_ms=2500)
    with pytest.raises(PageTimeout) as e:
        build_web_sink("web:eisei", job, ctx).write_many(as_outbox(records))
    assert isinstance(e.value, TransientError) and "秒以内に表示されませんでした" in e.value.message
    server.calm()
    shots = list((home / "web_failures").glob(f"{records[0].doc_id}_*.png"))
    assert len(shots) == 2  # one per failed attempt
    result = build_web_sink("web:eisei", job, ctx).write_many(as_outbox(records))
    assert len(result.written) + len(result.skipped) == len(records)
    assert_exactly_once(server, records)


def test_reconcile_is_idempotent_after_a_crash_between_confirm_and_bookkeeping(
        tmp_path: Path, server: Backoffice, browser: object, monkeypatch: pytest.MonkeyPatch) -> None:
    home = setup_home(tmp_path)
    job, ctx = context(home, browser)
    rec = sample_records(1, seed=51, salt=str(tmp_path))[0]
    sink = build_web_sink("web:eisei", job, ctx)
    monkeypatch.setattr(sink.hooks, "batch_done", lambda records: None)  # "dies" before the bookkeeping
    sink.write_many(as_outbox([rec]))
    store = Store(ctx.config.database_url)
    assert TimeLog(store).count(step="web:eisei") == 0
    assert reconcile(job, ctx, "eisei") == 1
    assert reconcile(job, ctx, "eisei") == 0
    assert TimeLog(store).count(step="web:eisei") == 1
    assert_exactly_once(server, [rec])


def test_paper_to_ledger_to_web_system(tmp_path: Path, server: Backoffice, browser: object) -> None:
    """The whole job: generated PDFs in the inbox → OCR → ledger → web system, via run_job; the answer to
    every other 登録 is lost, so some 受付番号 are read from the completion page and the others from the search."""
    import openpyxl

    from jobs.runner import run_job
    from samples.generate import generate

    home = setup_home(tmp_path / "home")
    job, ctx = context(home, browser, sinks=["excel", "web:eisei"])
    pdfs = generate(tmp_path / "samples", 6, 61, ["restaurant_permit"])
    inbox = job.folders(home)["inbox"]
    inbox.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, object]] = {}
    for pdf in pdfs:
        truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
        (inbox / pdf.name).write_bytes(pdf.read_bytes())
        os.utime(inbox / pdf.name, (time.time() - 60, time.time() - 60))
        expected[hashlib.sha256(pdf.read_bytes()).hexdigest()] = truth
    server.faults(error_after_commit_every=2)
    summary = run_job(job, ctx)
    server.calm()
    registered = {d: t for d, t in expected.items() if t["expected_status"] == "自動登録"}
    assert registered and summary.pending == 0
    system = load_system("eisei", home)
    keys = {r["kakari_ref"]: r for r in server.applications()}
    for doc_id, truth in expected.items():
        rows = [r for k, r in keys.items() if k == system.key_for(doc_id)]
        if doc_id not in registered:
            assert rows == []  # 要確認 waits for a person before it goes into the system
            continue
        assert len(rows) == 1
        rec = Record(doc_id, "restaurant_permit", {k: Field(k, k, v) for k, v in truth["fields"].items()})
        assert mismatches(rec, rows[0]) == []
    subs = {s.doc_id: s for s in WebState(Store(ctx.config.database_url).engine).all("eisei")}
    assert {s.via for s in subs.values()} == {"entry", "search"}
    rows = list(openpyxl.load_workbook(job.ledger_path(home), read_only=True)["台帳"].iter_rows(values_only=True))
    column = rows[0].index("システム受付番号")
    numbers = sorted(str(r[column]) for r in rows[1:] if r[column])
    assert numbers == sorted(str(keys[system.key_for(d)]["receipt_no"]) for d in registered)
    assert all(re.fullmatch(system.receipt_pattern, n) for n in numbers), numbers  # one form, either way
