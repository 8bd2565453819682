"""`kakari watch`, `kakari scheduler`, `kakari jobs status`."""
from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from jobs.cli import jobs_app
from kakari.cli import ConfigOpt, HomeOpt, context, err, out, shown
from kakari.errors import ExitCode
from kakari.log import mask_name, short_id
from kakari.stop import on_stop


def watch(
    jobs: Annotated[list[str] | None, typer.Argument(help="ジョブ名 (省略時は設定のすべてのジョブ)")] = None,
    rescan: Annotated[float, typer.Option("--rescan", help="取りこぼし防止の再確認の間隔 (秒)")] = 10.0,
    settle: Annotated[float, typer.Option("--settle", help="書き込み中のファイルを待つ時間 (秒)")] = 1.0,
    config: ConfigOpt = None,
    home: HomeOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="詳しいログを表示")] = False,
) -> int:
    """受付フォルダーを監視し、届いた申請書をその都度処理します (Ctrl-C で終了)。"""
    from schedule.watch import Watcher

    cfg = context(config, home, verbose)
    names = jobs or list(cfg.jobs)
    if not names:
        raise typer.BadParameter("設定にジョブがありません", param_hint="JOB")

    def report(summary) -> None:  # noqa: ANN001 - RunSummary
        c = summary.counts
        out.print(f"{summary.job}: {c['read']}件 — 自動登録 {c['自動登録']} / 要確認 {c['要確認']} / エラー {c['エラー']}")
        for o in summary.outcomes:
            if o.status.value == "エラー":
                name = shown(mask_name(o.original_name))
                out.print(f"[red]エラー[/red] {name} ({short_id(o.doc_id)}): {shown(o.reason)}")

    watcher = Watcher(cfg, names, rescan_seconds=rescan, min_age=settle, on_run=report)
    presses = 0

    def stopping(signum: int) -> None:
        nonlocal presses
        presses += 1
        if presses > 1 and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now; the document in hand is recovered next time
        err.print("終了します (処理中の文書を終えてから止まります)")
        watcher.request_stop()

    on_stop(stopping)  # Ctrl-C, SIGTERM, and on Windows Ctrl-Break / a service stop
    out.print(f"監視を開始しました: {'・'.join(names)} (Ctrl-C で終了)")
    watcher.run()
    out.print("監視を終了しました")
    return ExitCode.ok


def scheduler(config: ConfigOpt = None, home: HomeOpt = None,
              verbose: Annotated[bool, typer.Option("--verbose", "-v", help="詳しいログを表示")] = False) -> int:
    """予定 (schedule) のあるジョブと月次報告を、決まった時刻に実行し続けます (Ctrl-C で終了)。"""
    from schedule.scheduler import Scheduler

    cfg = context(config, home, verbose)
    sched = Scheduler(cfg)
    if not sched.entries:
        err.print("予定のあるジョブがありません ([jobs.<名前>] schedule = \"0 2 * * 1-5\" や [kpi] report_schedule)")
        return ExitCode.config
    stop = threading.Event()

    def stopping(signum: int) -> None:
        err.print("終了します (実行中のジョブを終えてから止まります)")
        stop.set()

    on_stop(stopping)  # Ctrl-C, SIGTERM, and on Windows Ctrl-Break / a service stop
    for e in sched.entries:
        nxt = sched.next_fire(e)
        out.print(f"{e.name}: {e.cron} (次回 {nxt:%Y-%m-%d %H:%M})" if nxt else f"{e.name}: {e.cron}")
    sched.run_forever(stop)
    out.print("スケジューラーを終了しました")
    return ExitCode.ok


@jobs_app.command("status")
def jobs_status(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """ジョブごとの起動方法・次回予定・前回の結果・保留中の台帳書き込み・業務システムが受け付けなかった申請。"""
    from jobs.store import Store
    from jobs.websteps import web_rejections
    from schedule.scheduler import REPORT_ENTRY, Scheduler, entries_from_config

    cfg = context(config, home)
    store = Store(cfg.database_url)
    sched = Scheduler(cfg)
    entries = {e.name: e for e in entries_from_config(cfg)}
    names = list(cfg.jobs) + ([REPORT_ENTRY] if REPORT_ENTRY in entries else [])
    for name in names:
        e = entries.get(name)
        trigger = f"予定 {e.cron}" if e else "手動 / 監視"
        nxt = sched.next_fire(e) if e else None
        last = next(iter(store.runs_for(name, limit=1)), None)
        last_text = (f"前回 {last['started']:%m/%d %H:%M} {last['status']}" if last else "前回 なし")
        pending = store.pending_count(name) if name in cfg.jobs else 0
        refused = web_rejections(cfg.jobs[name], cfg.home, store) if name in cfg.jobs else []
        out.print(f"{name}: {trigger}" + (f" 次回 {nxt:%Y-%m-%d %H:%M}" if nxt else "") + f" / {last_text}"
                  + (f" / 保留中の書き込み {pending}件" if pending else "")
                  + (f" / [red]受付不可 {len(refused)}件[/red]" if refused else ""))
        for line in refused:
            out.print(f"    {line}", markup=False, soft_wrap=True)  # paths stay whole, to be copied
    return ExitCode.ok


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)
    app.command("scheduler")(scheduler)
