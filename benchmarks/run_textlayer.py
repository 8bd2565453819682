"""Times `kakari run` over the text-layer samples: documents/second end to end (claim → read →
classify → extract → commit → archive → one ledger save), against the cost of reading alone.

    python benchmarks/run_textlayer.py [--count 50]
"""
from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=50, help="documents per form")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        samples = tmpdir / "samples"
        subprocess.run([sys.executable, "-m", "samples.generate", "--out", str(samples), "--count", str(args.count),
                        "--seed", "7"], check=True, cwd=ROOT, capture_output=True)
        home = tmpdir / "home"
        rows = []
        for job, form in (("kodomo_iryo", "child_medical"), ("inshoku_kyoka", "restaurant_permit")):
            inbox = home / "jobs" / job / "inbox"
            inbox.mkdir(parents=True)
            pdfs = sorted((samples / form).glob(f"{form}_*.pdf"))
            for pdf in pdfs:
                shutil.copy2(pdf, inbox / pdf.name)
            t0 = time.perf_counter()
            proc = subprocess.run([str(ROOT / ".venv/bin/kakari"), "run", job, "--config", str(ROOT / "samples/kakari.toml"),
                                   "--home", str(home)], cwd=ROOT, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if proc.returncode not in (0, 4):
                raise SystemExit(proc.stderr)
            rows.append((form, len(pdfs), wall))

        # reading alone, in this process, for the ratio
        from kakari.config import load_config
        from kakari.log import logger
        from ocr import read_document

        logger.remove()  # per-page debug lines would be timed too

        cfg = load_config(ROOT / "samples/kakari.toml", home)
        pdfs = sorted(samples.glob("*/*_*.pdf"))
        t0 = time.perf_counter()
        for pdf in pdfs:
            read_document(pdf, cfg)
        read_only = (time.perf_counter() - t0) / len(pdfs)

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = ["| form | documents | wall s (incl. ~1 s start-up) | documents/s |", "|---|---:|---:|---:|"]
    for form, n, wall in rows:
        lines.append(f"| {form} | {n} | {wall:.2f} | {n / wall:.1f} |")
    total_n = sum(n for _, n, _ in rows)
    total_wall = sum(w for _, _, w in rows)
    lines.append(f"| **all** | {total_n} | {total_wall:.2f} | **{total_n / total_wall:.1f}** |")
    body = "\n".join(lines) + (
        f"\n\nText-layer reading alone: {read_only * 1000:.1f} ms/document "
        f"({(total_wall / total_n) / read_only:.1f}× less than the whole run per document: the rest is "
        f"process start-up, classification, validation, the database commit, the file move and the ledger save).\n"
        f"Peak RSS of a `kakari run` process: {peak:.0f} MiB.\n\nCommand: `python benchmarks/run_textlayer.py --count {args.count}`"
    )
    print(body)
    write_section("Text-layer run (kakari run)", body)


if __name__ == "__main__":
    main()
