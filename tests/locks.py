"""A lock held by another process, as another program (or another kakari) holds a file."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def held_by_another_process(path: Path, mode: str = "rb+") -> Iterator[None]:
    """An exclusive portalocker lock on `path` (flock on POSIX, LockFileEx on Windows) in a child
    process, held until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import portalocker, sys\n"
        f"fh = open({str(path)!r}, {mode!r}); portalocker.lock(fh, portalocker.LOCK_EX)\n"
        "print('locked', flush=True); sys.stdin.readline()")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.communicate("\n", timeout=10)
