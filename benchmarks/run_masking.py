"""Masking benchmark: recall of personal numbers, false masks, what verification finds in released
files, pages per minute and peak memory, on the seeded corpus of samples/masking.py.

    python benchmarks/run_masking.py [--count 120] [--scans 100] [--seed 42] [--workers 2] [--out DIR]

A number counts as masked when the boxes cover ≥ 90 % of its truth box (mm); a box counts as a
false mask when it covers no truth number (less than 20 % of its area on one). Every released file
is read again independently with the truth values (pdfplumber, pypdfium2, Tesseract jpn and eng).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COVERED = 0.90  # share of a truth box under the masks for the number to count as masked
STRAY = 0.20  # a mask box with less than this share of its area on truth numbers is a false mask


@dataclass
class DocScore:
    doc: str
    kind: str
    style: str
    pages: int
    seconds: float
    numbers: int
    masked: int
    boxes: int
    false_boxes: int
    status: str
    expected: str
    released: bool
    leaks: list[str] = field(default_factory=list)  # independent re-check of a released file
    misses: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def coverage(box: list[float], masks: list[Any]) -> float:
    """Share of `box` (x, y, w, h) under the union of `masks` (Boxes), on a 0.2 mm grid."""
    import numpy as np

    x, y, w, h = box
    step = 0.2
    xs = np.arange(x + step / 2, x + w, step)
    ys = np.arange(y + step / 2, y + h, step)
    if not len(xs) or not len(ys):
        return 0.0
    gx, gy = np.meshgrid(xs, ys)
    hit = np.zeros(gx.shape, bool)
    for m in masks:
        hit |= (gx >= m.x) & (gx <= m.x1) & (gy >= m.y) & (gy <= m.y1)
    return float(hit.mean())


def score_document(path: Path, out_dir: Path) -> DocScore:
    from bots.mask_numbers import MaskNumbers, to_record
    from bots.masking.engine import mask_file
    from bots.masking.verify import verify
    from kakari.config import KakariConfig
    from kakari.model import Box

    truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    cfg = KakariConfig()
    out = out_dir / (path.stem + ".pdf")
    t0 = time.perf_counter()
    result = mask_file(path, MaskNumbers.spec, cfg, out)
    seconds = time.perf_counter() - t0
    rec = to_record(truth["doc"], "mask_numbers", result)
    boxes = [f.box for f in result.findings]
    misses, masked = [], 0
    for n in truth["numbers"]:
        on_page = [b for b in boxes if b.page == n["page"]]
        if coverage(n["box"], on_page) >= COVERED:
            masked += 1
        else:
            misses.append(f"{truth['doc']} p{n['page']} {n['kind']} {n['style']} {n['box']}")
    false = []
    for b in boxes:
        on = [t for t in truth["numbers"] if t["page"] == b.page]
        share = max((coverage([b.x, b.y, b.w, b.h], [Box(b.page, *t["box"])]) for t in on), default=0.0)
        if share < STRAY:
            false.append(f"{truth['doc']} p{b.page} {[round(v, 1) for v in (b.x, b.y, b.w, b.h)]}")
    released = result.releasable
    leaks: list[str] = []
    if released:
        from bots.masking.engine import tessdata_for

        values = [n["value"] for n in truth["numbers"]]
        leaks = [lo.message() for lo in verify(out, values, tessdata_for(cfg))]
    return DocScore(truth["doc"], truth["kind"], truth["style"], len(result.pages), seconds, len(truth["numbers"]),
                    masked, len(boxes), len(false), rec.status.value, truth["expected_status"], released, leaks,
                    misses, false, rec.problems)


def run(paths: list[Path], out_dir: Path, workers: int) -> list[DocScore]:
    out_dir.mkdir(parents=True, exist_ok=True)
    if workers <= 1:
        return [score_document(p, out_dir) for p in paths]
    with ProcessPoolExecutor(workers) as pool:
        scores = []
        for s in pool.map(score_document, paths, [out_dir] * len(paths)):
            scores.append(s)  # progress: a long run can be followed, and a stopped one is not lost
            print(json.dumps(asdict(s), ensure_ascii=False), file=sys.stderr, flush=True)
        return scores


def summary(scores: list[DocScore], wall: float) -> dict[str, Any]:
    pages = sum(s.pages for s in scores)
    numbers = sum(s.numbers for s in scores)
    boxes = sum(s.boxes for s in scores)
    out: dict[str, Any] = {
        "documents": len(scores), "pages": pages, "numbers": numbers,
        "masked": sum(s.masked for s in scores), "boxes": boxes, "false_boxes": sum(s.false_boxes for s in scores),
        "released": sum(s.released for s in scores), "leaks": sum(len(s.leaks) for s in scores),
        "status_right": sum(s.status == s.expected for s in scores), "wall_seconds": wall,
        "pages_per_minute": pages / wall * 60 if wall else 0.0,
        "seconds_per_page": sum(s.seconds for s in scores) / max(1, pages),
    }
    out["recall"] = out["masked"] / max(1, numbers)
    out["false_rate"] = out["false_boxes"] / max(1, boxes)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=120, help="text-layer documents")
    ap.add_argument("--scans", type=int, default=100, help="scan-like documents")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("var/bench-masking"))
    ap.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md alone")
    args = ap.parse_args(argv)
    from samples.masking import generate

    corpus = args.out / "corpus"
    paths = generate(corpus, args.count, args.scans, args.seed)
    t0 = time.perf_counter()
    scores = run(paths, args.out / "masked", args.workers)
    wall = time.perf_counter() - t0
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
    lines = []
    for kind in ("text", "scan"):
        part = [s for s in scores if s.kind == kind]
        if not part:
            continue
        sm = summary(part, sum(s.seconds for s in part) / max(1, args.workers))
        lines.append(f"| {kind} | {sm['documents']} | {sm['pages']} | {sm['numbers']} | {sm['masked']} "
                     f"({sm['recall']:.1%}) | {sm['boxes']} | {sm['false_boxes']} ({sm['false_rate']:.2%}) | "
                     f"{sm['released']} | {sm['leaks']} | {sm['status_right']}/{sm['documents']} | "
                     f"{60 / max(1e-9, sm['seconds_per_page']):.1f} |")
    total = summary(scores, wall)
    misses = [m for s in scores for m in s.misses]
    false = [f for s in scores for f in s.false]
    leaks = [f"{s.doc}: {lk}" for s in scores for lk in s.leaks]
    wrong = [f"{s.doc} ({s.style}): {s.status}, expected {s.expected} ({'／'.join(s.problems)[:160]})"
             for s in scores if s.status != s.expected]
    body = "\n".join([
        f"`python benchmarks/run_masking.py --count {args.count} --scans {args.scans} --seed {args.seed} "
        f"--workers {args.workers}` — corpus of samples/masking.py (seed {args.seed}): text-layer PDFs "
        "(digit boxes, sentences, tables, rotated margins, /Rotate pages, card pictures, form fields) and "
        "scan-like copies (200/300 dpi, ±3°, ±5 mm, blur, noise, faint toner, pages turned).",
        "",
        "| kind | docs | pages | numbers | masked (recall) | boxes | false masks | released | leaks in released | status as expected | pages/min (1 worker) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *lines,
        "",
        f"All: {total['pages']} pages, recall {total['recall']:.2%} ({total['masked']}/{total['numbers']}), "
        f"false masks {total['false_rate']:.2%} ({total['false_boxes']}/{total['boxes']}), "
        f"{total['leaks']} leaks in {total['released']} released files; "
        f"{total['pages_per_minute']:.1f} pages/min with {args.workers} workers "
        f"({total['seconds_per_page']:.2f} s per page in one worker, verification included); "
        f"peak memory {peak_mb:.0f} MB per process.",
        "",
        "Misses: " + ("none" if not misses else "; ".join(misses)),
        "",
        "False masks: " + ("none" if not false else "; ".join(false[:30]) + (" …" if len(false) > 30 else "")),
        "",
        "Leaks: " + ("none" if not leaks else "; ".join(leaks)),
        "",
        "Status not as expected: " + ("none" if not wrong else "; ".join(wrong[:30])),
    ])
    print(body)
    if not args.no_write:
        from benchmarks.results import write_section

        write_section("Masking (墨塗り)", body)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    raise SystemExit(main())
