"""KPI input commands: measured baselines (`kakari baseline …`) and outside records (`kakari timelog import`)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jobs.cli import context, err, out, timelog_app
from kakari.cli import ConfigOpt, HomeOpt
from kakari.errors import ExitCode

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
    from jobs import baseline
    from jobs.store import Store
    from jobs.tabular import day

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
    from jobs import baseline
    from jobs.store import Store

    cfg = context(config, home)
    new, existing = baseline.import_file(Store(cfg.database_url), file)
    out.print(f"{file.name}: {new}件を取り込みました" + (f" (取り込み済み {existing}件は除外)" if existing else ""))
    return ExitCode.ok


@baseline_app.command("list")
def baseline_list(config: ConfigOpt = None, home: HomeOpt = None) -> int:
    """記録された実測値の中央値と件数 (原課・業務名ごと)。"""
    from jobs import baseline
    from jobs.store import Store

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
    from jobs.timelog_import import import_timelog

    cfg = context(config, home)
    new, existing = import_timelog(Store(cfg.database_url), file)
    out.print(f"{file.name}: {new}行を取り込みました" + (f" (取り込み済み {existing}行は除外)" if existing else ""))
    return ExitCode.ok


def register(app: typer.Typer) -> None:
    app.add_typer(baseline_app, name="baseline")
