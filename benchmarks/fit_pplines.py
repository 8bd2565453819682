"""Fit ocr/pplines.py's JOIN_GAP (how far apart, in line heights, single-character pieces the
PP-OCR detector cut a spaced line into are still joined into one line) on labelled scan-like pages
of samples/masking.py.

    python benchmarks/fit_pplines.py [--scans 36] [--seed 42] [--out var/fit-pplines]

Each page is detected and read once; only the joining is repeated for every gap. A gap is scored by
the truth numbers read back as one digit run with their exact digits (recall), and by the runs of
more than 13 digits (pieces of different texts joined into one). The fitted value is the middle of
the widest range of gaps with the best recall and no such run. Pages fed turned are left out (the
truth is in millimetres of the upright page; turning them is Tesseract's job, not measured here).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GAPS = [round(0.25 * k, 2) for k in range(2, 33)]  # 0.5 … 8 line heights


def pieces_of(path: Path) -> tuple[dict, list, list]:
    from kakari.config import KakariConfig
    from ocr.inputs import sniff
    from ocr.pplines import page_pieces
    from ocr.ppocr import recogniser
    from ocr.preprocess import to_gray
    from ocr.raster import iter_rasters

    cfg = KakariConfig()
    truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    [r] = list(iter_rasters(path, sniff(path, cfg.limits), None, 300, cfg.limits.max_pixels, cfg.limits.max_pages))
    level, sideways = page_pieces(to_gray(r.image), r.dpi, recogniser(cfg.ocr))
    return truth, level, sideways


def score(pages: list[tuple[dict, list, list]], gap: float) -> tuple[int, int, int]:
    from bots.masking.find import digit_runs
    from ocr.pplines import joined

    read = total = overlong = 0
    for truth, level, sideways in pages:
        runs = digit_runs(joined(level, gap) + sideways, ocr=True)
        values = {c.value for c in runs}
        overlong += sum(len(c.value) > 13 for c in runs)
        for n in truth["numbers"]:
            total += 1
            read += n["value"] in values
    return read, total, overlong


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scans", type=int, default=36)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=Path("var/fit-pplines"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    from samples.masking import generate_scans

    paths = [p for p in generate_scans(args.out, args.scans, args.seed)
             if not json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))["scan"]["turns"]]
    pages = [pieces_of(p) for p in paths]
    table = [(gap, *score(pages, gap)) for gap in GAPS]
    best = max(read for _, read, _, _ in table)
    good = [gap for gap, read, _, over in table if read == best and over == 0]
    runs: list[list[float]] = []
    for gap in good:  # the widest range of consecutive good gaps
        if runs and round(gap - runs[-1][-1], 2) == 0.25:
            runs[-1].append(gap)
        else:
            runs.append([gap])
    widest = max(runs, key=len) if runs else []
    fitted = (widest[0] + widest[-1]) / 2 if widest else None
    from ocr.pplines import JOIN_GAP

    lines = [f"`python benchmarks/fit_pplines.py --scans {args.scans} --seed {args.seed}`: {len(pages)} scan-like "
             f"pages (samples/masking.py, seed {args.seed}, upright ones of the first {args.scans}), "
             f"{table[0][2]} truth numbers.", "",
             "| join gap (line heights) | numbers read as one exact run | runs of > 13 digits |", "|---:|---:|---:|"]
    lines += [f"| {gap:.2f} | {read}/{total} | {over} |" for gap, read, total, over in table]
    lines += ["", f"Best recall {best}/{table[0][2]} with no overlong run for gaps {widest[0] if widest else '-'}–"
              f"{widest[-1] if widest else '-'}; fitted (middle) {fitted}; in ocr/pplines.py: JOIN_GAP = {JOIN_GAP}."]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        from benchmarks.results import write_section

        write_section("PP-OCR line joining (fitted)", body)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    raise SystemExit(main())
