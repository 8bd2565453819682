"""What the savings dashboard shows, without HTTP: the month and the 年度 for all 原課 or one (every
number, chart and download filtered alike), this 年度 against the annual target with last 年度
beside it, per-clerk review minutes, and the recent runs in Japanese words with the jobs' titles."""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from jobs.events import tokyo_time
from jobs.store import Store
from jobs.timelog import time_log
from kakari.config import KakariConfig
from web.review import job_title

TRIGGERS = {"manual": "手動", "watch": "フォルダー監視", "schedule": "定時実行", "worker": "ワーカー"}
RUN_STATUS = {"ok": "正常終了", "partial": "一部エラー", "failed": "失敗", "running": "実行中"}


def trigger_text(trigger: str | None) -> str:
    t = trigger or ""
    if t.startswith("retry:"):
        return "再実行"
    return TRIGGERS.get(t, t)


def views(config: KakariConfig, dept: str, month: str, today: date | None = None) -> dict[str, Any]:
    """The dashboard's context: one view per period (the month, this 年度, last 年度 when it has
    data), each computed for `dept` alone when one is chosen."""
    from kpi.charts import charts, png_b64
    from kpi.html import figures_html, html_table
    from kpi.metrics import fiscal_year_of, period_bounds
    from kpi.table import gather, visible

    today = today or date.today()
    month = month or today.strftime("%Y-%m")
    fy = fiscal_year_of(today)
    department = dept or None
    out = []
    all_departments: list[str] = []
    for key, period in (("month", period_bounds(month=month)), ("year", period_bounds(fiscal_year=fy)),
                        ("last_year", period_bounds(fiscal_year=fy - 1))):
        data = gather(config, period, with_trend=key != "month", department=department)
        if key == "year":
            all_departments = gather(config, period, with_trend=False).departments()
        if key == "last_year" and data.empty:
            continue  # last 年度 only beside this one when there is data
        out.append({"key": key, "title": period.label + ("（昨年度）" if key == "last_year" else ""),
                    "headline": data.headline(), "empty": data.empty, "figures": figures_html(data),
                    "target": annual_target(config, data), "table": "" if data.empty else html_table(visible(data.table)),
                    "charts": [] if data.empty else [png_b64(f) for f in charts(data)],
                    "by_department": by_department(data) if key == "year" and department is None else ""})
    query = urlencode({"dept": dept}) if dept else ""
    downloads = {fmt: f"/reports/{month}.{fmt}" + (f"?{query}" if query else "") for fmt in ("xlsx", "pdf", "csv")}
    runs = [{"started": tokyo_time(r["started"], seconds=False), "job": job_title(config, r["job"]),
             "trigger": trigger_text(r["trigger"]), "status": RUN_STATUS.get(r["status"], r["status"]),
             "read": (r["counts"] or {}).get("read", 0), "errors": (r["counts"] or {}).get("エラー", 0),
             "note": (r["log_excerpt"] or "")[:120]}
            for r in Store(config.database_url).runs_for(limit=15)
            if department is None or _department(config, r["job"]) == department]
    return {"views": out, "dept": dept, "month": month, "runs": runs, "departments": all_departments,
            "downloads": downloads, "clerks": clerk_minutes(config, department)}


def by_department(data: Any) -> str:
    """The 年度's months per 原課 as a report table (empty when there is nothing to show)."""
    from kpi.html import html_table
    from kpi.table import visible

    trend = data.department_trend
    if trend is None or not len(trend) or int(trend["items"].sum()) == 0:
        return ""
    return html_table(visible(trend[trend["items"] > 0].reset_index(drop=True)))


def _department(config: KakariConfig, job: str) -> str | None:
    j = config.jobs.get(job)
    return j.department if j is not None else None


def annual_target(config: KakariConfig, data: Any) -> str:
    """「年度目標 1,200.0 時間・50.0% に対し 312.5 時間・61.2%」 for a 年度 view; empty otherwise."""
    from kpi.table import fmt_hours, fmt_rate

    if not data.period.label.endswith("年度") or data.empty:
        return ""
    t = data.totals
    parts = []
    if config.kpi.target_hours:
        parts.append(f"目標削減時間 {fmt_hours(config.kpi.target_hours)} 時間に対し {fmt_hours(t['hours_saved'])} 時間")
    if config.kpi.target_rate is not None:
        parts.append(f"目標削減率 {fmt_rate(config.kpi.target_rate)} に対し {fmt_rate(t['reduction_rate'])}")
    return "・".join(parts)


def clerk_minutes(config: KakariConfig, department: str | None) -> list[dict[str, Any]]:
    """Per clerk: documents decided on the review screen and the minutes measured there."""
    from jobs.store import documents

    store = Store(config.database_url)
    with store.engine.connect() as conn:
        rows = conn.execute(select(documents.c.job, documents.c.record, time_log.c.minutes_after)
                            .join(time_log, (time_log.c.doc_id == documents.c.doc_id) & (time_log.c.job == documents.c.job))
                            .where(time_log.c.status.in_(["確認済", "差戻", "エラー"]))).all()
    return _per_clerk(config, rows, department)


def _per_clerk(config: KakariConfig, rows: Any, department: str | None) -> list[dict[str, Any]]:
    by: dict[str, dict[str, Any]] = {}
    for job, record, minutes in rows:
        who = ((record or {}).get("meta") or {}).get("reviewed_by")
        if not who or (department is not None and _department(config, job) != department):
            continue
        c = by.setdefault(who, {"who": who, "documents": 0, "minutes": 0.0})
        c["documents"] += 1
        c["minutes"] += float(minutes or 0)
    return sorted(by.values(), key=lambda c: str(c["who"]))
