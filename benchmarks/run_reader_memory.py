"""Private memory a masking reader needs: the least RLIMIT_DATA under which the masking bot reads
sample scans with both engines (PP-OCR's page detector reserves far more than reading a form's
zones), found by bisection, each try in a fresh process. Linux only (RLIMIT_DATA).

    python benchmarks/run_reader_memory.py --scans 4 --seed 42
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROBE = r"""
import json, resource, sys
from pathlib import Path
limit = int(sys.argv[1]) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.RLIM_INFINITY))
from loguru import logger
from bots.mask_numbers import MaskNumbers
from bots.masking.engine import mask_file
from kakari.config import KakariConfig
fell_back = []
logger.remove()
logger.add(lambda m: fell_back.append(1) if "Tesseract だけ" in str(m) else None, level="WARNING")
for p in sys.argv[2:]:
    mask_file(Path(p), MaskNumbers.spec, KakariConfig(), Path(p).with_suffix(".masked.pdf"))
print(json.dumps({"fell_back": len(fell_back),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def holds(limit_mb: int, scans: list[Path]) -> tuple[bool, int]:
    """Whether every scan was read by both engines under the limit, and the peak resident MB."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(limit_mb), *map(str, scans)], cwd=ROOT,
                          capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    if done.returncode != 0:
        return False, 0
    got = json.loads(done.stdout.strip().splitlines()[-1])
    return got["fell_back"] == 0, int(got["peak_mb"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scans", type=int, default=4)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=Path("var/bench-reader-memory"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    from bots.mask_numbers import MaskNumbers
    from kakari.config import KakariConfig
    from samples.masking import generate

    scans = [p for p in generate(args.out, 0, args.scans + 2, args.seed) if p.stem.startswith("scan_")][:args.scans]
    low, high = 256, 4096  # MB; 4 GiB always holds here
    tries = []
    while high - low > 32:
        mid = (low + high) // 2
        ok, peak = holds(mid, scans)
        tries.append((mid, ok, peak))
        print(f"RLIMIT_DATA {mid} MB: {'both engines' if ok else 'PP-OCR fell back / failed'}, peak {peak} MB")
        low, high = (low, mid) if ok else (mid, high)
    form_limit = KakariConfig().limits.memory_mb
    body = "\n".join([
        f"`python benchmarks/run_reader_memory.py --scans {args.scans} --seed {args.seed}`: the masking bot on "
        f"{len(scans)} scan-like samples (samples/masking.py), each try in a fresh process under RLIMIT_DATA.",
        "",
        "| RLIMIT_DATA (MB) | both engines ran | peak resident (MB) |",
        "|---:|---|---:|",
        *[f"| {m} | {'yes' if ok else 'no'} | {p or '—'} |" for m, ok, p in sorted(tries)],
        "",
        f"Least limit that holds: about {high} MB (bisection to 32 MB). The masking bot asks its reader for "
        f"{MaskNumbers.reader_memory_mb} MB; form readers keep the config's {form_limit} MB.",
    ])
    print(body)
    if not args.no_write:
        from benchmarks.results import write_section

        write_section("Reader memory for masking (PP-OCR page detection)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
