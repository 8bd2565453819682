"""The web step against the second sample system (子育て支援総合システム, samples/backoffice/kosodate): label
and role selectors, a menu behind a tab, flow keys in the URLs, 和暦 in one box and 西暦 years in three,
code-valued radios and selects, a file upload, the 受付番号 inside a sentence, no duplicate check — under
503s, slow pages, sessions that end every 25 requests and a SIGKILL while 登録 is in flight.

Checked in the system's own SQLite database: every record once, with the right values and attachment."""
from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path

import httpx
import openpyxl
import pytest
from sqlalchemy import select

from connectors.webform import WebFormSink
from connectors.webmapping import Credentials, load_system
from connectors.webstate import CONFIRMED, SUBMITTED, WebState
from jobs.store import Store, record_to_dict
from jobs.timelog import time_log
from jobs.websteps import build_web_sink
from kakari.config import JobConfig, KakariConfig, RunContext
from samples.backoffice.records import child_records
from samples.backoffice.server import Backoffice
from tests import webworker
from tests.webhome import assert_exactly_once, mapping_home, point_at

JOB = "kodomo_iryo"
RECEIPT = re.compile(r"^R\d+-\d{6}$")
QUICK = {"delay_min_ms": 30, "delay_max_ms": 120}  # the realistic 0.5–1.5 s, scaled down


@pytest.fixture(autouse=True)
def _env(kosodate: Backoffice, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, kosodate, "KOSODATE")


def setup_home(home: Path, *replacements: tuple[str, str]) -> Path:
    return mapping_home(home, "kosodate", *replacements)


def make_sink(home: Path, bo: Backoffice, browser: object, db: str = "kakari.db") -> WebFormSink:
    state = WebState(Store(f"sqlite:///{home / db}").engine)
    return WebFormSink(load_system("kosodate", home), state, home, JOB, Credentials(bo.user, bo.password),
                       browser=browser)


# =============================================================================================
# The sample system itself
# =============================================================================================
def test_the_second_system_is_built_unlike_the_first(kosodate: Backoffice) -> None:
    with httpx.Client(base_url=kosodate.url, follow_redirects=True) as c:
        r = c.post("/auth/signin", data={"staff_code": kosodate.user, "passphrase": kosodate.password})
        assert "業務ポータル" in r.text and re.search(r'id="panel-work"[^>]*hidden', r.text)  # the menu is behind a tab
        first, second = c.get("/kd/iryo/begin"), c.get("/kd/iryo/begin")
        keys = [re.search(r"/kd/iryo/f/([^/]+)/1", str(p.url)).group(1) for p in (first, second)]
        assert keys[0] != keys[1]  # a flow key per entry, in the URL
        ids = {re.search(r'<label for="([^"]+)">保護者氏名フリガナ', p.text).group(1) for p in (first, second)}
        assert len(ids) == 2  # the フリガナ input's id changes on every load
        expired = c.get("/kd/iryo/f/not-a-key/1")
        assert "この入力手続きは無効です" in expired.text
    kosodate.faults(session_requests=3)
    with httpx.Client(base_url=kosodate.url, follow_redirects=True) as c:
        c.post("/auth/signin", data={"staff_code": kosodate.user, "passphrase": kosodate.password})  # 1: /portal
        assert "業務ポータル" in c.get("/portal").text  # 2
        assert "業務ポータル" in c.get("/portal").text  # 3
        assert "セッションの有効期限が切れました" in c.get("/portal").text  # the 4th request: signed out


# =============================================================================================
# The sink against it
# =============================================================================================
def test_dry_run_shows_every_value_and_stops_before_registering(tmp_path: Path, kosodate: Backoffice,
                                                                browser: object) -> None:
    home = setup_home(tmp_path)
    rec = child_records(1, tmp_path / "files", seed=3, salt=str(tmp_path))[0]
    before = len(kosodate.applications())
    report = make_sink(home, kosodate, browser).dry_run(rec)
    assert report.refused is None and report.stopped_at == "確認"
    typed = {label: value for _, label, _, value in report.typed}
    applied = str(rec.fields["applied_on"].value)
    assert re.fullmatch(r"R\d\.\d{1,2}\.\d{1,2}", typed["申請日"])  # 和暦 in one box
    assert typed["児童生年月日（年）"] == str(rec.fields["child_birth"].value)[:4]  # 西暦 year alone
    assert typed["続柄"] in ("01", "02", "99") and typed["保険種別"] in ("社保", "国保", "共済")
    assert typed["申請書の写し"] == rec.meta["archived_path"]
    assert typed["整理番号"] == load_system("kosodate").key_for(rec.doc_id)
    assert applied and len(kosodate.applications()) == before  # nothing registered


def test_enters_records_through_labels_tabs_and_flow_keys_with_codes_and_the_attachment(
        tmp_path: Path, kosodate: Backoffice, browser: object) -> None:
    home = setup_home(tmp_path)
    records = child_records(3, tmp_path / "files", seed=4, salt=str(tmp_path))
    sink = make_sink(home, kosodate, browser)
    result = sink.write_many(records)
    assert sorted(result.written) == sorted(r.doc_id for r in records) and result.rejected == []
    receipts = assert_exactly_once(kosodate, records)
    for rec in records:
        sub = sink.state.get(rec.doc_id, "kosodate")
        assert sub.via == "entry" and RECEIPT.match(sub.confirmation)  # not the sentence around it
        assert receipts[sub.key] == sub.confirmation
    assert not (home / "web_failures").exists()


def test_a_503_on_step_two_redoes_step_two_at_its_flow_address(tmp_path: Path, kosodate: Backoffice,
                                                              browser: object) -> None:
    home = setup_home(tmp_path)
    rec = child_records(1, tmp_path / "files", seed=5, salt=str(tmp_path))[0]
    kosodate.faults(fail_once=r"^POST /kd/iryo/f/[^/]+/2$")
    sink = make_sink(home, kosodate, browser)
    assert sink.write_many([rec]).written == [rec.doc_id]
    assert kosodate.injected()["503_targeted"] >= 1
    log = kosodate.requests()
    failed = [line for line in log if re.fullmatch(r"POST /kd/iryo/f/[^/]+/2 503", line)][-1]
    flow = failed.split("/")[4]
    mine = [line for line in log if f"/f/{flow}/" in line]
    assert mine.count(f"POST /kd/iryo/f/{flow}/1") == 1  # step 1 was not typed again
    assert mine.count(f"GET /kd/iryo/f/{flow}/2") == 2  # step 2 reopened at the address with the flow key
    assert mine.count(f"POST /kd/iryo/f/{flow}/commit") == 1
    assert_exactly_once(kosodate, [rec])


def test_a_batch_under_503s_slow_pages_and_sessions_ending_every_25_requests(tmp_path: Path, kosodate: Backoffice,
                                                                           browser: object) -> None:
    home = setup_home(tmp_path)
    records = child_records(6, tmp_path / "files", seed=6, salt=str(tmp_path))
    before = kosodate.injected()
    kosodate.faults(error_rate=0.08, session_requests=25, seed=6, **QUICK)
    cfg = KakariConfig(home=home, db_url=f"sqlite:///{home / 'kakari.db'}",
                       jobs={JOB: JobConfig(bots=["child_medical"], sinks=["web:kosodate"], department="子育て支援課")})
    sink = build_web_sink("web:kosodate", cfg.job(JOB), RunContext(cfg, run_id="t", extras={"web_browser": browser}))
    result = sink.write_many(records)
    kosodate.calm()
    injected = kosodate.injected()
    assert injected["503"] > before["503"] and injected["expired"] > before["expired"]
    assert sorted(result.written) == sorted(r.doc_id for r in records)
    receipts = assert_exactly_once(kosodate, records)
    subs = WebState(Store(cfg.database_url).engine).all("kosodate")
    assert {s.confirmation for s in subs} == set(receipts.values()) and all(s.synced_at for s in subs)


# =============================================================================================
# Paper → ledger → system, with realistic delays; the 受付番号 in one form whichever way it was read
# =============================================================================================
def test_paper_to_ledger_to_the_second_system_with_realistic_delays(tmp_path: Path, kosodate: Backoffice,
                                                                    browser: object) -> None:
    from jobs.runner import run_job
    from samples.generate import generate

    home = setup_home(tmp_path / "home")
    job = JobConfig(bots=["child_medical"], sinks=["excel", "web:kosodate"], department="子育て支援課")
    cfg = KakariConfig(home=home, db_url=f"sqlite:///{home / 'kakari.db'}", jobs={JOB: job})
    ctx = RunContext(cfg, extras={"web_browser": browser})
    pdfs = generate(tmp_path / "samples", 2, 71, ["child_medical"])
    inbox = cfg.job(JOB).folders(home)["inbox"]
    inbox.mkdir(parents=True)
    truth = {}
    for pdf in pdfs:
        (inbox / pdf.name).write_bytes(pdf.read_bytes())
        os.utime(inbox / pdf.name, (time.time() - 60, time.time() - 60))
        truth[pdf.name] = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    # the system as it is (0.5–1.5 s a request, 5% 503s, 25 requests a session), and the answer to every
    # other 登録 lost, so some 受付番号 are read from the completion sentence, the others from the search list
    kosodate.faults(delay_min_ms=500, delay_max_ms=1500, error_rate=0.05, session_requests=25,
                    error_after_commit_every=2, seed=1)
    summary = run_job(cfg.job(JOB), ctx)
    kosodate.calm()
    assert summary.pending == 0 and not summary.flush.rejected
    registered = [n for n, t in truth.items() if t["expected_status"] == "自動登録"]
    assert len(registered) >= 2
    subs = {s.doc_id: s for s in WebState(Store(cfg.database_url).engine).all("kosodate")}
    assert len(subs) == len(registered) and all(s.state == CONFIRMED for s in subs.values())
    assert {s.via for s in subs.values()} == {"entry", "search"}
    ws = openpyxl.load_workbook(cfg.job(JOB).ledger_path(home), read_only=True)["台帳"]
    rows = list(ws.iter_rows(values_only=True))
    column = rows[0].index("システム受付番号")
    numbers = [r[column] for r in rows[1:] if r[column]]
    assert len(numbers) == len(registered)
    assert all(RECEIPT.match(n) for n in numbers), numbers  # the same form, from the sentence or the list
    assert sorted(numbers) == sorted(str(r["receipt_no"]) for r in kosodate.applications()
                                     if r["seiri_no"] in {s.key for s in subs.values()})
    for row in kosodate.applications():
        if row["seiri_no"] in {s.key for s in subs.values()}:
            assert row["attachment_size"] and row["attachment_name"].endswith(".pdf")  # the scan went along


# =============================================================================================
# kill -9 while 登録 is in flight, in a system with no duplicate check of its own
# =============================================================================================
def test_killed_while_registering_resumes_by_search_without_a_second_entry(tmp_path: Path,
                                                                           kosodate: Backoffice) -> None:
    home = setup_home(tmp_path)
    records = child_records(4, tmp_path / "files", seed=8, salt=str(tmp_path))
    records_file = tmp_path / "records.json"
    records_file.write_text(json.dumps([record_to_dict(r) for r in records], default=str), encoding="utf-8")
    db = home / "kakari.db"
    seed = int(os.environ.get("KAKARI_KILL_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    kosodate.faults(slow_ms=400, error_rate=0.05, session_requests=25, seed=seed % 1000)
    proc = webworker.start(home, records_file, "kosodate", "child_medical")
    deadline, in_flight = time.monotonic() + 120, None
    k = rng.randint(0, 2)
    while time.monotonic() < deadline and proc.poll() is None:
        states = webworker.states(db)
        submitted = [d for d, s in states if s == SUBMITTED]
        if submitted and sum(s == CONFIRMED for _, s in states) >= k:
            in_flight = submitted[0]
            time.sleep(rng.uniform(0.1, 0.35))
            webworker.kill(proc)
            break
        time.sleep(0.02)  # polling another process's database
    assert in_flight, f"seed {seed}: the run ended before the kill ({proc.returncode})"
    key = load_system("kosodate").key_for(in_flight)
    landed = False
    for _ in range(50):  # the cut request may still be inside the server
        landed = any(r["seiri_no"] == key for r in kosodate.applications())
        if landed:
            break
        time.sleep(0.1)
    kosodate.faults(slow_ms=0, **QUICK)
    proc = webworker.start(home, records_file, "kosodate", "child_medical")
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, f"seed {seed}: {err.decode(errors='replace')[-3000:]}"
    receipts = assert_exactly_once(kosodate, records)
    subs = {s.doc_id: s for s in WebState(Store(f"sqlite:///{db}").engine).all("kosodate")}
    assert all(s.state == CONFIRMED for s in subs.values()) and len(subs) == len(records)
    assert {s.confirmation for s in subs.values()} == set(receipts.values())
    assert subs[in_flight].via == ("search" if landed else "entry"), f"seed {seed}, landed={landed}"
    with Store(f"sqlite:///{db}").engine.connect() as conn:
        logged = conn.execute(select(time_log.c.doc_id).where(time_log.c.step == "web:kosodate")).all()
    assert sorted(r[0] for r in logged) == sorted(subs)
