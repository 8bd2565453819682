"""The report as one self-contained HTML page (charts inlined, no external resource: it can be
mailed or filed as is), laid out for the screen and for A4 landscape print. The PDF is this same
page printed by Chromium (kpi/pdf.py); the dashboard shows its tables (`table_html`).
"""
from __future__ import annotations

import html

import pandas as pd

from kpi.charts import CHART_TEXT, charts, png_b64
from kpi.metrics import NOT_ACHIEVED
from kpi.table import ReportData, Section, fmt_hours, section, text_rows

# Print: A4 landscape, 12 mm margins, tables at 9.5 pt with their header row repeated on every page
# (Chromium repeats <thead>), rows never split, the charts on a page of their own.
STYLE = """
body{font-synthesis:none;font-family:"kakari-report-gothic","IPAGothic","IPAexGothic","Noto Sans CJK JP","Yu Gothic","Meiryo",sans-serif;
margin:1.5em;color:#222;font-size:15px;line-height:1.45}
h1{font-size:1.5em;margin:0 0 .2em;font-weight:normal}h2{font-weight:normal}h2{font-size:1.15em;margin:1.4em 0 .4em}
.period{margin:0 0 .6em;color:#444}
dl.figures{display:flex;flex-wrap:wrap;gap:.4em 1.6em;margin:.6em 0}
dl.figures div{min-width:9em}dl.figures dt{font-size:.9em;color:#555}dl.figures dd{margin:0;font-size:1.2em}
.headline{font-size:1.1em}
table.kpi{border-collapse:collapse;margin:.5em 0 1.5em}
table.kpi th,table.kpi td{border:1px solid #bbb;padding:.25em .45em;vertical-align:top}
table.kpi th{background:#ddebf7;font-weight:normal}
table.kpi td.num{text-align:right;white-space:nowrap}
table.kpi .c-department{min-width:5.5em}table.kpi .c-task{min-width:10em}table.kpi .c-month{white-space:nowrap}
table.kpi td.c-achieved{white-space:nowrap}
table.kpi tr.total td{background:#f2f2f2;border-top:2px solid #555}
table.kpi td.miss{color:#c00000;background:#fde8e8}
.charts img{max-width:100%;display:block;margin:1em 0}
@page{size:A4 landscape;margin:12mm}
@media print{
body{margin:0;font-size:10.5pt}
table.kpi{width:100%;font-size:9.5pt}
table.kpi thead{display:table-header-group}
table.kpi tr{break-inside:avoid}
h2{break-after:avoid}
.charts{break-before:page}
.charts img{max-height:170mm;margin:0 auto 6mm}
section.more{break-before:page}
}
"""


def table_html(sec: Section) -> str:
    """One table of the report; every cell also carries its column's label (a phone shows rows as cards)."""
    head = "".join(f'<th scope="col" class="c-{c}">{html.escape(h)}</th>' for c, h in zip(sec.columns, sec.headers))
    rows = []
    for cells, total in zip(sec.rows, sec.totals):
        tds = []
        for c, label in zip(cells, sec.headers):
            classes = " ".join(k for k, on in ((f"c-{c.column}", True), ("num", c.is_number),
                                               ("miss", c.text == NOT_ACHIEVED)) if on)
            tds.append(f'<td class="{classes}" data-label="{html.escape(label)}">{html.escape(c.text)}</td>')
        rows.append(f'<tr class="{"total" if total else ""}">{"".join(tds)}</tr>')
    return f'<table class="kpi"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def html_table(table: pd.DataFrame) -> str:
    """A DataFrame of the report's columns as a report table (the dashboard's extra tables)."""
    return table_html(section("table", "", table))


def figures_html(data: ReportData) -> str:
    items = "".join(f"<div><dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd></div>" for k, v in data.figures())
    return f'<dl class="figures">{items}</dl>'


def period_text(data: ReportData) -> str:
    p = data.period
    first, last = p.start, p.last
    return f"対象期間: {first.year}年{first.month}月{first.day}日〜{last.year}年{last.month}月{last.day}日"


def to_html(data: ReportData) -> str:
    """Title, period, summary figures and headline, the 原課・業務名 table, the charts, then the
    table of each 原課 and the monthly trend."""
    sections = data.sections()
    images = "".join(f'<img alt="グラフ" src="data:image/png;base64,{png_b64(f, dpi=150)}">' for f in charts(data))
    more = "".join(f"<h2>{html.escape(s.heading)}</h2>{table_html(s)}" for s in sections[1:])
    return f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(data.title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(data.title)}</h1><p class="period">{html.escape(period_text(data))}</p>
{figures_html(data)}<p class="headline">{html.escape(data.headline())}</p>
<p class="after">{html.escape(data.after_sentence())}</p>
<h2>原課・業務別</h2>{table_html(sections[0])}
<section class="charts">{images}</section>
<section class="more">{more}</section></body></html>"""


def text_of(data: ReportData) -> str:
    """Every string the report prints, to check the font covers it (no missing glyphs)."""
    parts = [data.title, data.headline(), data.after_sentence(), period_text(data), *CHART_TEXT, "原課・業務別",
             fmt_hours(0)]
    parts += [f"{k}{v}" for k, v in data.figures()]
    for s in data.sections():
        parts += [s.heading, *s.headers] + [v for row in text_rows(s.frame) for v in row]
    return "".join(parts)
