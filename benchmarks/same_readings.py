"""Are two ``ocr_scan.py --dump`` runs' readings the same? For a change meant only to make reading
faster: every document's status and fields (value, problems, registered or not) and every field's
evidence (each engine's text and confidence, the variant checks) compared, ignoring the run's temporary
folder and its timings.

    python benchmarks/same_readings.py BEFORE.jsonl AFTER.jsonl

Prints what differs (at most 20 lines) and exits 1 if anything does.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TIMINGS = ("seconds", "rss_mb", "evidence_s")


def _relative(path: str) -> str:
    """A corpus file's path inside the run's temporary folder (font/profile/form/file)."""
    return "/".join(Path(path).parts[-4:])


def load(dump: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(documents by path, evidence records by path and field) of one dump."""
    docs = json.loads(dump.with_suffix(".docs.json").read_text(encoding="utf-8"))
    by_doc = {_relative(d["path"]): {k: v for k, v in d.items() if k not in (*TIMINGS, "path")} for d in docs}
    records = {}
    for line in dump.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            records[(_relative(r["source"]), r["field"])] = {k: v for k, v in r.items() if k != "source"}
    return by_doc, records


def differences(before: Path, after: Path) -> list[str]:
    out = []
    for what, a, b in zip(("document", "evidence"), load(before), load(after)):
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                out.append(f"{what} {key}: {a.get(key)!r} → {b.get(key)!r}")
    return out


def main() -> None:
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    diff = differences(before, after)
    docs, records = load(after)
    if diff:
        print(f"{len(diff)} differences:")
        print("\n".join(line[:300] for line in diff[:20]))
        sys.exit(1)
    print(f"identical: {len(docs)} documents (status, every field's value, problems, registration), "
          f"{len(records)} evidence records (each engine's text and confidence, variant checks)")


if __name__ == "__main__":
    main()
