"""Source and Sink: where documents come from and where records go."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from kakari.config import RunContext
from kakari.model import DocRef, Record, Status


@dataclass(frozen=True)
class Refusal:
    """A record the destination refused (a web system's validation): it waits for a person."""

    doc_id: str
    reason: str  # Japanese, without personal values
    snapshot: str = ""  # the failure screenshot (.png, with an .html beside it), if one was taken


@dataclass
class WriteResult:
    """What a sink did with a batch: which doc_ids it wrote now, which it already had, which it refused."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already present: exactly once
    rejected: list[Refusal] = field(default_factory=list)
    detail: str = ""


class Source(ABC):
    """A place documents arrive (a watched folder)."""

    name: ClassVar[str]

    @abstractmethod
    def scan(self) -> Iterator[Path]:
        """Complete files ready to claim, oldest first; temp/partial names ignored."""

    @abstractmethod
    def claim(self, path: Path) -> DocRef | None:
        """Atomically take the file into processing/; None when another worker won the race."""

    @abstractmethod
    def recover(self) -> Iterator[DocRef]:
        """Files left in processing/ by a crash."""

    @abstractmethod
    def finish(self, ref: DocRef, status: Status, reason: str = "") -> Path:
        """Move the file to archive/, review/ or errors/ (+ NAME.error.txt); return its new path."""


class Sink(ABC):
    """A place records are written to (an Excel ledger, a web system). Writes are idempotent by doc_id.

    The runner never calls a sink in the middle of a document: it parks rows in the durable
    ``pending_writes`` table and flushes them in batches, so a slow save (an .xlsx is rewritten
    whole) is paid once per batch, and a locked ledger just leaves the rows pending.
    """

    name: ClassVar[str]

    def open(self, ctx: RunContext) -> None:  # noqa: B027 - optional hook
        """Called once before writing (Scrapy's open_spider)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Called once after writing."""

    def read_ahead(self) -> AbstractContextManager[None]:
        """Optional: prepare the next write in the background while a run reads its documents (a
        ledger parses its workbook); what is prepared is dropped when the context ends."""
        return nullcontext()

    @abstractmethod
    def write_many(self, records: Iterable[Record]) -> WriteResult:
        """Append the records not yet present (by doc_id) in one save. Raise TransientError if locked/down."""

    def update(self, rec: Record) -> WriteResult:
        """Replace the row of rec.doc_id (要確認 → 確認済 from the review screen)."""
        raise NotImplementedError(f"{type(self).__name__} は更新に対応していません")
