"""A `kakari run` of an online export killed with SIGKILL mid-export, again and again, then run to the
end: every row is in the ledger once and in the time log once, the export is archived once, nothing
is left in processing/ — each row's outcome was committed under its key before the file moved."""
from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from connectors.excel import read_ledger
from jobs.store import Store
from kakari.config import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "samples" / "kakari.toml"
JOB = "kodomo_iryo_online"
ROWS = 450  # three chunks of commits (jobs.exports.CHUNK = 200)


def committed(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return int(conn.execute("select count(*) from documents where job = ?", (JOB,)).fetchone()[0])
    except sqlite3.OperationalError:  # the table is not made yet, or the writer holds it
        return 0


def start(home: Path) -> subprocess.Popen[bytes]:
    kakari = Path(sys.executable).with_name("kakari")
    return subprocess.Popen([str(kakari), "run", JOB, "-c", str(CONFIG), "--home", str(home)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when(proc: subprocess.Popen[bytes], db: Path, rows: int, extra: float) -> bool:
    """SIGKILL once `rows` documents rows are committed (then `extra` seconds later); False if the run
    ended first."""
    deadline = time.monotonic() + 180
    while committed(db) < rows and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(extra)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return True


def test_sigkill_mid_export_then_rerun_has_every_row_once(tmp_path: Path) -> None:
    from samples.exports import generate

    e = generate(tmp_path / "s", "child_medical", count=ROWS, seed=11, attachments="none")
    home = tmp_path / "home"
    config = load_config(CONFIG, home)
    job = config.job(JOB)
    folders = job.folders(home)
    folders["inbox"].mkdir(parents=True)
    os.link(e.path, folders["inbox"] / e.path.name)
    db = home / "kakari.db"

    rng = random.Random(3)
    # before the first commit, after each chunk, after the last row (the move and the ledger save)
    points = [(0, 0.3), (1, rng.uniform(0, 0.2)), (201, rng.uniform(0, 0.2)), (401, rng.uniform(0, 0.2)),
              (ROWS + 1, 0.0), (ROWS + 1, rng.uniform(0.05, 0.5))]
    kills = 0
    for rows, extra in points:
        kills += kill_when(start(home), db, rows, extra)
    assert kills >= 4  # the kills landed mid-export, not after the run
    final = start(home)
    assert final.wait(timeout=300) in (0, 2)  # 2: some rows went to 要確認

    ledger = read_ledger(job.ledger_path(home))
    ids = Counter(r["文書ID"] for r in ledger)
    assert len(ids) == ROWS and max(ids.values()) == 1
    with contextlib.closing(sqlite3.connect(db)) as conn:
        logged = Counter(d for (d,) in conn.execute("select doc_id from time_log where job = ?", (JOB,)))
    assert len(logged) == ROWS and max(logged.values()) == 1 and set(logged) == set(ids)
    assert committed(db) == ROWS + 1  # the rows and the export's own row
    assert Store(config.database_url).pending_count(JOB) == 0
    archived = [p.name for p in folders["archive"].iterdir() if p.is_file()]
    assert archived == [e.path.name]
    assert not [p for p in folders["processing"].rglob("*") if p.is_file()]
    assert not list(folders["inbox"].iterdir()) and not list(folders["errors"].iterdir())
