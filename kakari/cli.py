"""The `kakari` command: a typer root that mounts the command modules found through the
`kakari.commands` entry-point group, and the one place where exceptions become a Japanese message
and an exit code. `context()` is what every command calls first: config, home, logging."""
from __future__ import annotations

import contextlib
import gc
import importlib
import os
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
    rich_markup_mode=None,  # click's plain help: no "<bool>" after every flag
    context_settings={"help_option_names": ["--help", "-h"]},
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


@app.callback()
def _everywhere(config: ConfigOpt = None, home: HomeOpt = None) -> None:
    """--config/--home before the command (`kakari --config X jobs list`) mean the same as after it:
    they reach every command through the environment variables the options already read."""
    if config is not None:
        os.environ["KAKARI_CONFIG"] = str(config)
    if home is not None:
        os.environ["KAKARI_HOME"] = str(home)


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

# the parser's value complaints, as a clerk reads them
_VALUE_WORDS = (("valid integer", "整数で指定してください"), ("valid number", "数値で指定してください"),
                ("valid float", "数値で指定してください"), ("does not exist", "見つかりません"),
                ("is not one of", "指定できる値ではありません"), ("valid choice", "指定できる値ではありません"),
                ("valid boolean", "true か false で指定してください"), ("is a directory", "フォルダーではなくファイルを指定してください"),
                ("is a file", "ファイルではなくフォルダーを指定してください"))


def _hint(e: Any) -> str:
    hint = getattr(e, "param_hint", None)
    param = getattr(e, "param", None)
    if hint is None and param is not None:
        hint = (param.opts or [param.name])[0] if getattr(param, "param_type_name", "") == "option" else (
            (param.name or "").upper())
    if isinstance(hint, (list, tuple)):
        hint = " / ".join(str(h) for h in hint)
    return str(hint or "").strip("'\"")


def usage_message(e: Any) -> str:
    """A command-line mistake in Japanese (the parser's own text only in brackets, when nothing matched)."""
    kind = type(e).__name__
    text = str(getattr(e, "message", "") or e)
    if kind == "MissingParameter":
        what = "オプション" if getattr(getattr(e, "param", None), "param_type_name", "") == "option" else "引数"
        return f"{what} {_hint(e)} が指定されていません"
    if kind == "NoSuchOption":
        near = sorted(getattr(e, "possibilities", None) or [])
        return f"オプション {e.option_name} はありません" + (f" (使えるもの: {'、'.join(near)})" if near else "")
    if kind == "BadParameter":
        said = next((ja for en, ja in _VALUE_WORDS if en in text), None)
        return f"{_hint(e)} の値が正しくありません: " + (said or f"({text})")
    if kind == "BadOptionUsage":
        return f"オプション {getattr(e, 'option_name', '')} の使い方が正しくありません ({text})"
    if text.startswith("No such command"):
        name = text.split("'")[1] if "'" in text else text
        return f"コマンド「{name}」はありません"
    if text.startswith("Got unexpected extra argument"):
        return "余分な引数があります: " + text.rsplit("(", 1)[-1].rstrip(")")
    return f"コマンドの指定が正しくありません ({text})"


def _show_usage(e: Any) -> None:
    print(f"エラー: {usage_message(e)}", file=sys.stderr)
    ctx = getattr(e, "ctx", None)
    path = getattr(ctx, "command_path", "") or "kakari"
    print(f"使い方: {path} --help", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    _mount()
    command = typer.main.get_command(app)
    saved = {k: os.environ.get(k) for k in ("KAKARI_CONFIG", "KAKARI_HOME")}  # the root options set them
    try:
        return _main(command, argv)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _main(command: Any, argv: list[str] | None) -> int:
    try:
        rv = command.main(args=argv, prog_name="kakari", standalone_mode=False)
        return int(rv or 0)
    except _EXIT as e:
        return e.exit_code
    except _ABORT:
        print("中断しました", file=sys.stderr)
        return ExitCode.ctrl_c
    except _USAGE as e:
        if type(e).__name__ == "NoArgsIsHelpError" or not hasattr(e, "ctx"):
            e.show()  # `kakari` or `kakari jobs` alone: the help itself
        else:
            _show_usage(e)
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
    code = main()
    # the command is over and the process ends: what it built (a run's ledger workbook is a few
    # hundred thousand objects in reference cycles) is left to the OS, not to a last collection
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()

