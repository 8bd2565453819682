"""`kakari systems …`: the web back-office systems a job can type into — list, check a mapping, try it on
one sample record without registering (test), and draft a mapping by recording a person (record)."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kakari.cli import ConfigOpt, HomeOpt, context, out
from kakari.errors import ConfigError, ExitCode
from kakari.model import Record

app = typer.Typer(no_args_is_help=True)
SampleOpt = Annotated[Path | None, typer.Option(
    "--sample", help="試験用の申請: 記入済みの文書 (PDF・画像) か、項目の値の JSON ({\"fields\": {…}})")]
BotOpt = Annotated[str | None, typer.Option("--bot", help="申請を読むボット (既定: 連携設定の bots の先頭)")]


@app.command("list")
def list_systems(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """連携先システムの一覧 (組み込みと <home>/systems の町のもの)。"""
    from connectors.webmapping import SYSTEMS_DIR, load_system

    cfg = context(config, home)
    names = sorted({p.stem for p in SYSTEMS_DIR.glob("*.toml")} | {p.stem for p in (cfg.home / "systems").glob("*.toml")})
    for name in names:
        try:
            system = load_system(name, cfg.home)
        except ConfigError as e:
            out.print(f"[red]{name}[/red]: 設定に誤りがあります ({e.message.splitlines()[0]})")
            continue
        warn = f" [yellow]注意 {len(system.warnings())}件[/yellow]" if system.warnings() else ""
        out.print(f"{name:<14} {system.title}  様式={','.join(system.bots) or '(すべて)'}  {system.url}{warn}")
    return ExitCode.ok


@app.command("check")
def check(name: Annotated[str, typer.Argument(help="連携先システム名 (systems/<名前>.toml)")],
          config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """連携設定を読み込み、誤り (ボットにない項目・TODO) と注意 (二重登録防止の前提) を表示します。"""
    from connectors.webmapping import load_system
    from jobs.websteps import mapping_problems

    cfg = context(config, home)
    system = load_system(name, cfg.home)
    problems = mapping_problems(system)
    for warning in system.warnings():
        out.print(f"[yellow]注意[/yellow] {warning}")
    for problem in problems:
        out.print(f"[red]NG[/red]   {problem}")
    pages = "・".join(p.name for p in system.pages)
    out.print(f"{system.title}: 入力画面 {len(system.pages)} ({pages})、入力欄 "
              f"{sum(len(p.fields) for p in system.pages)}、検索 {'あり' if system.search else 'なし'}")
    return ExitCode.config if problems else ExitCode.ok


@app.command("test")
def test(name: Annotated[str, typer.Argument(help="連携先システム名")], sample: SampleOpt = None,
         bot: BotOpt = None, config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """試験用の申請 1件を、登録ボタンの手前まで入力して、何をどこに入力するかを表示します (登録はしません)。"""
    from sqlalchemy import create_engine

    from connectors.webform import WebFormSink
    from connectors.webmapping import load_system
    from connectors.webstate import WebState, web_submissions

    cfg = context(config, home)
    system = load_system(name, cfg.home)
    rec = _sample(system.bots, sample, bot, cfg)
    for warning in system.warnings():
        out.print(f"[yellow]注意[/yellow] {warning}")
    scratch = create_engine("sqlite://")  # a dry run's state is thrown away: no migrated database needed
    web_submissions.create(scratch)
    sink = WebFormSink(system, WebState(scratch), cfg.home, "systems-test",
                       browser_path=cfg.browser, headless=os.environ.get("KAKARI_WEB_HEADED") != "1")
    report = sink.dry_run(rec)
    if report.found:
        out.print(f"この申請は {system.title} に登録済みです (受付番号 {report.found})。入力はしていません。")
        return ExitCode.ok
    typed = Table("画面", "項目", "要素", "入力する値")
    for page, label, element, value in report.typed:
        typed.add_row(page, label, element, value)
    out.print(typed)
    if report.refused:
        out.print(f"[red]システムが受け付けませんでした[/red]: {report.refused} (画面: {cfg.home / 'web_failures'})")
        return ExitCode.documents_failed
    out.print(f"画面「{report.stopped_at}」の登録ボタンの手前で止めました。何も登録していません。")
    return ExitCode.ok


def _sample(bots: list[str], sample: Path | None, bot: str | None, cfg: Any) -> Record:
    from bots import registry
    from bots.harness import sample_record

    if sample is None:
        raise typer.BadParameter("試験用の申請 (--sample 文書 または JSON) を指定してください", param_hint="--sample")
    name = bot or (bots[0] if bots else None)
    if name is None:
        raise typer.BadParameter("申請を読むボットを指定してください", param_hint="--bot")
    return sample_record(registry.get(name), sample, cfg)


@app.command("record")
def record_cmd(
    name: Annotated[str, typer.Argument(help="連携先システム名 (書き出す systems/<名前>.toml)")],
    url: Annotated[str, typer.Option("--url", help="最初に開く画面 (ログイン画面) の URL")],
    sample: SampleOpt = None, bot: BotOpt = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="書き出す先 (既定: <home>/systems/<名前>.toml)")] = None,
    force: Annotated[bool, typer.Option("--force", help="既にある設定を上書き")] = False,
    cdp_port: Annotated[int | None, typer.Option("--cdp-port", hidden=True, envvar="KAKARI_RECORD_CDP_PORT")] = None,
    config: ConfigOpt = None, home: HomeOpt = None,
) -> int:
    """ブラウザーで 1件入力する操作を記録し、連携設定の下書き (TOML) を作ります。"""
    from connectors.browser import find_browser
    from connectors.webmapping import make_key, parse_system
    from connectors.webrecord import draft, record

    cfg = context(config, home)
    target = out_file or cfg.home / "systems" / f"{name}.toml"
    if target.exists() and not force:
        raise ConfigError(f"{target} は既にあります (上書きするときは --force)")
    if bot is None and sample is not None:
        from bots.harness import sample_form

        bot = sample_form(sample)
    rec = _sample([], sample, bot, cfg) if sample is not None else None
    key = make_key(rec.doc_id) if rec is not None else ""
    choice = find_browser(cfg.browser)
    out.print(f"ブラウザー {choice.describe()} で {url} を開きます。次の順に操作してください:")
    out.print("  1. ログインする  2. メニューから入力画面を開く  3. 試験用の申請を1件入力して登録する")
    if key:
        out.print(f"     他のシステムの番号を入れられる欄 (整理番号・外部連携番号・備考など) には [bold]{key}[/bold] を入力")
        out.print(f"  4. 検索画面で [bold]{key}[/bold] を検索する")
    out.print("  最後にブラウザーのウィンドウを閉じると、下書きを書き出します (Ctrl-C でも終了します)。")

    def ready() -> None:
        out.print("記録を始めました", highlight=False)

    t0 = time.monotonic()
    recording = record(url, choice, key=key, cdp_port=cdp_port, on_ready=ready)
    result = draft(recording, name, url, rec, key, bots=[bot] if bot else [])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(result.text, encoding="utf-8")
    out.print(f"下書きを書き出しました: {target} ({len(recording.visits)}画面、{time.monotonic() - t0:.0f}秒)")
    for note in result.notes:
        out.print(f"[yellow]注意[/yellow] {note}")
    try:
        parse_system(result.text, name, str(target))
    except ConfigError as e:
        out.print(f"[red]下書きをそのままでは読み込めません[/red]:\n{e.message}")
        return ExitCode.config
    if result.todo:
        out.print(f"TODO が {result.todo}か所あります。直したら kakari systems check {name} で確かめてください。")
    return ExitCode.ok


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="systems", help="業務システムへの入力 (Web): 一覧・点検・試験入力・操作の記録")
