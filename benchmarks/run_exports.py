"""Throughput of online exports: rows per second from an export in the inbox to its rows saved in
the Excel ledger (read, mapped, validated, committed with time log and outbox, ledger written).

    python benchmarks/run_exports.py [--rows 2000] [--seed 42]

Synthetic exports from samples/exports.py (child_medical, the 若葉県電子申請 layout, ~1 row in 10 made
wrong on purpose): Shift_JIS CSV, xlsx and JSON without attachments (so the rows that name an
attachment go to 要確認 too), and one CSV with its ZIP of attachments (PDFs read by their text layer,
PNGs by OCR; Tesseract's CPU is not in the process's CPU seconds). Each run has its own home. CPU seconds are
the process's own (the machine is shared: they are the steadier figure); wall seconds are what a
clerk waits. The run checks that the ledger holds every row once.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402

JOB = "kodomo_iryo_online"


def measure(out: Path, name: str, rows: int, seed: int, fmt: str, attachments: str) -> dict[str, float | str]:
    from connectors.excel import read_ledger
    from jobs.runner import run_job
    from kakari.config import RunContext, load_config
    from samples.exports import generate

    e = generate(out / name / "s", "child_medical", count=rows, seed=seed, fmt=fmt, attachments=attachments)
    config = load_config(ROOT / "samples" / "kakari.toml", out / name / "home")
    job = config.job(JOB)
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    paths = [inbox / e.path.name]
    if e.companion is not None:
        shutil.move(str(e.companion), inbox / e.companion.name)
    shutil.move(str(e.path), paths[0])
    wall, cpu = time.perf_counter(), time.process_time()
    summary = run_job(job, RunContext(config), paths=paths)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ledger = read_ledger(job.ledger_path(config.home))
    ids = {r["文書ID"] for r in ledger}
    if len(ledger) != rows or len(ids) != rows or len(summary.outcomes) != rows:
        raise SystemExit(f"{name}: {len(ledger)} ledger rows ({len(ids)} distinct) for {rows} rows")
    review = summary.counts["要確認"]
    return {"name": name, "rows": rows, "review": review, "wall": wall, "cpu": cpu,
            "wall_rate": rows / wall, "cpu_rate": rows / cpu}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=2000, help="rows of the Shift_JIS CSV (the others: half)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md as it is")
    args = ap.parse_args()

    from kakari.log import logger

    logger.remove()
    cases = [("CSV (Shift_JIS)", args.rows, "csv", "none"), ("xlsx", args.rows // 2, "xlsx", "none"),
             ("JSON", args.rows // 2, "json", "none"),
             ("CSV + ZIP の添付 (PDF・画像)", max(20, args.rows // 10), "csv", "zip")]
    results = []
    with tempfile.TemporaryDirectory(prefix="kakari-exports-") as tmp:
        for name, rows, fmt, attachments in cases:
            r = measure(Path(tmp), f"case{len(results)}", rows, args.seed, fmt, attachments)
            r["name"] = name
            results.append(r)
            print(f"{name:<28} {rows:>5} rows  要確認 {r['review']:>4}  wall {r['wall']:6.1f}s "
                  f"{r['wall_rate']:6.0f} rows/s  cpu {r['cpu']:6.1f}s {r['cpu_rate']:6.0f} rows/s", flush=True)
    head = results[0]
    verdict = "met" if float(head["cpu_rate"]) >= 200 else "NOT met"
    lines = ["| export | rows | 要確認 | wall s | rows/s (wall) | CPU s | rows/s (CPU) |", "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['name']} | {r['rows']} | {r['review']} | {r['wall']:.1f} | {r['wall_rate']:.0f} | {r['cpu']:.1f} | "
              f"{r['cpu_rate']:.0f} |" for r in results]
    body = (f"`python benchmarks/run_exports.py --rows {args.rows} --seed {args.seed}` — samples/exports.py "
            f"child_medical exports (seed {args.seed}), job `{JOB}` of samples/kakari.toml, SQLite, one process. "
            "From the export in the inbox to every row saved in the Excel ledger, checked row by row.\n\n"
            + "\n".join(lines)
            + f"\n\nTarget ≥ 200 rows/s into the ledger (CSV, CPU seconds of the process): **{verdict}** "
              f"({float(head['cpu_rate']):.0f} rows/s). Wall figures depend on the load of the shared machine; "
              "the attachments case reads each attached PDF or image (OCR for images) and is bounded by that.")
    print(body)
    if not args.no_write:
        write_section("Online exports: rows into the ledger", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
