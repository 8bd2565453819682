"""A web step in a process of its own, so a test can kill -9 it in the middle of an entry:

    python -m tests.webworker HOME RECORDS_JSON SYSTEM BOT

It builds the job's "web:SYSTEM" sink (home/systems/SYSTEM.toml, home/kakari.db) and enters the records
of RECORDS_JSON (record_to_dict payloads, as the outbox holds them); prints what it wrote as JSON.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JOB = "webjob"


def main() -> int:
    from jobs.store import record_from_dict
    from jobs.websteps import build_web_sink
    from kakari.config import JobConfig, KakariConfig, RunContext

    home, records_file, system, bot = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    job = JobConfig(bots=[bot], sinks=[f"web:{system}"], department="試験課")
    cfg = KakariConfig(home=home, db_url=f"sqlite:///{home / 'kakari.db'}", jobs={JOB: job})
    sink = build_web_sink(f"web:{system}", cfg.job(JOB), RunContext(cfg, run_id="worker"))
    records = [record_from_dict(d) for d in json.loads(records_file.read_text(encoding="utf-8"))]
    res = sink.write_many(records)
    print(json.dumps({"written": len(res.written), "skipped": len(res.skipped)}))
    return 0


def start(home: Path, records_file: Path, system: str, bot: str) -> subprocess.Popen[bytes]:
    """In its own process group: kill -9 takes the Playwright driver and Chromium down with it, like a power cut."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tests.webworker", str(home), str(records_file), system, bot],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def kill(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def states(db: Path) -> list[tuple[str, str]]:
    """(doc_id, state) of every web submission, read from another process's database."""
    if not db.exists():
        return []
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
            return list(conn.execute("SELECT doc_id, state FROM web_submissions"))
    except sqlite3.OperationalError:  # table not created yet
        return []


if __name__ == "__main__":
    raise SystemExit(main())
