"""Inflate bombs through the real `kakari run`: peak resident memory of the whole process tree and
wall time per bomb size, up to the 50 MB size limit, against one ordinary application read the same
way (the ratio is what to compare; the machine is shared). The documented limit is 1 GiB. Then image
bombs that pass the inflate check (a PNG at the pixel limit, a PDF page of several images each
within it, a PDF JPEG of 1.6 gigapixels), which the reader's memory limit has to bound.

    python benchmarks/run_bomb.py [--sizes 1,4,16,50]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.peak_memory import run_measured  # noqa: E402
from benchmarks.results import write_section  # noqa: E402
from samples.hostile import bomb_pdf, image_bomb_pdf, jpeg_bomb_pdf, png_bomb  # noqa: E402

KAKARI = str(Path(sys.executable).with_name("kakari"))
CONFIG = ROOT / "samples" / "kakari.toml"
LIMIT = 1 << 30  # 1 GiB, the most one hostile document may cost
MAX_BYTES = 50 * 1024 * 1024
IMAGE_BOMBS: list[tuple[str, str, Callable[[Path], int]]] = [
    ("PNG 10000×12000 RGBA (画素数の上限)", "bomb.png", lambda p: png_bomb(p, 10000, 12000)),
    ("PDF 1ページに 10000×12000 の画像 4枚", "bomb.pdf", lambda p: image_bomb_pdf(p, 10000, 12000, images=4)),
    ("PDF の JPEG 40000×40000", "bomb.pdf", lambda p: jpeg_bomb_pdf(p, 40000, 40000)),
]


def run_one(pdf_maker, name: str) -> tuple[int, float, int, str]:  # noqa: ANN001
    """(peak bytes, seconds, exit code, reason) of `kakari run` over an inbox holding one file."""
    with tempfile.TemporaryDirectory() as t:
        home = Path(t) / "home"
        inbox = home / "jobs" / "kodomo_iryo" / "inbox"
        inbox.mkdir(parents=True)
        pdf_maker(inbox / name)
        os.utime(inbox / name, (time.time() - 10, time.time() - 10))
        start = time.perf_counter()
        code, peak, _ = run_measured([KAKARI, "run", "kodomo_iryo", "--config", str(CONFIG), "--home", str(home)], ROOT)
        seconds = time.perf_counter() - start
        notes = list((home / "jobs" / "kodomo_iryo" / "errors").glob("*.error.txt"))
        reason = (notes[0].read_text(encoding="utf-8").split("理由: ", 1)[1].split("。")[0].strip().splitlines()[0]
                  if notes else "(読み取り成功)")
        return peak, seconds, code, reason


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,4,16,50", help="compressed MB of each bomb (50 = the size limit)")
    args = ap.parse_args()
    from samples.generate import generate

    with tempfile.TemporaryDirectory() as t:
        generate(Path(t), count=1, seed=42, forms=["child_medical"])
        sample = next((Path(t) / "child_medical").glob("child_medical_*.pdf")).read_bytes()
    base_peak, base_s, _, _ = run_one(lambda p: p.write_bytes(sample), "ordinary.pdf")
    rows = [("通常の申請書 1件", len(sample), 0, base_peak, base_s, "(読み取り成功)")]
    cases = [(f"{mb} MB bomb", min(int(float(mb) * 1e6), MAX_BYTES - 8192), 1) for mb in args.sizes.split(",")]
    cases.append(("4 MB, two Flate stages", 4_000_000, 2))
    for label, size, stages in cases:
        inflated: dict[str, int] = {}

        def make(p: Path, size: int = size, stages: int = stages, inflated: dict[str, int] = inflated) -> None:
            inflated["n"] = bomb_pdf(p, size, stages)
            inflated["file"] = p.stat().st_size

        peak, seconds, code, reason = run_one(make, "bomb.pdf")
        rows.append((label, inflated["file"], inflated["n"], peak, seconds, reason))
        print(f"{label}: file {inflated['file'] / 1e6:.3f} MB → {inflated['n'] / 1e9:.1f} GB inflated; peak {peak / 2**20:.0f} MiB "
              f"({peak / base_peak:.2f}× an ordinary application), {seconds:.1f} s, exit {code}: {reason}")
    for label, name, maker in IMAGE_BOMBS:
        made: dict[str, int] = {}

        def make_image(p: Path, maker: Callable[[Path], int] = maker, made: dict[str, int] = made) -> None:
            made["n"] = maker(p)
            made["file"] = p.stat().st_size

        peak, seconds, code, reason = run_one(make_image, name)
        rows.append((label, made["file"], made["n"], peak, seconds, reason))
        print(f"{label}: file {made['file'] / 1e6:.3f} MB → {made['n'] / 1e9:.1f} GB decoded; peak {peak / 2**20:.0f} MiB "
              f"({peak / base_peak:.2f}× an ordinary application), {seconds:.1f} s, exit {code}: {reason}")
    worst = max(r[3] for r in rows[1:])
    lines = ["| 入力 | ファイル | 展開後 | 最大常駐メモリ | 通常の申請書比 | 時間 | 結果 |", "|---|---:|---:|---:|---:|---:|---|"]
    for label, size, inflated_n, peak, seconds, reason in rows:
        lines.append(f"| {label} | {size / 1e6:.3f} MB | {inflated_n / 1e9:.1f} GB | {peak / 2**20:.0f} MiB | "
                     f"{peak / base_peak:.2f}× | {seconds:.1f} s | {reason} |")
    verdict = "under" if worst < LIMIT else "OVER"
    body = (f"`python benchmarks/run_bomb.py` — one file per run through the real `kakari run` (CLI start-up "
            f"included); peak = largest resident set of any process of the tree, readers included (RUSAGE_CHILDREN "
            f"of a subreaper, benchmarks/peak_memory.py); 展開後 of an image = its decoded bitmap. Documented limit "
            f"1 GiB per hostile document: worst bomb {worst / 2**20:.0f} MiB, {verdict} the limit.\n\n" + "\n".join(lines))
    write_section("Inflate bombs (peak memory)", body)
    print(f"worst bomb: {worst / 2**20:.0f} MiB ({verdict} 1 GiB)")
    return 0 if worst < LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
