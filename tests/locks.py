"""A lock file held by another process, as another kakari (a second PC's watcher, the scheduler)
holds it while it writes."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def held_by_another_process(path: Path) -> Iterator[None]:
    """The filelock lock on `path` taken in a child process, held until the block ends."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import filelock, sys\n"
        f"lock = filelock.FileLock({str(path)!r}); lock.acquire(timeout=10)\n"
        "print('locked', flush=True); sys.stdin.readline()")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.communicate("\n", timeout=10)
