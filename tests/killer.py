"""Fault injection driver: fork a worker that runs the job, SIGKILL it at a random moment, repeat.

    python -m tests.killer CONFIG HOME JOB CORPUS_DIR --kills 200 --seed 1

Runs as its own process (no threads, so fork is safe) with kakari imported once, so each of the
hundreds of workers starts in milliseconds and the kills land inside real work: reading, the
commit, the file move, the ledger save. Before each worker one more file is dropped into the inbox
(the corpus, then re-sent copies of the first files under new names). At the end one worker runs
undisturbed to finish. Prints a JSON summary on stdout.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("config", type=Path)
    ap.add_argument("home", type=Path)
    ap.add_argument("job")
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--resend", type=int, default=20, help="copies of the first files sent again")
    ap.add_argument("--max-delay", type=float, default=0.35)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-rounds", type=int, default=0,
                    help="stop after this many workers even if fewer were killed (0: no bound)")
    args = ap.parse_args()

    from kakari.log import logger

    logger.remove()  # the workers' log lines are not what this run checks
    from jobs.runner import run_job
    from kakari.config import RunContext, load_config

    config = load_config(args.config, args.home)
    job = config.job(args.job)
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in args.corpus.iterdir() if p.is_file())
    queue = [(p, p.name) for p in files] + [(p, f"再送_{p.name}") for p in files[: args.resend]]
    dropped: list[str] = []
    rng = random.Random(args.seed)

    def worker() -> None:
        code = 0
        try:
            run_job(job, RunContext(config), trigger="fault", flush_every=2)
        except BaseException:  # noqa: BLE001 - report, then leave without running the parent's code
            import traceback

            traceback.print_exc()
            code = 3
        finally:
            os._exit(code)

    kills = finished = 0
    started = time.perf_counter()
    # Workers on an empty inbox finish before slow kills land, so a bound keeps long delays finite.
    while kills < args.kills and not (args.max_rounds and kills + finished >= args.max_rounds):
        if queue:
            src, name = queue.pop(0)
            shutil.copy2(src, inbox / name)  # old mtime: complete at once
            dropped.append(name)
        pid = os.fork()
        if pid == 0:
            worker()
        time.sleep(rng.uniform(0.0, args.max_delay))
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            kills += 1
        else:
            finished += 1
    for src, name in queue:
        shutil.copy2(src, inbox / name)
        dropped.append(name)
    pid = os.fork()
    if pid == 0:
        worker()
    _, status = os.waitpid(pid, 0)
    json.dump({"kills": kills, "finished_before_kill": finished, "dropped": dropped,
               "final_exit": os.waitstatus_to_exitcode(status), "seconds": time.perf_counter() - started}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
