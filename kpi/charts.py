"""The report's charts (matplotlib): hours before/after per task, and the monthly trend of hours
saved and 削減率 against the target. Drawn in a Japanese font chosen by its file (so no 豆腐, and
never whichever package happens to claim the same family name), from the same `ReportData` as the
tables.
"""
from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.figure import Figure

from kakari.errors import MissingDependency
from kakari.locate import gothic_font
from kpi.metrics import TOTAL_LABEL
from kpi.table import ReportData

FAMILY = "kakari-report-gothic"  # our own name for the file: no other font on the machine claims it
BEFORE, AFTER, SAVED, RATE, TARGET = "#9dc3e6", "#2f5597", "#70ad47", "#c00000", "#7f7f7f"


def font_file() -> Path:
    """The Japanese font file reports are drawn and printed in: the configured gothic ([system] fonts),
    else IPA, IPAex or Windows' own, as kakari.locate finds them."""
    path = gothic_font()
    if path is None:
        raise MissingDependency("日本語フォント (IPAゴシック) がありません。報告のグラフと PDF に必要です",
                                "make setup (Debian パッケージ fonts-ipafont-gothic)、または kakari.toml の [system] fonts")
    return path


@lru_cache(maxsize=4)
def _register(path: str) -> str:
    """Add the file to matplotlib under FAMILY, ahead of everything else."""
    entry = font_manager.FontEntry(fname=path, name=FAMILY, style="normal", variant="normal", weight=400,
                                   stretch="normal", size="scalable")
    font_manager.fontManager.ttflist.insert(0, entry)  # before the first lookup of FAMILY: nothing cached
    return FAMILY


def _style() -> None:
    plt.rcParams.update({"font.family": [_register(str(font_file()))], "pdf.fonttype": 42,
                         "axes.unicode_minus": False})


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
    if data.trend is None or data.trend.empty or int(data.trend["items"].sum()) == 0:
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
    ax.set_title("月別 削減時間と削減率" + (f"（{data.department}）" if data.department else ""))
    fig.tight_layout()
    return fig


CHART_TEXT = ("業務別 導入前・導入後の作業時間", "月別 削減時間と削減率", "導入前", "導入後", "時間",
              "削減時間 (時間)", "削減率 (%)", "目標削減率", "削減時間", "削減率")


def charts(data: ReportData) -> list[Figure]:
    _style()
    return [f for f in (task_chart(data), trend_chart(data)) if f is not None]


def png_b64(fig: Figure, dpi: int = 110) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()
