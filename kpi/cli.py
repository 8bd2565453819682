"""KPI commands: the report, measured baselines (`kakari baseline …`) and the time log (`kakari timelog list|import`)."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from kakari.cli import ConfigOpt, HomeOpt, context, err, out
from kakari.errors import ExitCode

timelog_app = typer.Typer(help="削減時間の記録", no_args_is_help=True)


@timelog_app.command("list")
def timelog_list(month: Annotated[str | None, typer.Option("--month", help="対象月 YYYY-MM")] = None,
                 config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """記録された作業時間を表示します (個人情報は含みません)。"""
    from jobs.store import Store
    from jobs.timelog import TimeLog
    from kpi.metrics import period_bounds

    cfg = context(config, home)
    period = period_bounds(month=month) if month else None
    frame = TimeLog(Store(cfg.database_url)).frame(period.start if period else None, period.end if period else None)
    print(frame.to_string(index=False) if not frame.empty else "記録はありません")
    return ExitCode.ok


baseline_app = typer.Typer(help="導入前の作業時間 (業務量調査の実測値)", no_args_is_help=True)


@baseline_app.command("record")
def baseline_record(
    department: Annotated[str, typer.Option("--department", "--原課", help="原課")],
    task: Annotated[str, typer.Option("--task", "--業務名", help="業務名")],
    minutes: Annotated[list[float], typer.Argument(help="1件ごとの実測時間 (分)。複数指定可")],
    observed_on: Annotated[str | None, typer.Option("--date", help="測定日 YYYY-MM-DD")] = None,
    note: Annotated[str, typer.Option("--note", help="備考 (測定者・条件など)")] = "",
    config: ConfigOpt = None,
    home: HomeOpt = None,
) -> int:
    """手作業の実測時間 (1件あたりの分) を記録します。報告ではその中央値を導入前時間に使います。"""
    from connectors.tabular import day
    from jobs.store import Store
    from kpi import baseline

    cfg = context(config, home)
    try:
        when = day(observed_on, "測定日") if observed_on else None
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--date") from e
    store = Store(cfg.database_url)
    new = baseline.record(store, department.strip(), task.strip(), minutes, when, note)
    b = baseline.medians(store)[(department.strip(), task.strip())]
    out.print(f"{new}件の実測値を記録しました。{department} {task}: 中央値 {b.median:.1f}分 (n={b.observations})")
    return ExitCode.ok


@baseline_app.command("import")
def baseline_import(
    file: Annotated[Path, typer.Argument(help="CSV または xlsx (原課,業務名,分[,日付,備考])")],
    config: ConfigOpt = None,
    home: HomeOpt = None,
) -> int:
    """業務量調査の表を取り込みます (1行でも誤りがあれば何も取り込みません)。"""
    from jobs.store import Store
    from kpi import baseline

    cfg = context(config, home)
    new, existing = baseline.import_file(Store(cfg.database_url), file)
    out.print(f"{file.name}: {new}件を取り込みました" + (f" (取り込み済み {existing}件は除外)" if existing else ""))
    return ExitCode.ok


@baseline_app.command("list")
def baseline_list(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """記録された実測値の中央値と件数 (原課・業務名ごと)。"""
    from jobs.store import Store
    from kpi import baseline

    cfg = context(config, home)
    found = baseline.medians(Store(cfg.database_url))
    if not found:
        err.print("実測値はまだ記録されていません (kakari baseline record / import)")
        return ExitCode.ok
    for (dept, task), b in sorted(found.items()):
        out.print(f"{dept}\t{task}\t中央値 {b.median:.1f}分\tn={b.observations}")
    return ExitCode.ok


@timelog_app.command("import")
def timelog_import(
    file: Annotated[Path, typer.Argument(help="CSV または xlsx (date,department,task,items,before_minutes,"
                                             "after_minutes,robot_minutes または 日付,原課,業務名,件数,導入前分,導入後分,RPA処理分)")],
    config: ConfigOpt = None,
    home: HomeOpt = None,
) -> int:
    """kakari 以外で自動化した業務の実績を取り込みます (同じファイルを2回取り込んでも二重になりません)。"""
    from jobs.store import Store
    from kpi.timelog_import import import_timelog

    cfg = context(config, home)
    new, existing = import_timelog(Store(cfg.database_url), file)
    out.print(f"{file.name}: {new}行を取り込みました" + (f" (取り込み済み {existing}行は除外)" if existing else ""))
    return ExitCode.ok


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
    from connectors.tabular import day
    from kpi.metrics import period_bounds
    from kpi.report import FORMATS, file_monthly_report, render
    from kpi.table import gather

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


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.add_typer(timelog_app, name="timelog")
    app.add_typer(baseline_app, name="baseline")
