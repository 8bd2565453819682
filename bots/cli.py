"""`kakari bots …`: list the registered bots (and, later, scaffold, preview and test them)."""
from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from kakari.cli import ConfigOpt, HomeOpt
from kakari.errors import ExitCode

app = typer.Typer(no_args_is_help=True)
out = Console()


@app.command("list")
def list_bots(config: ConfigOpt = None, home: HomeOpt = None,
              verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> int:
    """登録されているボット (様式) の一覧: 名前・様式名・業務名・導入前の分数・所在。"""
    from bots import registry
    from jobs.cli import context

    context(config, home, verbose)
    for name, entry in sorted(registry.entries().items()):
        bot = entry.obj
        template = getattr(bot, "template", None)
        title = template.title if template is not None else (bot.__doc__ or "").strip().splitlines()[0:1]
        out.print(f"{name:<22} {title}  業務名={bot.task}  導入前={bot.manual_minutes}分  ({entry.origin}: {entry.file})")
    return ExitCode.ok


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="bots", help="ボット (様式) の一覧・作成・試験")
