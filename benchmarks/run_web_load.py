"""Load check of the review screen: 20 clerks working at once against one local `kakari web`.

    python benchmarks/run_web_load.py [--sessions 20] [--seconds 30]

Each session logs in, then loops: the queue, a review page, its page image and its first crop
(what a browser fetches), with a short think time. Reports requests, errors, and median/p95 page
time per kind of request, to benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402

PASSWORD = "load-test-password"


async def session(base: str, n: int, until: float, docs: list[str], times: dict, errors: list) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        form = (await c.get("/login")).text
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        r = await c.post("/login", data={"username": f"clerk{n}", "password": PASSWORD, "csrf_token": token})
        if r.status_code != 303:
            errors.append(f"login {r.status_code}")
            return
        rng = random.Random(n)
        while time.monotonic() < until:
            doc = rng.choice(docs)
            for kind, url in (("queue", "/review"), ("review page", f"/review/{doc}"),
                              ("page image", f"/review/{doc}/page.png"), ("field crop", f"/review/{doc}/crop/phone.png")):
                t0 = time.perf_counter()
                try:
                    r = await c.get(url)
                except httpx.HTTPError as e:
                    errors.append(f"{kind} {type(e).__name__}")
                    continue
                times[kind].append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors.append(f"{kind} {r.status_code}")
            await asyncio.sleep(rng.uniform(0.2, 0.8))  # a person reading


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from sqlalchemy import select

    from jobs.runner import run_job
    from jobs.store import Store, documents
    from kakari.config import RunContext, load_config
    from samples.generate import generate
    from web.accounts import add_user, sections_of

    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        generate(tmp / "s", count=40, seed=8, forms=["child_medical"])
        config = load_config(ROOT / "samples" / "kakari.toml", tmp / "home")
        job = config.job("kodomo_iryo")
        inbox = job.folders(config.home)["inbox"]
        inbox.mkdir(parents=True)
        for pdf in sorted((tmp / "s" / "child_medical").glob("child_medical_*.pdf")):
            shutil.copy2(pdf, inbox / pdf.name)
        run_job(job, RunContext(config))
        store = Store(config.database_url)
        with store.engine.connect() as conn:
            docs = [f"kodomo_iryo/{d}" for d in conn.execute(select(documents.c.doc_id).where(
                documents.c.status == "要確認")).scalars()]
        for n in range(args.sessions):
            add_user(store, f"clerk{n}", PASSWORD, "clerk", "子育て支援課", sections=sections_of(config))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([str(Path(sys.executable).with_name("kakari")), "web", "--port", str(port),
                                   "--config", str(ROOT / "samples" / "kakari.toml"), "--home", str(config.home)],
                                  stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "w"), cwd=ROOT)  # noqa: SIM115
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            for _ in range(100):
                try:
                    httpx.get(base + "/login", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            times: dict[str, list[float]] = defaultdict(list)
            errors: list[str] = []
            until = time.monotonic() + args.seconds

            async def all_sessions() -> None:
                await asyncio.gather(*(session(base, n, until, docs, times, errors) for n in range(args.sessions)))

            asyncio.run(all_sessions())
        finally:
            server.terminate()
            server.wait(10)
            if errors:
                print((tmp / "server.log").read_text(encoding="utf-8", errors="replace")[-3000:])
    rows = []
    for kind, ts in times.items():
        ts = sorted(ts)
        rows.append((kind, len(ts), statistics.median(ts) * 1000, ts[min(len(ts) - 1, int(0.95 * len(ts)))] * 1000))
        print(f"{kind:<12} n={len(ts):5d} median {rows[-1][2]:6.0f} ms  p95 {rows[-1][3]:6.0f} ms")
    total = sum(r[1] for r in rows)
    print(f"errors: {len(errors)} of {total} requests")
    lines = [f"{args.sessions} concurrent clerk sessions for {args.seconds:.0f} s against one `kakari web` (uvicorn, one "
             f"process) on this {os.cpu_count()}-core machine; each loops queue → review page → page image → field crop "
             "with 0.2–0.8 s think time. SQLite home, text-layer PDFs.", "",
             "| request | count | median (ms) | p95 (ms) |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {n} | {m:.0f} | {p:.0f} |" for k, n, m, p in rows]
    lines += ["", f"Errors: {len(errors)} of {total} requests."]
    body = "\n".join(lines)
    if not args.no_write:
        write_section("Review screen under load (kakari web)", body)
    if errors:
        raise SystemExit(f"{len(errors)} errors: {errors[:5]}")


if __name__ == "__main__":
    main()
