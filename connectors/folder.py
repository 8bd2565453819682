"""FolderSource: a watched inbox with processing/, archive/, review/ and errors/ beside it.

A file is claimed by an atomic rename into processing/, so two workers never take the same file;
whatever is left in processing/ after a crash is recovered on the next start. Files only ever move
between these folders: nothing is deleted, so nothing can be lost.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar

from connectors.base import Source
from kakari.files import fsync_dir, is_busy, move_patiently
from kakari.log import logger
from kakari.model import DocRef, Status

IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial", ".swp", ".error.txt")
_SEP = "__"
MAX_NAME_BYTES = 200  # leaves room for the claim token and ".error.txt" under the 255-byte limit
BUSY_WAIT_SECONDS = 5.0  # a finished file another program holds (an antivirus scan) is retried this long


def is_ignored(name: str) -> bool:
    """Temp and partial names a scanner or Office writes while a file is still being copied."""
    low = name.lower()
    return name.startswith((".", "~$")) or low.endswith(IGNORED_SUFFIXES) or name.endswith("~")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def safe_name(name: str) -> str:
    """The file's own name, shortened to fit the file system; never a path."""
    name = name.replace("/", "_").replace("\x00", "")
    if name in ("", ".", ".."):
        name = "_"
    data = name.encode("utf-8")
    if len(data) <= MAX_NAME_BYTES:
        return name
    stem, suffix = os.path.splitext(name)
    keep = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    return stem.encode("utf-8")[:keep].decode("utf-8", errors="ignore") + suffix


class FolderSource(Source):
    name: ClassVar[str] = "folder"

    def __init__(self, folders: dict[str, Path], min_age: float = 1.0) -> None:
        self.inbox = folders["inbox"]
        self.processing = folders["processing"]
        self.targets = {Status.REGISTERED: folders["archive"], Status.CONFIRMED: folders["archive"],
                        Status.REVIEW: folders["review"], Status.ERROR: folders["errors"]}
        self.min_age = min_age  # seconds a file must be unchanged before it is taken
        self._seen: dict[Path, tuple[tuple[int, int], float]] = {}
        self.young = 0  # files seen on the last look that are still being written
        self.next_ready: float | None = None
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)

    # -- intake ----------------------------------------------------------------------------------
    def scan(self, wait: bool = False) -> Iterator[Path]:
        """Complete files, oldest first: unchanged for min_age seconds (size and mtime) and readable.

        With wait=True (``kakari run``) files that are still young are looked at again after
        min_age seconds instead of being left for the next run.
        """
        ready, young = self._sort_out()
        if wait and young:
            time.sleep(self.min_age)
            again, _ = self._sort_out()
            ready = sorted(set(ready) | {p for p in again if p[1] in young})
        for _, path in sorted(ready):
            self._seen.pop(path, None)
            yield path

    def _sort_out(self) -> tuple[list[tuple[float, Path]], set[Path]]:
        now = time.time()
        ready: list[tuple[float, Path]] = []
        young: set[Path] = set()
        seen: dict[Path, tuple[tuple[int, int], float]] = {}
        wait = self.min_age
        try:
            entries = list(os.scandir(self.inbox))
        except FileNotFoundError:
            return ready, young
        for entry in entries:
            if is_ignored(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            path = Path(entry.path)
            sig = (st.st_size, st.st_mtime_ns)
            previous = self._seen.get(path)
            since = previous[1] if previous and previous[0] == sig else now  # unchanged since when
            seen[path] = (sig, since)
            # a young file is taken only once its size and mtime have held for min_age seconds of
            # our own watching: a scanner writing slowly over SMB looks "unchanged" between two quick looks
            if now - st.st_mtime < self.min_age and now - since < self.min_age:
                young.add(path)
                wait = min(wait, self.min_age - max(now - st.st_mtime, now - since))
                continue
            if _readable(path):
                ready.append((st.st_mtime, path))
        self._seen = seen  # forget files that went away
        self.young = len(young)
        self.next_ready = wait if young else None  # seconds until the first young file may be taken
        return ready, young

    def claim(self, path: Path) -> DocRef | None:
        token = datetime.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)
        target = self.processing / f"{token}{_SEP}{safe_name(path.name)}"
        try:
            os.replace(path, target)  # atomic on one file system: exactly one claimer wins
        except FileNotFoundError:
            return None  # another claimer took it
        except OSError as e:
            if not is_busy(e):
                raise
            # a scanner, a copy or an antivirus still holds it (Windows): it stays for the next pass
            logger.info(f"{path.name}: 他のプログラムが使用中のため、次の確認で受け付けます")
            return None
        return self._ref(target, path.name)

    def recover(self) -> Iterator[DocRef]:
        for entry in sorted(self.processing.iterdir()):
            if entry.is_file() and not is_ignored(entry.name):
                yield self._ref(entry, entry.name.split(_SEP, 1)[-1])

    def _ref(self, path: Path, original: str) -> DocRef:
        received = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
        return DocRef(doc_id=sha256_of(path), path=path, original_name=original, received_at=received)

    # -- outcome ---------------------------------------------------------------------------------
    def planned(self, ref: DocRef, status: Status) -> Path:
        """Where finish() will put the file (recorded in the ledger before the move)."""
        folder = self.targets[Status(status)]
        return free_name(folder, safe_name(ref.original_name), ref.doc_id)

    def finish(self, ref: DocRef, status: Status, reason: str = "", dest: Path | None = None,
               sync: bool = True) -> Path:
        """Move the file; with sync=False the caller makes the moves durable later, in one `sync`."""
        if dest is None or dest.exists():
            dest = self.planned(ref, status)
        dest.parent.mkdir(parents=True, exist_ok=True)
        folder = dest.parent
        if status == Status.ERROR:
            note = dest.with_name(dest.name + ".error.txt")
            _write_durably(note, _error_text(ref, reason))
        try:
            move_patiently(ref.path, dest, BUSY_WAIT_SECONDS, sync=sync)
        except OSError as e:
            if not is_busy(e):
                raise
            # the outcome is committed: the next start recovers the file and only moves it
            logger.warning(f"{ref.original_name}: 他のプログラムが使用中のため {folder.name}/ に移せません。"
                           "処理中フォルダーに残し、次回の起動時に移します")
            return ref.path
        return dest

    def sync(self, moved: Iterable[Path]) -> None:
        """Make the moves of a batch durable: each folder they went to, once."""
        for folder in sorted({p.parent for p in moved}):
            fsync_dir(folder)

def free_name(folder: Path, name: str, doc_id: str) -> Path:
    """`folder/name`, or `name_<doc_id[:8]>` (then -2, -3 …) if a different file already has that name."""
    dest = folder / name
    if not dest.exists():
        return dest
    stem, suffix = os.path.splitext(name)
    for n in range(1, 1000):
        tag = doc_id[:8] if n == 1 else f"{doc_id[:8]}-{n}"
        dest = folder / f"{stem}_{tag}{suffix}"
        if not dest.exists():
            return dest
    raise FileExistsError(f"{folder} に同名のファイルが多すぎます: {name}")


def _readable(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            f.read(1)
        return True
    except OSError:
        return False


def _error_text(ref: DocRef, reason: str) -> str:
    return (
        f"ファイル名: {ref.original_name}\n"
        f"文書ID: {ref.doc_id}\n"
        f"日時: {datetime.now().astimezone().isoformat(timespec='seconds')}\n"
        f"理由: {reason or '不明なエラー'}\n"
    )


def _write_durably(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
