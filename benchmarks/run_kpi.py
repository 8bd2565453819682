"""Report generation over a large time log: wall time and peak memory of `kakari report` for a
month and a 年度, per format, over N records (default 1,000,000) in SQLite.

    python benchmarks/run_kpi.py [--records 1000000] [--keep /tmp/kpi-bench]

Each report runs as its own `kakari` process so its peak RSS (sampled) is its own. The time log
is built once with plain sqlite3 inserts (16 tasks in 6 原課, as in Naha's published table,
spread over 年度 2026), then reused when --keep points at it.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.measure import measured  # noqa: E402
from benchmarks.results import write_section  # noqa: E402

TASKS = [(f"{dept}", f"業務{dept[:2]}{i}") for dept in ("市民課", "税務課", "子育て支援課", "介護保険課",
                                                          "環境衛生課", "会計課") for i in range(1, 4)][:16]
COLUMNS = ("doc_id", "job", "step", "department", "task", "bot", "status", "work_date", "started", "finished",
           "items", "robot_seconds", "minutes_before", "minutes_after", "baseline", "source")


def build(home: Path, records: int, seed: int = 11) -> float:
    """Fill <home>/kakari.db with `records` time-log rows; returns seconds taken (0 if reused)."""
    from jobs.store import Store

    db = home / "kakari.db"
    if db.exists():
        with sqlite3.connect(db) as conn:
            if conn.execute("select count(*) from time_log").fetchone()[0] == records:
                return 0.0
        db.unlink()
    home.mkdir(parents=True, exist_ok=True)
    Store(f"sqlite:///{db}")  # the real schema
    rng = random.Random(seed)
    first = datetime(2026, 4, 1, 8, 30)
    t0 = time.perf_counter()
    with sqlite3.connect(db) as conn:
        conn.execute("pragma journal_mode=wal")
        batch = []
        for n in range(records):
            dept, task = TASKS[n % len(TASKS)]
            day = first + timedelta(days=rng.randrange(365), minutes=rng.randrange(600))
            review = rng.random() < 0.08
            robot = rng.uniform(2, 40)
            batch.append((f"d{n:08d}", "bench", "ledger", dept, task, "bench_bot", "要確認" if review else "自動登録",
                          day.strftime("%Y-%m-%d 00:00:00.000000"), day.isoformat(sep=" "),
                          (day + timedelta(seconds=robot)).isoformat(sep=" "), 1, robot,
                          rng.choice((6.0, 8.0, 10.0, 12.0)), rng.uniform(1, 3) if review else 0.0,
                          "estimate", "kakari"))
            if len(batch) == 50_000:
                conn.executemany(f"insert into time_log ({','.join(COLUMNS)}) values ({','.join('?' * len(COLUMNS))})",
                                 batch)
                batch.clear()
        if batch:
            conn.executemany(f"insert into time_log ({','.join(COLUMNS)}) values ({','.join('?' * len(COLUMNS))})",
                             batch)
    return time.perf_counter() - t0


def timed(args: list[str], home: Path) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one `kakari` process."""
    got = measured([str(Path(sys.executable).with_name("kakari")), *args, "--home", str(home)], ROOT, ok=(0,))
    return got.wall, got.peak_mib


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, help="reuse/keep the time log in this folder")
    ap.add_argument("--no-write", action="store_true", help="print only, do not touch RESULTS.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.keep or Path(tmp) / "home"
        built = build(home, args.records)
        out = Path(tmp)
        cases = [
            ("empty month (baseline cost of the command)", ["report", "--month", "2025-01"]),
            ("month, md", ["report", "--month", "2026-10"]),
            ("month, csv", ["report", "--month", "2026-10", "-f", "csv", "-o", str(out / "m.csv")]),
            ("month, xlsx (+ trend Apr–Oct)", ["report", "--month", "2026-10", "-f", "xlsx", "-o", str(out / "m.xlsx")]),
            ("年度, md", ["report", "--fiscal-year", "2026"]),
            ("年度, xlsx (+ 12-month trend)", ["report", "--fiscal-year", "2026", "-f", "xlsx", "-o", str(out / "y.xlsx")]),
            ("年度, pdf (+ charts)", ["report", "--fiscal-year", "2026", "-f", "pdf", "-o", str(out / "y.pdf")]),
        ]
        rows = []
        for label, cmd in cases:
            seconds, rss = timed(cmd, home)
            rows.append((label, seconds, rss))
            print(f"{label:<40} {seconds:7.1f} s  {rss:8.0f} MiB", flush=True)
    base_s, base_rss = rows[0][1], rows[0][2]
    lines = [f"{args.records:,} time-log records in SQLite (16 tasks, 6 原課, 年度 2026; "
             f"built in {built:.0f} s{' — reused' if not built else ''}). One `kakari` process per report; "
             "peak memory is that process's largest resident set, sampled every 0.1 s.", "",
             "| report | seconds | peak RSS (MiB) | time vs. empty month |", "|---|---:|---:|---:|"]
    lines += [f"| {label} | {s:.1f} | {rss:.0f} | {s / base_s:.1f}× |" for label, s, rss in rows]
    lines += ["", f"The empty month ({base_s:.1f} s, {base_rss:.0f} MiB) is Python start-up and imports; "
              "the rest is reading the period's rows and grouping them."]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("KPI report over a large time log", body)


if __name__ == "__main__":
    main()
