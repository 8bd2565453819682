"""The `kakari` command: a typer root that mounts the folders' commands, and the one place where
exceptions become a Japanese message and an exit code."""
from __future__ import annotations

import secrets
import sys
import traceback
from pathlib import Path
from typing import Annotated

import click
import typer

from kakari.errors import ExitCode, KakariError, MissingDependency

app = typer.Typer(
    name="kakari",
    help="kakari (係): 申請書を読み取り、台帳に転記し、削減時間を記録する自治体向け RPA",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", envvar="KAKARI_CONFIG",
                                                help="設定ファイル kakari.toml", show_envvar=True)]
HomeOpt = Annotated[Path | None, typer.Option("--home", envvar="KAKARI_HOME",
                                              help="データベース・ログ・作業ファイルの置き場 (既定 ./var)", show_envvar=True)]


# Command modules, each with ``register(app)``. Listed by name so the kernel imports no plugin
# folder at import time; a module not written yet (an optional part) is simply absent.
COMMAND_MODULES = (
    "bots.cli",  # bots list/new/test/preview
    "jobs.cli",  # run, report, history, doctor, jobs, timelog
    "jobs.watch_cli",  # watch
    "jobs.sched_cli",  # scheduler, worker, jobs status/retry
    "jobs.kpi_cli",  # baseline, timelog import, report extras
    "web.cli",  # web, users
    "connectors.web_cli",  # web back-office systems
)


def _mount() -> None:
    import importlib
    import importlib.util

    for name in COMMAND_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except ModuleNotFoundError:  # its package is not there either
            continue
        importlib.import_module(name).register(app)


def _click_family(name: str) -> tuple[type[BaseException], ...]:
    """click's exception and, from typer 0.26 on, typer's own vendored copy of it: both reach us."""
    found = [getattr(click.exceptions, name)]
    try:
        from typer._click import exceptions as vendored  # type: ignore[import-not-found]

        found.append(getattr(vendored, name))
    except (ImportError, AttributeError):
        pass
    return tuple(found)


_EXIT, _ABORT, _USAGE = _click_family("Exit"), _click_family("Abort"), _click_family("ClickException")


def main(argv: list[str] | None = None) -> int:
    _mount()
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="kakari", standalone_mode=False)
        return int(rv or 0)
    except _EXIT as e:
        return e.exit_code
    except _ABORT:
        print("中断しました", file=sys.stderr)
        return ExitCode.ctrl_c
    except _USAGE as e:
        e.show()
        return ExitCode.bad_args
    except KeyboardInterrupt:
        print("中断しました", file=sys.stderr)
        return ExitCode.ctrl_c
    except MissingDependency as e:
        print(f"エラー: {e.message}", file=sys.stderr)
        if e.fix:
            print(f"対処: {e.fix}", file=sys.stderr)
        return e.exit_code
    except KakariError as e:
        print(f"エラー: {e.message}", file=sys.stderr)
        return e.exit_code
    except Exception:  # a bug: short message on screen, traceback only in the (masked) log file
        incident = secrets.token_hex(4)
        from kakari.log import logger, redact

        logger.error(redact(f"内部エラー {incident}: {traceback.format_exc()}"))
        print(f"内部エラーが発生しました (インシデント番号 {incident})。ログファイルを確認してください。", file=sys.stderr)
        return ExitCode.internal


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()

