"""Item 1: a file name that is not valid UTF-8 (a scanner's Shift_JIS name, stray bytes) no longer
stops the inbox; names are decoded once at intake and shown safely everywhere. Fuzzed (bytes, not
only str) through intake, the review screen, history and `kakari watch`."""
from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from jinja2 import Environment

from tests.security.conftest import CHILD_JOB, CONFIG, KAKARI, ROOT, Site, fill_inbox, kakari, login, until

SJIS_NAME = b"\x90\x5c\x90\xbf\x8f\x91.pdf"  # 申請書.pdf in Shift_JIS, as a scanner on a Windows share writes it
BAD_NAME = b"bad\xff\xfe.pdf"


def escaped(text: str) -> str:
    """`text` as the pages' templates print it (Jinja2 with autoescape)."""
    return Environment(autoescape=True).from_string("{{ t }}").render(t=text)


def unique_copy(pdf: Path, n: int) -> bytes:
    """The same application with one more comment byte string after %%EOF: a different document id."""
    return pdf.read_bytes() + f"\n% copy {n} {time.time_ns()}\n".encode()


def rows(home: Path, sql: str, *args: object) -> list[tuple]:
    if not (home / "kakari.db").exists():
        return []
    with sqlite3.connect(home / "kakari.db") as db:
        try:
            return db.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # the tables are being made
            return []


def test_undecodable_names_do_not_stop_the_inbox(tmp_path: Path, site: Site) -> None:
    home = tmp_path / "home"
    good = sorted((site.samples / "child_medical").glob("child_medical_*.pdf"))
    inbox = fill_inbox(home, CHILD_JOB, good[:2])
    for i, name in enumerate((SJIS_NAME, BAD_NAME)):
        path = os.fsencode(inbox) + b"/" + name
        with open(path, "wb") as f:
            f.write(unique_copy(good[3], i))
        os.utime(path, (time.time() - 10, time.time() - 10))
    proc = kakari("run", CHILD_JOB, "--config", str(CONFIG), home=home)
    assert proc.returncode in (0, 4), proc.stdout + proc.stderr
    assert "内部エラー" not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
    assert "4件を処理しました" in proc.stdout  # the files after the odd names were processed too
    assert os.listdir(inbox) == [] and os.listdir(home / "jobs" / CHILD_JOB / "processing") == []
    names = {r[0] for r in rows(home, "select original_name from documents")}
    assert "申請書.pdf" in names  # shown as the town wrote it, not as mojibake
    assert "bad\ufffd\ufffd.pdf" in names  # undecodable bytes become U+FFFD, once, at intake
    hist = kakari("history", BAD_NAME, home=home)  # the same bytes typed in a terminal find it
    assert hist.returncode == 0 and "受付" in hist.stdout, hist.stdout + hist.stderr  # the claimed event


# bytes a POSIX file name may hold: anything but "/" and NUL; at most 200 bytes (the claim adds a token)
name_bytes = st.binary(min_size=1, max_size=120).map(lambda b: b.replace(b"/", b"_").replace(b"\x00", b"_")).filter(
    lambda b: b not in (b".", b"..") and not b.startswith((b".", b"~$")) and not b.lower().endswith(
        (b".tmp", b".part", b".crdownload", b".partial", b".swp", b".error.txt")) and not b.endswith(b"~"))


@pytest.fixture(scope="module")
def manager(site: Site) -> httpx.Client:
    return login(site.base, "kacho")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(raw=name_bytes)
def test_fuzzed_names_through_intake_review_screen_and_history(raw: bytes, site: Site, manager: httpx.Client) -> None:
    """Any bytes as a name: the document is taken, reaches the 要確認 queue and its review page (name
    shown escaped), and `history` finds it by the same bytes."""
    from connectors.folder import display_name
    from jobs.runner import run_job
    from kakari.config import RunContext, load_config

    config = load_config(CONFIG, site.home)
    inbox = config.job(CHILD_JOB).folders(site.home)["inbox"]
    path = os.fsencode(inbox) + b"/" + raw + b".pdf"
    with open(path, "wb") as f:  # a 要確認 application (the phone is missing), so it is on the review screen
        f.write(unique_copy(site.samples / "child_medical" / site.with_defect("missing_phone"), len(raw)))
    os.utime(path, (time.time() - 10, time.time() - 10))
    summary = run_job(config.job(CHILD_JOB), RunContext(config))
    [outcome] = summary.outcomes
    shown = display_name(os.fsdecode(raw + b".pdf"))
    assert outcome.original_name == shown and outcome.status.value == "要確認", outcome
    shown.encode("utf-8")  # storable and printable text: no surrogates left
    queue = manager.get("/review")
    assert queue.status_code == 200 and escaped(shown) in queue.text
    page = manager.get(f"/review/{CHILD_JOB}/{outcome.doc_id}")
    assert page.status_code == 200 and escaped(shown) in page.text
    if "<" in shown:  # markup in a name is text on the page, never an element
        assert shown not in queue.text and shown not in page.text
    from jobs.store import Store

    trail = Store(config.database_url).history(original_name=display_name(os.fsdecode(raw + b".pdf")))
    assert {e["event"] for e in trail} >= {"claimed", "review", "archived"}


def nasty_names(n: int = 24) -> list[bytes]:
    """Names scanners, mail clients and attackers produce: Shift_JIS and broken UTF-8, control
    characters and newlines, bidi overrides, markup, very long names, and random bytes."""
    rng = random.Random(18)
    names = [SJIS_NAME, BAD_NAME, "山﨑　智子_飲食店.pdf".encode(), "改行\n2026-01-01 | INFO | forged.pdf".encode(),
             "\u202eFDP.exe".encode(), b"[red]markup[bold].pdf", b"<img src=x onerror=alert(1)>.pdf",
             b"x" * 190 + b".pdf", "長い名前".encode() * 20 + b".pdf", b"tab\there.pdf", b"\x1b[31mred.pdf",
             b"back\\slash.pdf"]
    while len(names) < n:
        raw = bytes(rng.randrange(1, 256) for _ in range(rng.randrange(3, 60))).replace(b"/", b"_")
        if not raw.startswith((b".", b"~$")):
            names.append(raw + b".pdf")
    return names


def test_kakari_watch_takes_every_name_and_stays_quiet(tmp_path: Path, site: Site) -> None:
    home = tmp_path / "home"
    inbox = home / "jobs" / CHILD_JOB / "inbox"
    proc = subprocess.Popen([KAKARI, "watch", CHILD_JOB, "--config", str(CONFIG), "--home", str(home),
                             "--rescan", "0.5", "--settle", "0.2"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=os.environ | {"COLUMNS": "200"})
    names = nasty_names()
    try:
        until(inbox.exists, 30, "the inbox")
        pdf = site.samples / "child_medical" / "child_medical_0002.pdf"
        for i, raw in enumerate(names):
            with open(os.fsencode(inbox) + b"/" + raw, "wb") as f:
                f.write(unique_copy(pdf, i))
        until(lambda: len(rows(home, "select 1 from documents")) == len(names), 120, "every file processed")
        time.sleep(2)  # a few more rescans: a broken state would now be logging on every pass
        log = home / "logs" / "kakari.log"
        size = log.stat().st_size
        time.sleep(2)
        assert log.stat().st_size == size  # nothing repeats while there is nothing to do
    finally:
        proc.send_signal(signal.SIGINT)
        _stdout, stderr = proc.communicate(timeout=30)
    text = log.read_text(encoding="utf-8")
    assert "内部エラー" not in text and "Traceback" not in text, text[-3000:]
    assert proc.returncode == 0, stderr.decode(errors="replace")
    assert os.listdir(inbox) == [] and os.listdir(home / "jobs" / CHILD_JOB / "processing") == []
    stored = [r[0] for r in rows(home, "select original_name from documents")]
    assert all(isinstance(s, str) and s for s in stored) and "申請書.pdf" in stored


def test_kakari_mask_shows_any_name_and_never_crashes(tmp_path: Path) -> None:
    """The one-off `kakari mask` takes names from the command line: undecodable bytes are shown as the
    town's PC would show them, and a name that looks like console markup is printed, not parsed."""
    folder = os.fsencode(tmp_path)
    broken = b"%PDF-1.4\n broken beyond repair"
    for raw in (SJIS_NAME, BAD_NAME, b"x[red]y.pdf"):
        with open(folder + b"/" + raw, "wb") as f:
            f.write(broken)
    names = [folder + b"/" + raw for raw in (SJIS_NAME, BAD_NAME, b"x[red]y.pdf", b"missing[/b].pdf")]
    proc = kakari("mask", *names, "--out", str(tmp_path / "out"), home=tmp_path / "home")
    console = proc.stdout + proc.stderr
    assert proc.returncode == 4, console  # every file refused with its reason, nothing crashed
    assert "内部エラー" not in console and "Traceback" not in console, console
    for shown in ("申請書.pdf", "bad\ufffd\ufffd.pdf", "x[red]y.pdf", "missing[/b].pdf"):
        assert shown in console, (shown, console)
    assert "\\udc" not in console, console
    assert not list((tmp_path / "out").glob("*.pdf"))
