"""Wall time, CPU time and peak memory of a command's whole process tree, for the benchmarks."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Timed:
    wall: float
    cpu: float  # user + system of the process and every descendant
    peak_mib: float  # the largest single process
    out: str


def measured(cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0, 4)) -> Timed:
    """Run a command, its whole process tree accounted for: on Linux this process becomes the
    subreaper of the orphans (a worker pool's server) so their CPU time is counted too. Peak memory
    is sampled from the tree (psutil): the kernel's ru_maxrss of a child started from this large
    process counts this process's memory at the fork. Exit codes other than `ok` (kakari's 4: some
    documents went to 要確認/エラー) stop the benchmark with the command's output."""
    import psutil

    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    peak = 0
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
        top = psutil.Process(proc.pid)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            try:
                tree = [top, *top.children(recursive=True)]
            except psutil.Error:
                tree = []
            for p in tree:
                with contextlib.suppress(psutil.Error):  # ended between the listing and the look
                    peak = max(peak, p.memory_info().rss)
            time.sleep(0.1)
        wall = time.perf_counter() - t0
        cpu = usage.ru_utime + usage.ru_stime
        while True:  # adopted orphans
            try:
                _, _, orphan = os.wait4(-1, 0)
            except ChildProcessError:
                break
            cpu += orphan.ru_utime + orphan.ru_stime
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{text[-3000:]}")
    return Timed(wall, cpu, peak / 1024 ** 2, text)
