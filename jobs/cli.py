"""Pipeline commands: run, history, doctor, worker, jobs list|history|retry."""
from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kakari.cli import ConfigOpt, HomeOpt, context, err, out, shown
from kakari.config import RunContext
from kakari.errors import ExitCode
from kakari.log import mask_name, short_id


def run(
    job: Annotated[str, typer.Argument(help="ジョブ名 (kakari.toml の [jobs.<名前>])")],
    config: ConfigOpt = None,
    home: HomeOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="詳しいログを表示")] = False,
) -> int:
    """受付フォルダーにある申請書を今すぐ処理して終了します。"""
    from jobs.runner import run_job

    cfg = context(config, home, verbose)
    job_cfg = cfg.job(job)
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


def doctor(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """動作環境を点検し、不足があれば対処方法を表示します。"""
    from jobs.doctor import run_checks

    cfg = context(config, home)
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


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("history")(history)
    app.command("doctor")(doctor)
    app.add_typer(jobs_app, name="jobs")
    app.command("worker")(worker)
