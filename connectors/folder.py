"""FolderSource: a watched inbox with processing/, archive/, review/ and errors/ beside it.

A file is claimed by an atomic rename into processing/, so two workers never take the same file;
whatever is left in processing/ after a crash is recovered on the next start. Files only ever move
between these folders: nothing is deleted, so nothing can be lost.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import stat
import time
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar

from connectors.base import Source
from kakari.files import fsync_dir, is_busy, make_private, make_private_dir, move_patiently, private_opener
from kakari.log import logger, mask_name
from kakari.model import DocRef, Status

IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial", ".swp", ".error.txt")
_SEP = "__"
MAX_NAME_BYTES = 200  # leaves room for the claim token and ".error.txt" under the 255-byte limit
BUSY_WAIT_SECONDS = 5.0  # a finished file another program holds (an antivirus scan) is retried this long


# control characters, line separators and bidirectional overrides: nothing a person wrote on purpose
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def display_name(name: str) -> str:
    """A name as the file system gave it (on POSIX undecodable bytes arrive as surrogates) → the text
    kakari stores and shows: UTF-8, else Shift_JIS (what scanners and older Windows PCs write), else
    UTF-8 with each bad byte as U+FFFD. Control characters also become U+FFFD. Decoded once, at intake."""
    try:
        name.encode("utf-8")
        text = name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
        text = raw.decode("utf-8", errors="replace")
        try:
            sjis = raw.decode("cp932")
            # cp932 maps some bytes no scanner writes (0xFD-0xFF…) to private-use characters: not a real name
            if not any(unicodedata.category(ch) == "Co" for ch in sjis):
                text = sjis
        except UnicodeDecodeError:
            pass
    return _UNSHOWABLE.sub("\ufffd", text)


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
    """The file's own (decoded) name, shortened to fit the file system; never a path."""
    name = display_name(name).replace("/", "_").replace("\\", "_")
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
    taken_with_another: ClassVar[frozenset[str]] = frozenset()  # reasons told only in the debug log

    def __init__(self, folders: dict[str, Path], min_age: float = 1.0) -> None:
        self.inbox = folders["inbox"]
        self.processing = folders["processing"]
        self.targets = {Status.REGISTERED: folders["archive"], Status.CONFIRMED: folders["archive"],
                        Status.REVIEW: folders["review"], Status.ERROR: folders["errors"]}
        self.min_age = min_age  # seconds a file must be unchanged before it is taken
        self._seen: dict[Path, tuple[tuple[int, int], float]] = {}
        self.young = 0  # files seen on the last look that are still being written
        self.next_ready: float | None = None
        self._noticed: dict[str, str] = {}  # inbox entries not taken, told once each: name → why
        for folder in folders.values():
            make_private_dir(folder)

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
        noticed: dict[str, str] = {}
        names = {e.name for e in entries}
        for entry in entries:
            why = self._why_not_taken(entry, names)
            if why is None:
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    why = "通常のファイルではありません (名前付きパイプ・デバイスなど)"
            if why is not None:
                noticed[entry.name] = why
                if self._noticed.get(entry.name) != why:  # once per file, not on every rescan
                    self._notice(entry.name, why)
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
            else:
                noticed[entry.name] = "読み取れません (アクセス権を確認してください)"
                if entry.name not in self._noticed:
                    self._notice(entry.name, noticed[entry.name])
        self._seen = seen  # forget files that went away
        self._noticed = noticed
        self.young = len(young)
        self.next_ready = wait if young else None  # seconds until the first young file may be taken
        return ready, young

    def _why_not_taken(self, entry: os.DirEntry[str], names: set[str]) -> str | None:
        """Why an inbox entry is never taken by itself, or None for a candidate file (`names`: the
        inbox's entries, for sources that take some entries together with another)."""
        return _not_taken(entry)

    def _notice(self, name: str, why: str) -> None:
        """Tell the clerk (console and log) why an inbox entry stays where it is."""
        # temp files come and go while a copy runs; what is taken with another file is no news
        level = "DEBUG" if why in self.taken_with_another else "INFO" if why in _QUIET else "WARNING"
        logger.log(level, f"受付フォルダー {self.inbox} の「{mask_name(display_name(name))}」は処理しません: {why}")

    def claim(self, path: Path) -> DocRef | None:
        token = datetime.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(3)
        name = display_name(path.name)  # from here on the name is text, whatever bytes it was
        target = self.processing / f"{token}{_SEP}{safe_name(name)}"
        try:
            os.replace(path, target)  # atomic on one file system: exactly one claimer wins
        except FileNotFoundError:
            return None  # another claimer took it
        except OSError as e:
            if not is_busy(e):
                raise
            # a scanner, a copy or an antivirus still holds it (Windows): it stays for the next pass
            logger.info(f"{mask_name(name)}: 他のプログラムが使用中のため、次の確認で受け付けます")
            return None
        with contextlib.suppress(PermissionError):  # a scanner account's file: the folders around it are private
            make_private(target)
        return self._ref(target, name)

    def recover(self) -> Iterator[DocRef]:
        for entry in sorted(self.processing.iterdir()):
            if entry.is_file() and not is_ignored(entry.name):
                yield self._ref(entry, display_name(entry.name.split(_SEP, 1)[-1]))

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
        make_private_dir(dest.parent)
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


_TEMPORARY = "書き込み途中の一時ファイルです (名前が変われば処理します)"
_OFFICE = "Office が編集中に作るファイルです"
_QUIET = (_TEMPORARY, _OFFICE)


def _not_taken(entry: os.DirEntry[str]) -> str | None:
    """Why an inbox entry is never taken, or None for a candidate file."""
    name = entry.name
    if entry.is_symlink():
        return "リンク (シンボリックリンク) です。ファイルそのものを入れてください"
    if entry.is_dir(follow_symlinks=False):
        return "フォルダーです。中のファイルを受付フォルダーに直接入れてください"
    if name.startswith("."):
        return "名前が「.」で始まるファイル (隠しファイル) です。名前を変えてください"
    if name.startswith("~$"):
        return _OFFICE
    if name.lower().endswith(".error.txt"):
        return "kakari のエラーの説明ファイルです"
    if is_ignored(name):
        return _TEMPORARY
    return None


def _readable(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            f.read(1)
        return True
    except OSError:
        return False


def _error_text(ref: DocRef, reason: str) -> str:
    return (
        f"ファイル名: {mask_name(ref.original_name)}\n"
        f"文書ID: {ref.doc_id}\n"
        f"日時: {datetime.now().astimezone().isoformat(timespec='seconds')}\n"
        f"理由: {reason or '不明なエラー'}\n"
    )


def _write_durably(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", opener=private_opener) as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
