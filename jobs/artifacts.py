"""Files that bots make of documents (a masked copy): staged in processing/, released after the commit.

The order makes it exactly once. The new file is written to ``processing/.staged/<doc_id>.pdf``
(a crash before the commit only leaves a staged file the replay writes again); the outcome is
committed with the path it will be released to; the staged file is renamed there; only then does
the original leave processing/. A crash after the commit replays the document: the committed row
is found and ``release`` finishes what was left (a rename already done is not done twice).
``sweep`` at the start of each run releases what a crash elsewhere (the review screen) left staged,
and deletes originals older than the job's ``keep_originals_days``.
"""
from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from bots import registry as bot_registry
from bots.base import DocumentBot
from connectors.folder import free_name, safe_name, sha256_of
from jobs.reading import readers
from jobs.store import Store, aware_utc, now
from kakari.bot import Bot
from kakari.config import JobConfig, KakariConfig, RunContext
from kakari.files import fsync_dir
from kakari.log import logger, mask_path
from kakari.model import DocRef, Record, Status

STAGED = ".staged"
RELEASED = (Status.REGISTERED.value, Status.CONFIRMED.value)


def document_bot(job: JobConfig) -> type[DocumentBot] | None:
    """The job's document-transforming bot, if it has one (it then takes every document)."""
    for name in job.bots:
        bot = bot_registry.get(name)
        if isinstance(bot, type) and issubclass(bot, DocumentBot):
            return bot
    return None


def staged_path(job: JobConfig, ctx: RunContext, doc_id: str) -> Path:
    folder = job.folders(ctx.home)["processing"] / STAGED
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{doc_id}.pdf"


def output_name(original_name: str) -> str:
    return safe_name(Path(original_name).stem + ".pdf")


def transform(job: JobConfig, ref: DocRef, ctx: RunContext,
              bot_cls: type[DocumentBot]) -> tuple[Record, type[Bot], Status, str]:
    """Run the bot on one claimed file in a warm reader process (killed at the time or memory
    limit, like reading); a releasable result gets the path it will be released to."""
    staged = staged_path(job, ctx, ref.doc_id)
    rec = readers.run(_transform_in_reader, (bot_cls.name, ref.path, ref.doc_id, ctx.run_id, staged), ctx.config,
                      at_least_mb=bot_cls.reader_memory_mb)
    status = rec.status
    if rec.meta.get("release") and status == Status.REGISTERED:
        rec.meta["output_path"] = str(free_name(job.output_folder(ctx.home), output_name(ref.original_name),
                                                ref.doc_id))
    return rec, bot_cls, status, "／".join(rec.problems)


def _transform_in_reader(bot_name: str, path: Path, doc_id: str, run_id: str | None, staged: Path,
                         config: KakariConfig) -> Record:
    """The reader's side of `transform`: the bot writes the staged file and returns its record."""
    bot_cls = bot_registry.get(bot_name)
    assert issubclass(bot_cls, DocumentBot)
    rec = bot_cls().transform(path, doc_id, RunContext(config, run_id), staged)
    return rec


def release(job: JobConfig, ctx: RunContext, doc_id: str, meta: dict[str, Any] | None, status: str) -> Path | None:
    """Move the staged file to where the committed outcome says (nothing twice); a staged file
    whose document may not be released is deleted (the review screen makes its own)."""
    staged = job.folders(ctx.home)["processing"] / STAGED / f"{doc_id}.pdf"
    target = Path(meta["output_path"]) if meta and meta.get("output_path") else None
    if target is None or status not in RELEASED:
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()
        return None
    return move_staged(staged, target)


def move_staged(staged: Path, target: Path) -> Path | None:
    """Rename without ever overwriting: a file already at `target` with the same bytes is this
    release done before a crash; a different one keeps its place and ours gets a tagged name."""
    if not staged.exists():
        return target if target.exists() else None
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _place(staged, target)
    except FileExistsError:
        if sha256_of(target) != sha256_of(staged):
            target = free_name(target.parent, target.name, sha256_of(staged))
            _place(staged, target)
    staged.unlink(missing_ok=True)
    fsync_dir(target.parent)
    return target


def _place(staged: Path, target: Path) -> None:
    """`staged` at `target`, FileExistsError if the name is taken. A hard link where the file system
    has them (the staged file goes after); a rename elsewhere (on Windows it never replaces)."""
    try:
        os.link(staged, target)
        return
    except FileExistsError:
        raise
    except OSError:  # no hard links here (a share, FAT)
        pass
    if os.name != "nt" and target.exists():
        raise FileExistsError(str(target))
    os.rename(staged, target)


def sweep(job: JobConfig, ctx: RunContext, store: Store) -> None:
    """Release staged files whose outcome was committed; delete expired originals."""
    folder = job.folders(ctx.home)["processing"] / STAGED
    if folder.is_dir():
        claimed = any(p.is_file() for p in job.folders(ctx.home)["processing"].iterdir())
        for staged in folder.glob("*.pdf"):
            row = store.document(staged.stem, job.name)
            if row is None:  # not committed: the replay of its claimed file writes it again
                if not claimed:
                    staged.unlink(missing_ok=True)
                continue
            if row["status"] == Status.REVIEW.value:
                continue  # the review screen's own staging: released when a clerk decides
            meta = (row.get("record") or {}).get("meta") or {}
            done = release(job, ctx, staged.stem, meta, row["status"])
            if done is not None:
                store.add_event("released", staged.stem, job.name, mask_path(done), ctx.run_id)
    if job.keep_originals_days is not None:
        purge_originals(job, ctx, store)


def purge_originals(job: JobConfig, ctx: RunContext, store: Store) -> int:
    """Delete originals kept in archive/ longer than the job's keep_originals_days (masked copies
    stay). Returns how many went; each leaves a "purged" event in the document's history."""
    cutoff = now() - timedelta(days=job.keep_originals_days or 0)
    archive = job.folders(ctx.home)["archive"].resolve()
    gone = 0
    for row in store.documents_for(job.name):
        if row["status"] not in RELEASED or not row["stored_path"] or row["finished_at"] is None:
            continue
        path = Path(row["stored_path"])
        if aware_utc(row["finished_at"]) > cutoff or not path.is_file() or path.resolve().parent != archive:
            continue
        path.unlink()
        gone += 1
        store.add_event("purged", row["doc_id"], job.name, f"保存期間 {job.keep_originals_days}日を過ぎた原本を削除しました",
                        ctx.run_id)
    if gone:
        logger.info(f"{job.name}: 保存期間を過ぎた原本 {gone}件を削除しました")
    return gone
