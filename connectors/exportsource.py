"""ExportSource: an inbox of online applications' exports, and the files that came with them.

An export is a table file (CSV, xlsx, JSON) with, optionally, its attachments beside it: a ZIP or a
folder of the same name (申請一覧.csv + 申請一覧.zip or 申請一覧/). A ZIP alone that holds a table is an
export by itself (the table and its attachments in one archive). The table is claimed like a document
(an atomic rename into processing/) and its companion follows it there and, at the end, to archive/
or errors/ beside it; a companion whose table has not arrived waits in the inbox. A table is taken only
once its companion has held still too, so attachments still being copied are not missed.
"""
from __future__ import annotations

import os
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import ClassVar

from connectors.folder import FolderSource, free_name, is_ignored, safe_name
from connectors.tabular import TABLE_SUFFIXES
from kakari.model import DocRef, Status


def is_table(name: str) -> bool:
    return name.lower().endswith(TABLE_SUFFIXES)


_WITH_ITS_EXPORT = "同じ名前のエクスポートの添付ファイルのフォルダーです (エクスポートと一緒に処理します)"
_AWAITING_EXPORT = ("添付ファイルのフォルダーと見て、同じ名前のエクスポート (CSV・Excel・JSON) を待っています。"
                    "エクスポートでなければ中のファイルを受付フォルダーに直接入れてください")


class ExportSource(FolderSource):
    name: ClassVar[str] = "export"
    taken_with_another: ClassVar[frozenset[str]] = frozenset({_WITH_ITS_EXPORT})

    def __init__(self, folders: dict[str, Path], min_age: float = 1.0) -> None:
        super().__init__(folders, min_age)
        self._folders: dict[Path, tuple[tuple[int, int, int], float]] = {}
        self.waiting: list[str] = []  # companions in the inbox whose table has not arrived (last look)

    # -- intake ----------------------------------------------------------------------------------
    def scan(self, wait: bool = False) -> Iterator[Path]:
        """Tables (and archives holding one) whose attachments are complete, oldest first; other
        files too (they are not exports and end in errors/ with the reason)."""
        ready = list(super().scan(wait))
        stems = {Path(e.name).stem for e in _entries(self.inbox) if is_table(e.name) and not e.is_dir()}
        held, waiting = 0, []
        for path in ready:
            if path.suffix.lower() == ".zip" and path.stem in stems:
                continue  # a table's attachments: claimed with it
            if path.suffix.lower() == ".zip" and not bundled_tables(path):
                waiting.append(path.name)
                continue
            if is_table(path.name):
                companion = self._inbox_companion(path.name)
                if companion is not None and not self._settled(companion, wait, ready):
                    held += 1
                    continue
            yield path
        waiting += [e.name for e in _entries(self.inbox) if e.is_dir() and e.name not in stems
                    and not is_ignored(e.name)]
        self.waiting = waiting
        if held:
            self.next_ready = min(self.next_ready or self.min_age, self.min_age)

    def _why_not_taken(self, entry: os.DirEntry[str], names: set[str]) -> str | None:
        """A folder is the attachments of the export of its name: taken with it, or waited for."""
        if entry.is_dir(follow_symlinks=False) and not is_ignored(entry.name):
            if any(is_table(n) and Path(n).stem == entry.name for n in names if n != entry.name):
                return _WITH_ITS_EXPORT
            return _AWAITING_EXPORT
        return super()._why_not_taken(entry, names)

    def _settled(self, companion: Path, wait: bool, ready: list[Path]) -> bool:
        """Has the companion held still for min_age (a ZIP: the file scan said so; a folder: its
        files' count, sizes and times)? With wait=True, looked at again after min_age."""
        if companion.is_file():
            return companion in ready or _unchanged_since(companion, self.min_age)
        for attempt in range(2 if wait else 1):
            sig = _folder_signature(companion)
            previous = self._folders.get(companion)
            since = previous[1] if previous and previous[0] == sig else time.time()
            self._folders[companion] = (sig, since)
            newest = sig[2] / 1e9
            if time.time() - newest >= self.min_age or time.time() - since >= self.min_age:
                return True
            if attempt == 0 and wait:
                time.sleep(self.min_age)
        return False

    def claim(self, path: Path) -> DocRef | None:
        companion = self._inbox_companion(path.name) if is_table(path.name) else None
        ref = super().claim(path)
        if ref is not None and companion is not None:
            os.rename(companion, self._beside(ref, companion.name))
        return ref

    def recover(self) -> Iterator[DocRef]:
        for ref in super().recover():
            if ref.path.suffix.lower() == ".zip" and self._table_of(ref.path) is not None:
                continue  # the attachments of a table in processing/
            yield ref

    # -- the files that came with an export -----------------------------------------------------
    def companion(self, ref: DocRef) -> Path | None:
        """The claimed export's attachments (a ZIP or a folder) in processing/; one left in the inbox
        by a crash between the two renames is taken now. An archive holding the table is its own."""
        if ref.path.suffix.lower() == ".zip":
            return ref.path
        stem = Path(ref.path.name).stem
        for candidate in (ref.path.with_name(f"{stem}.zip"), ref.path.with_name(stem)):
            if candidate.exists():
                return candidate
        left = self._inbox_companion(ref.original_name)
        if left is None:
            return None
        target = self._beside(ref, left.name)
        os.rename(left, target)
        return target

    def companion_dest(self, table_dest: Path, companion: Path, doc_id: str) -> Path:
        """Where the companion goes when the table goes to `table_dest`: beside it, of its name."""
        if companion.suffix.lower() == ".zip" and companion.is_file() and table_dest.suffix.lower() == ".zip":
            return table_dest  # the archive is the export itself
        name = Path(table_dest).stem + (".zip" if companion.is_file() else "")
        return free_name(table_dest.parent, name, doc_id)

    # -- outcome ---------------------------------------------------------------------------------
    def finish(self, ref: DocRef, status: Status, reason: str = "", dest: Path | None = None,
               sync: bool = True, companion_dest: Path | None = None) -> Path:
        """Move the export and then its attachments beside it (at `companion_dest` when planned)."""
        companion = self.companion(ref) if ref.path.suffix.lower() != ".zip" else None
        final = super().finish(ref, status, reason, dest, sync=False)
        if companion is not None:
            target = companion_dest if companion_dest is not None and not companion_dest.exists() else \
                self.companion_dest(final, companion, ref.doc_id)
            os.rename(companion, target)
        if sync:
            self.sync([final])
        return final

    # -- helpers ---------------------------------------------------------------------------------
    def _inbox_companion(self, table_name: str) -> Path | None:
        stem = Path(table_name).stem
        for candidate in (self.inbox / f"{stem}.zip", self.inbox / stem):
            if candidate.exists() and candidate.name != table_name:
                return candidate
        return None

    def _beside(self, ref: DocRef, companion_name: str) -> Path:
        """The companion's name in processing/: the claim's token, as the table got it."""
        claimed = ref.path.name
        token = claimed[: len(claimed) - len(safe_name(ref.original_name))]
        return ref.path.with_name(token + safe_name(companion_name))

    def _table_of(self, claimed_zip: Path) -> Path | None:
        stem = Path(claimed_zip.name).stem
        for entry in _entries(self.processing):
            if entry.name != claimed_zip.name and Path(entry.name).stem == stem and is_table(entry.name):
                return Path(entry.path)
        return None


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        return [e for e in os.scandir(folder) if not is_ignored(e.name)]
    except FileNotFoundError:
        return []


def _unchanged_since(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime >= seconds
    except FileNotFoundError:
        return False


def _folder_signature(folder: Path) -> tuple[int, int, int]:
    """(files, bytes, newest mtime in ns) of everything under the folder."""
    count = size = newest = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                st = os.stat(os.path.join(root, name))
            except FileNotFoundError:
                continue
            count, size, newest = count + 1, size + st.st_size, max(newest, st.st_mtime_ns)
    return count, size, newest


# =============================================================================================
# Attachments: a folder or a ZIP
# =============================================================================================
def member_name(info: zipfile.ZipInfo) -> str:
    """A ZIP member's name as its author wrote it: Windows' Explorer stores Japanese names in
    Shift_JIS without the UTF-8 flag, which zipfile reads as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("cp932")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name.replace("\\", "/")).strip().strip("/").casefold()


def bundled_tables(path: Path) -> list[str]:
    """The tables inside a ZIP (an export with its attachments in one archive); [] if none or unreadable."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [n for n, _ in _members(zf) if is_table(n)]
    except (zipfile.BadZipFile, OSError):
        return []


def _members(zf: zipfile.ZipFile) -> list[tuple[str, zipfile.ZipInfo]]:
    out = []
    for info in zf.infolist():
        name = member_name(info)
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if info.is_dir() or not parts or any(p.startswith(".") or p == "__MACOSX" for p in parts):
            continue
        out.append((name, info))
    return out


class AttachmentError(Exception):
    """An attachment that cannot be found or taken; the message is Japanese."""


class Attachments:
    """The attachments of one export, looked up by the names its rows give (a path inside the
    folder or ZIP, or a file name found once anywhere in it)."""

    def __init__(self, container: Path | None, skip: str | None = None) -> None:
        self.container = container
        self._zip: dict[str, str] = {}
        self._names: dict[str, list[str]] = {}  # key of the relative path and of the base name → members
        members: list[str] = []
        if container is not None and container.is_file():
            with zipfile.ZipFile(container) as zf:
                for name, info in _members(zf):
                    self._zip[name] = info.filename
                    members.append(name)
        elif container is not None and container.is_dir():
            members = [str(p.relative_to(container)).replace(os.sep, "/") for p in sorted(container.rglob("*"))
                       if p.is_file() and not is_ignored(p.name)]
        for m in members:
            if skip is not None and m == skip:
                continue
            for key in {_key(m), _key(PurePosixPath(m).name)}:
                self._names.setdefault(key, []).append(m)

    def __len__(self) -> int:
        return len({m for ms in self._names.values() for m in ms})

    def find(self, name: str) -> str:
        """The member a row's file name means; AttachmentError if there is none, or several."""
        if self.container is None:
            raise AttachmentError(f"添付ファイル「{name}」がありません (エクスポートと同じ名前のフォルダーか ZIP に入れてください)")
        found = self._names.get(_key(name)) or self._names.get(_key(PurePosixPath(name.replace("\\", "/")).name), [])
        if not found:
            raise AttachmentError(f"添付ファイル「{name}」が {self.container.name} にありません")
        if len(set(found)) > 1:
            raise AttachmentError(f"添付ファイル「{name}」が {self.container.name} に複数あります: {'、'.join(found[:3])}")
        return found[0]

    def read(self, member: str, limit: int) -> bytes:
        """The member's bytes; AttachmentError above `limit` bytes (a ZIP's declared sizes are not trusted)."""
        assert self.container is not None
        if self.container.is_file():
            with zipfile.ZipFile(self.container) as zf, zf.open(self._zip[member]) as f:
                data = f.read(limit + 1)
        else:
            path = (self.container / member).resolve()
            if not path.is_relative_to(self.container.resolve()):
                raise AttachmentError(f"添付ファイル「{member}」はフォルダーの外を指しています")
            with path.open("rb") as f:
                data = f.read(limit + 1)
        if len(data) > limit:
            raise AttachmentError(f"添付ファイル「{member}」が大きすぎます ({limit // (1024 * 1024)}MB まで)")
        return data
