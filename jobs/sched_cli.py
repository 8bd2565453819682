"""`kakari scheduler`, `kakari jobs status`, `kakari jobs retry RUN_ID`."""
from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from jobs.cli import context, err, jobs_app, out
from kakari.cli import ConfigOpt, HomeOpt
from kakari.errors import ExitCode


def scheduler(config: ConfigOpt = None, home: HomeOpt = None,
              verbose: Annotated[bool, typer.Option("--verbose", "-v", help="詳しいログを表示")] = False) -> int:
    """予定 (schedule) のあるジョブと月次報告を、決まった時刻に実行し続けます (Ctrl-C で終了)。"""
    from jobs.scheduler import Scheduler

    cfg = context(config, home, verbose)
    sched = Scheduler(cfg)
    if not sched.entries:
        err.print("予定のあるジョブがありません ([jobs.<名前>] schedule = \"0 2 * * 1-5\" や [kpi] report_schedule)")
        return ExitCode.config
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        err.print("終了します (実行中のジョブを終えてから止まります)")
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for e in sched.entries:
        nxt = sched.next_fire(e)
        out.print(f"{e.name}: {e.cron} (次回 {nxt:%Y-%m-%d %H:%M})" if nxt else f"{e.name}: {e.cron}")
    sched.run_forever(stop)
    out.print("スケジューラーを終了しました")
    return ExitCode.ok


@jobs_app.command("status")
def jobs_status(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """ジョブごとの起動方法・次回予定・前回の結果・保留中の台帳書き込み。"""
    from jobs.scheduler import REPORT_ENTRY, entries_from_config, Scheduler
    from jobs.store import Store

    cfg = context(config, home)
    store = Store(cfg.database_url)
    sched = Scheduler(cfg)
    entries = {e.name: e for e in entries_from_config(cfg)}
    names = list(cfg.jobs) + ([REPORT_ENTRY] if REPORT_ENTRY in entries else [])
    for name in names:
        e = entries.get(name)
        trigger = f"予定 {e.cron}" if e else "手動 / 監視"
        nxt = sched.next_fire(e) if e else None
        last = (store.runs_for(name, limit=1) or [None])[0]
        last_text = (f"前回 {last['started']:%m/%d %H:%M} {last['status']}" if last else "前回 なし")
        pending = store.pending_count(name) if name in cfg.jobs else 0
        out.print(f"{name}: {trigger}" + (f" 次回 {nxt:%Y-%m-%d %H:%M}" if nxt else "") + f" / {last_text}"
                  + (f" / 保留中の書き込み {pending}件" if pending else ""))
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
    app.command("scheduler")(scheduler)
    app.command("worker")(worker)
