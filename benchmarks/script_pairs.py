"""Where PP-OCR and Tesseract read the same shapes but a look-alike in different scripts (三一ト / ミート,
みどリ / みどり), whose script was written? The evidence for ``ocr.normalise.take_script``.

    python benchmarks/script_pairs.py RECORDS.jsonl [...] [--no-write]

RECORDS: evidence records (``benchmarks/ocr_scan.py --dump``, ``calibrate_ocr.py --save-records``).
For every name, text and address record whose two readings (each as the policy offers it) differ only
at places where one has a look-alike of the other's character, counts whether PP-OCR's reading, the
reading with Tesseract's script at those places, or both parse to the truth.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from benchmarks.calibrate_ocr import right
    from benchmarks.ocr_evidence import load_records
    from ocr.normalise import nfkc, take_script
    from ocr.trust import SCRIPT_KINDS, offered as offer

    ap = argparse.ArgumentParser()
    ap.add_argument("records", nargs="+", type=Path)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    seen: set[tuple[str, str, str, str, int]] = set()
    tally: Counter[tuple[bool, str]] = Counter()
    examples: Counter[tuple[str, str, str]] = Counter()
    n = 0
    for path in args.records:
        for r in load_records(path):
            key = (r.source, r.font, r.field, r.neural, r.dpi)
            if r.kind not in SCRIPT_KINDS or r.empty or key in seen:
                continue
            seen.add(key)
            n += 1
            mine = offer(r.kind, r.neural)
            theirs = take_script(mine, offer(r.kind, r.second))
            if theirs == mine or "".join(nfkc(mine).split()) == "".join(nfkc(theirs).split()):
                continue
            a, b = right(r, mine), right(r, theirs)
            who = "both" if a and b else "PP-OCR's" if a else "Tesseract's" if b else "neither"
            tally[(r.handwritten, who)] += 1
            examples[(mine, theirs, who)] += 1
    lines = [f"{n} name/text/address readings in {', '.join(p.name for p in args.records)}; of them, those whose "
             "two readings differ only in the script of look-alikes:", "",
             "| fields | right: PP-OCR's script | Tesseract's | both | neither |", "|---|---:|---:|---:|---:|"]
    for hand in (False, True):
        cells = " | ".join(str(tally[(hand, w)]) for w in ("PP-OCR's", "Tesseract's", "both", "neither"))
        lines.append(f"| {'handwritten' if hand else 'printed'} | {cells} |")
    lines += ["", "Readings: " + "; ".join(f"{m} / {t} ({w} right) ×{k}" for (m, t, w), k in examples.most_common(8)) + "."]
    body = "\n".join([*lines, "", f"Command: `python benchmarks/script_pairs.py {' '.join(p.name for p in args.records)}`"])
    print(body)
    if not args.no_write:
        from benchmarks.results import write_section

        write_section("Look-alikes in two scripts: whose reading was written", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
