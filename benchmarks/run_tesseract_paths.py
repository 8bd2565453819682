"""Tesseract in-process (tesserocr) vs through the tesseract command (pytesseract, hOCR), on the same
scan-like samples in one run: seconds per document, fields read right, fields registered wrongly.

    python -m benchmarks.run_tesseract_paths [--count 2] [--seed 42] [--dpi 300]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.ocr_scan import run_kakari
from benchmarks.results import write_section


def measure(scans: list[Path], hidden: bool) -> dict[str, float]:
    saved = sys.modules.get("tesserocr")
    if hidden:
        sys.modules["tesserocr"] = None  # type: ignore[assignment]  # import tesserocr now fails
    try:
        t0 = time.perf_counter()
        results = [run_kakari(str(p)) for p in scans]
        seconds = time.perf_counter() - t0
    finally:
        if saved is not None:
            sys.modules["tesserocr"] = saved
        else:
            sys.modules.pop("tesserocr", None)
    fields = [f for d in results for f in d.fields]
    return {"docs": len(results), "seconds": seconds / len(results), "fields": len(fields),
            "right": sum(f.ok for f in fields), "wrong_auto": sum(f.auto and not f.ok for f in fields),
            "review": sum(d.status == "要確認" for d in results)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dpi", type=int, default=300)
    args = ap.parse_args()
    from samples.generate import generate
    from samples.scanlike import make_scans

    out = Path(tempfile.mkdtemp(prefix="kakari-tess-"))
    generate(out / "pdf", count=args.count, seed=args.seed)
    make_scans(out / "pdf", out / "scan", seed=args.seed, dpis=(args.dpi,))
    scans = sorted(p for p in (out / "scan").rglob("*.pdf"))
    run_kakari(str(scans[0]))  # models loaded before either path is timed
    rows = {"in-process (tesserocr)": measure(scans, hidden=False),
            "tesseract command (pytesseract, hOCR)": measure(scans, hidden=True)}
    base = rows["in-process (tesserocr)"]["seconds"]
    lines = ["| path | docs | s per document | vs in-process | fields right | registered wrongly | 要確認 docs |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['docs']:.0f} | {r['seconds']:.2f} | {r['seconds'] / base:.2f}× | "
                     f"{r['right']:.0f}/{r['fields']:.0f} | {r['wrong_auto']:.0f} | {r['review']:.0f} |")
    body = (f"Scan-like samples (samples.generate --count {args.count} --seed {args.seed}, samples.scanlike at "
            f"{args.dpi} dpi, PDF), read by each path in one process, one after the other.\n\n" + "\n".join(lines)
            + "\n\n`python -m benchmarks.run_tesseract_paths"
            + f" --count {args.count} --seed {args.seed} --dpi {args.dpi}`")
    print(body)
    write_section("Tesseract in-process vs the tesseract command", body)


if __name__ == "__main__":
    main()
