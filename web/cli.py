"""`kakari web` (the review screen and dashboard) and `kakari users add | list | disable | enable |
reset-password | set-section`."""
from __future__ import annotations

import sys
from typing import Annotated

import typer

from kakari.cli import ConfigOpt, HomeOpt, context, err, out, shown
from kakari.config import KakariConfig
from kakari.errors import ExitCode

users_app = typer.Typer(help="Web 画面の利用者", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="利用者名")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="パスワードを標準入力から読む (1行)")]


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
    # server_header off: the response does not advertise which server software answers
    uvicorn.run(create_app(cfg, https_only=https_only), host=host, port=port, log_level="warning",
                server_header=False)
    return ExitCode.ok


def _store(cfg: KakariConfig):  # noqa: ANN202 - jobs.store.Store, imported late like the other commands do
    from jobs.store import Store

    return Store(cfg.database_url)


def _password(password_stdin: bool) -> str | None:
    """The new password from stdin (one line) or typed twice at a terminal; None if none came."""
    if password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        return line or None
    if not sys.stdin.isatty():
        return None
    return typer.prompt("パスワード", hide_input=True, confirmation_prompt=True)  # Ctrl-D: 中断しました


def _no_password() -> int:
    err.print("エラー: パスワードが入力されませんでした。端末で実行して入力するか、"
              "--password-stdin を付けて標準入力から 1 行で渡してください")
    return ExitCode.bad_args


@users_app.command("add")
def users_add(username: NameArg,
              role: Annotated[str, typer.Option("--role", help="clerk (担当職員) | manager (管理職) | admin")] = "clerk",
              section: Annotated[str | None, typer.Option("--section", help="原課 (担当職員は必須。設定のジョブの原課)")] = None,
              password_stdin: PasswordStdin = False,
              config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """利用者を追加します (パスワードは argon2id で保存)。"""
    from web.accounts import add_user, normalise_username, sections_of

    cfg = context(config, home)
    normalise_username(username)  # a blank name is refused before a password is asked for
    password = _password(password_stdin)
    if password is None:
        return _no_password()
    user = add_user(_store(cfg), username, password, role, section, sections=sections_of(cfg))
    section = "・" + shown(user.section) if user.section else ""
    out.print(f"利用者「{shown(user.username)}」({user.role}{section}) を追加しました")
    return ExitCode.ok


@users_app.command("list")
def users_list(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """利用者の一覧 (役割・原課・状態)。"""
    from web import throttle
    from web.accounts import ROLE_NAMES, list_accounts

    cfg = context(config, home)
    store = _store(cfg)
    locked = throttle.locked_accounts(store)
    accounts = list_accounts(store)
    if not accounts:
        err.print("利用者はまだいません (kakari users add)")
        return ExitCode.ok
    for a in accounts:
        state = "無効" if a.disabled else "有効"
        if a.username in locked:
            state += f" (ロック中 {locked[a.username].astimezone():%H:%M} まで)"
        role = ROLE_NAMES.get(a.role, a.role)
        out.print(f"{shown(a.username)}\t{role}\t{shown(a.section or '-')}\t{state}")
    return ExitCode.ok


@users_app.command("disable")
def users_disable(username: NameArg, config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """利用者を無効にし、ログイン中のセッションをすべて終了します。"""
    from web import sessions
    from web.accounts import set_disabled

    store = _store(context(config, home))
    name = set_disabled(store, username, True)
    ended = sessions.end_all(store, name)
    out.print(f"利用者「{shown(name)}」を無効にしました" + (f" (ログイン中のセッション {ended}件を終了)" if ended else ""))
    return ExitCode.ok


@users_app.command("enable")
def users_enable(username: NameArg, config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """無効にした利用者を有効に戻します (ログインの一時停止も解除)。"""
    from web import throttle
    from web.accounts import set_disabled

    store = _store(context(config, home))
    name = set_disabled(store, username, False)
    throttle.clear(store, name)
    out.print(f"利用者「{shown(name)}」を有効にしました")
    return ExitCode.ok


@users_app.command("reset-password")
def users_reset_password(username: NameArg, password_stdin: PasswordStdin = False,
                         config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """パスワードを設定し直します (ログイン中のセッションは終了、ログインの一時停止も解除)。"""
    from web import sessions, throttle
    from web.accounts import normalise_username, set_password

    store = _store(context(config, home))
    normalise_username(username)
    password = _password(password_stdin)
    if password is None:
        return _no_password()
    name = set_password(store, username, password)
    sessions.end_all(store, name)
    throttle.clear(store, name)
    out.print(f"利用者「{shown(name)}」のパスワードを設定し直しました")
    return ExitCode.ok


@users_app.command("set-section")
def users_set_section(username: NameArg,
                      section: Annotated[str, typer.Argument(help="原課 (設定のジョブの原課)")],
                      config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """担当職員の原課を変えます。"""
    from web.accounts import sections_of, set_section

    cfg = context(config, home)
    name, spelled = set_section(_store(cfg), username, section, sections=sections_of(cfg))
    out.print(f"利用者「{shown(name)}」の原課を「{shown(spelled)}」にしました")
    return ExitCode.ok


def register(app: typer.Typer) -> None:
    app.command("web")(web)
    app.add_typer(users_app, name="users")

