"""Files and folders kakari creates are the service account's alone: the database holds password
hashes and every record, ledgers and scans hold applicants' data.

On POSIX the process umask is narrowed to 077 when a command starts (``private_umask``), and the
files that matter most are also opened with an explicit mode, so a caller with a wider umask (a
test, a library user) gets the same. On Windows neither umask nor modes restrict reading: a new file
takes the ACL of its folder, so the home must sit in a folder only the service account and
administrators may read (the README says how).
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

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
