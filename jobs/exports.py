"""Online applications' exports through the pipeline: one claimed export file → one application per
row, each committed like a document (documents row, time log, outbox, events) under its own 文書ID.

A row's 文書ID is the service's 受付番号 when the mapping names that column (so the same application
in tomorrow's export, or the same export dropped twice, is the same document), else the export's
hash and the row's line. Rows are committed in chunks; the export file (and its attachments) leave
processing/ only after every row is committed, so a crash at any moment replays the export and the
rows already committed are recognised by their keys, never doubled. An export that cannot be read at
all (its encoding, a missing column, not a table) goes to errors/ with the reason, nothing committed
but its own row; a bad row goes to 要確認 with its line and never holds up the others.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bots import registry as bot_registry
from bots.base import FormBot
from bots.exports import (
    ATTACHMENTS,
    ONLINE,
    Resolved,
    Service,
    attachment_field,
    cell_text,
    receipt_of,
    received_of,
    resolve,
    row_record,
    services_of,
    split_names,
)
from connectors.exportsource import AttachmentError, Attachments, ExportSource, bundled_tables
from connectors.tabular import ImportError_, Table, read_grid
from jobs.attachments import read_attachments
from jobs.commit import Outcome, Step, commit_outcome, minutes_for
from jobs.store import Store, forget_document, insert_document, now
from kakari.config import JobConfig, RunContext
from kakari.errors import ConfigError, DocumentError, MissingDependency, TooLarge, Unrecognised
from kakari.log import logger, redact, register_personal
from kakari.model import DocRef, Field, Record, Status

CHUNK = 200  # rows per transaction: a few fsyncs per chunk, not per row
RECEIPT, RECEIPT_LABEL = "receipt", "受付番号"


def services_for(job: JobConfig) -> list[tuple[type[FormBot], Service]]:
    """The (bot, service) mappings an export job reads with; ConfigError if it has none."""
    out: list[tuple[type[FormBot], Service]] = []
    for name in job.bots:
        bot = bot_registry.get(name)
        if isinstance(bot, type) and issubclass(bot, FormBot):
            out += [(bot, s) for s in services_of(bot).values()
                    if not job.exports or s.name in job.exports or f"{bot.name}.{s.name}" in job.exports]
    known = {n for _, s in out for n in (s.name, f"{s.bot}.{s.name}")}
    unknown = [e for e in job.exports if e not in known]
    if unknown or not out:
        what = f"exports の「{'・'.join(unknown)}」" if unknown else "電子申請の対応表 (<ボット>.export.toml)"
        raise ConfigError(f"ジョブ「{job.name}」のボット ({'、'.join(job.bots)}) に{what}がありません")
    return out


def process_exports(job: JobConfig, batches: Iterable[list[DocRef]], ctx: RunContext) -> Iterator[Outcome]:
    """Claimed exports, one after the other: an outcome per row (per export that cannot be read)."""
    services = services_for(job)  # before the first claim: a job without mappings takes nothing
    store = Store(ctx.config.database_url)
    source = ExportSource(job.folders(ctx.home))
    for batch in batches:
        for ref in batch:
            yield from Export(job, ref, ctx, store, source, services).process()


def row_id(service: Service, receipt: str, file_id: str, line: int) -> str:
    """A row's 文書ID: its service's 受付番号, or the export's hash and the row's line."""
    key = f"export/{service.bot}/{service.name}/{receipt}" if receipt else f"export/{file_id}/{line}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass
class _Row:
    line: int
    cells: list[Any]
    doc_id: str
    receipt: str


class Export:
    """One claimed export file, start to finish."""

    def __init__(self, job: JobConfig, ref: DocRef, ctx: RunContext, store: Store, source: ExportSource,
                 services: list[tuple[type[FormBot], Service]]) -> None:
        self.job, self.ref, self.ctx, self.store, self.source, self.services = job, ref, ctx, store, source, services

    def process(self) -> Iterator[Outcome]:
        companion = self.source.companion(self.ref)
        try:
            table, resolved, member = self._read()
        except (ImportError_, DocumentError, AttachmentError) as e:
            yield self._refused(e.message if isinstance(e, (ImportError_, DocumentError)) else str(e))
            return
        try:
            yield from self._rows(table, resolved, companion, member)
        except MissingDependency:
            self.release()
            raise

    # -- reading the file --------------------------------------------------------------------------
    def _read(self) -> tuple[Table, Resolved, str | None]:
        """The export's table, the service that wrote it and, for an archive holding the table, the
        table's member name. The header is where the services' mappings say (header_row)."""
        limit = self.ctx.config.limits.max_bytes
        if self.ref.path.stat().st_size > limit:
            raise TooLarge(f"{self.ref.original_name}: ファイルが大きすぎます ({limit // (1024 * 1024)}MB まで)")
        path, data, member = self.ref.path, None, None
        if self.ref.path.suffix.lower() == ".zip":
            tables = bundled_tables(self.ref.path)
            if len(tables) != 1:
                raise ImportError_(f"{self.ref.original_name}: ZIP の中に申請データ (CSV・Excel・JSON) が"
                                   + ("ありません" if not tables else f"複数あります: {'、'.join(tables[:5])}"))
            member = tables[0]
            box = Attachments(self.ref.path)
            path, data = self.ref.path.with_name(Path(member).name), box.read(box.find(member), limit)
        sheets = {s.sheet for _, s in self.services}
        grid = read_grid(path, data, next(iter(sheets)) if len(sheets) == 1 else None)
        grid.name = f"{self.ref.original_name} の {member}" if member else self.ref.original_name
        failed: DocumentError | None = None
        for header_row in sorted({s.header_row for _, s in self.services}):
            candidates = [(b, s) for b, s in self.services if s.header_row == header_row or grid.unit == "件目"]
            try:
                table = grid.table(header_row if grid.unit == "行目" else 1)
                return table, resolve(table, candidates), member
            except (ImportError_, DocumentError) as e:
                failed = failed or (e if isinstance(e, DocumentError) else Unrecognised(e.message))
        assert failed is not None
        raise failed

    # -- the rows ----------------------------------------------------------------------------------
    def _rows(self, table: Table, resolved: Resolved, companion: Path | None, member: str | None
              ) -> Iterator[Outcome]:
        service = resolved.service
        file_id = self.ref.doc_id
        earlier = self.store.document(file_id, self.job.name)
        dest = (Path(earlier["stored_path"]) if earlier and earlier["status"] != Status.ERROR.value
                and earlier["stored_path"] else self.source.planned(self.ref, Status.REGISTERED))
        kept_at = self.source.companion_dest(dest, companion, file_id) if companion is not None else None
        box = Attachments(companion, skip=member)
        summary = f"{service.title} {len(table.rows)}件" + (f" ({table.encoding})" if table.encoding else "")
        file_row = self._file_row(Status.REGISTERED, dest, f"電子申請のエクスポート: {summary}",
                                  {"service": service.name, "bot": service.bot, "rows": len(table.rows),
                                   "encoding": table.encoding, "attachments": len(box)})
        rows = [_Row(line, cells, "", receipt_of(resolved, cells)) for line, cells in table.rows]
        for r in rows:
            r.doc_id = row_id(service, r.receipt, file_id, r.line)
        seen: dict[str, int] = {}
        before, review = minutes_for(self.job, resolved.bot, service.manual_minutes, service.review_minutes)
        task = self.job.task or service.task or f"{resolved.bot.task}{ONLINE}"
        with tempfile.TemporaryDirectory(dir=self.source.processing, prefix=".attachments-") as work:
            for start in range(0, max(1, len(rows)), CHUNK):
                chunk = rows[start:start + CHUNK]
                done = self.store.committed((r.doc_id for r in chunk), self.job.name)
                fresh: list[tuple[_Row, Record, Status, str, list[Step], datetime, datetime, float]] = []
                replays: list[tuple[_Row, Outcome]] = []
                for r in chunk:
                    earlier_row = done.get(r.doc_id)
                    if earlier_row is not None or r.doc_id in seen:
                        replays.append((r, self._replayed(r, table, earlier_row, seen.get(r.doc_id))))
                        continue
                    seen[r.doc_id] = r.line
                    fresh.append(self._read_row(r, table, resolved, box, kept_at, dest, Path(work)))
                outcomes = self._commit(fresh, replays, file_row if start == 0 else None, task, (before, review),
                                        dest)
                yield from outcomes
        final = self.source.finish(self.ref, Status.REGISTERED, dest=dest, companion_dest=kept_at)
        self.store.add_event("archived", file_id, self.job.name, str(final), self.ctx.run_id)
        logger.info(f"{self.job.name}: {self.ref.original_name} → {summary}")

    def _read_row(self, r: _Row, table: Table, resolved: Resolved, box: Attachments, kept_at: Path | None,
                  dest: Path, work: Path) -> tuple[_Row, Record, Status, str, list[Step], datetime, datetime, float]:
        started, t0 = now(), time.perf_counter()
        service = resolved.service
        where = f"{self.ref.original_name} {r.line}{table.unit}"
        steps: list[Step] = [("read", f"{where} ({service.title}" + (f"、受付番号 {r.receipt})" if r.receipt else ")"),
                              started)]
        try:
            rec, shown = row_record(resolved, r.cells, r.doc_id)
            if service.receipt:
                rec.fields[RECEIPT] = Field(RECEIPT, RECEIPT_LABEL, r.receipt or None, raw=r.receipt,
                                            problems=[] if r.receipt else ["受付番号が空です (同じ申請が既に登録されていないか確認してください)"])
            attached: list[dict[str, Any]] = []
            refused: list[str] = []  # an attachment that broke the reader's limits
            if service.attachments:
                names = [n for c in service.attachments for n in split_names(cell_text(resolved.cell(r.cells, c)))]
                register_personal(names)
                got = read_attachments(names, box, kept_at, self.ctx.config, work)
                rec.fields[ATTACHMENTS] = attachment_field(names)
                rec.fields[ATTACHMENTS].problems = got.problems
                attached = got.meta
                steps += [("attachment", redact(s), now()) for s in got.steps]
                refused = got.refused
            register_personal(f.value for f in rec.fields.values() if f.personal)
            register_personal(f.raw for f in rec.fields.values() if f.personal)
            status = Status.ERROR if refused else rec.status
            reason = f"{r.line}{table.unit}: " + "／".join(refused or rec.problems) if refused or rec.problems else ""
        except DocumentError:
            raise
        except Exception as e:  # noqa: BLE001 - a bug: this row ends where a person sees it, the others go on
            incident = secrets.token_hex(4)
            logger.error(redact(f"内部エラー {incident} ({where}): {traceback.format_exc()}"))
            rec, shown, attached = Record(doc_id=r.doc_id, bot=resolved.bot.name), [], []
            status = Status.ERROR
            reason = f"{r.line}{table.unit}: 内部エラーが発生しました (インシデント番号 {incident}): {type(e).__name__}"
        received = received_of(resolved, r.cells) or self.ref.received_at
        rec.meta.update(received_at=received, original_name=_name(where, r.receipt), status=status.value,
                        archived_path=str(dest), reason=reason, row=shown, attachments=attached,
                        export={"file": self.ref.original_name, "line": r.line, "unit": table.unit,
                                "service": service.name, "title": service.title, "receipt": r.receipt,
                                "encoding": table.encoding, "sheet": table.sheet, "export_id": self.ref.doc_id})
        return r, rec, status, reason, steps, started, now(), time.perf_counter() - t0

    def _replayed(self, r: _Row, table: Table, earlier: dict[str, Any] | None, first_line: int | None) -> Outcome:
        where = f"{self.ref.original_name} {r.line}{table.unit}"
        if earlier is None:  # the same 受付番号 twice in this export: the first one counts
            return Outcome(r.doc_id, _name(where, r.receipt), Status.REGISTERED, replayed=True,
                           reason=f"{first_line}{table.unit}と同じ申請です")
        return Outcome(r.doc_id, _name(where, r.receipt), Status(earlier["status"]), earlier["bot"] or "",
                       earlier["reason"] or "", earlier["stored_path"] or "", replayed=True)

    def _commit(self, fresh: list[tuple[_Row, Record, Status, str, list[Step], datetime, datetime, float]],
                replays: list[tuple[_Row, Outcome]], file_row: dict[str, Any] | None, task: str,
                minutes: tuple[float, float], dest: Path) -> list[Outcome]:
        """One transaction for a chunk: the export's own row with the first chunk, each new row's
        outcome, an event for each row that was already there."""
        out: list[Outcome] = []
        with self.store.begin() as conn:
            if file_row is not None:
                self._put_file_row(conn, file_row)
            for r, rec, status, reason, steps, started, finished, seconds in fresh:
                inserted = commit_outcome(
                    conn, self.store, self.job, self.ctx, rec, status, reason, bot_registry.get(rec.bot),
                    started, finished, original_name=rec.meta["original_name"], stored_path=str(dest),
                    received_at=rec.meta["received_at"], steps=steps, task=task, minutes=minutes)
                out.append(Outcome(r.doc_id, rec.meta["original_name"], status, rec.bot, reason, str(dest),
                                   replayed=not inserted, seconds=seconds))
            for r, outcome in replays:
                self.store.add_event("replayed", r.doc_id, self.job.name,
                                     f"{outcome.original_name}: 登録済みの申請です ({outcome.status.value})",
                                     self.ctx.run_id, conn=conn)
                out.append(outcome)
        return out

    # -- the export's own row ----------------------------------------------------------------------
    def _file_row(self, status: Status, stored: Path, reason: str, meta: dict[str, Any]) -> dict[str, Any]:
        return {"doc_id": self.ref.doc_id, "job": self.job.name, "status": status.value, "bot": "",
                "original_name": self.ref.original_name, "stored_path": str(stored),
                "received_at": self.ref.received_at, "finished_at": now(), "reason": reason,
                "run_id": self.ctx.run_id,
                "record": {"doc_id": self.ref.doc_id, "bot": "", "fields": [], "meta": {"export_file": meta}}}

    def _put_file_row(self, conn: Any, row: dict[str, Any]) -> None:
        """The export's documents row (where it went, what it held); a failed earlier attempt's row
        gives way to this one, so a fixed mapping takes the same file again."""
        earlier = self.store.document(row["doc_id"], self.job.name)
        if earlier is not None and (earlier["status"] == Status.ERROR.value or row["status"] == Status.ERROR.value):
            forget_document(conn, earlier["id"], row["doc_id"], self.job.name)
        insert_document(conn, row)

    def _refused(self, reason: str) -> Outcome:
        """The export cannot be read at all: its row and the reason, then errors/ (attachments beside)."""
        dest = self.source.planned(self.ref, Status.ERROR)
        with self.store.begin() as conn:
            self._put_file_row(conn, self._file_row(Status.ERROR, dest, reason, {}))
            self.store.add_event("error", self.ref.doc_id, self.job.name, redact(reason), self.ctx.run_id, conn=conn)
        final = self.source.finish(self.ref, Status.ERROR, redact(reason), dest=dest)
        self.store.add_event("archived", self.ref.doc_id, self.job.name, str(final), self.ctx.run_id)
        logger.info(redact(f"{self.job.name}: {self.ref.original_name} → エラー: {reason}"))
        return Outcome(self.ref.doc_id, self.ref.original_name, Status.ERROR, "", reason, str(final))

    def release(self) -> None:
        """Give the export (and its attachments) back to the inbox untouched (the machine's fault)."""
        companion = self.source.companion(self.ref) if self.ref.path.suffix.lower() != ".zip" else None
        os.rename(self.ref.path, self.source.inbox / self.ref.original_name)
        if companion is not None:
            os.rename(companion, self.source.inbox / (Path(self.ref.original_name).stem + companion.suffix))


def _name(where: str, receipt: str) -> str:
    return f"{where} 受付番号 {receipt}" if receipt else where
