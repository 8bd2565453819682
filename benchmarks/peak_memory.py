"""Peak resident memory of a command's whole process tree.

RUSAGE_CHILDREN counts only descendants that were waited for, and nobody waits for a forkserver's
readers once the command has exited. On Linux the measurer makes itself the subreaper of everything
the command starts, so the forkserver and its readers are re-parented to it and waited for, and
their peaks counted; elsewhere only the command's own waited-for children count.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MEASURE = r"""
import ctypes, os, resource, subprocess, sys
if sys.platform.startswith("linux"):
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
p = subprocess.run(sys.argv[1:], capture_output=True, text=True, errors="replace")
while True:  # orphans of the command (a forkserver, its readers) are ours now: wait for them too
    try:
        os.wait()
    except ChildProcessError:
        break
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
sys.stderr.write(p.stdout + p.stderr)
"""


def run_measured(cmd: list[str], cwd: Path, timeout: float = 900) -> tuple[int, int, str]:
    """(exit code, peak resident bytes of any process of the tree, console) of `cmd`."""
    proc = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=os.environ | {"COLUMNS": "200"})
    code, peak = proc.stdout.split()
    return int(code), int(peak), proc.stderr
