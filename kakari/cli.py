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


def _mount() -> None:
    # imported here, not at module top: the kernel itself imports none of the plugin folders
    from bots.cli import app as bots_app
    from jobs.cli import register

    app.add_typer(bots_app, name="bots", help="ボット (様式) の一覧・作成・試験")
    register(app)


def main(argv: list[str] | None = None) -> int:
    _mount()
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=argv, prog_name="kakari", standalone_mode=False)
        return int(rv or 0)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        print("中断しました", file=sys.stderr)
        return ExitCode.ctrl_c
    except click.ClickException as e:
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
