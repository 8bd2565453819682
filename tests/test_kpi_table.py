"""kpi/table.py: one computed table, five formats. md, csv, xlsx, html and pdf are rendered from one
data set and read back (markdown and CSV parsed, the workbook reopened, the HTML parsed, the PDF's
table extracted by pdfplumber); every cell must say what the computed table says, and names must
come back exactly as the town wrote them (Ⅱ, （）, ㈱), in the town's order."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pdfplumber
import pytest

from jobs import timelog
from jobs.store import Store
from jobs.timelog import TOKYO, TaskRecord
from kakari.config import JobConfig, KakariConfig, KpiConfig
from kpi import baseline
from kpi.metrics import period_bounds
from kpi.report import csv_value, render
from kpi.table import CSV_SOURCE, ReportData, gather
from kpi.timelog_import import import_timelog

OCTOBER = period_bounds(month="2026-10")
SAKURA = "入園申込(さくらⅡシステム)業務"
YUSO = "証明書交付（郵送）"
ITAKU = "窓口委託㈱みどり"


def kakari_doc(store: Store, n: int, when: datetime, task: str, dept: str, status: str = "自動登録",
               after: float = 0.0) -> None:
    with store.begin() as conn:
        timelog.record(conn, TaskRecord(
            doc_id=f"doc{n}", job="j", step="ledger", department=dept, task=task, bot="child_medical",
            status=status, started=when, finished=when + timedelta(seconds=40), minutes_before=8.0,
            minutes_after=after))


@pytest.fixture()
def data(tmp_path: Path) -> ReportData:
    """Kakari documents (measured review minutes, estimates) and imported rows whose names carry Ⅱ,
    full-width brackets and ㈱; the town lists 市民課 first although its task was imported last."""
    config = KakariConfig(home=tmp_path / "home", kpi=KpiConfig(target_rate=0.5, targets={YUSO: 0.95},
                                                                hourly_cost=3000, order=[YUSO]),
                          jobs={"kodomo": JobConfig(department="子育て支援課", task=SAKURA, bots=["child_medical"])})
    config.home.mkdir()
    store = Store(config.database_url)
    for i, (status, after) in enumerate([("自動登録", 0.0), ("確認済", 1.7), ("要確認", 2.0), ("自動登録", 0.0)]):
        kakari_doc(store, i, datetime(2026, 10, 5 + i, 10, tzinfo=TOKYO), SAKURA, "子育て支援課", status, after)
    baseline.record(store, "子育て支援課", SAKURA, [7, 7.5, 9])
    study = tmp_path / "rpa.csv"
    study.write_text("日付,原課,業務名,件数,導入前分,導入後分,RPA処理分\n"
                     f"2026-10-20,市民課,{YUSO},40,240,60,12\n"
                     f"2026-10-02,子育て支援課,{ITAKU},5,50,5,1\n", encoding="utf-8")
    import_timelog(store, study)
    return gather(config, OCTOBER)


class _Tables(HTMLParser):
    """The text of every <td>/<th> of the first table.kpi, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.depth = 0
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "kpi") in attrs and not self.rows:
            self.depth = 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.depth = 0
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)


def excel_text(value: object, number_format: str | None) -> str:
    """How Excel shows a stored value in the report's number formats."""
    if number_format is None or isinstance(value, str) or value is None:
        return "" if value is None else str(value)
    d = Decimal(str(value))
    if number_format == "0.0%":
        return f"{(d * 100).quantize(Decimal('0.1'))}%"
    places = {"#,##0": "1", "#,##0.0": "0.1", "0.00": "0.01"}[number_format]
    return f"{d.quantize(Decimal(places)):,}"


def test_five_formats_agree_cell_by_cell(data: ReportData, tmp_path: Path) -> None:
    summary = data.sections()[0]
    expected = [[c.text for c in row] for row in summary.rows]
    assert [r[:2] for r in expected] == [  # the town's order: [kpi] order, then the jobs, then the rest
        ["市民課", YUSO], ["子育て支援課", SAKURA], ["子育て支援課", ITAKU], ["合計", ""]]
    assert expected[1][summary.column("baseline")] == "実測 (n=3)"
    assert expected[2][summary.column("baseline")] == "外部実績"

    md = render(data, OCTOBER, "md").splitlines()
    table = [ln for ln in md if ln.startswith("| ")]
    assert [c.strip() for c in table[0].strip("|").split(" | ")] == summary.headers
    assert [[c.strip() for c in ln[2:-2].split(" | ")] for ln in table[2:]] == expected

    rows = list(csv.reader(io.StringIO(render(data, OCTOBER, "csv").lstrip("\ufeff"))))
    picks = [summary.column(c) for c in CSV_SOURCE]
    assert rows[1:] == [[csv_value(row[i]) for i in picks] for row in summary.rows]
    assert rows[1][1] == YUSO and rows[2][1] == SAKURA and rows[3][1] == ITAKU
    assert rows[1][picks.index(summary.column("reduction_rate"))] == "75.0"  # a percent number, not "75.0%"

    ws = openpyxl.load_workbook(render(data, OCTOBER, "xlsx", tmp_path / "r.xlsx"))["削減効果"]
    assert [c.value for c in ws[2]] == summary.headers
    for r, row in enumerate(summary.rows, start=3):
        for j, cell in enumerate(row, start=1):
            got = ws.cell(row=r, column=j)
            assert excel_text(got.value, cell.number_format) == (cell.text or ""), (r, j, got.value)
            if cell.number_format:
                assert got.number_format == cell.number_format and not isinstance(got.value, str)

    parser = _Tables()
    parser.feed(render(data, OCTOBER, "html"))
    assert parser.rows[0] == summary.headers and parser.rows[1:] == expected

    pdf = Path(render(data, OCTOBER, "pdf", tmp_path / "r.pdf"))
    with pdfplumber.open(pdf) as doc:
        extracted = doc.pages[0].extract_tables()
    def squeeze(cells: list[str]) -> list[str]:  # a printed cell wraps its text; the text must be the same
        return ["".join((c or "").split()) for c in cells]

    found = [squeeze(row) for row in max(extracted, key=len)]
    assert found[0] == squeeze(summary.headers) and found[1:] == [squeeze(r) for r in expected]


def test_a_measured_task_takes_its_median_also_for_imported_rows(tmp_path: Path) -> None:
    config = KakariConfig(home=tmp_path)
    store = Store(config.database_url)
    f = tmp_path / "t.csv"
    f.write_text("日付,原課,業務名,件数,導入前分,導入後分\n2026-10-03,市民課,戸籍届書入力,30,180,30\n", encoding="utf-8")
    import_timelog(store, f)  # 6.0 min an item, as another tool counted it
    baseline.record(store, "市民課", "戸籍届書入力", [6.5, 7.0, 9.0])  # the town's own study: median 7.0
    row = gather(config, OCTOBER).table.iloc[0]
    assert row["baseline"] == "実測 (n=3)" and row["hours_before"] == pytest.approx(30 * 7.0 / 60)


def test_the_baseline_word_does_not_depend_on_the_format(tmp_path: Path) -> None:
    """md reads only the month, xlsx/html/pdf the 年度 up to it: an import in an earlier month must not
    turn the month's 見積 into 外部実績 in some formats only."""
    config = KakariConfig(home=tmp_path)
    store = Store(config.database_url)
    kakari_doc(store, 1, datetime(2026, 10, 5, 9, tzinfo=TOKYO), "住民票交付入力", "市民課")
    f = tmp_path / "t.csv"
    f.write_text("日付,原課,業務名,件数,導入前分,導入後分\n2026-06-03,市民課,住民票交付入力,30,180,30\n", encoding="utf-8")
    import_timelog(store, f)
    month, year = gather(config, OCTOBER, with_trend=False), gather(config, OCTOBER)
    pd.testing.assert_frame_equal(month.table, year.table)
    assert month.table.iloc[0]["baseline"] == "見積"


def test_one_department_filters_every_number(data: ReportData, tmp_path: Path) -> None:
    config = KakariConfig(home=tmp_path / "home", kpi=KpiConfig(target_rate=0.5))
    only = gather(config, OCTOBER, department="市民課")
    assert only.departments() == ["市民課"] and only.title.endswith("（市民課）")
    assert int(only.totals["items"]) == 40 and only.totals["hours_saved"] == pytest.approx(3.0)
    assert only.trend is not None and int(only.trend["items"].sum()) == 40
    assert [s.key for s in only.sections()] == ["summary", "trend"]
    assert "75.0%" in only.headline()
