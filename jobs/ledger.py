"""A job's ledger (台帳): its columns, the union of its bots' ledger columns, and the ExcelLedger sink."""
from __future__ import annotations

from bots import registry as bot_registry
from connectors.excel import ExcelLedger
from kakari.config import JobConfig, RunContext


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


def build_ledger(job: JobConfig, ctx: RunContext) -> ExcelLedger:
    return ExcelLedger(job.ledger_path(ctx.home), ledger_columns(job), sheet=job.ledger_sheet or "台帳",
                       keep_my_number=job.keep_my_number, my_number_columns=my_number_columns(job))
