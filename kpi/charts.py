"""Charts (matplotlib, IPA Gothic so no 豆腐) and the self-contained HTML and PDF reports.

Both show the same tables as the xlsx/markdown (kpi/table.py does the rounding) and two charts:
hours before/after per task, and the monthly trend of hours saved and 削減率 against the target.
"""
from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from kakari.errors import MissingDependency
from kakari.locate import gothic_font
from kpi.metrics import TOTAL_LABEL
from kpi.table import ReportData, headers, is_number, text_rows, title, visible

BEFORE, AFTER, SAVED, RATE, TARGET = "#9dc3e6", "#2f5597", "#70ad47", "#c00000", "#7f7f7f"


def japanese_font() -> str:
    """Register IPA Gothic with matplotlib; its family name for rcParams."""
    path = gothic_font()
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        return font_manager.FontProperties(fname=str(path)).get_name()
    raise MissingDependency("日本語フォント (IPAゴシック) がありません。報告のグラフに必要です",
                            "make setup (Debian パッケージ fonts-ipafont-gothic)、または kakari.toml の [system] fonts")


def _style() -> None:
    plt.rcParams.update({"font.family": japanese_font(), "pdf.fonttype": 42, "axes.unicode_minus": False})


def task_chart(data: ReportData) -> Figure | None:
    body = data.table[data.table["department"] != TOTAL_LABEL]
    if body.empty:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.5 + 0.55 * len(body) + 1.2))
    labels = [f"{d} / {t}" for d, t in zip(body["department"], body["task"])]
    y = range(len(body))
    ax.barh([i + 0.2 for i in y], body["hours_before"], height=0.4, color=BEFORE, label="導入前")
    ax.barh([i - 0.2 for i in y], body["hours_after"], height=0.4, color=AFTER, label="導入後")
    ax.set_yticks(list(y), labels)
    ax.invert_yaxis()
    ax.set_xlabel("時間")
    ax.set_title("業務別 導入前・導入後の作業時間")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def trend_chart(data: ReportData) -> Figure | None:
    if data.trend is None or data.trend.empty:
        return None
    t = data.trend
    fig, ax = plt.subplots(figsize=(10, 4))
    x = list(range(len(t)))
    ax.bar(x, t["hours_saved"], color=SAVED, label="削減時間")
    ax.set_xticks(x, [m.split("年")[-1] for m in t["month"]])
    ax.set_ylabel("削減時間 (時間)")
    ax2 = ax.twinx()
    ax2.plot(x, t["reduction_rate"] * 100, color=RATE, marker="o", label="削減率")
    if data.target_rate is not None:
        ax2.axhline(data.target_rate * 100, color=TARGET, linestyle="--", label="目標削減率")
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("削減率 (%)")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper left")
    ax.set_title("月別 削減時間と削減率")
    fig.tight_layout()
    return fig


def charts(data: ReportData) -> list[Figure]:
    _style()
    return [f for f in (task_chart(data), trend_chart(data)) if f is not None]


def png_b64(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def html_table(table: Any) -> str:
    table = visible(table)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers(table))
    rows = []
    for values in text_rows(table):
        total = values[0] == TOTAL_LABEL
        cells = "".join(f'<td class="{"num" if is_number(c) else ""}">{html.escape(v)}</td>'
                        for c, v in zip(table.columns, values))
        rows.append(f'<tr class="{"total" if total else ""}">{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def to_html(data: ReportData) -> str:
    """One file, no external resources (charts inlined as PNG): it can be mailed or filed as is."""
    images = "".join(f'<img alt="グラフ" src="data:image/png;base64,{png_b64(f)}">' for f in charts(data))
    sections = "".join(f"<h2>{html.escape(d)}</h2>{html_table(data.department_table(d))}" for d in data.departments())
    trend = f"<h2>月別推移</h2>{html_table(data.trend.rename(columns={'month': 'department'}))}" if (
        data.trend is not None and len(data.trend)) else ""
    return f"""<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>{html.escape(title(data.period))}</title>
<style>body{{font-family:"IPAGothic","Noto Sans CJK JP",sans-serif;margin:1.5em;color:#222}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}}th,td{{border:1px solid #bbb;padding:.25em .5em}}
th{{background:#ddebf7}}td.num{{text-align:right}}tr.total td{{font-weight:bold;border-top:2px solid #555}}
img{{max-width:100%;display:block;margin:1em 0}}</style></head><body>
<h1>{html.escape(title(data.period))}</h1><p>{html.escape(data.headline())}</p>
{html_table(data.table)}{images}{sections}{trend}</body></html>"""


def _table_page(pdf: PdfPages, heading: str, table: Any, note: str = "") -> None:
    table = visible(table)
    fig = plt.figure(figsize=(11.69, 8.27))  # A4 landscape
    fig.text(0.04, 0.95, heading, fontsize=16)  # IPA Gothic has no bold face
    if note:
        fig.text(0.04, 0.915, note, fontsize=10)
    ax = fig.add_axes((0.03, 0.05, 0.94, 0.84))
    ax.axis("off")
    rows = text_rows(table)
    tab = ax.table(cellText=rows or [[""] * len(table.columns)], colLabels=headers(table), loc="upper center",
                   cellLoc="right", colLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(7.5)
    tab.auto_set_column_width(list(range(len(table.columns))))
    for (r, c), cell in tab.get_celld().items():
        if r == 0:
            cell.set_facecolor("#ddebf7")
        elif rows and rows[r - 1][0] == TOTAL_LABEL:
            cell.set_facecolor("#f2f2f2")
        if r > 0 and not is_number(table.columns[c]):
            cell.get_text().set_horizontalalignment("left")
    pdf.savefig(fig)
    plt.close(fig)


def write_pdf(data: ReportData, out: Path) -> None:
    """Tables first (summary, each 原課, trend), then the charts, A4 landscape, fonts embedded."""
    figures = charts(data)
    with PdfPages(out, metadata={"Title": title(data.period), "Creator": "kakari"}) as pdf:
        _table_page(pdf, title(data.period), data.table, data.headline())
        for dept in data.departments():
            _table_page(pdf, f"{dept} {data.period.label}", data.department_table(dept))
        if data.trend is not None and len(data.trend):
            _table_page(pdf, "月別推移", data.trend)
        for fig in figures:
            fig.set_size_inches(11.69, 8.27)
            pdf.savefig(fig)
            plt.close(fig)


def text_of(data: ReportData) -> str:
    """Every string the PDF prints, to check the font covers it (no missing glyphs)."""
    parts = [title(data.period), data.headline(), "業務別 導入前・導入後の作業時間", "月別 削減時間と削減率",
             "導入前", "導入後", "時間", "削減時間 (時間)", "削減率 (%)", "目標削減率", "削減時間", "削減率"]
    tables = [data.table, *(data.department_table(d) for d in data.departments())]
    if data.trend is not None:
        tables.append(data.trend)
    for t in map(visible, tables):
        parts += headers(t) + [v for row in text_rows(t) for v in row]
    return "".join(parts)
