"""Throughput of 1, 2 and 4 in-process workers and of 2 Celery workers (Redis) on the same corpus.

    python benchmarks/run_scaleout.py [--scans 8] [--texts 200]

Two corpora, each run through `kakari run` in a fresh home per set-up: scanned forms (OCR, CPU bound)
and text-layer PDFs (mostly I/O and the ledger). For Celery, a private redis-server and two
`kakari worker -c 1` processes are started; the time runs from `kakari run` (which enqueues) until
the last document is committed. Ratios are against one in-process worker in the same run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402

KAKARI = str(Path(sys.executable).with_name("kakari"))
BASE = (ROOT / "samples" / "kakari.toml").read_text(encoding="utf-8")


def documents_done(home: Path) -> int:
    import sqlite3

    db = home / "kakari.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=30) as c:
        try:
            return c.execute("select count(*) from documents").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def prepare(tmp: Path, name: str, header: str, files: list[Path]) -> tuple[Path, Path]:
    home = tmp / name
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = tmp / f"{name}.toml"
    cfg.write_text(header + BASE, encoding="utf-8")
    for job, form in (("kodomo_iryo", "child_medical"), ("inshoku_kyoka", "restaurant_permit")):
        inbox = home / "jobs" / job / "inbox"
        inbox.mkdir(parents=True)
        for f in files:
            if f.name.startswith(form):
                shutil.copy2(f, inbox / f.name)
    return home, cfg


def run_inprocess(tmp: Path, label: str, workers: int, files: list[Path]) -> float:
    home, cfg = prepare(tmp, label, f"workers = {workers}\n", files)
    t0 = time.perf_counter()
    for job in ("kodomo_iryo", "inshoku_kyoka"):
        subprocess.run([KAKARI, "run", job, "--config", str(cfg), "--home", str(home)], check=False,
                       capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    assert documents_done(home) == len(files), (label, documents_done(home))
    return seconds


def run_celery(tmp: Path, label: str, files: list[Path]) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL)
    home, cfg = prepare(tmp, label, 'executor = "celery"\n', files)
    env = os.environ | {"KAKARI_BROKER_URL": f"redis://127.0.0.1:{port}/0"}
    workers = [subprocess.Popen([KAKARI, "worker", "-c", "1", "--config", str(cfg), "--home", str(home)], env=env,
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        time.sleep(4)  # workers up and listening (not timed: they are long-lived services)
        t0 = time.perf_counter()
        for job in ("kodomo_iryo", "inshoku_kyoka"):
            subprocess.run([KAKARI, "run", job, "--config", str(cfg), "--home", str(home)], env=env, check=True,
                           capture_output=True, cwd=ROOT)
        while documents_done(home) < len(files):
            time.sleep(0.1)
        return time.perf_counter() - t0
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)
        redis.terminate()
        redis.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scans", type=int, default=8, help="scanned forms per bot (300 dpi)")
    ap.add_argument("--texts", type=int, default=100, help="text-layer PDFs per bot")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from samples.generate import generate
    from samples.scanlike import make_scans

    rows = []
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        generate(tmp / "texts", count=args.texts, seed=5)
        texts = sorted(p for p in (tmp / "texts").rglob("*_0*.pdf"))
        generate(tmp / "forscan", count=args.scans, seed=6)
        make_scans(tmp / "forscan", tmp / "scans", seed=6, dpis=(300,))
        scans = sorted(p for p in (tmp / "scans").rglob("*_0*.*") if p.suffix != ".json")
        for corpus, files in (("scanned (OCR)", scans), ("text layer", texts)):
            times = {}
            for n in (1, 2, 4):
                times[f"{n} in-process"] = run_inprocess(tmp / corpus.split()[0], f"w{n}", n, files)
                print(f"{corpus}: {n} in-process worker(s): {times[f'{n} in-process']:.1f} s", flush=True)
            times["2 Celery"] = run_celery(tmp / corpus.split()[0], "celery", files)
            print(f"{corpus}: 2 Celery workers: {times['2 Celery']:.1f} s", flush=True)
            base = times["1 in-process"]
            for k, s in times.items():
                rows.append((corpus, len(files), k, s, len(files) / s * 60, base / s))
    lines = [f"Same corpus per row group, fresh home per set-up, this {os.cpu_count()}-core machine. In-process workers "
             "are reader processes (one per worker thread) inside `kakari run`; Celery workers are two `kakari worker -c 1` processes "
             "on a private redis-server, timed from enqueue to the last commit (their start-up is not timed).", "",
             "| corpus | docs | set-up | seconds | docs/min | speed-up vs 1 |", "|---|---:|---|---:|---:|---:|"]
    lines += [f"| {c} | {n} | {k} | {s:.1f} | {r:.0f} | {x:.2f}× |" for c, n, k, s, r, x in rows]
    lines += ["", "`kakari run` is timed whole, start-up included (about 1.5 s per run, two runs per set-up), which "
              "is most of what keeps the in-process ratios low on corpora this size; 4 workers on 2 cores only add "
              "contention. Celery's workers are already running, so its figure has no start-up but pays one ledger "
              "save per document (the workers take turns on the workbook), which is why it loses on text-layer PDFs."]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Scale-out: in-process workers and Celery", body)


if __name__ == "__main__":
    main()
