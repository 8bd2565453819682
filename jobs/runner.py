"""One document from claim to archive, and one run over an inbox.

Order matters for crash safety: the outcome (documents row, time log, pending ledger rows, events)
is committed in one transaction *before* the file leaves processing/. A crash before the commit
replays the document; a crash after it finds the committed row and only moves the file. Ledger rows
are written from the outbox in batches (see jobs/outbox.py), keyed by doc_id, so nothing doubles.
"""
from __future__ import annotations

import itertools
import secrets
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from threading import Event

from bots import registry as bot_registry
from bots.base import Bot
from connectors.exportsource import ExportSource
from connectors.folder import FolderSource, free_name
from jobs import artifacts
from jobs.commit import Outcome, Step, commit, commit_outcome
from jobs.exports import process_exports
from jobs.outbox import FlushResult, flush_pending, sinks_read_ahead
from jobs.reading import ReaderBug, readers, remember_personal
from jobs.store import Store, now
from kakari.config import JobConfig, RunContext
from kakari.errors import DocumentError, MissingDependency
from kakari.files import move_patiently
from kakari.log import logger, mask_name, mask_path, redact, register_personal, short_id
from kakari.model import DocRef, Record, Status


@dataclass
class RunSummary:
    run_id: str
    job: str
    outcomes: list[Outcome] = field(default_factory=list)
    flush: FlushResult = field(default_factory=FlushResult)
    pending: int = 0
    seconds: float = 0.0
    queued: int = 0  # executor = "celery": documents handed to the workers

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(o.status.value for o in self.outcomes)
        return {"read": len(self.outcomes), **{s.value: c.get(s.value, 0) for s in Status}}

    @property
    def errors(self) -> int:
        return sum(1 for o in self.outcomes if o.status == Status.ERROR)

    @property
    def failed(self) -> bool:
        """Documents in errors/ or records a web system refused: exit code 4."""
        return bool(self.errors or self.flush.rejected)


def _extract(job: JobConfig, ref: DocRef, ctx: RunContext, steps: list[Step]) -> tuple[Record, type[Bot], Status, str]:
    """Read, classify and extract in a warm reader process (killed at the time or memory limit)."""
    transformer = artifacts.document_bot(job)
    if transformer is not None:  # a bot that makes a new file of the document (a masked copy)
        rec, bot_cls, status, reason = artifacts.transform(job, ref, ctx, transformer)
        steps.append(("transformed", str(rec.meta.get("summary", "")), now()))
        return rec, bot_cls, status, reason
    try:
        got = readers.read(job, ref, ctx.config)
    except DocumentError as e:
        if e.read is not None:
            steps.append(("read", *e.read))
        raise
    steps.append(("read", got.read_detail, got.read_at))
    steps.append(("classified", got.classified_detail, got.classified_at))
    remember_personal(got.record)
    return got.record, bot_registry.get(got.bot), got.status, got.reason




@dataclass
class _Read:
    """A document read but not yet committed."""

    ref: DocRef
    rec: Record
    bot_cls: type[Bot] | None
    status: Status
    reason: str
    started: datetime
    finished: datetime
    dest: Path
    steps: list[Step]
    t0: float


def process(job: JobConfig, ref: DocRef, ctx: RunContext) -> Outcome:
    """One claimed document, start to finish. Picklable arguments: any executor can call it."""
    return process_many(job, [ref], ctx)[0]


def process_many(job: JobConfig, refs: Sequence[DocRef], ctx: RunContext) -> list[Outcome]:
    """Claimed documents, start to finish, in their order. Their outcomes are committed in one
    transaction, then the files move, then one transaction records where they went: a batch pays a
    few fsyncs, not a few per document. Nothing moves before its outcome is committed."""
    return _finish_batch(job, ctx, _read_batch(job, refs, ctx))


@dataclass
class _Batch:
    """Claimed documents read (or replayed), not yet committed, with the store and folders they were read with."""

    count: int
    outcomes: dict[int, Outcome]  # by position: replayed, or committed already
    read: list[tuple[int, _Read]]
    store: Store
    source: FolderSource


def _read_batch(job: JobConfig, refs: Sequence[DocRef], ctx: RunContext) -> _Batch:
    """Read the documents of a batch; only two files of one name (one after the other) or a missing
    dependency commit anything here."""
    store = Store(ctx.config.database_url)
    source = FolderSource(job.folders(ctx.home))
    outcomes: dict[int, Outcome] = {}
    read: list[tuple[int, _Read]] = []
    committed = store.committed((ref.doc_id for ref in refs), job.name)  # one query, not one per document
    try:
        for i, ref in enumerate(refs):
            replay = _replay(job, ref, ctx, store, source) if ref.doc_id in committed else None
            if replay is not None:
                outcomes[i] = replay
            else:
                r = _read(job, ref, ctx, store, source)
                if any(r.dest == other.dest for _, other in read):  # two files of one name: one after the other
                    _finish(job, ctx, store, source, read, outcomes)
                    read = []
                    r.dest = source.planned(ref, r.status)
                    r.rec.meta["archived_path"] = str(r.dest)
                read.append((i, r))
    except MissingDependency:
        # the machine's fault: the rest of the batch goes back to the inbox untouched, as if never claimed
        for ref in refs[len(outcomes) + len(read) + 1:]:
            move_patiently(ref.path, free_name(source.inbox, ref.original_name, ref.doc_id))
            store.add_event("released", ref.doc_id, job.name, "処理を中断したため受付に戻しました", ctx.run_id)
        _finish(job, ctx, store, source, read, outcomes)
        raise
    return _Batch(len(refs), outcomes, read, store, source)


def _finish_batch(job: JobConfig, ctx: RunContext, batch: _Batch) -> list[Outcome]:
    _finish(job, ctx, batch.store, batch.source, batch.read, batch.outcomes)
    return [batch.outcomes[i] for i in range(batch.count)]


def _replay(job: JobConfig, ref: DocRef, ctx: RunContext, store: Store, source: FolderSource) -> Outcome | None:
    """The outcome of a document committed before (a crash between commit and move, a re-sent copy,
    a redelivered task), after moving the file where its row says; None for a new document."""
    done = store.document(ref.doc_id, job.name)
    if done is None:
        return None
    if not ref.path.exists():  # a redelivered task whose first delivery finished
        return Outcome(ref.doc_id, ref.original_name, Status(done["status"]), done["bot"] or "",
                       done["reason"] or "", done["stored_path"] or "", replayed=True)
    status = Status(done["status"])
    artifacts.release(job, ctx, ref.doc_id, (done["record"] or {}).get("meta"), done["status"])
    planned = Path(done["stored_path"]) if done["stored_path"] else None
    dest = source.finish(ref, status, done["reason"] or "", dest=planned)
    detail = f"処理済みの文書です ({status.value}): {mask_name(dest.name)}"
    store.add_event("replayed", ref.doc_id, job.name, detail, ctx.run_id)
    return Outcome(ref.doc_id, ref.original_name, status, done["bot"] or "", done["reason"] or "",
                   str(dest), replayed=True)


def _read(job: JobConfig, ref: DocRef, ctx: RunContext, store: Store, source: FolderSource) -> _Read:
    """Read, classify and extract one document; a bad document becomes an エラー outcome."""
    started = now()
    t0 = time.perf_counter()
    rec: Record | None = None
    bot_cls: type[Bot] | None = None
    steps: list[Step] = []
    try:
        rec, bot_cls, status, reason = _extract(job, ref, ctx, steps)
    except MissingDependency:
        # the machine's fault, not the document's: give the file back untouched and stop
        for name, detail, ts in steps:
            store.add_event(name, ref.doc_id, job.name, detail, ctx.run_id, ts=ts)
        move_patiently(ref.path, free_name(source.inbox, ref.original_name, ref.doc_id))
        store.add_event("released", ref.doc_id, job.name, "必要なソフトウェアがないため受付に戻しました", ctx.run_id)
        raise
    except DocumentError as e:
        status, reason = Status.ERROR, e.message
    except Exception as e:  # noqa: BLE001 - a bug: the document still ends somewhere a person will see it
        incident = secrets.token_hex(4)
        trace = e.trace if isinstance(e, ReaderBug) else traceback.format_exc()
        kind = e.kind if isinstance(e, ReaderBug) else type(e).__name__
        where = f"{mask_name(ref.original_name)} {short_id(ref.doc_id)}"
        logger.error(redact(f"内部エラー {incident} ({where}): {trace}"))
        status, reason = Status.ERROR, f"内部エラーが発生しました (インシデント番号 {incident}): {kind}"
    finished = now()
    dest = source.planned(ref, status)
    if rec is None:
        rec = Record(doc_id=ref.doc_id, bot=bot_cls.name if bot_cls else "")
    rec.meta.update(received_at=ref.received_at, original_name=ref.original_name, status=status.value,
                    archived_path=str(dest), reason=reason)
    return _Read(ref, rec, bot_cls, status, reason, started, finished, dest, steps, t0)


def _finish(job: JobConfig, ctx: RunContext, store: Store, source: FolderSource, read: list[tuple[int, _Read]],
            outcomes: dict[int, Outcome]) -> None:
    """Commit the documents read, move them, record where they went; fill `outcomes` by position."""
    if not read:
        return
    with store.begin() as conn:
        fresh = [(i, r) for i, r in read if commit_outcome(
            conn, store, job, ctx, r.rec, r.status, r.reason, r.bot_cls, r.started, r.finished,
            original_name=r.ref.original_name, stored_path=str(r.dest), received_at=r.ref.received_at,
            steps=r.steps)]
    moved = []
    for i, r in fresh:
        artifacts.release(job, ctx, r.ref.doc_id, r.rec.meta, r.status.value)  # before the original leaves processing/
        final = source.finish(r.ref, r.status, redact(r.reason), dest=r.dest, sync=False)
        moved.append(final)
        bot_name = r.bot_cls.name if r.bot_cls else ""
        shown = f"{mask_name(r.ref.original_name)} {short_id(r.ref.doc_id)}"
        logger.info(f"{job.name}: {shown} → {r.status.value} ({bot_name or '-'})")
        outcomes[i] = Outcome(r.ref.doc_id, r.ref.original_name, r.status, bot_name, r.reason, str(final),
                              seconds=time.perf_counter() - r.t0)
    source.sync(moved)
    with store.begin() as conn:
        for final, (_, r) in zip(moved, fresh, strict=True):
            store.add_event("archived", r.ref.doc_id, job.name, mask_path(final), ctx.run_id, conn=conn)
    for i, r in read:  # another worker (or an earlier copy in this batch) committed the same bytes first
        if i not in outcomes:
            outcomes[i] = _replay(job, r.ref, ctx, store, source) or process(job, r.ref, ctx)


Progress = Callable[[Outcome], None]


FLUSH_INTERVAL = 60.0  # seconds: during a long run, rows reach the sinks at least this often…
FLUSH_SHARE = 0.2  # …but saving (a large ledger is rewritten whole) takes at most this share of the run


def run_job(job: JobConfig, ctx: RunContext, trigger: str = "manual", progress: Progress | None = None,
            on_total: Callable[[int], None] | None = None, flush_every: int | None = None,
            source: FolderSource | None = None, paths: list[Path] | None = None, recover: bool = True,
            stop: Event | None = None) -> RunSummary:
    """Recover leftovers, claim what is in the inbox now, process it, flush the ledger; record the run.

    The watcher passes its own `source` and the `paths` it found ready, and a `stop` event: when set,
    the document in hand is finished and the rest stay in the inbox, unclaimed. The outbox is flushed
    every `flush_every` items if given, else by time (FLUSH_INTERVAL, FLUSH_SHARE), and at the end.
    """
    store = Store(ctx.config.database_url)
    run_id = ctx.run_id or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    ctx = RunContext(ctx.config, run_id, ctx.extras)
    source = source or source_for(job, ctx.home)
    summary = RunSummary(run_id, job.name)
    store.start_run(run_id, job.name, trigger)
    t0 = time.perf_counter()
    status = "failed"
    try:
        task_bots = [b for b in (bot_registry.get(n) for n in job.bots) if not b.takes_documents]
        reads_forms = len(task_bots) < len(job.bots)  # a job of task bots only has no documents to claim
        artifacts.sweep(job, ctx, store)
        recovered = list(source.recover()) if recover and reads_forms else []
        for ref in recovered:
            store.add_event("recovered", ref.doc_id, job.name, mask_name(ref.original_name), run_id)
        paths = (list(source.scan(wait=True)) if paths is None else paths) if reads_forms else []
        if on_total and job.source != "export":  # an export's rows are counted as they are read
            on_total(len(recovered) + len(paths))
        count = len(recovered) + len(paths)
        exports = job.source == "export"  # each file holds many applications: one file per batch
        batches = _claimed(recovered, paths, source, store, job, run_id, stop,
                           1 if exports else _batch_size(count, ctx.config.pool_size))
        with sinks_read_ahead(job, ctx) if count or task_bots else nullcontext():
            if exports:  # read where they are claimed: a table is quick, rows are committed in chunks
                documents_done: Iterable[Outcome] = process_exports(job, batches, ctx)
            elif ctx.config.executor == "celery":  # the workers process them; nothing comes back here
                from jobs.queue import enqueue

                summary.queued = enqueue(job, itertools.chain.from_iterable(batches), ctx)
                documents_done = ()
            else:
                documents_done = _outcomes(job, batches, ctx, count)
            items_done = (o for bot_cls in task_bots for o in run_task_bot(job, bot_cls, ctx, store))
            last_flush, flush_cost = time.perf_counter(), 0.0
            for outcome in itertools.chain(documents_done, items_done):
                summary.outcomes.append(outcome)
                if progress:
                    progress(outcome)
                since = time.perf_counter() - last_flush
                if (len(summary.outcomes) % flush_every == 0 if flush_every
                        else since >= max(FLUSH_INTERVAL, flush_cost / FLUSH_SHARE)):
                    _add_flush(summary.flush, flush_pending(job, ctx, store))
                    flush_cost = time.perf_counter() - last_flush - since
                    last_flush = time.perf_counter()
            _add_flush(summary.flush, flush_pending(job, ctx, store, force=True))
        status = "partial" if summary.failed else "ok"
    finally:
        summary.pending = store.pending_count(job.name)
        summary.seconds = time.perf_counter() - t0
        robot = sum(o.seconds for o in summary.outcomes)
        stats = {"docs/status/" + k: v for k, v in summary.counts.items() if k != "read"}
        stats |= {"docs/read": len(summary.outcomes), "sink/written": summary.flush.written,
                  "sink/parked": summary.flush.parked, "sink/rejected": len(summary.flush.rejected),
                  "docs/replayed": sum(o.replayed for o in summary.outcomes)}
        store.finish_run(run_id, status, summary.counts, robot, stats,
                         "\n".join([f"{o.status.value} {mask_name(o.original_name)} {short_id(o.doc_id)} {o.reason}"
                                    for o in summary.outcomes if o.status != Status.REGISTERED]
                                   + [f"受付不可 {short_id(r.doc_id)} {r.reason}" for r in summary.flush.rejected]))
    return summary


def run_task_bot(job: JobConfig, bot_cls: type[Bot], ctx: RunContext, store: Store) -> Iterator[Outcome]:
    """A bot that is not a form reader: each Record it yields is committed like a document's
    (time log, ledger outbox, events), keyed by the record's doc_id."""
    items = bot_cls().run(RunContext(ctx.config, ctx.run_id, {**ctx.extras, "job": job}))
    while True:
        started = now()
        try:
            rec = next(items)
        except StopIteration:
            return
        finished = now()
        status, reason, source = rec.status, "／".join(rec.problems), str(rec.meta.get("source", ""))
        register_personal(f.value for f in rec.fields.values() if f.personal and f.value)
        rec.meta.update(received_at=started, original_name=source, status=status.value, reason=reason)
        fresh = commit(store, job, ctx, rec, status, reason, bot_cls, started, finished, original_name=source,
                       stored_path="", received_at=started)
        yield Outcome(rec.doc_id, source, status, bot_cls.name, reason, replayed=not fresh,
                      seconds=(finished - started).total_seconds())


def source_for(job: JobConfig, home: Path, min_age: float = 1.0) -> FolderSource:
    """The inbox of a job: documents, or online exports (a table with its attachments beside it)."""
    folders = job.folders(home)
    return ExportSource(folders, min_age=min_age) if job.source == "export" else FolderSource(folders, min_age=min_age)


BATCH = 8  # documents per commit: a batch pays a few fsyncs (commit, folders, events), not each document


def _outcomes(job: JobConfig, batches: Iterable[list[DocRef]], ctx: RunContext, count: int) -> Iterator[Outcome]:
    """Process claimed documents one batch at a time, or `workers` batches at a time when there are
    enough of them (OCR is CPU bound). At most two batches per worker are in flight, so memory stays
    bounded and unclaimed files stay in the inbox for other claimers."""
    size = min(ctx.config.pool_size, count)
    if size <= 1:
        for batch in batches:
            yield from process_many(job, batch, ctx)
        return
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    # threads, each waiting on its own warm reader process (jobs.reading), read the batches; this
    # thread commits them and moves their files, so a reader never waits for a commit's fsyncs
    with ThreadPoolExecutor(size, thread_name_prefix="kakari-doc") as pool:
        pending: set = set()
        for batch in batches:
            pending.add(pool.submit(_read_batch, job, batch, ctx))
            if len(pending) >= 2 * size:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield from _finish_batch(job, ctx, f.result())
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield from _finish_batch(job, ctx, f.result())


def _batch_size(count: int, workers: int) -> int:
    """BATCH, or less when there are too few documents to give every worker two batches."""
    return max(1, min(BATCH, count // (2 * max(1, workers))))


def _claimed(recovered: list[DocRef], paths: Iterable[Path], source: FolderSource, store: Store, job: JobConfig,
             run_id: str, stop: Event | None, size: int) -> Iterator[list[DocRef]]:
    """Batches of claimed documents (the leftovers of a crash first), each claim recorded."""
    for i in range(0, len(recovered), size):
        yield recovered[i:i + size]
    batch: list[DocRef] = []
    for path in paths:
        if stop is not None and stop.is_set():
            break  # claimed lazily, so what is left stays in the inbox
        ref = source.claim(path)
        if ref is None:
            continue  # another worker took it
        batch.append(ref)
        if len(batch) == size:
            _note_claims(store, job, batch, run_id)
            yield batch
            batch = []
    if batch:
        _note_claims(store, job, batch, run_id)
        yield batch


def _note_claims(store: Store, job: JobConfig, refs: list[DocRef], run_id: str) -> None:
    with store.begin() as conn:
        for ref in refs:
            store.add_event("claimed", ref.doc_id, job.name, mask_name(ref.original_name), run_id, conn=conn)


def _add_flush(total: FlushResult, part: FlushResult) -> None:
    total.written += part.written
    total.skipped += part.skipped
    total.parked += part.parked
    total.errors.extend(part.errors)
    total.rejected.extend(part.rejected)
