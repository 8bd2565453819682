"""Item 11, the smaller ones: files private to the service account; security headers on every page;
inbox entries that are not taken are told once each; the ledger's 備考 after a confirmation; log
masking that leaves document ids whole."""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import stat
import subprocess
import time
from contextlib import closing
from pathlib import Path

import httpx
import openpyxl
import psutil
import pytest
from playwright.sync_api import expect

from tests.security.conftest import (
    CHILD_JOB,
    CONFIG,
    KAKARI,
    PASSWORD,
    ROOT,
    SHOP_JOB,
    Site,
    browser_login,
    fill_inbox,
    form_values,
    kakari,
    login,
    until,
)


# -- files and folders private to the service account -------------------------------------------------
@pytest.mark.skipif(os.name != "posix", reason="POSIX modes; on Windows the home's folder ACL decides (README)")
def test_everything_kakari_creates_is_private(tmp_path: Path, site: Site) -> None:
    home = tmp_path / "home"
    pdfs = sorted((site.samples / "child_medical").glob("child_medical_*.pdf"))[:12]
    inbox = fill_inbox(home, CHILD_JOB, pdfs)
    (inbox / "壊れた.pdf").write_bytes(b"%PDF-1.4 broken")
    os.utime(inbox / "壊れた.pdf", (time.time() - 10, time.time() - 10))
    os.chmod(home, 0o755)
    for p in (home / "jobs", home / "jobs" / CHILD_JOB, inbox):
        os.chmod(p, 0o755)  # made by the town (or the scanner's share): kakari leaves their mode alone
    mine = {home, home / "jobs", home / "jobs" / CHILD_JOB, inbox}
    # a generous umask, as on a PC nobody configured: kakari narrows it itself
    kakari("run", CHILD_JOB, "--config", str(CONFIG), home=home, umask=0o022)
    kakari("users", "add", "kacho", "--role", "manager", "--password-stdin", home=home, stdin=PASSWORD + "\n",
           umask=0o022, check=True)
    kakari("report", "--month", time.strftime("%Y-%m"), "--file", home=home, umask=0o022, check=True)
    server = subprocess.Popen([KAKARI, "web", "--port", "0", "--home", str(home)], cwd=ROOT,
                              preexec_fn=lambda: os.umask(0o022), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    until(lambda: (home / "web-secret").exists(), 30, "the web server's key")
    # the key is written before uvicorn starts; a Ctrl-C before it listens can be absorbed by its start-up
    until(lambda: any(c.status == psutil.CONN_LISTEN for c in psutil.Process(server.pid).net_connections("tcp")),
          30, "the web server listening")
    server.send_signal(signal.SIGINT)
    server.wait(20)
    found = []
    for path in [home, *home.rglob("*")]:
        if path in mine:
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{oct(mode)} {path.relative_to(home)}")
    names = {p.name for p in home.rglob("*")}
    assert {"kakari.db", "kakari.log", "web-secret", "壊れた.pdf.error.txt"} <= names
    assert any(n.endswith(".xlsx") for n in names) and any(n.startswith("削減効果報告") for n in names)
    assert not found, found


# -- security headers on every page -------------------------------------------------------------------------
def pages(site: Site) -> dict[str, str]:
    """A page of each kind → who may open it."""
    doc = site.doc_id(site.with_defect("insurer_length"))
    return {"/login": "", "/review": "tanaka", f"/review/{CHILD_JOB}/{doc}": "tanaka",
            f"/review/{CHILD_JOB}/{doc}/page.png": "tanaka", "/dashboard": "kacho", "/admin": "joho",
            f"/reports/{time.strftime('%Y-%m')}.csv": "kacho", "/no/such/page": "kacho",
            "/static/review/review.js": "", "/dashboard?month=abc": "kacho"}


def test_security_headers_on_every_page(site: Site) -> None:
    clients = {"": httpx.Client(base_url=site.base, follow_redirects=False)}
    for path, who in pages(site).items():
        if who not in clients:
            clients[who] = login(site.base, who)
        r = clients[who].get(path)
        h = r.headers
        csp = h.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, (path, csp)
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, (path, csp)
        assert h.get("x-frame-options") == "DENY" and h.get("x-content-type-options") == "nosniff", path
        assert h.get("referrer-policy") == "no-referrer", path
        if not path.startswith("/static/"):  # pages, page images and reports hold personal data
            assert "no-store" in h.get("cache-control", ""), (path, h.get("cache-control"))
        assert "server" not in h or "uvicorn" not in h["server"].lower(), path


def test_the_pages_work_under_their_policy(site: Site, browser) -> None:  # noqa: ANN001
    page, violations = browser_login(browser, site.base, "kacho", "/dashboard")
    expect(page.locator("img.chart").first).to_be_attached()
    assert page.evaluate("getComputedStyle(document.querySelector('header')).display") == "flex"  # styled
    page.goto(f"{site.base}/review/{CHILD_JOB}/{site.doc_id(site.with_defect('insurer_length'))}")
    page.wait_for_selector("#review")
    assert page.evaluate("document.activeElement.id").startswith("f_")  # review.js ran
    assert not violations, violations


# -- inbox entries that are not taken ----------------------------------------------------------------------
def processed(home: Path) -> int:
    if not (home / "kakari.db").exists():
        return 0
    with sqlite3.connect(home / "kakari.db") as db:
        return db.execute("select count(*) from documents").fetchone()[0]


def test_skipped_inbox_entries_are_told_once_each(tmp_path: Path, site: Site) -> None:
    home = tmp_path / "home"
    inbox = fill_inbox(home, SHOP_JOB, [])
    pdf = sorted((site.samples / "restaurant_permit").glob("*.pdf"))[0]
    (inbox / "scans").mkdir()
    (inbox / ".隠し.pdf").write_bytes(pdf.read_bytes())
    (inbox / "リンク.pdf").symlink_to(pdf)
    os.mkfifo(inbox / "パイプ.pdf")
    proc = subprocess.Popen([KAKARI, "watch", SHOP_JOB, "--config", str(CONFIG), "--home", str(home),
                             "--rescan", "0.3", "--settle", "0.2"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ | {"COLUMNS": "300"})
    try:
        log = home / "logs" / "kakari.log"
        until(lambda: log.exists() and log.read_text(encoding="utf-8").count("は処理しません") >= 4, 30,
              "the notices")
        time.sleep(2)  # several rescans more
        (inbox / "届いた.pdf").write_bytes(pdf.read_bytes())
        until(lambda: processed(home) == 1, 60, "the real file processed")
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    text = log.read_text(encoding="utf-8")
    for kind in ("フォルダーです", "隠しファイル", "シンボリックリンク", "通常のファイルではありません"):
        assert text.count(kind) == 1, (kind, text)  # once each, not on every rescan
    assert stderr.count("は処理しません") == 4, stderr  # the clerk at the console sees them too
    assert os.path.islink(inbox / "リンク.pdf") and (inbox / "scans").is_dir()  # left exactly as they were


# -- the ledger's 備考 after a confirmation -----------------------------------------------------------------
def test_the_ledger_note_says_what_happened_last(site: Site) -> None:
    name = site.with_defect("missing_child_kana")
    doc = site.doc_id(name)
    ledger = site.home / "ledgers" / "子ども医療費受給資格証_台帳.xlsx"

    def row() -> dict:
        ws = openpyxl.load_workbook(ledger)["台帳"]
        header = [c.value for c in ws[1]]
        return next(dict(zip(header, (c.value for c in r))) for r in ws.iter_rows(min_row=2) if r[0].value == doc)

    before = row()
    assert before["状態"] == "要確認" and before["備考"]  # the validator's message
    with closing(login(site.base, "tanaka")) as clerk:
        values = form_values(clerk.get(f"/review/{CHILD_JOB}/{doc}").text)  # as the browser would send them
        values |= {"f_child_kana": "ミドリ　サクラ", "action": "confirm", "active_seconds": "30"}  # as read from the applicant
        r = clerk.post(f"/review/{CHILD_JOB}/{doc}", data=values)
        assert r.status_code == 303, re.findall(r'class="problem">([^<]+)', r.text)
    until(lambda: row()["状態"] == "確認済", 30, "the outbox writing the decision")
    after = row()
    assert after["備考"] != before["備考"] and "確認者: tanaka" in after["備考"], after["備考"]


# -- masking leaves document ids whole ------------------------------------------------------------------------
def test_log_lines_still_match_their_documents(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    import kakari.log
    from kakari.log import redact, register_personal

    monkeypatch.setattr(kakari.log, "_personal", set())  # what is registered here stays here
    register_personal(["78", "4827"])  # short personal values (a house number, a room number)
    assert redact("c67d482785f3 78番地") == "c67d482785f3 7＊番地"  # masked as a number, not inside an id
    log = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in (site.home / "logs").glob("*.log*"))
    with sqlite3.connect(site.home / "kakari.db") as db:
        ids = [d for (d, n) in db.execute("select doc_id, original_name from documents")
               if n.startswith(("child_medical_", "restaurant_permit_", "山﨑"))]  # those `kakari run` read
    assert ids
    missing = [d for d in ids if d[:12] not in log]
    assert not missing, missing  # every document's id is in the log, whole
    assert not re.search(r"[0-9a-f]{4,}＊[0-9a-f＊]*", log)  # and nothing was masked inside a hex run
