"""Pipeline commands: run, history, doctor, worker, jobs list|history|retry; setup, db, backup, restore."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kakari.cli import ConfigOpt, HomeOpt, context, err, out, shown
from kakari.config import RunContext, find_config_path, find_home
from kakari.errors import ExitCode, KakariError
from kakari.log import mask_name, short_id


def run(
    job: Annotated[str, typer.Argument(help="ジョブ名 (kakari.toml の [jobs.<名前>])")],
    config: ConfigOpt = None,
    home: HomeOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="詳しいログを表示")] = False,
) -> int:
    """受付フォルダーにある申請書を今すぐ処理して終了します。"""
    from jobs.reading import start_forkserver

    cfg = context(config, home, verbose)
    job_cfg = cfg.job(job)
    if cfg.executor != "celery":
        start_forkserver(cfg)
    from jobs.runner import run_job

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=False) as bar:
        task = bar.add_task(f"{job} 処理中", total=None)
        summary = run_job(job_cfg, RunContext(cfg), progress=lambda o: bar.advance(task),
                          on_total=lambda n: bar.update(task, total=n))
    if summary.queued:
        out.print(f"ジョブ {job}: {summary.queued}件をワーカー (kakari worker) のキューに入れました")
    c = summary.counts
    out.print(f"ジョブ {job}: {c['read']}件を処理しました — 自動登録 {c['自動登録']}件 / 要確認 {c['要確認']}件 / "
              f"エラー {c['エラー']}件 ({summary.seconds:.1f}秒)")
    out.print(f"台帳: {job_cfg.ledger_path(cfg.home)} (書き込み {summary.flush.written}件)")
    if summary.pending:
        out.print(f"[yellow]保留中の書き込み {summary.pending}件: 台帳が開かれている可能性があります。閉じてから再実行してください。[/yellow]")
    for o in summary.outcomes:
        if o.status.value == "エラー":
            name = shown(mask_name(o.original_name))
            out.print(f"[red]エラー[/red] {name} ({short_id(o.doc_id)}): {shown(o.reason)}")
    if summary.flush.rejected:
        names = {o.doc_id: shown(mask_name(o.original_name)) for o in summary.outcomes}
        out.print(f"[red]システムが受け付けなかった申請 {len(summary.flush.rejected)}件[/red] (担当者の確認が必要です)")
        for r in summary.flush.rejected:
            where = f" 画面: {shown(r.snapshot)}" if r.snapshot else ""
            name = f"{names[r.doc_id]} " if r.doc_id in names else ""
            out.print(f"[red]受付不可[/red] {name}({short_id(r.doc_id)}): {shown(r.reason)}{where}", soft_wrap=True)
    return ExitCode.documents_failed if summary.failed else ExitCode.ok


def history(
    doc: Annotated[str, typer.Argument(help="文書ID (先頭数文字で可) またはファイル名")],
    config: ConfigOpt = None,
    home: HomeOpt = None,
) -> int:
    """文書の処理履歴 (受付・読取・判別・登録・保存先) を表示します。"""
    from connectors.folder import display_name
    from jobs.events import event_name, tokyo_time
    from jobs.store import Store

    cfg = context(config, home)
    doc = display_name(doc)  # a name typed as bytes the terminal could not decode is looked up as stored
    rows = Store(cfg.database_url).history(doc_id_prefix=doc if len(doc) >= 6 else None, original_name=doc)
    if not rows:
        err.print(f"「{shown(mask_name(doc))}」の履歴は見つかりません")
        return ExitCode.bad_args
    for r in rows:
        job = shown(r["job"] or "-")
        out.print(f"{tokyo_time(r['ts'])}  {short_id(r['doc_id'])}  {job}  {event_name(r['event'])}  "
                  f"{shown(r['detail'] or '')}")
    return ExitCode.ok


def doctor(config: ConfigOpt = None, home: HomeOpt = None,
           trust: Annotated[bool, typer.Option("--trust", help="OCR の自動登録の基準 (項目の種類ごとの閾値と校正に使った資料) を表示")]
           = False) -> int:
    """動作環境を点検し、不足があれば対処方法を表示します。"""
    cfg = context(config, home)
    if trust:
        from ocr import trust as policy

        out.print("OCR の自動登録の基準 (項目の種類ごと。never = 自動登録せず要確認):", markup=False)
        out.print(policy.load().table(), markup=False, highlight=False, soft_wrap=True)
        return ExitCode.ok
    return _print_checks(cfg)


def _print_checks(cfg) -> int:  # noqa: ANN001 - KakariConfig
    from jobs.doctor import run_checks

    ok = True
    for check in run_checks(cfg):
        mark = "[green]OK[/green]  " if check.ok else ("[yellow]注意[/yellow]" if check.optional else "[red]NG[/red]  ")
        out.print(f"{mark} {check.name}: {check.detail}")
        if not check.ok and check.fix:
            out.print(f"      対処: {check.fix}")
        ok = ok and (check.ok or check.optional)
    return ExitCode.ok if ok else ExitCode.missing_dependency


jobs_app = typer.Typer(help="ジョブの一覧・実行履歴", no_args_is_help=True)


@jobs_app.command("list")
def jobs_list(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """設定されたジョブの一覧。"""
    from jobs.doctor import unknown_bots

    cfg = context(config, home)
    for name, job in cfg.jobs.items():
        folders = job.folders(cfg.home)
        title = f" 「{job.title}」" if job.title else ""
        out.print(f"{name}{title}: 原課={job.department or '-'} 様式={','.join(job.bots)} 受付={folders['inbox']}",
                  markup=False, highlight=False)
    problems = unknown_bots(cfg)
    for p in problems:
        err.print(f"エラー: {p}", markup=False, highlight=False)
    return ExitCode.config if problems else ExitCode.ok


@jobs_app.command("history")
def jobs_history(job: Annotated[str | None, typer.Argument(help="ジョブ名")] = None, config: ConfigOpt = None,
                 home: HomeOpt = None) -> int:
    """実行履歴 (開始・終了・状態・件数)。"""
    from jobs.store import Store

    cfg = context(config, home)
    for r in Store(cfg.database_url).runs_for(job):
        c = r["counts"] or {}
        out.print(f"{r['run_id']}  {r['job']}  {r['status']:<8} 件数 {c.get('read', 0)} (自動登録 {c.get('自動登録', 0)}"
                  f" / 要確認 {c.get('要確認', 0)} / エラー {c.get('エラー', 0)})  {r['robot_seconds'] or 0:.1f}秒")
    return ExitCode.ok


@jobs_app.command("retry")
def jobs_retry(run_id: Annotated[str, typer.Argument(help="実行ID (kakari jobs history)")],
               config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """その実行でエラーになった文書だけを、もう一度処理します。"""
    from jobs.retry import requeue_failed
    from jobs.runner import run_job
    from kakari.config import RunContext

    cfg = context(config, home)
    job, moved = requeue_failed(cfg, run_id)
    if not moved:
        out.print(f"実行 {run_id} に再実行できるエラーの文書はありません")
        return ExitCode.ok
    inbox = cfg.job(job).folders(cfg.home)["inbox"]
    s = run_job(cfg.job(job), RunContext(cfg), trigger=f"retry:{run_id}", paths=[inbox / n for n in moved])
    c = s.counts
    out.print(f"{len(moved)}件を再実行しました — 自動登録 {c['自動登録']} / 要確認 {c['要確認']} / エラー {c['エラー']}")
    return ExitCode.documents_failed if s.errors else ExitCode.ok


def worker(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="同時に処理する文書の数 (0 = コア数)")] = 0,
    config: ConfigOpt = None, home: HomeOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="詳しいログを表示")] = False,
) -> int:
    """Celery ワーカーを起動し、キューに入った文書を処理します (executor = "celery" のとき)。"""
    import os

    from jobs.celery_app import app as celery_app

    cfg = context(config, home, verbose)
    celery_app.conf.broker_url = cfg.broker
    n = concurrency or cfg.pool_size
    # solo for one at a time: a killed worker is exactly the process that held the document
    pool = "solo" if n == 1 else "prefork"
    out.print(f"ワーカーを起動します: {cfg.broker} (同時 {n}件)")
    celery_app.worker_main(["worker", f"--loglevel={'INFO' if verbose else 'WARNING'}", f"--pool={pool}",
                            f"--concurrency={n}", f"--hostname=kakari-{os.getpid()}@%h", "--without-gossip",
                            "--without-mingle", "--without-heartbeat"])
    return ExitCode.ok


def setup(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """作業フォルダー・データベース・設定ファイルの例を作り、動作環境を点検します (make なしで使えます)。"""
    from jobs.setup import make_home, write_example
    from jobs.store import Store

    home_dir = find_home(home)
    path = find_config_path(config) or home_dir / "kakari.toml"
    if write_example(path, home_dir):
        out.print(f"設定ファイルの例を作成しました: {path} (ジョブ名・原課を町の名前に直してください)")
    else:
        out.print(f"設定ファイル: {path} (既存のものを使います)")
    cfg = context(path, home_dir)
    for folder in make_home(cfg):
        out.print(f"フォルダーを作成しました: {folder}")
    Store(cfg.database_url)  # the database at the newest schema
    out.print(f"データベース: {cfg.database_url.split('@')[-1]}")
    code = _print_checks(cfg)
    if code == ExitCode.ok:
        jobs = "、".join(cfg.jobs) or "(なし)"
        out.print(f"準備ができました。ジョブ: {jobs}。受付フォルダーに申請書を入れて "
                  f"kakari run <ジョブ名> --config {path} --home {home_dir} を実行してください")
    return code


db_app = typer.Typer(help="データベースのスキーマ (更新・確認)", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """データベースを最新のスキーマに更新します (SQLite は更新前の写しを backups/ に残します)。"""
    from jobs.migrate import upgrade
    from jobs.store import engine_for

    cfg = context(config, home)
    was, now_at = upgrade(engine_for(cfg.database_url))
    if was == now_at:
        out.print(f"データベースは最新です (スキーマ {now_at})")
    else:
        out.print(f"データベースを更新しました: {was or '0.1.0 (移行前)'} → {now_at}")
    return ExitCode.ok


@db_app.command("status")
def db_status(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """データベースのスキーマと、このバージョンの kakari の最新スキーマを表示します。"""
    from jobs.migrate import current, head
    from jobs.store import engine_for

    cfg = context(config, home)
    with engine_for(cfg.database_url).connect() as conn:
        at = current(conn)
    out.print(f"スキーマ {at or '(未作成または 0.1.0)'} / 最新 {head()}" + ("" if at == head() else " — kakari db upgrade"))
    return ExitCode.ok


def backup(
    to: Annotated[Path | None, typer.Option("--out", "-o", help="写しの保存先 (既定 <home>/backups/kakari-日時.db)")] = None,
    config: ConfigOpt = None, home: HomeOpt = None,
) -> int:
    """データベースの一貫した写しを作ります (処理中でも可。SQLite はオンラインバックアップ、PostgreSQL は pg_dump)。"""
    from datetime import datetime

    from jobs.backup import backup as make_backup

    cfg = context(config, home)
    url = cfg.database_url
    suffix = ".db" if url.startswith("sqlite") else ".dump"
    dest = to or cfg.home / "backups" / f"kakari-{datetime.now():%Y%m%d-%H%M%S}{suffix}"
    make_backup(url, dest, cfg.system.pg_bin)
    out.print(f"データベースの写しを作成しました: {dest}")
    return ExitCode.ok


def restore(
    src: Annotated[Path, typer.Argument(help="kakari backup で作った写し")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="確認せずに戻す")] = False,
    config: ConfigOpt = None, home: HomeOpt = None,
) -> int:
    """写しからデータベースを戻します。今のデータベースは戻す前に backups/ に写しを残します。
    監視 (watch)・スケジューラー・web を止めてから実行してください。"""
    from datetime import datetime

    from jobs.backup import backup as make_backup, restore as put_back
    from jobs.migrate import upgrade
    from jobs.store import dispose, engine_for

    cfg = context(config, home)
    url = cfg.database_url
    if not src.is_file():
        err.print(f"写し {src} がありません")
        return ExitCode.bad_args
    if not yes and not typer.confirm(f"データベースを {src.name} の内容に戻します。よろしいですか", default=False):
        return ExitCode.ok
    suffix = ".db" if url.startswith("sqlite") else ".dump"
    kept = cfg.home / "backups" / f"kakari-{datetime.now():%Y%m%d-%H%M%S}-before-restore{suffix}"
    try:
        make_backup(url, kept, cfg.system.pg_bin)
        out.print(f"今のデータベースの写し: {kept}")
    except KakariError:
        pass  # nothing to keep yet (a new home)
    dispose(url)
    put_back(url, src, cfg.system.pg_bin)
    dispose(url)
    upgrade(engine_for(url))  # a copy of an older release is brought to this release's schema
    out.print(f"データベースを戻しました: {src}")
    return ExitCode.ok


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("history")(history)
    app.command("doctor")(doctor)
    app.add_typer(jobs_app, name="jobs")
    app.command("worker")(worker)
    app.command("setup")(setup)
    app.add_typer(db_app, name="db")
    app.command("backup")(backup)
    app.command("restore")(restore)
