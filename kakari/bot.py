"""Bot: any automated task (form readers are bots.FormBot). The registry key is ``name``."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from kakari.config import RunContext
from kakari.model import Record


def module_file(cls: type) -> Path | None:
    """The file a class was defined in (its template sits beside it)."""
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None)
    return Path(file) if file else None


class Bot:
    """Any automated task. Registry key: ``name`` (defaults to the module's file stem)."""

    abstract: ClassVar[bool] = True  # bases set this in their own body; the registry skips them
    name: ClassVar[str] = ""
    task: ClassVar[str] = ""  # 業務名
    manual_minutes: ClassVar[float] = 0.0  # 導入前 per item (the job's config may override)
    review_minutes: ClassVar[float] = 2.0  # 導入後 per 要確認 item (estimate)
    ledger: ClassVar[tuple[tuple[str, str], ...]] = ()  # (field, 見出し) of a task bot's ledger; form bots: template
    takes_documents: ClassVar[bool] = False  # the runner hands it the files claimed from the inbox

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "abstract" not in cls.__dict__:
            cls.abstract = False  # not inherited: only a class that says so is a base
        if not cls.abstract and "name" not in cls.__dict__:
            file = module_file(cls)
            cls.name = file.stem if file else cls.__name__.lower()

    def run(self, ctx: RunContext) -> Iterator[Record]:
        """Do the task, yielding one Record per item handled (doc_id: stable per item, so a re-run
        counts nothing twice). The job is ``ctx.extras["job"]``; the runner commits each record
        with its time-log row and ledger row, as for a document."""
        raise NotImplementedError(f"{type(self).__name__}.run が実装されていません")
