"""`kakari watch [JOB…]`: process documents as they arrive, until Ctrl-C or SIGTERM."""
from __future__ import annotations

import signal
from typing import Annotated

import typer

from jobs.cli import context, err, out
from kakari.cli import ConfigOpt, HomeOpt
from kakari.errors import ExitCode


def watch(
    jobs: Annotated[list[str] | None, typer.Argument(help="ジョブ名 (省略時は設定のすべてのジョブ)")] = None,
    rescan: Annotated[float, typer.Option("--rescan", help="取りこぼし防止の再確認の間隔 (秒)")] = 10.0,
    settle: Annotated[float, typer.Option("--settle", help="書き込み中のファイルを待つ時間 (秒)")] = 1.0,
    config: ConfigOpt = None,
    home: HomeOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="詳しいログを表示")] = False,
) -> int:
    """受付フォルダーを監視し、届いた申請書をその都度処理します (Ctrl-C で終了)。"""
    from jobs.watch import Watcher

    cfg = context(config, home, verbose)
    names = jobs or list(cfg.jobs)
    if not names:
        raise typer.BadParameter("設定にジョブがありません", param_hint="JOB")

    def report(summary) -> None:  # noqa: ANN001 - RunSummary
        c = summary.counts
        out.print(f"{summary.job}: {c['read']}件 — 自動登録 {c['自動登録']} / 要確認 {c['要確認']} / エラー {c['エラー']}")
        for o in summary.outcomes:
            if o.status.value == "エラー":
                out.print(f"[red]エラー[/red] {o.original_name}: {o.reason}")

    watcher = Watcher(cfg, names, rescan_seconds=rescan, min_age=settle, on_run=report)
    presses = 0

    def on_signal(signum: int, frame: object) -> None:
        nonlocal presses
        presses += 1
        if presses > 1 and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now; the document in hand is recovered next time
        err.print("終了します (処理中の文書を終えてから止まります)")
        watcher.request_stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    out.print(f"監視を開始しました: {'・'.join(names)} (Ctrl-C で終了)")
    watcher.run()
    out.print("監視を終了しました")
    return ExitCode.ok


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)
