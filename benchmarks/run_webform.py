"""Records/minute entered into the two sample back-office systems by the web step, calm and under
injected faults, each record searched first and entered once.

    python benchmarks/run_webform.py [--count 30] [--realistic 6]

総合衛生システム (eisei): three pages by CSS ids. 子育て支援総合システム (kosodate): label and role selectors,
the entry reached through a tab, flow keys in URLs, a file upload; "as built" is its own default behaviour
(0.5–1.5 s a request, 5% 503s, a session ending every 25 requests). Wall time includes starting Chromium
(once per batch, as in a real flush). Writes the section "Web back-office entry" of benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402

# (system, scenario, faults, records: "count" or "realistic")
SCENARIOS: list[tuple[str, str, dict[str, Any], str]] = [
    ("eisei", "calm", {}, "count"),
    ("eisei", "503 5% · slow 20% (+300 ms) · logout every 60 requests",
     {"error_rate": 0.05, "slow_ms": 300, "slow_rate": 0.2, "logout_every": 60, "seed": 7,
      "duplicate_check": False}, "count"),
    ("kosodate", "calm", {}, "count"),
    ("kosodate", "503 5% · 30–120 ms a request · session of 25 requests",
     {"error_rate": 0.05, "delay_min_ms": 30, "delay_max_ms": 120, "session_requests": 25, "seed": 7}, "count"),
    ("kosodate", "as built: 0.5–1.5 s a request · 503 5% · session of 25 requests",
     {"error_rate": 0.05, "delay_min_ms": 500, "delay_max_ms": 1500, "session_requests": 25, "seed": 7}, "realistic"),
]


def run(count: int, realistic: int) -> list[tuple[str, str, int, float, float, int, int]]:
    from connectors.webform import WebFormSink
    from connectors.webmapping import Credentials, load_system
    from connectors.webstate import CONFIRMED, WebState
    from jobs.store import Store
    from kakari.log import logger
    from samples.backoffice.records import child_records, mismatches, sample_records
    from samples.backoffice.server import start

    logger.remove()  # each retry logs a line; the table is what this prints
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        servers = {name: start(tmpdir / f"{name}.db", system=name) for name in ("eisei", "kosodate")}
        for name, bo in servers.items():
            os.environ[f"KAKARI_{name.upper()}_URL"] = bo.url
        try:
            for n, (system_name, scenario, faults, size) in enumerate(SCENARIOS):
                bo = servers[system_name]
                home = tmpdir / f"home{n}"
                home.mkdir()
                bo.calm()
                if faults:
                    bo.faults(**faults)
                before = bo.injected()
                k = count if size == "count" else realistic
                records = (sample_records(k, seed=100 + n, salt=f"bench{n}") if system_name == "eisei"
                           else child_records(k, home / "files", seed=100 + n, salt=f"bench{n}"))
                state = WebState(Store(f"sqlite:///{home / 'kakari.db'}").engine)
                system = load_system(system_name)
                sink = WebFormSink(system, state, home, "bench", Credentials(bo.user, bo.password))
                t0 = time.perf_counter()
                sink.write_many(records)
                wall = time.perf_counter() - t0
                after = bo.injected()
                subs = [s for s in state.all(system_name) if s.state == CONFIRMED]
                per = [(s.confirmed_at - s.started).total_seconds() for s in subs if s.started and s.confirmed_at]
                by_key = bo.by_key()
                keys = [system.key_for(r.doc_id) for r in records]
                ok = sum(1 for r, key in zip(records, keys) if key in by_key and not mismatches(r, by_key[key][0]))
                once = all(len(by_key.get(key, [])) == 1 for key in keys)
                met = sum(after[x] - before[x] for x in ("503", "logout", "expired"))
                rows.append((system_name, scenario, len(subs), wall, statistics.median(per) if per else 0.0,
                             ok if once else -1, met))
        finally:
            for bo in servers.values():
                bo.stop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=30, help="records per scenario")
    ap.add_argument("--realistic", type=int, default=6, help="records in the scenario with the system's own delays")
    args = ap.parse_args()
    rows = run(args.count, args.realistic)
    from connectors.webmapping import load_system

    lines = ["| system | scenario | records entered | wall s | records/min | median s/record | right values, once | "
             "503s + logouts met |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for system, name, n, wall, median, ok, met in rows:
        lines.append(f"| {system} | {name} | {n} | {wall:.1f} | {60 * n / wall:.1f} | {median:.2f} | "
                     f"{'DOUBLED' if ok < 0 else f'{ok}/{n}'} | {met} |")
    calm = {system: 60 * n / wall for system, name, n, wall, *_ in rows if name == "calm"}
    typing = {s: load_system(s).typing_minutes for s in ("eisei", "kosodate")}
    body = "\n".join(lines) + (
        f"\n\nOne headless Chromium, one uvicorn process per system, {os.cpu_count()} cores; every record is "
        "searched by its key first, then typed page by page and its 受付番号 read back (cut out by "
        "receipt_pattern). Calm kosodate/eisei records/min ratio: "
        f"{calm.get('kosodate', 0) / calm['eisei']:.2f} (label and role locators, a portal tab and an upload; "
        f"measured in the same run). A clerk's estimate in the mappings: eisei {typing['eisei']:g} min, "
        f"kosodate {typing['kosodate']:g} min per record. "
        f"`python benchmarks/run_webform.py --count {args.count} --realistic {args.realistic}`.")
    write_section("Web back-office entry", body)
    print(body)


if __name__ == "__main__":
    main()
