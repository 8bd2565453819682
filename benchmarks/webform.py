"""Records/minute entered into the sample back-office system (みどり町 総合衛生システム) by the web step,
calm and under injected faults, each record searched first and entered once through three pages.

    python benchmarks/webform.py [--count 30]

Wall time includes starting Chromium (once per batch, as in a real flush). Writes the section
"Web back-office entry" of benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402

SCENARIOS = {
    "calm": {},
    "503 5% · slow 20% (+300 ms) · logout every 60 requests": {
        "error_rate": 0.05, "slow_ms": 300, "slow_rate": 0.2, "logout_every": 60, "seed": 7,
        "duplicate_check": False},
}


def run(count: int) -> list[tuple[str, int, float, float, int, int]]:
    from connectors.webform import WebFormSink
    from connectors.webmapping import Credentials, load_system
    from connectors.webstate import CONFIRMED, WebState
    from jobs.store import Store
    from samples.backoffice.records import mismatches, sample_records
    from samples.backoffice.server import start

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        bo = start(tmpdir / "backoffice.db")
        os.environ["KAKARI_EISEI_URL"] = bo.url
        try:
            for n, (name, faults) in enumerate(SCENARIOS.items()):
                home = tmpdir / f"home{n}"
                home.mkdir()
                bo.calm()
                if faults:
                    bo.faults(**faults)
                before = bo.injected()
                records = sample_records(count, seed=100 + n, salt=f"bench{n}")
                state = WebState(Store(f"sqlite:///{home / 'kakari.db'}").engine)
                sink = WebFormSink(load_system("eisei"), state, home, "bench", Credentials(bo.user, bo.password))
                t0 = time.perf_counter()
                sink.write_many(records)
                wall = time.perf_counter() - t0
                after = bo.injected()
                subs = [s for s in state.all("eisei") if s.state == CONFIRMED]
                per = [(s.confirmed_at - s.started).total_seconds() for s in subs if s.started and s.confirmed_at]
                apps = {a["kakari_ref"]: a for a in bo.applications()}
                keys = [sink.system.key_for(r.doc_id) for r in records]
                ok = sum(1 for r, k in zip(records, keys) if k in apps and not mismatches(r, apps[k]))
                once = len(keys) == len(set(keys)) and all(
                    sum(1 for a in bo.applications() if a["kakari_ref"] == k) == 1 for k in keys)
                injected = sum(after[k] - before[k] for k in ("503", "logout"))
                rows.append((name, len(subs), wall, statistics.median(per) if per else 0.0,
                             ok if once else -1, injected))
        finally:
            bo.stop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=30, help="records per scenario")
    args = ap.parse_args()
    rows = run(args.count)
    from connectors.webmapping import load_system

    typing = load_system("eisei").typing_minutes
    lines = ["| scenario | records entered | wall s | records/min | median s/record | right values, once | "
             "503s + logouts met |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, n, wall, median, ok, injected in rows:
        lines.append(f"| {name} | {n} | {wall:.1f} | {60 * n / wall:.1f} | {median:.2f} | "
                     f"{'DOUBLED' if ok < 0 else f'{ok}/{n}'} | {injected} |")
    body = "\n".join(lines) + (
        f"\n\nOne headless Chromium (Debian's `chromium`), one uvicorn process, {os.cpu_count()} cores; every record "
        "is searched by its 外部連携番号 first, then typed through 申請者 → 営業所・施設 → 確認 → 登録 and its 受付番号 "
        f"read back. A clerk's estimate in the mapping is {typing:g} min per record "
        f"({60 / typing:.1f} records/hour). `python benchmarks/webform.py --count {args.count}`.")
    write_section("Web back-office entry", body)
    print(body)


if __name__ == "__main__":
    main()
