"""What the review screen's registered page images cost: first (uncached) drawing of a page image at
the screen's resolution, for text-layer samples (drawn as they are), scans through the alignment
kept in their record, and the same scans registered when shown (a record read before alignments
were kept); with how far the fields' printed values lie from their zones on the scans.

    python benchmarks/run_page_images.py [--count 6] [--seed 42]

Scans: samples.generate child_medical, each through samples.scanlike's scanner profile (tilt up to
±3°, shift up to 5 mm, scale ±2 %, noise, blur, JPEG), read by the real OCR job. Figures to
benchmarks/RESULTS.md; compare the ratios (one run, a shared machine).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.results import write_section  # noqa: E402

FIELDS = ("guardian_name", "phone", "child_name", "insurer_number")


def value_offset_mm(image: np.ndarray, clean: np.ndarray, box: list[float], dpi: float) -> float:
    """How far (mm) the field's value, cut from the clean sample at its zone, lies from the zone on `image`."""
    s = dpi / 25.4
    _, x, y, w, h = box
    patch = clean[round(y * s):round((y + h) * s), round(x * s):round((x + w) * s)]
    pad = round(6 * s)
    x0, y0 = round(x * s) - pad, round(y * s) - pad
    area = image[y0:y0 + patch.shape[0] + 2 * pad, x0:x0 + patch.shape[1] + 2 * pad]
    _, _, _, (bx, by) = cv2.minMaxLoc(cv2.matchTemplate(area, patch, cv2.TM_CCOEFF_NORMED))
    return float(np.hypot(bx - pad, by - pad) / s)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    from jobs.runner import run_job
    from jobs.store import Store, documents, record_from_dict
    from kakari.config import RunContext, load_config
    from kakari.model import Record
    from samples.generate import generate
    from samples.scanlike import render_page, scan_one
    from web import pages

    tmp = Path(tempfile.mkdtemp(prefix="kakari-pages-"))
    sources = generate(tmp / "s", count=args.count, seed=args.seed, forms=["child_medical"])
    config = load_config(ROOT / "samples" / "kakari.toml", tmp / "home")
    job = config.job("kodomo_iryo")
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    clean: dict[str, Path] = {}
    for pdf in sources:
        scan = scan_one(pdf, tmp / "scans", args.seed, 200, "scanner")
        (inbox / scan.name).write_bytes(scan.read_bytes())
        clean[scan.name] = pdf
        (inbox / f"text_{pdf.name}").write_bytes(pdf.read_bytes())
        clean[f"text_{pdf.name}"] = pdf
    run_job(job, RunContext(config))
    with Store(config.database_url).engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(documents.select()).mappings() if r["stored_path"]]
    missing = sorted(set(clean) - {r["original_name"] for r in rows})
    if missing:
        raise SystemExit(f"not read: {missing}")

    def variant(row: dict, frames: dict | None) -> Record:
        """The row's record with `frames` (None: without the key, as an earlier version kept it)."""
        rec = record_from_dict(row["record"])
        rec.meta.pop("frames", None)
        if frames is not None:
            rec.meta["frames"] = frames
        return rec

    kinds = {"text layer": "text", "scan, as fed (unregistered)": {}, "scan, kept alignment": "kept",
             "scan, registered when shown": None}
    times: dict[str, list[float]] = {k: [] for k in kinds}
    offsets: dict[str, list[float]] = {"as registered": [], "as fed": []}
    for row in rows:
        path = Path(row["stored_path"])
        scanned = bool(row["record"]["meta"].get("frames"))
        drawn: dict[str, np.ndarray] = {}
        for kind, frames in kinds.items():
            if (kind == "text layer") == scanned:
                continue
            rec = record_from_dict(row["record"]) if frames in ("text", "kept") else variant(row, frames)
            pages._png.cache_clear()
            pages._frame_now.cache_clear()
            t0 = time.perf_counter()
            png = pages.page_png(path, rec, 1, config)
            times[kind].append(time.perf_counter() - t0)
            drawn[kind] = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
        if not scanned:
            continue
        truth = render_page(clean[row["original_name"]], pages.PAGE_DPI, False)
        boxes = {f["name"]: f["box"] for f in row["record"]["fields"] if f.get("box")}
        for name in FIELDS:
            offsets["as registered"].append(value_offset_mm(drawn["scan, kept alignment"], truth, boxes[name],
                                                            pages.PAGE_DPI))
            offsets["as fed"].append(value_offset_mm(drawn["scan, as fed (unregistered)"], truth, boxes[name],
                                                     pages.PAGE_DPI))

    base = statistics.median(times["text layer"])
    lines = ["| page image (first drawing, 110 dpi) | n | median ms | ratio to text layer |", "|---|---|---|---|"]
    for kind, ts in times.items():
        med = statistics.median(ts)
        lines.append(f"| {kind} | {len(ts)} | {med * 1000:.0f} | {med / base:.2f} |")
    lines += ["", "| printed value vs its zone (mm) | n | median | max |", "|---|---|---|---|"]
    for kind, vals in offsets.items():
        if vals:
            lines.append(f"| {kind} | {len(vals)} | {statistics.median(vals):.2f} | {max(vals):.2f} |")
    body = (f"{args.count} child_medical samples (seed {args.seed}), each as a text-layer PDF and as a scanner-profile "
            "scan at 200 dpi (`samples.scanlike`), read by the real job; one uncached page image each "
            f"(`web.pages.page_png`). Offsets: {', '.join(FIELDS)}, value pixels of the clean sample matched on the "
            "page image around the zone (search ±6 mm, so 'as fed' saturates near 8.5 mm). "
            "Shared 2-core machine: compare the ratios.\n\n" + "\n".join(lines)
            + f"\n\n`python benchmarks/run_page_images.py --count {args.count} --seed {args.seed}`")
    print(body)
    print(json.dumps({k: [round(t, 4) for t in v] for k, v in times.items()}))
    write_section("Review screen page images (registered)", body)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
