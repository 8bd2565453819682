"""Job commands: run, report, history, jobs, timelog, doctor."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kakari.cli import ConfigOpt, HomeOpt
from kakari.config import KakariConfig, RunContext, load_config
from kakari.errors import ExitCode
from kakari.log import setup_logging

err = Console(stderr=True)
out = Console()


def context(config: Path | None, home: Path | None, verbose: bool = False) -> KakariConfig:
    cfg = load_config(config, home)
    cfg.home.mkdir(parents=True, exist_ok=True)
    setup_logging(cfg.home, "DEBUG" if verbose else "WARNING")
    if cfg.bots_dir:
        from bots import registry

        registry.add_folders(cfg.bots_dir)
    return cfg


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
            out.print(f"[red]エラー[/red] {o.original_name}: {o.reason}")
    return ExitCode.documents_failed if summary.errors else ExitCode.ok


def report(
    month: Annotated[str | None, typer.Option("--month", help="対象月 YYYY-MM (既定: 今月)")] = None,
    fiscal_year: Annotated[int | None, typer.Option("--fiscal-year", help="年度 (2026 = 2026年4月〜2027年3月)")] = None,
    start: Annotated[str | None, typer.Option("--start", help="期間の開始日 YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--end", help="期間の終了日 YYYY-MM-DD (この日を含む)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md | csv | xlsx | html | pdf")] = "md",
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="出力ファイル")] = None,
    file_to: Annotated[Path | None, typer.Option(
        "--file-to", help="月次報告 (xlsx・pdf・csv) をこのフォルダーに保存 ([kpi] report_dir の代わり)")] = None,
    filing: Annotated[bool, typer.Option("--file", help="月次報告を報告フォルダーに保存 (定期実行用)")] = False,
    config: ConfigOpt = None,
    home: HomeOpt = None,
) -> int:
    """削減効果報告 (原課・業務名ごとの導入前/導入後時間、削減時間、削減率、目標との比較)。"""
    from jobs.kpi import period_bounds
    from jobs.report import FORMATS, file_monthly_report, gather, render
    from jobs.tabular import day

    if fmt not in FORMATS:
        raise typer.BadParameter(f"{'・'.join(FORMATS)} のいずれかを指定してください", param_hint="--format")
    if fmt in ("xlsx", "pdf") and out_file is None and not (filing or file_to):
        raise typer.BadParameter(f"{fmt} 形式では出力ファイルを指定してください", param_hint="--out")
    cfg = context(config, home)
    if filing or file_to:
        if fiscal_year is not None or start or end:
            raise typer.BadParameter("報告フォルダーへの保存は --month と組み合わせてください", param_hint="--file")
        written = file_monthly_report(cfg, month or _last_month(), file_to.resolve() if file_to else None)  # CLI paths: from cwd
        for path in written:
            out.print(f"報告を保存しました: {path}")
        return ExitCode.ok
    try:
        s = day(start) if start else None
        e = day(end) if end else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start/--end") from exc
    if month is None and fiscal_year is None and s is None and e is None:
        month = date.today().strftime("%Y-%m")
    period = period_bounds(month=month, fiscal_year=fiscal_year, start=s, end=e)
    data = gather(cfg, period, with_trend=fmt in ("xlsx", "html", "pdf"))
    result = render(data, period, fmt, out_file)
    if out_file is None:
        print(result)
    else:
        out.print(f"報告を書き出しました: {out_file}")
    return ExitCode.ok


def _last_month() -> str:
    """The month a report filed on the 1st is about."""
    first = date.today().replace(day=1)
    prev = date(first.year - 1, 12, 1) if first.month == 1 else date(first.year, first.month - 1, 1)
    return prev.strftime("%Y-%m")


def history(
    doc: Annotated[str, typer.Argument(help="文書ID (先頭数文字で可) またはファイル名")],
    config: ConfigOpt = None,
    home: HomeOpt = None,
) -> int:
    """文書の処理履歴 (受付・読取・判別・登録・保存先) を表示します。"""
    from jobs.store import Store

    cfg = context(config, home)
    rows = Store(cfg.database_url).history(doc_id_prefix=doc if len(doc) >= 6 else None, original_name=doc)
    if not rows:
        err.print(f"「{doc}」の履歴は見つかりません")
        return ExitCode.bad_args
    for r in rows:
        ts = r["ts"].astimezone().strftime("%Y-%m-%d %H:%M:%S") if r["ts"].tzinfo else str(r["ts"])
        out.print(f"{ts}  {r['doc_id'][:12]}  {r['job'] or '-'}  {r['event']:<16} {r['detail'] or ''}")
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
    cfg = context(config, home)
    for name, job in cfg.jobs.items():
        folders = job.folders(cfg.home)
        out.print(f"{name}: 原課={job.department or '-'} 様式={','.join(job.bots)} 受付={folders['inbox']}")
    return ExitCode.ok


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


timelog_app = typer.Typer(help="削減時間の記録", no_args_is_help=True)


@timelog_app.command("list")
def timelog_list(month: Annotated[str | None, typer.Option("--month", help="対象月 YYYY-MM")] = None,
                 config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """記録された作業時間を表示します (個人情報は含みません)。"""
    from jobs.kpi import period_bounds
    from jobs.store import Store
    from jobs.timelog import TimeLog

    cfg = context(config, home)
    period = period_bounds(month=month) if month else None
    frame = TimeLog(Store(cfg.database_url)).frame(period.start if period else None, period.end if period else None)
    print(frame.to_string(index=False) if not frame.empty else "記録はありません")
    return ExitCode.ok


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("report")(report)
    app.command("history")(history)
    app.command("doctor")(doctor)
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(timelog_app, name="timelog")
