"""The `kakari` command: a typer root that mounts the command modules found through the
`kakari.commands` entry-point group, and the one place where exceptions become a Japanese message
and an exit code. `context()` is what every command calls first: config, home, logging."""
from __future__ import annotations

import contextlib
import importlib
import secrets
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.markup import escape

from kakari.config import KakariConfig, load_config
from kakari.errors import ExitCode, KakariError, MissingDependency
from kakari.files import make_private_dir, private_umask
from kakari.log import clean, setup_logging

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


err = Console(stderr=True)
out = Console()


def shown(text: str) -> str:
    """Outside text (a reason, an event, a masked name) as the console prints it: masked, no control
    characters, and no rich markup (a file named "[red]…" is printed, not interpreted)."""
    return escape(clean(str(text)))


COMMAND_GROUP = "kakari.commands"  # entry points "name = module:register"; register(app) adds the commands


def context(config: Path | None, home: Path | None, verbose: bool = False) -> KakariConfig:
    """The configuration of one command: kakari.toml (or none), the home folder, logging."""
    private_umask()  # the database, ledgers, scans and logs are the service account's alone
    cfg = load_config(config, home)
    make_private_dir(cfg.home)
    setup_logging(cfg.home, "DEBUG" if verbose else "WARNING")
    return cfg


def _mount() -> None:
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        ep.load()(app)


def _click_family(name: str) -> tuple[type[Any], ...]:
    """click's exception and, from typer 0.26 on, typer's own vendored copy of it: both reach us."""
    found = [getattr(click.exceptions, name)]
    for module in ("typer._click.exceptions", "typer.exceptions"):  # where each typer version keeps it
        with contextlib.suppress(ImportError, AttributeError):
            found.append(getattr(importlib.import_module(module), name))
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
    except Exception:  # noqa: BLE001 - a bug: short message on screen, traceback only in the (masked) log file
        incident = secrets.token_hex(4)
        from kakari.log import logger, redact

        logger.error(redact(f"内部エラー {incident}: {traceback.format_exc()}"))
        print(f"内部エラーが発生しました (インシデント番号 {incident})。ログファイルを確認してください。", file=sys.stderr)
        return ExitCode.internal


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()

