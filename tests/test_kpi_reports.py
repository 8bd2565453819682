"""Targets, measured baselines, imported records, fiscal years, and the manager's xlsx / HTML / PDF
report — computed on hand-built time logs in a real SQLite home."""
from __future__ import annotations

import codecs
import csv
import io
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from connectors.tabular import ImportError_
from jobs import timelog
from jobs.store import Store
from jobs.timelog import TOKYO, TaskRecord, TimeLog
from kakari.cli import main
from kakari.config import KakariConfig, KpiConfig
from kpi import baseline
from kpi.charts import AFTER, BEFORE, SAVED, font_file
from kpi.html import text_of
from kpi.metrics import TOTAL_LABEL, months_of, period_bounds
from kpi.report import file_monthly_report, render
from kpi.table import CSV_COLUMNS, gather
from kpi.timelog_import import import_timelog

OCTOBER = period_bounds(month="2026-10")
TIMELOG_HEADER = "date,department,task,items,before_minutes,after_minutes,robot_minutes"
JP_HEADER = "日付,原課,業務名,件数,導入前分,導入後分,RPA処理分"


def cfg(home: Path, **kpi: object) -> KakariConfig:
    return KakariConfig(home=home, kpi=KpiConfig(**kpi))


def kakari_doc(store: Store, n: int, when: datetime, *, before: float = 8.0, after: float = 0.0,
               status: str = "自動登録", dept: str = "子育て支援課", task: str = "子ども医療費") -> None:
    with store.begin() as conn:
        timelog.record(conn, TaskRecord(
            doc_id=f"doc{n}", job="kodomo", step="ledger", department=dept, task=task, bot="child_medical",
            status=status, started=when, finished=when + timedelta(seconds=30), minutes_before=before,
            minutes_after=after))


def write_csv(path: Path, header: str, rows: list[str], encoding: str = "utf-8", bom: bool = False) -> Path:
    text = "\n".join([header, *rows]) + "\n"
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode(encoding))
    return path


@pytest.fixture()
def october(tmp_path: Path) -> KakariConfig:
    """子育て支援課: 4 kakari docs (one 要確認, 2 min), measured baseline 10/12/30 → median 12 min.
    市民課 住民票: imported, 100 items, 600 min before, 120 after, 30 robot."""
    config = cfg(tmp_path / "home", target_rate=0.5, targets={"住民票": 0.9}, annual_hours=1800, hourly_cost=3000)
    config.home.mkdir()
    store = Store(config.database_url)
    for i in range(4):
        kakari_doc(store, i, datetime(2026, 10, 5 + i, 10, tzinfo=TOKYO), after=2.0 if i == 3 else 0.0,
                   status="要確認" if i == 3 else "自動登録")
    assert baseline.record(store, "子育て支援課", "子ども医療費", [10, 12, 30]) == 3
    import_timelog(store, write_csv(tmp_path / "rpa.csv", TIMELOG_HEADER, ["2026-10-05,市民課,住民票,100,600,120,30"]))
    return config


def rows_by_task(data) -> dict[str, dict]:  # noqa: ANN001
    return {r["task"] if r["department"] != TOTAL_LABEL else TOTAL_LABEL: r for r in data.table.to_dict("records")}


# --- the figures ------------------------------------------------------------------------------
@pytest.mark.usefixtures("db_url")  # SQLite and PostgreSQL
def test_targets_baselines_imports_fte_and_cost(october: KakariConfig) -> None:
    data = gather(october, OCTOBER)
    r = rows_by_task(data)
    kodomo, jumin, total = r["子ども医療費"], r["住民票"], r[TOTAL_LABEL]

    # measured median 12 min replaces the 8 min estimate: 4 × 12 = 48 min before, 2 min after
    assert kodomo["items"] == 4 and kodomo["hours_before"] == pytest.approx(0.8)
    assert kodomo["hours_after"] == pytest.approx(2 / 60) and kodomo["reduction_rate"] == pytest.approx(46 / 48)
    assert kodomo["review_rate"] == pytest.approx(0.25) and kodomo["human_minutes_per_item"] == pytest.approx(0.5)
    assert kodomo["baseline"] == "実測 (n=3)" and kodomo["target_rate"] == 0.5 and kodomo["achieved"] == "達成"
    assert kodomo["robot_hours"] == pytest.approx(120 / 3600)

    # imported: its own totals; 80% against a per-task target of 90% → flagged
    assert jumin["items"] == 100 and jumin["hours_before"] == pytest.approx(10.0)
    assert jumin["hours_saved"] == pytest.approx(8.0) and jumin["reduction_rate"] == pytest.approx(0.8)
    assert jumin["baseline"] == "外部実績" and jumin["target_rate"] == 0.9 and jumin["achieved"] == "未達"
    assert jumin["robot_hours"] == pytest.approx(0.5)

    saved = 8.0 + 46 / 60
    assert total["items"] == 104 and total["hours_saved"] == pytest.approx(saved)
    assert total["reduction_rate"] == pytest.approx(saved / 10.8) and total["achieved"] == "達成"
    assert total["fte_saved"] == pytest.approx(saved / 1800) and total["cost_saved"] == pytest.approx(saved * 3000)
    assert data.headline() == "目標の削減率 50.0% に対し、結果は 81.2% (目標を達成しました)。"

    md = render(data, OCTOBER, "md")
    assert "| 市民課 | 住民票 | 100 | 10.0 | 2.0 | — | — | 8.0 | 80.0% | 0.5 |" in md and "未達" in md
    assert "26,300" in md  # 削減額(円) = 8.77 h × 3,000


def test_without_targets_or_cost_the_columns_are_left_out(tmp_path: Path) -> None:
    config = cfg(tmp_path)
    kakari_doc(Store(config.database_url), 1, datetime(2026, 10, 1, 9, tzinfo=TOKYO))
    md = render(gather(config, OCTOBER), OCTOBER, "md")
    assert "目標削減率" not in md and "削減額" not in md and "| 見積 |" in md


def test_baseline_median_count_and_bad_values(tmp_path: Path, db_url: str) -> None:
    store = Store(db_url)
    baseline.record(store, "税務課", "口座振替", [5, 7])
    baseline.record(store, "税務課", "口座振替", [7])  # typed again later: another observation
    assert baseline.medians(store)[("税務課", "口座振替")] == baseline.Baseline(7.0, 3)
    with pytest.raises(ImportError_, match="0より大きい"):
        baseline.record(store, "税務課", "口座振替", [0])
    study = write_csv(tmp_path / "study.csv", "原課,業務名,分,日付,備考", [
        "税務課,口座振替,4,令和8年10月1日,A", "税務課,口座振替,4,2026-10-01,A", "税務課,口座振替,9,,"])
    assert baseline.import_file(store, study) == (3, 0)
    assert baseline.import_file(store, study) == (0, 3)  # the same sheet twice counts once
    assert baseline.medians(store)[("税務課", "口座振替")] == baseline.Baseline(6.0, 6)  # 4 4 5 7 7 9
    bad = write_csv(tmp_path / "bad.csv", "原課,業務名,分", ["税務課,口座振替,3", "税務課,,3", "税務課,口座振替,abc"])
    with pytest.raises(ImportError_) as e:
        baseline.import_file(store, bad)
    assert "3行目" in str(e.value) and "4行目" in str(e.value) and "2行目" not in str(e.value)
    assert baseline.medians(store)[("税務課", "口座振替")].observations == 6  # nothing half-imported


def test_zero_baseline_is_reported_not_divided(tmp_path: Path) -> None:
    config = cfg(tmp_path, target_rate=0.5)
    kakari_doc(Store(config.database_url), 1, datetime(2026, 10, 2, 9, tzinfo=TOKYO), before=0.0)
    data = gather(config, OCTOBER)
    row = rows_by_task(data)["子ども医療費"]
    assert row["items"] == 1 and row["hours_before"] == 0 and row["reduction_rate"] != row["reduction_rate"]  # NaN
    assert row["achieved"] == ""
    md = render(data, OCTOBER, "md")
    assert "| 子育て支援課 | 子ども医療費 | 1 | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | — |" in md
    assert "導入前の時間が 0 のため、削減率は算出できません。" in md
    lines = list(csv.reader(io.StringIO(render(data, OCTOBER, "csv").lstrip("\ufeff"))))
    assert lines[1][:3] == ["子育て支援課", "子ども医療費", "1"] and lines[1][6] == ""
    out = render(data, OCTOBER, "xlsx", tmp_path / "z.xlsx")
    assert openpyxl.load_workbook(out)["削減効果"]["I3"].value == "—"


def test_period_with_no_items(tmp_path: Path) -> None:
    config = cfg(tmp_path, target_rate=0.5)
    data = gather(config, OCTOBER)
    assert len(data.table) == 1 and data.table.iloc[0]["items"] == 0
    text = render(data, OCTOBER, "csv").lstrip("\ufeff")
    assert text.splitlines() == [",".join(CSV_COLUMNS), "合計,,0,0.0,0.0,0.0,,0.0"]
    pdf = Path(render(data, OCTOBER, "pdf", tmp_path / "empty.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF")
    assert "令和8年度" not in render(data, OCTOBER, "md") and "2026年10月" in render(data, OCTOBER, "md")


# --- fiscal years -----------------------------------------------------------------------------
@pytest.mark.usefixtures("db_url")  # SQLite and PostgreSQL
def test_fiscal_year_boundaries_march_vs_april(tmp_path: Path) -> None:
    config = cfg(tmp_path)
    store = Store(config.database_url)
    kakari_doc(store, 1, datetime(2027, 3, 31, 23, 30, tzinfo=TOKYO))  # 14:30 UTC: still 年度 2026
    kakari_doc(store, 2, datetime(2027, 4, 1, 0, 10, tzinfo=TOKYO))  # 2027-03-31 15:10 UTC: 年度 2027
    import_timelog(store, write_csv(tmp_path / "t.csv", TIMELOG_HEADER, [
        "2026-03-31,市民課,住民票,10,100,10,0",  # 年度 2025
        "2026-04-01,市民課,住民票,20,200,20,0",  # 年度 2026
    ]))
    fy = period_bounds(fiscal_year=2026)
    assert fy.label == "令和8年度" and (fy.start, fy.end) == (date(2026, 4, 1), date(2027, 4, 1))
    data = gather(config, fy)
    r = rows_by_task(data)
    assert r["住民票"]["items"] == 20 and r["子ども医療費"]["items"] == 1 and r[TOTAL_LABEL]["items"] == 21
    assert [p.label for p in months_of(fy)] == [f"2026年{m}月" for m in range(4, 13)] + [f"2027年{m}月" for m in (1, 2, 3)]
    trend = data.trend.set_index("month")
    assert trend.loc["2026年4月", "items"] == 20 and trend.loc["2027年3月", "items"] == 1
    assert trend["items"].sum() == 21
    assert rows_by_task(gather(config, period_bounds(fiscal_year=2025)))[TOTAL_LABEL]["items"] == 10
    assert rows_by_task(gather(config, period_bounds(fiscal_year=2027)))[TOTAL_LABEL]["items"] == 1
    # a month's trend runs from April of its 年度: March 2027 shows April 2026 … March 2027
    assert len(gather(config, period_bounds(month="2027-03")).trend) == 12


# --- time log import --------------------------------------------------------------------------
@pytest.mark.parametrize("header, encoding, bom", [
    (TIMELOG_HEADER, "utf-8", False), (TIMELOG_HEADER, "utf-8", True), (JP_HEADER, "utf-8", True),
    (JP_HEADER, "cp932", False),
])
def test_timelog_import_headers_and_encodings(tmp_path: Path, header: str, encoding: str, bom: bool) -> None:
    store = Store(f"sqlite:///{tmp_path / 'k.db'}")
    f = write_csv(tmp_path / "x.csv", header, ["2026/10/1,税務課,督促状発送,1,200,50,5",
                                               "2026-10-31,税務課,督促状発送,\"1,000\",\"2,000\",500,55"], encoding, bom)
    assert import_timelog(store, f) == (2, 0)
    frame = TimeLog(store).frame(date(2026, 10, 1), date(2026, 11, 1))
    assert frame["items"].sum() == 1001 and frame["minutes_before"].sum() == 2200
    assert frame["robot_seconds"].sum() == 60 * 60 and set(frame["source"]) == {"import:x.csv"}


def test_timelog_import_xlsx(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(JP_HEADER.split(","))
    wb.active.append([datetime(2026, 10, 3), "税務課", "督促状発送", 3, 30, 6, None])
    wb.save(tmp_path / "x.xlsx")
    store = Store(f"sqlite:///{tmp_path / 'k.db'}")
    assert import_timelog(store, tmp_path / "x.xlsx") == (1, 0)
    assert TimeLog(store).frame()["minutes_after"].tolist() == [6.0]


def test_timelog_import_is_all_or_nothing_with_line_numbers(tmp_path: Path, db_url: str) -> None:
    store = Store(db_url)
    f = write_csv(tmp_path / "bad.csv", TIMELOG_HEADER, [
        "2026-10-01,税務課,督促状発送,1,10,5,0",
        "2026-13-01,税務課,督促状発送,1,10,5,0",   # line 3: no 13th month
        "2026-10-02,税務課,督促状発送,-1,10,5,0",  # line 4: negative count
        "",
        "2026-10-02,税務課,督促状発送,1.5,10,5,0",  # line 6: half an item
        "2026-10-02,,督促状発送,1,10,5,0",  # line 7: no 原課
    ])
    with pytest.raises(ImportError_) as e:
        import_timelog(store, f)
    msg = str(e.value)
    assert all(f"{n}行目" in msg for n in (3, 4, 6, 7)) and "2行目" not in msg and "1行も取り込みませんでした" in msg
    assert TimeLog(store).frame().empty
    missing = write_csv(tmp_path / "m.csv", "date,department,task,items", ["2026-10-01,a,b,1"])
    with pytest.raises(ImportError_, match="before_minutes"):
        import_timelog(store, missing)


def test_timelog_import_twice_does_not_double(tmp_path: Path, db_url: str) -> None:
    store = Store(db_url)
    rows = ["2026-10-01,税務課,督促状発送,5,50,10,1", "2026-10-01,税務課,督促状発送,5,50,10,1"]  # two real rows
    f = write_csv(tmp_path / "a.csv", TIMELOG_HEADER, rows)
    assert import_timelog(store, f) == (2, 0)
    assert import_timelog(store, f) == (0, 2)
    copy = write_csv(tmp_path / "renamed.csv", JP_HEADER, rows, bom=True)  # same data, another name
    assert import_timelog(store, copy) == (0, 2)
    assert TimeLog(store).frame()["items"].sum() == 10


# --- the manager's files ----------------------------------------------------------------------
def test_xlsx_sheets_charts_and_flags(october: KakariConfig, tmp_path: Path) -> None:
    out = Path(render(gather(october, OCTOBER), OCTOBER, "xlsx", tmp_path / "r.xlsx"))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["削減効果", "子育て支援課", "市民課", "月別推移"]
    summary = wb["削減効果"]
    header = [c.value for c in summary[2]]
    assert header[:10] == ["原課", "業務名", "件数", "導入前(時間)", "導入後(時間)", "導入後のうち実測(時間)",
                           "導入後のうち見積(時間)", "削減時間(時間)", "削減率", "RPA処理時間(時間)"]
    assert "目標削減率" in header and "達成" in header and "導入前の根拠" in header
    rows = {r[1].value: r for r in summary.iter_rows(min_row=3, max_row=5)}
    flag = rows["住民票"][header.index("達成")]
    assert flag.value == "未達" and flag.font.color.rgb == "FFC00000" and flag.fill.start_color.rgb == "FFFDE8E8"
    assert rows["住民票"][3].value == 10.0 and rows["住民票"][3].number_format == "#,##0.0"
    assert rows["住民票"][8].value == 0.8 and rows["住民票"][8].number_format == "0.0%"
    assert len(summary._charts) == 1
    city = wb["市民課"]
    assert [c.value for c in city[4]][:3] == ["合計", None, 100]
    trend = wb["月別推移"]
    assert trend["A2"].value == "月" and [trend.cell(row=r, column=1).value for r in range(3, 10)] == [
        f"2026年{m}月" for m in range(4, 11)]
    items = [c.value for c in trend[2]].index("件数") + 1
    assert trend.cell(row=9, column=items).value == 104 and len(trend._charts) == 1


def test_html_is_self_contained(october: KakariConfig) -> None:
    page = render(gather(october, OCTOBER), OCTOBER, "html")
    assert page.count("data:image/png;base64,") == 2
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "削減効果報告 2026年10月" in page and "未達" in page and "月別推移" in page


def _pixels_near(img: Image.Image, hex_color: str, tol: int = 12) -> int:
    target = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)])
    pixels = np.asarray(img.convert("RGB"), dtype=int)
    return int((np.abs(pixels - target) <= tol).all(axis=-1).sum())


def test_pdf_pages_charts_and_glyphs(october: KakariConfig, tmp_path: Path) -> None:
    data = gather(october, OCTOBER)
    pdf = Path(render(data, OCTOBER, "pdf", tmp_path / "r.pdf"))
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    # the summary table, the two charts (a page each), then the 原課 tables and the trend
    assert len(pages) >= 4
    images = [Image.open(p) for p in pages]
    assert _pixels_near(images[1], BEFORE) > 200 and _pixels_near(images[1], AFTER) > 200  # before/after bars
    assert _pixels_near(images[2], SAVED) > 200  # monthly hours-saved bars
    assert all(_pixels_near(im, SAVED) == 0 for im in (images[0], *images[3:]))  # tables have no chart colours
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "削減効果報告" in text and "子育て支援課" in text and "未達" in text and "対象期間" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "IPAGothic" in fonts and all(" yes " in ln for ln in fonts.splitlines()[2:])  # embedded

    cmap = TTFont(font_file()).getBestCmap()
    missing = {ch for ch in text_of(data) if not ch.isspace() and ord(ch) not in cmap}
    assert not missing, f"IPAゴシックにない文字: {sorted(missing)}"


def test_monthly_report_filed_in_the_configured_folder(october: KakariConfig, tmp_path: Path) -> None:
    october.kpi.report_dir = tmp_path / "共有" / "報告"
    written = file_monthly_report(october, "2026-10")
    assert [p.name for p in written] == [f"削減効果報告_2026-10.{x}" for x in ("xlsx", "pdf", "csv")]
    assert all(p.parent == october.kpi.report_dir and p.stat().st_size > 0 for p in written)
    assert written[2].read_text(encoding="utf-8-sig").splitlines()[0] == ",".join(CSV_COLUMNS)
    assert {p.name for p in written[0].parent.iterdir()} == {p.name for p in written}  # no temp files


# --- the commands -----------------------------------------------------------------------------
def test_cli_baseline_timelog_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = ["--home", str(tmp_path / "home")]
    f = write_csv(tmp_path / "rpa.csv", JP_HEADER, ["2026-10-05,市民課,住民票,100,600,120,30"], bom=True)
    assert main(["timelog", "import", str(f), *home]) == 0
    assert "1行を取り込みました" in capsys.readouterr().out
    assert main(["timelog", "import", str(f), *home]) == 0
    assert "取り込み済み 1行は除外" in capsys.readouterr().out
    assert main(["baseline", "record", "--department", "市民課", "--task", "戸籍", "6", "8", "20", *home]) == 0
    assert "中央値 8.0分 (n=3)" in capsys.readouterr().out
    assert main(["baseline", "list", *home]) == 0
    assert capsys.readouterr().out.split() == ["市民課", "戸籍", "中央値", "8.0分", "n=3"]

    bad = write_csv(tmp_path / "bad.csv", TIMELOG_HEADER, ["2026-10-05,市民課,住民票,x,600,120,30"])
    assert main(["timelog", "import", str(bad), *home]) != 0
    assert "2行目" in capsys.readouterr().err

    out = tmp_path / "fy.csv"
    assert main(["report", "--fiscal-year", "2026", "--format", "csv", "--out", str(out), *home]) == 0
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r["原課"] for r in table] == ["市民課", "合計"] and table[-1]["削減率"] == "80.0"
    assert main(["report", "--start", "2026-10-01", "--end", "2026-10-04", *home]) == 0
    assert "| 合計 |  | 0 |" in capsys.readouterr().out  # the 5th is outside an inclusive 1st–4th
    assert main(["report", "--month", "2026-10", "--file", *home]) == 0
    assert len(list((tmp_path / "home" / "reports").glob("削減効果報告_2026-10.*"))) == 3
    assert main(["report", "--month", "2026-10", "--format", "pdf", *home]) == 1  # pdf needs --out: a usage error


@pytest.mark.usefixtures("db_url")  # SQLite and PostgreSQL
def test_daily_sums_give_the_same_table_as_single_records(october: KakariConfig) -> None:
    """The report reads per-day sums from the database; every figure must equal the per-record sum."""
    from kpi.metrics import kpi_table

    store = Store(october.database_url)
    for i in range(4, 9):  # more documents on the same days, other statuses
        kakari_doc(store, i, datetime(2026, 10, 5, 11 + i, tzinfo=TOKYO), after=1.5 * (i % 2),
                   status="要確認" if i % 2 else "自動登録")
    log = TimeLog(store)
    daily = log.daily(OCTOBER.start, OCTOBER.end)
    assert len(daily) < len(log.frame(OCTOBER.start, OCTOBER.end)) and daily["rows"].sum() == 10
    for by in (("department", "task"), ("bot",), ("job", "step")):
        a = kpi_table(log.frame(OCTOBER.start, OCTOBER.end), OCTOBER, by)
        b = kpi_table(daily, OCTOBER, by)
        pd.testing.assert_frame_equal(a, b)
    assert kpi_table(daily, OCTOBER).iloc[0]["review_rate"] == pytest.approx(3 / 9)
