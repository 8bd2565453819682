"""What reading in a killable reader process costs on text-layer PDFs, and what the memory limit holds.

In one run, on the same generated text-layer samples:
  - extraction (read → classify → bot.read) in this process (the path before reader processes) vs
    through a warm reader (forkserver and spawn): docs/s and milliseconds added per document;
  - `run_job` end to end (claim → read → commit → archive → ledger) with the reader vs with the
    extraction called in-process, both with workers = 1;
  - an inflate-bomb PDF (a page that inflates to 4 GiB) under `memory_mb` = 1024: the reason given
    and the reader's peak resident memory (spawn, so the reader is our child and its peak is known).

    python benchmarks/run_reader.py [--count 40]
"""
from __future__ import annotations

import argparse
import contextlib
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=40, help="documents per form")
    args = ap.parse_args()

    import jobs.runner
    from connectors.folder import sha256_of
    from jobs.reading import extract, readers
    from kakari.config import RunContext, load_config
    from kakari.errors import DocumentError
    from kakari.log import logger
    from kakari.model import DocRef
    from samples.generate import generate
    from samples.hostile import bomb_pdf

    logger.remove()  # per-page debug lines would be timed too
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        generate(tmpdir / "s", count=args.count, seed=7, forms=["child_medical"])
        pdfs = sorted((tmpdir / "s" / "child_medical").glob("child_medical_*.pdf"))
        config = load_config(ROOT / "samples" / "kakari.toml", tmpdir / "home")
        job = config.job("kodomo_iryo")
        refs = [DocRef(sha256_of(p), p, p.name, None) for p in pdfs]  # type: ignore[arg-type]

        def per_second(fn) -> float:  # noqa: ANN001
            fn(refs[0])  # warm: models loaded, reader started
            t0 = time.perf_counter()
            for ref in refs:
                fn(ref)
            return len(refs) / (time.perf_counter() - t0)

        inproc = per_second(lambda r: extract(job, r, config))
        methods = {}
        for method in ("forkserver", "spawn"):
            readers.close()
            cfg = config.model_copy(update={"start_method": method})
            methods[method] = per_second(lambda r, c=cfg: readers.read(job, r, c))
        readers.close()

        def end_to_end(in_process: bool) -> float:
            home = Path(tempfile.mkdtemp(dir=tmpdir))
            cfg = load_config(ROOT / "samples" / "kakari.toml", home)
            inbox = cfg.job("kodomo_iryo").folders(home)["inbox"]
            inbox.mkdir(parents=True)
            for pdf in pdfs:
                shutil.copy2(pdf, inbox / pdf.name)
            real = jobs.runner.readers.read
            if in_process:
                jobs.runner.readers.read = lambda j, r, c: extract(j, r, c)  # type: ignore[method-assign]
            try:
                t0 = time.perf_counter()
                s = jobs.runner.run_job(cfg.job("kodomo_iryo"), RunContext(cfg))
                wall = time.perf_counter() - t0
            finally:
                jobs.runner.readers.read = real  # type: ignore[method-assign]
            assert s.counts["read"] == len(pdfs), s.counts
            return len(pdfs) / wall

        # the bare round trip: a file the reader refuses at once (empty), so only the IPC is timed
        empty = tmpdir / "empty.pdf"
        empty.write_bytes(b"")
        eref = DocRef("0" * 64, empty, empty.name, None)  # type: ignore[arg-type]

        def refused(fn, n: int = 300) -> float:  # noqa: ANN001
            t0 = time.perf_counter()
            for _ in range(n):
                with contextlib.suppress(DocumentError):  # EmptyFile, expected
                    fn(eref)
            return (time.perf_counter() - t0) / n * 1000

        trip_in = refused(lambda r: extract(job, r, config))
        trip_reader = refused(lambda r: readers.read(job, r, config))
        # alternate, best of two each: the first run of a process also pays for imports and migrations
        runs: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(2):
            for in_process in (False, True):
                runs[in_process].append(end_to_end(in_process))
        e2e_reader, e2e_inproc = max(runs[False]), max(runs[True])

        # the inflate bomb under the limit
        readers.close()
        # the inflate check raised out of the way: what is measured is the reader's memory limit
        limits = config.limits.model_copy(update={"memory_mb": 1024, "max_inflated_bytes": 64 * 1024 ** 3})
        bomb_cfg = config.model_copy(update={"start_method": "spawn", "limits": limits})
        bomb = tmpdir / "bomb.pdf"
        bomb_pdf(bomb, 4 * 1024 ** 2)  # about 4 GiB inflated
        t0 = time.perf_counter()
        try:
            readers.read(job, DocRef(sha256_of(bomb), bomb, bomb.name, None), bomb_cfg)  # type: ignore[arg-type]
            reason = "(read without error)"
        except Exception as e:  # noqa: BLE001 - the reason is the figure
            reason = getattr(e, "message", repr(e))
        bomb_seconds = time.perf_counter() - t0
        readers.close()
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    fs, sp = methods["forkserver"], methods["spawn"]
    lines = [
        f"{len(pdfs)} generated text-layer PDFs (child_medical, seed 7), one process, this machine's 2 shared cores.",
        "",
        "| path | docs/s | ms per document | vs in-process |",
        "|---|---:|---:|---:|",
        f"| extraction in this process (before reader processes) | {inproc:.1f} | {1000 / inproc:.1f} | 1.00 |",
        f"| extraction through a warm reader (forkserver) | {fs:.1f} | {1000 / fs:.1f} | {fs / inproc:.2f} |",
        f"| extraction through a warm reader (spawn) | {sp:.1f} | {1000 / sp:.1f} | {sp / inproc:.2f} |",
        f"| `run_job` end to end, extraction in-process | {e2e_inproc:.1f} | {1000 / e2e_inproc:.1f} | 1.00 |",
        f"| `run_job` end to end, warm reader | {e2e_reader:.1f} | {1000 / e2e_reader:.1f} | {e2e_reader / e2e_inproc:.2f} |",
        "",
        f"Added per document by the reader: {1000 / fs - 1000 / inproc:+.1f} ms (forkserver), "
        f"{1000 / sp - 1000 / inproc:+.1f} ms (spawn) — within this machine's noise. The bare round trip (a file "
        f"the reader refuses at once): {trip_reader:.2f} ms through the reader vs {trip_in:.2f} ms in-process, "
        f"i.e. {trip_reader - trip_in:.2f} ms per document, {100 * (trip_reader - trip_in) / 20:.0f} % of a 20 ms "
        "(50 docs/s) document.",
        "",
        f"Inflate bomb (one page inflating to 4 GiB), `memory_mb = 1024`, the inflate check raised out of the way, spawn: stopped after {bomb_seconds:.1f} s "
        f"with 「{reason}」; the readers' peak resident memory {peak_mb:,.0f} MB.",
    ]
    body = "\n".join(lines)
    print(body)
    write_section("Reader processes (time and memory limits)", body + "\n\n`python benchmarks/run_reader.py`")


if __name__ == "__main__":
    main()
