"""Builds a job's sinks and flushes the outbox (pending_writes) into them in batches."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bots import registry as bot_registry
from connectors.base import Sink
from connectors.excel import ExcelLedger
from jobs.store import Store, now, record_from_dict
from kakari.config import JobConfig, RunContext
from kakari.errors import ConfigError, LedgerRefused, TransientError
from kakari.log import logger

BACKOFF_SECONDS = (5, 15, 60, 300, 900)  # then every 15 minutes: a locked ledger is never given up on


def ledger_columns(job: JobConfig) -> list[tuple[str, str]]:
    """The union of the job's bots' ledger columns, in template order."""
    seen: dict[str, str] = {}
    for name in job.bots:
        bot = bot_registry.get(name)
        template = getattr(bot, "template", None)
        if template is None:  # a task bot declares its columns
            for col, label in bot.ledger:
                seen.setdefault(col, label)
            continue
        for col in template.ledger_columns():
            seen.setdefault(col, template.fields[col].label)
    return list(seen.items())


def my_number_columns(job: JobConfig) -> set[str]:
    """Fields typed my_number (個人番号): masked in the ledger unless the job keeps them."""
    out: set[str] = set()
    for name in job.bots:
        template = getattr(bot_registry.get(name), "template", None)
        if template is not None:
            out |= {n for n, spec in template.fields.items() if spec.type == "my_number"}
    return out


def build_sink(name: str, job: JobConfig, ctx: RunContext) -> Sink:
    if name == "excel":
        return ExcelLedger(job.ledger_path(ctx.home), ledger_columns(job),
                           sheet=job.ledger_sheet or "台帳", keep_my_number=job.keep_my_number,
                           my_number_columns=my_number_columns(job))
    if name.startswith("web:"):
        from jobs.websteps import build_web_sink  # Playwright is imported only by jobs that type into a system

        return build_web_sink(name, job, ctx)
    raise ConfigError(f"ジョブ「{job.name}」の出力先「{name}」は未対応です (使用可能: excel, web:<システム名>)")


@dataclass
class FlushResult:
    written: int = 0
    skipped: int = 0
    parked: int = 0
    errors: list[str] = field(default_factory=list)


def flush_pending(job: JobConfig, ctx: RunContext, store: Store, force: bool = False) -> FlushResult:
    """Write every due pending row of the job into its sinks, one save per sink."""
    result = FlushResult()
    for sink_name in job.sinks:
        rows = store.pending(job.name, sink_name, due=None if force else now())
        if not rows:
            continue
        sink = build_sink(sink_name, job, ctx)
        records = [record_from_dict(r["payload"]) for r in rows]
        try:
            sink.open(ctx)
            res = sink.write_many(records)
            sink.close()
        except (TransientError, LedgerRefused) as e:
            # locked: retried with backoff; refused (a workbook we must not rewrite): parked until fixed
            attempts = max(r["attempts"] for r in rows)
            delay = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS) - 1)]
            store.mark_failed([r["id"] for r in rows], e.message, now() + timedelta(seconds=delay))
            for r in rows:
                store.add_event("parked", r["doc_id"], job.name, f"{sink_name}: {e.message}", ctx.run_id)
            logger.warning(f"{job.name}: {e.message} — {len(rows)}件を保留し、{delay}秒後に再試行します")
            result.parked += len(rows)
            result.errors.append(e.message)
            continue
        store.mark_written(r["id"] for r in rows)
        with store.begin() as conn:
            for r in rows:
                what = "written" if r["doc_id"] in res.written else "already_written"
                store.add_event(what, r["doc_id"], job.name, sink_name, ctx.run_id, conn=conn)
        result.written += len(res.written)
        result.skipped += len(res.skipped)
    return result
