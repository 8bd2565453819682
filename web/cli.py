"""`kakari web` (the review screen and dashboard) and `kakari users add`."""
from __future__ import annotations

import sys
from typing import Annotated

import typer

from kakari.cli import ConfigOpt, HomeOpt, context, err, out
from kakari.errors import ExitCode

users_app = typer.Typer(help="Web 画面の利用者", no_args_is_help=True)


def web(host: Annotated[str, typer.Option("--host", help="待ち受けるアドレス (既定: この PC だけ)")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port")] = 8080,
        https_only: Annotated[bool, typer.Option("--https-only", help="Cookie を HTTPS のときだけ送る (TLS 終端の後ろで)")] = False,
        config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """確認画面 (担当職員) と削減効果ダッシュボード (管理職) を開きます。"""
    import uvicorn

    from web.app import create_app

    cfg = context(config, home)
    if host not in ("127.0.0.1", "localhost") and not https_only:
        err.print("[yellow]注意: この PC 以外から接続できます。庁内ネットワークでは TLS の後ろで --https-only を付けてください[/yellow]")
    out.print(f"http://{host}:{port}/ で待ち受けます (Ctrl-C で終了)")
    uvicorn.run(create_app(cfg, https_only=https_only), host=host, port=port, log_level="warning")
    return ExitCode.ok


@users_app.command("add")
def users_add(username: Annotated[str, typer.Argument(help="利用者名")],
              role: Annotated[str, typer.Option("--role", help="clerk (担当職員) | manager (管理職) | admin")] = "clerk",
              section: Annotated[str | None, typer.Option("--section", help="原課 (担当職員は必須)")] = None,
              password_stdin: Annotated[bool, typer.Option("--password-stdin", help="パスワードを標準入力から読む")] = False,
              config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """利用者を追加します (パスワードは argon2id で保存)。"""
    from jobs.store import Store
    from web.accounts import add_user

    cfg = context(config, home)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("パスワード", hide_input=True, confirmation_prompt=True)
    user = add_user(Store(cfg.database_url), username, password, role, section)
    out.print(f"利用者「{user.username}」({user.role}{'・' + user.section if user.section else ''}) を追加しました")
    return ExitCode.ok


def register(app: typer.Typer) -> None:
    app.command("web")(web)
    app.add_typer(users_app, name="users")
