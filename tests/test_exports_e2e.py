"""End to end, as a town runs it: `kakari watch` (a subprocess) watches the paper inbox and the online
inbox of the same procedure; an online export with its attachments is dropped beside paper
applications. Every row is then once in the ledger, once in the sample back-office system (the
`web:eisei` sink, real Chromium) and once in the time log; re-dropping the export and dropping an
overlapping one add nothing; `kakari report` shows the online line beside the paper line."""
from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from connectors.excel import read_ledger
from connectors.webmapping import load_system
from kakari.config import load_config
from samples.backoffice.server import Backoffice

ROOT = Path(__file__).resolve().parents[1]
PAPER, ONLINE = "inshoku_kyoka", "inshoku_kyoka_online"
TASK = "飲食店営業許可申請の受付入力"


def until(check: Callable[[], object], seconds: float = 240, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def settled(path: Path) -> None:
    """As if the copy finished a while ago: the watcher takes it at once."""
    old = time.time() - 60
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (old, old))


def drop(src: Path, inbox: Path, stem: str | None = None) -> None:
    target = inbox / ((stem + src.suffix) if stem else src.name)
    staging = inbox.parent / ".staging" / target.name
    staging.parent.mkdir(parents=True, exist_ok=True)
    (shutil.copytree if src.is_dir() else shutil.copy2)(src, staging)
    settled(staging)
    os.rename(staging, target)  # arrives whole, as a copy from a share does


def time_log(home: Path) -> Counter[tuple[str, str]]:
    with closing(sqlite3.connect(home / "kakari.db")) as conn:
        return Counter((job, doc) for job, doc in conn.execute("select job, doc_id from time_log where step = 'ledger'"))


@pytest.mark.slow
def test_watched_export_reaches_ledger_web_system_and_time_log_once(tmp_path: Path, server: Backoffice,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from samples.exports import generate as generate_export
    from samples.generate import generate as generate_paper

    server.calm()
    env = os.environ | {"KAKARI_EISEI_URL": server.url, "KAKARI_EISEI_USER": server.user,
                        "KAKARI_EISEI_PASSWORD": server.password, "COLUMNS": "200"}
    text = (ROOT / "samples" / "kakari.toml").read_text(encoding="utf-8")
    assert '# sinks = ["excel", "web:eisei"]' in text  # the sample job, with its web step switched on
    config_path = tmp_path / "kakari.toml"
    config_path.write_text(text.replace('# sinks = ["excel", "web:eisei"]', 'sinks = ["excel", "web:eisei"]'),
                           encoding="utf-8")
    home = tmp_path / "home"
    config = load_config(config_path, home)
    first = generate_export(tmp_path / "s", "restaurant_permit", count=16, seed=23)  # xlsx + a folder of files
    overlap = generate_export(tmp_path / "s", "restaurant_permit", count=12, seed=23, start=11)  # 11-16 again
    assert first.companion is not None and overlap.companion is not None
    paper = generate_paper(tmp_path / "p", 3, 24, ["restaurant_permit"])

    log = tmp_path / "watch.log"  # a file, not a pipe: a full pipe would stop the watcher
    err = log.open("w", encoding="utf-8")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("kakari")), "watch", PAPER, ONLINE,
                             "--config", str(config_path), "--home", str(home), "--rescan", "1", "--settle", "0.3"],
                            stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, env=env)
    online_inbox = config.job(ONLINE).folders(home)["inbox"]
    paper_inbox = config.job(PAPER).folders(home)["inbox"]
    ledger_path = config.job(ONLINE).ledger_path(home)
    assert ledger_path == config.job(PAPER).ledger_path(home)  # one 台帳 for both channels

    def ledger_ids() -> Counter[str]:
        try:
            return Counter(str(r["文書ID"]) for r in read_ledger(ledger_path)) if ledger_path.exists() else Counter()
        except Exception:  # noqa: BLE001 - read while the watcher saves it: try again
            return Counter()

    def online_done(n: int) -> Callable[[], bool]:
        def check() -> bool:
            archived = [p for p in config.job(ONLINE).folders(home)["archive"].iterdir() if p.is_file()] \
                if config.job(ONLINE).folders(home)["archive"].exists() else []
            return len(archived) >= n and sum(ledger_ids().values()) >= expected_rows
        return check

    try:
        until(online_inbox.exists, 60, "the online inbox")
        until(paper_inbox.exists, 60, "the paper inbox")
        drop(first.companion, online_inbox)  # the attachments first, then the table: as a download is unpacked
        drop(first.path, online_inbox)
        for pdf in paper:
            drop(pdf, paper_inbox)
        expected_rows = 16 + 3
        until(online_done(1), what="the first export and the paper forms in the ledger")
        until(lambda: server.applications() != [] and _pending(home) == 0, what="the web entries")
        web_before = {str(r["kakari_ref"]) for r in server.applications()}

        drop(first.path, online_inbox, stem="申請一覧_もう一度")  # the same export again, under another name
        drop(first.companion, online_inbox, stem="申請一覧_もう一度")
        drop(overlap.companion, online_inbox)
        drop(overlap.path, online_inbox)
        expected_rows = 16 + 6 + 3  # 11-16 were in the first export, 17-22 are new
        until(online_done(3), what="the re-dropped and the overlapping exports")
        until(lambda: _pending(home) == 0, what="the web entries of the new rows")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        err.close()
    assert proc.returncode == 0, log.read_text(encoding="utf-8", errors="replace")[-3000:]

    ids = ledger_ids()
    assert sum(ids.values()) == 25 and max(ids.values()) == 1, ids  # 22 applications online + 3 on paper
    logged = time_log(home)
    assert sum(1 for job, _ in logged if job == ONLINE) == 22 and max(logged.values()) == 1
    assert sum(1 for job, _ in logged if job == PAPER) == 3
    assert {doc for _, doc in logged} == set(ids)

    # the back-office system: each application the bot registered, once; 要確認 rows wait for a person
    with closing(sqlite3.connect(home / "kakari.db")) as conn:
        registered = {d for d, j in conn.execute("select doc_id, job from documents where status = '自動登録'")
                      if j in (ONLINE, PAPER) and d in ids}
        reviewing = {d for (d,) in conn.execute("select doc_id from documents where status = '要確認' and job = ?",
                                                (ONLINE,))}
    online_registered = registered - {d for j, d in logged if j == PAPER}
    assert online_registered and reviewing  # the sample has deliberately wrong rows
    system = load_system("eisei", home)
    refs = Counter(str(r["kakari_ref"]) for r in server.applications())
    assert max(refs.values()) == 1
    assert {system.key_for(d) for d in online_registered} <= set(refs)
    assert not {system.key_for(d) for d in reviewing} & set(refs)
    assert web_before <= set(refs)

    # the report: the online channel as its own 業務 line beside the paper line of the same procedure
    rep = subprocess.run([str(Path(sys.executable).with_name("kakari")), "report", "--format", "csv",
                          "--start", "2000-01-01", "--end", "2099-12-31", "--config", str(config_path),
                          "--home", str(home)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert rep.returncode == 0, rep.stderr
    lines = {tuple(r[:2]): r for r in csv.reader(io.StringIO(rep.stdout.lstrip("\ufeff"))) if len(r) > 2}
    assert ("生活環境課", TASK) in lines and ("生活環境課", TASK + "（電子申請）") in lines, lines.keys()


def _pending(home: Path) -> int:
    with closing(sqlite3.connect(home / "kakari.db")) as conn:
        return int(conn.execute("select count(*) from pending_writes where done_at is null").fetchone()[0])

