"""Web entry as a later step of a job: sinks named "web:<system>" in a job's `sinks` list.

`build_web_sink` is what jobs/outbox.build_sink calls for those names. Around the connector it adds
the job's bookkeeping, kept durable by the web_submissions table rather than by the call order:
  - a time-log row per confirmed record, step="web:<system>", minutes_before = the system's
    typing_minutes, minutes_after = 0, started/finished = robot time of the entry;
  - the 受付番号 written back to the ledger row (rec.meta["confirmation"]) through ExcelLedger.update;
  - events web_confirmed / web_rejected for `kakari history`.
A record counts as synced only when both are done; until then each later batch (or `reconcile`)
tries again, and a ledger that is locked or lacks the row parks the web rows with a TransientError.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from connectors.base import WriteResult
from connectors.webform import WebFormSink, WebHooks
from connectors.webmapping import DOCUMENT_SOURCE, KEY_SOURCE, SystemMapping, load_system, system_path
from connectors.webstate import Submission, WebState
from connectors.webvalues import pattern_names
from jobs import timelog
from jobs.ledger import build_ledger
from jobs.store import Store, documents, record_from_dict
from jobs.timelog import TaskRecord, time_log
from kakari.config import JobConfig, RunContext
from kakari.errors import ConfigError, TransientError
from kakari.log import logger, redact
from kakari.model import Record, Status

PREFIX = "web:"
_warned: set[str] = set()  # systems whose mapping warnings this process has logged


def is_web_sink(name: str) -> bool:
    return name.startswith(PREFIX)


def step_name(system: str) -> str:
    return f"{PREFIX}{system}"


def mapping_problems(system: SystemMapping) -> list[str]:
    """Record fields the mapping names that its bots do not have, and TODO lines left from a recorded draft."""
    from bots import registry

    known: set[str] | None = None
    if system.bots:
        known = set()
        for bot in system.bots:
            template = getattr(registry.get(bot), "template", None)
            known |= set(template.fields) if template is not None else set()
    problems = []
    for page in system.pages:
        for f in page.fields:
            where = f"画面「{page.name}」の「{f.label}」"
            if "TODO" in f.model_dump_json():
                problems.append(f"{where}: 下書きの TODO が残っています")
                continue
            for n in [f.source, f.when, f.unless] + [n for n, _ in pattern_names(f.format or "") if n]:
                if n and n not in (KEY_SOURCE, DOCUMENT_SOURCE) and known is not None and n not in known:
                    problems.append(f"{where}: 項目「{n}」はボット {'・'.join(system.bots)} にありません")
    for section in ("login", "search", "submit", "errors"):
        part = getattr(system, section)
        if part is not None and "TODO" in part.model_dump_json():
            problems.append(f"[{section}]: 下書きの TODO が残っています")
    return problems


def build_web_sink(name: str, job: JobConfig, ctx: RunContext) -> WebFormSink:
    """The sink for "web:<system>". ctx.extras["web_browser"] may hold a running Playwright Browser to share
    (tests, benchmark); KAKARI_WEB_HEADED=1 shows the browser window (debugging at a desk)."""
    system = load_system(name.removeprefix(PREFIX), ctx.home)
    problems = mapping_problems(system)
    if problems:
        raise ConfigError(f"連携設定「{system.name}」({system_path(system.name, ctx.home)}) に誤りがあります:\n  - "
                          + "\n  - ".join(problems))
    if system.name not in _warned:
        _warned.add(system.name)
        for warning in system.warnings():
            logger.warning(f"{system.title}: {warning}")
    store = Store(ctx.config.database_url)
    state = WebState(store.engine)
    hooks = JobWebHooks(job, ctx, system, store, state)
    return WebFormSink(system, state, ctx.home, job.name, browser=ctx.extras.get("web_browser"),
                       headless=os.environ.get("KAKARI_WEB_HEADED") != "1", browser_path=ctx.config.browser,
                       hooks=hooks)


class JobWebHooks(WebHooks):
    def __init__(self, job: JobConfig, ctx: RunContext, system: SystemMapping, store: Store, state: WebState) -> None:
        self.job, self.ctx, self.system, self.store, self.state = job, ctx, system, store, state
        self.fresh: dict[str, Record] = {}  # records of this batch: newer than the documents table's copy

    def confirmed(self, rec: Record, sub: Submission) -> None:
        self.fresh[rec.doc_id] = rec
        via = {"entry": "入力", "search": "検索で確認", "duplicate": "二重登録を検知"}.get(sub.via or "", sub.via)
        self.store.add_event("web_confirmed", rec.doc_id, self.job.name,
                             f"{step_name(self.system.name)}: 受付番号 {sub.confirmation} ({via})", self.ctx.run_id)

    def rejected(self, rec: Record, reason: str, snapshot: str = "") -> None:
        where = f" (画面: {snapshot})" if snapshot else ""
        self.store.add_event("web_rejected", rec.doc_id, self.job.name,
                             redact(f"{step_name(self.system.name)}: {reason}{where}"), self.ctx.run_id)

    def batch_done(self, records: list[Record]) -> None:
        for rec in records:
            self.fresh.setdefault(rec.doc_id, rec)
        reconcile(self.job, self.ctx, self.system, self.store, self.state, self.fresh)


def reconcile(job: JobConfig, ctx: RunContext, system: SystemMapping | str, store: Store | None = None,
              state: WebState | None = None, fresh: dict[str, Record] | None = None) -> int:
    """Time log + ledger write-back for every confirmed, not yet synced record of the job; returns how many
    were synced. Safe to call any time (idempotent); raises TransientError if the ledger cannot take them yet."""
    if isinstance(system, str):
        system = load_system(system, ctx.home)
    store = store or Store(ctx.config.database_url)
    state = state or WebState(store.engine)
    subs = state.unsynced(system.name, job.name)
    if not subs:
        return 0
    step = step_name(system.name)
    with store.begin() as conn:
        for sub in subs:
            base = _ledger_step(store, sub.doc_id, job.name)
            finished = sub.confirmed_at or datetime.now().astimezone()
            timelog.record(conn, TaskRecord(
                doc_id=sub.doc_id, job=job.name, step=step,
                department=base.get("department") or job.department or "(未設定)",
                task=base.get("task") or job.task or system.title, bot=base.get("bot") or "",
                status=base.get("status") or Status.REGISTERED.value, started=sub.started or finished,
                finished=finished, minutes_before=system.typing_minutes, minutes_after=0.0))
    if "excel" not in job.sinks:
        state.mark_synced([s.doc_id for s in subs], system.name)
        return len(subs)
    return _write_back(job, ctx, system, store, state, subs, fresh or {})


def _write_back(job: JobConfig, ctx: RunContext, system: SystemMapping, store: Store, state: WebState,
                subs: list[Submission], fresh: dict[str, Record]) -> int:
    records: list[Record] = []
    orphans: list[str] = []
    for sub in subs:
        rec = fresh.get(sub.doc_id) or _stored_record(store, sub.doc_id, job.name)
        if rec is None:
            orphans.append(sub.doc_id)  # entered without a document row (e.g. by hand): nothing to write back
            continue
        with_confirmation(rec, system, sub)
        records.append(rec)
    synced = list(orphans)
    if records:
        ledger = build_ledger(job, ctx)
        update_many = getattr(ledger, "update_many", None)
        result = update_many(records) if callable(update_many) else _update_each(ledger, records)
        synced += [r.doc_id for r in records if r.doc_id in result.written]
    state.mark_synced(synced, system.name)
    missing = len(subs) - len(synced)
    if missing:
        raise TransientError(f"台帳にまだ行がない申請が{missing}件あるため、{system.title}の受付番号の書き戻しを"
                             "後で再試行します")
    return len(synced)


def _update_each(ledger: Any, records: list[Record]) -> WriteResult:
    out = WriteResult()
    for rec in records:
        res = ledger.update(rec)
        out.written += res.written
        out.skipped += res.skipped
    return out


def with_confirmation(rec: Record, system: SystemMapping, sub: Submission) -> Record:
    """What the ledger reads: meta["confirmation"] (this system's 受付番号) and, for jobs feeding several
    systems, meta["confirmations"][system]."""
    rec.meta["confirmation"] = sub.confirmation
    rec.meta.setdefault("confirmations", {})[system.name] = sub.confirmation
    rec.meta["web_system"] = system.title
    if sub.confirmed_at:
        rec.meta["confirmed_at"] = sub.confirmed_at.isoformat()
    return rec


def _ledger_step(store: Store, doc_id: str, job: str) -> dict[str, Any]:
    q = select(time_log.c.department, time_log.c.task, time_log.c.bot, time_log.c.status).where(
        time_log.c.doc_id == doc_id, time_log.c.job == job, time_log.c.step == "ledger")
    with store.engine.connect() as conn:
        row = conn.execute(q).mappings().first()
    return dict(row) if row else {}


def _stored_record(store: Store, doc_id: str, job: str) -> Record | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(documents.c.record, documents.c.status).where(
            documents.c.doc_id == doc_id, documents.c.job == job)).first()
    if row is None or not row[0]:
        return None
    rec = record_from_dict(row[0])
    rec.meta.setdefault("status", row[1])
    return rec


def web_rejections(job: JobConfig, home: Path, store: Store) -> list[str]:
    """One line per record a web system of the job refused and still waits for a person: the system, the
    file, why, and the failure screenshot."""
    systems = [s.removeprefix(PREFIX) for s in job.sinks if is_web_sink(s)]
    if not systems:
        return []
    state = WebState(store.engine)
    lines = []
    for system in systems:
        for sub in state.rejected(system, job.name):
            doc = store.document(sub.doc_id, job.name)
            shots = sorted((home / "web_failures").glob(f"{sub.doc_id}_*.png"))
            name = (doc or {}).get("original_name") or sub.doc_id[:12]
            lines.append(f"{step_name(system)} {name}: {sub.last_error or '受付不可'}"
                         + (f" 画面: {shots[-1]}" if shots else ""))
    return lines
