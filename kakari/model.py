"""Shared vocabulary: boxes in millimetres, fields, records, statuses, document references."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Box:
    """A rectangle on a page in millimetres, origin at the top-left corner; pages count from 1."""

    page: int
    x: float
    y: float
    w: float
    h: float

    @property
    def x1(self) -> float:
        return self.x + self.w

    @property
    def y1(self) -> float:
        return self.y + self.h

    def contains_point(self, x: float, y: float) -> bool:
        return self.x <= x <= self.x1 and self.y <= y <= self.y1

    def shifted(self, dx: float = 0.0, dy: float = 0.0) -> Box:
        return Box(self.page, self.x + dx, self.y + dy, self.w, self.h)

    def grown(self, margin: float) -> Box:
        return Box(self.page, self.x - margin, self.y - margin, self.w + 2 * margin, self.h + 2 * margin)


LOW_CONFIDENCE = "読み取りの確信度が低い ({:.2f})"


class Status(StrEnum):
    REGISTERED = "自動登録"
    REVIEW = "要確認"
    ERROR = "エラー"
    CONFIRMED = "確認済"


@dataclass
class Field:
    """One value read from a document. `problems` are Japanese messages shown to clerks."""

    name: str
    label: str
    value: Any = None
    raw: str = ""
    confidence: float = 1.0
    problems: list[str] = field(default_factory=list)
    box: Box | None = None
    personal: bool = False  # masked in logs and error files

    def display(self) -> str:
        """The value as a clerk reads it (ISO dates, 〇/空 for booleans)."""
        v = self.value
        if v is None:
            return ""
        if isinstance(v, bool):
            return "有" if v else "無"
        if isinstance(v, (date, datetime)):
            return v.isoformat()
        return str(v)


@dataclass
class Record:
    doc_id: str
    bot: str
    fields: dict[str, Field] = field(default_factory=dict)
    min_confidence: float = 0.0  # below this a field needs a person
    meta: dict[str, Any] = field(default_factory=dict)  # received_at, original_name, archived_path …

    def reasons(self, f: Field) -> list[str]:
        """Why field `f` needs a person (empty: it does not), in the clerk's words: its problems,
        else a confidence below this record's min_confidence. The status, the review screen's doubt
        marks and the run's reason all come from here."""
        if f.problems:
            return list(f.problems)
        if f.confidence < self.min_confidence:
            return [LOW_CONFIDENCE.format(f.confidence)]
        return []

    def doubts(self, f: Field) -> bool:
        """Does field `f` carry a doubt mark (the review screen highlights it)?"""
        return bool(self.reasons(f))

    def record_reasons(self) -> Record:
        """Write every doubted field's reasons into its problems, so the stored Record says why."""
        for f in self.fields.values():
            if not f.problems:
                f.problems.extend(self.reasons(f))
        return self

    @property
    def problems(self) -> list[str]:
        return [f"{f.label}: {p}" for f in self.fields.values() for p in self.reasons(f)]

    @property
    def status(self) -> Status:
        return Status.REVIEW if self.problems else Status.REGISTERED

    def flag(self, name: str, message: str) -> None:
        """Add a problem to field `name` once (a bot's cross-field rule; validate may run twice)."""
        problems = self.fields[name].problems
        if message not in problems:
            problems.append(message)

    def row(self) -> dict[str, Any]:
        """name → value, what sinks write."""
        return {name: f.value for name, f in self.fields.items()}


@dataclass(frozen=True)
class DocRef:
    """A claimed input file. `doc_id` is the sha256 of its bytes, so a re-sent copy is the same document."""

    doc_id: str
    path: Path
    original_name: str
    received_at: datetime
