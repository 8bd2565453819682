"""Files and folders kakari creates are the service account's alone: the database holds password
hashes and every record, ledgers and scans hold applicants' data.

On POSIX the process umask is narrowed to 077 when a command starts (``private_umask``), and the
files that matter most are also opened with an explicit mode, so a caller with a wider umask (a
test, a library user) gets the same. On Windows neither umask nor modes restrict reading: a new file
takes the ACL of its folder, so the home must sit in a folder only the service account and
administrators may read (the README says how).

Moves behave the same on Windows and POSIX.

Windows refuses to rename or replace a file another program holds open (Excel, a scanner still
writing, an antivirus scan): the call raises PermissionError (winerror 32, a sharing violation, or
5, access denied). Callers treat that as "busy, try again later", never as a bad file. Directories
cannot be opened for fsync there, so a rename is made durable only where the OS can do it.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_umask() -> None:
    """Everything this process creates from now on is readable by its own user only (POSIX)."""
    if os.name == "posix":
        os.umask(0o077)


def private_opener(path: str, flags: int) -> int:
    """`open(..., opener=private_opener)`: a new file is created 0600 whatever the umask."""
    return os.open(path, flags, PRIVATE_FILE)


def make_private_dir(path: Path) -> Path:
    """mkdir -p with mode 0700 for the folders created here; an existing folder keeps its mode (a
    town may have opened its inbox to a scanner account on purpose)."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=PRIVATE_DIR)
    return path


def make_private(path: Path) -> None:
    """chmod 0600 (POSIX; on Windows chmod only toggles read-only, so it is left alone)."""
    if os.name == "posix":
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, PRIVATE_FILE)


# winerror codes that mean "another program has it open": sharing violation, lock violation, access denied
_BUSY_WINERRORS = {32, 33, 5}


def is_busy(exc: BaseException) -> bool:
    """True if an OSError means the file is held by another program (it may be taken later)."""
    if isinstance(exc, PermissionError):
        return True
    return isinstance(exc, OSError) and getattr(exc, "winerror", None) in _BUSY_WINERRORS


def fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` durable where the OS lets a directory be synced (not Windows,
    whose NTFS journals renames itself)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def move(src: Path, dst: Path, sync: bool = True) -> None:
    """Rename `src` to `dst` (replacing it), durable unless the caller syncs the folder later
    (a batch of moves, one fsync). PermissionError when busy."""
    os.replace(src, dst)
    if sync:
        fsync_dir(Path(dst).parent)


def move_patiently(src: Path, dst: Path, seconds: float = 5.0, sync: bool = True) -> None:
    """`move`, retried with backoff for a few seconds while another program holds the file
    (an antivirus scan of a file that just arrived is short); PermissionError after that."""
    retry(retry=retry_if_exception(is_busy), stop=stop_after_delay(seconds),
          wait=wait_exponential(multiplier=0.05, max=1.0), reraise=True)(move)(src, dst, sync)
