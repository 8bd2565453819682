"""kpi/report.py: half-up rounding, Markdown/CSV/xlsx output reopened and checked."""
from __future__ import annotations

import codecs
import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from jobs.timelog import FRAME_COLUMNS
from kpi.metrics import ReportError, kpi_table, period_bounds
from kpi.report import render, write_atomic
from kpi.table import fmt_hours, fmt_rate, round_half_up

APRIL = period_bounds(month="2026-04")
HEADERS = ["原課", "業務名", "件数", "導入前(時間)", "導入後(時間)", "導入後のうち実測(時間)", "導入後のうち見積(時間)",
           "削減時間(時間)", "削減率", "RPA処理時間(時間)", "要確認率"]
CSV_HEADER = ["原課", "業務名", "件数", "導入前時間", "導入後時間", "削減時間", "削減率", "RPA処理時間"]  # the report's columns, in the order a manager reads them


def row(when: str, department: str, task: str, *, items: int = 1, before: float, after: float = 0.0,
        robot: float = 0.0, status: str = "自動登録", source: str = "kakari") -> dict[str, Any]:
    return {"date": pd.Timestamp(when), "department": department, "task": task, "bot": "b", "job": "j",
            "step": "ledger", "items": items, "minutes_before": before, "minutes_after": after,
            "robot_seconds": robot, "status": status, "baseline": "estimate", "source": source}


@pytest.fixture()
def table() -> pd.DataFrame:
    rows = [
        # 子育て支援課: 3 docs × 8.0 min = 0.4 h before; one 要確認 with 2.0 min after = 0.0333 h;
        # saved 0.3667 h → "0.4"; rate 22/24 = 91.67% → "91.7%"; review 1/3 → "33.3%"; robot 54 s
        row("2026-04-01", "子育て支援課", "子ども医療費申請入力", before=8.0, robot=18),
        row("2026-04-02", "子育て支援課", "子ども医療費申請入力", before=8.0, robot=18),
        row("2026-04-03", "子育て支援課", "子ども医療費申請入力", before=8.0, after=2.0, robot=18, status="要確認"),
        # 環境衛生課: 16 min before, 15 min after → 0.2667 h / 0.25 h / saved 1 min = 0.0167 h;
        # rate 1/16 = 0.0625 → half up "6.3%" (banker's/float rounding would say "6.2%");
        # after 0.25 h → half up "0.3" (Python's round/%.1f say "0.2")
        row("2026-04-10", "環境衛生課", "飲食店営業許可入力", before=16.0, after=15.0, status="確認済"),
        # 税務課: imported, 0 minutes before → rate undefined "—", no status → review "—"
        row("2026-04-20", "税務課", "新規業務|試行", items=5, before=0.0, status="", source="import"),
    ]
    df = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    return kpi_table(df, APRIL)


# --- rounding ---------------------------------------------------------------------------------
@pytest.mark.parametrize("x, places, expected", [
    (0.25, 1, "0.3"),                   # round(0.25, 1) == 0.2 in Python
    (0.35, 1, "0.4"),                   # the float is 0.34999…, its shortest repr is 0.35
    (0.15, 1, "0.2"),                   # Decimal(0.15) is 0.1499…: must not be rounded from the binary value
    (0.24999999999999997, 1, "0.3"),    # 14.999999999999998 min / 60: float noise from a sum
    (-0.25, 1, "-0.3"),                 # away from zero, as Excel's ROUND
    (-0.04, 1, "0.0"),                  # no "-0.0" in a report
    (0.0625, 3, "0.063"),
    (1234.45, 1, "1234.5"),
])
def test_round_half_up(x: float, places: int, expected: str) -> None:
    assert round_half_up(x, places) == Decimal(expected)
    assert str(round_half_up(x, places)) == expected


def test_text_formats() -> None:
    assert fmt_hours(0.25) == "0.3" and fmt_hours(2 / 60) == "0.0" and fmt_hours(22 / 60) == "0.4"
    assert fmt_rate(0.0625) == "6.3%" and fmt_rate(22 / 24) == "91.7%" and fmt_rate(0.649) == "64.9%"
    assert fmt_rate(1.0) == "100.0%" and fmt_rate(0.0) == "0.0%"
    assert fmt_rate(float("nan")) == "—" and fmt_hours(float("nan")) == "—"


# --- markdown ---------------------------------------------------------------------------------
def test_markdown(table: pd.DataFrame) -> None:
    text = render(table, APRIL, "md", None)
    assert isinstance(text, str)
    lines = text.splitlines()
    assert lines[0] == "## RPA・AI-OCR 削減効果報告 2026年4月"
    assert lines[1] == ""
    assert lines[2] == "| " + " | ".join(HEADERS) + " |"
    assert lines[3] == "| --- | --- | " + " | ".join(["---:"] * 9) + " |"
    # 導入後 split: the 要確認's 2.0 min are an estimate; 環境衛生課's 15 min were measured (確認済);
    # imported rows are neither
    assert lines[4] == "| 子育て支援課 | 子ども医療費申請入力 | 3 | 0.4 | 0.0 | 0.0 | 0.0 | 0.4 | 91.7% | 0.0 | 33.3% |"
    assert lines[5] == "| 環境衛生課 | 飲食店営業許可入力 | 1 | 0.3 | 0.3 | 0.3 | 0.0 | 0.0 | 6.3% | 0.0 | 100.0% |"
    assert lines[6] == "| 税務課 | 新規業務\\|試行 | 5 | 0.0 | 0.0 | — | — | 0.0 | — | 0.0 | — |"
    # totals: before 24+16 = 40 min = 0.667 h; after 17 min = 0.283 h; saved 23 min = 0.383 h;
    # rate 23/40 = 57.5%; review 2 of 4 kakari rows = 50.0%; robot 54 s = 0.015 h
    assert lines[7] == "| 合計 |  | 9 | 0.7 | 0.3 | 0.3 | 0.0 | 0.4 | 57.5% | 0.0 | 50.0% |"
    assert lines[8:] == ["", "削減率は 57.5% でした。",
                         "導入後 0.3 時間のうち、確認画面で実測した時間 0.3 時間・見積 0.0 時間（取り込んだ外部実績はどちらにも含みません）。"]


def test_markdown_to_file_and_empty_period(tmp_path: Path) -> None:
    empty = kpi_table(pd.DataFrame(columns=FRAME_COLUMNS), APRIL)
    out = render(empty, period_bounds(fiscal_year=2025), "md", tmp_path / "r.md")
    assert out == tmp_path / "r.md"
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "## RPA・AI-OCR 削減効果報告 令和7年度"
    assert lines[4] == "| 合計 |  | 0 | 0.0 | 0.0 | — | — | 0.0 | — | 0.0 | — |"
    assert lines[-1] == "令和7年度の記録はありません (自動化された処理も取り込んだ実績もありません)。"  # said plainly


# --- csv --------------------------------------------------------------------------------------
def test_csv_file_has_bom_headers_and_rounded_values(tmp_path: Path, table: pd.DataFrame) -> None:
    out = render(table, APRIL, "csv", tmp_path / "report.csv")
    raw = Path(out).read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == CSV_HEADER
    assert rows[1] == ["子育て支援課", "子ども医療費申請入力", "3", "0.4", "0.0", "0.4", "91.7", "0.0"]
    assert rows[2][4] == "0.3" and rows[2][6] == "6.3"  # half up, a percent number
    assert rows[3][1] == "新規業務|試行" and rows[3][6] == ""  # undefined rate: empty, not a symbol
    assert rows[-1][:3] == ["合計", "", "9"] and rows[-1][6] == "57.5"
    # what a spreadsheet program or pandas reads back: numbers
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert list(df.columns) == CSV_HEADER and len(df) == 4
    assert df["削減率"].dtype.kind == "f" and df["件数"].dtype.kind == "i"


def test_csv_text_starts_with_bom(table: pd.DataFrame) -> None:
    text = render(table, APRIL, "csv", None)
    assert isinstance(text, str) and text.startswith("\ufeff原課,業務名,件数,")


# --- xlsx -------------------------------------------------------------------------------------
def test_xlsx_reopened(tmp_path: Path, table: pd.DataFrame) -> None:
    out = tmp_path / "sub" / "report.xlsx"
    assert render(table, APRIL, "xlsx", out) == out
    assert [p.name for p in out.parent.iterdir()] == ["report.xlsx"]  # no temp file left behind
    ws = openpyxl.load_workbook(out).active
    assert ws["A1"].value == "RPA・AI-OCR 削減効果報告 2026年4月" and ws["A1"].font.b
    assert [c.value for c in ws[2]] == HEADERS
    assert all(c.font.b and c.fill.fill_type == "solid" for c in ws[2])
    assert ws.freeze_panes == "A3"

    r = {h: c for h, c in zip(HEADERS, ws[3])}
    assert [r[h].value for h in HEADERS[:3]] == ["子育て支援課", "子ども医療費申請入力", 3]
    assert r["導入前(時間)"].value == 0.4 and r["導入後(時間)"].value == 0.0 and r["削減時間(時間)"].value == 0.4
    assert r["削減率"].value == 0.917 and r["要確認率"].value == 0.333  # rates stored to 3 decimals, shown as 91.7%
    hours = [h for h in HEADERS if h.endswith("(時間)")]
    assert all(r[h].number_format == "#,##0.0" for h in hours)  # one decimal, as every other format shows
    assert r["削減率"].number_format == "0.0%" and r["要確認率"].number_format == "0.0%"
    assert not r["原課"].font.b

    kan = {h: c.value for h, c in zip(HEADERS, ws[4])}
    assert kan["導入後(時間)"] == 0.3 and kan["削減率"] == 0.063  # half up: 0.25 h and 6.25%
    zei = {h: c.value for h, c in zip(HEADERS, ws[5])}
    assert zei["削減率"] == "—" and zei["要確認率"] == "—" and zei["導入後のうち実測(時間)"] == "—"

    tot = ws[6]
    assert [c.value for c in tot] == ["合計", None, 9, 0.7, 0.3, 0.3, 0.0, 0.4, 0.575, 0.0, 0.5]
    assert all(c.font.b and c.border.top.style == "thin" for c in tot)
    assert ws["A8"].value == "削減率は 57.5% でした。"
    assert ws["A9"].value.startswith("導入後 0.3 時間のうち、確認画面で実測した時間 0.3 時間")
    assert ws.max_row == 9 and len(ws._charts) == 1
    # printed as the PDF: A4 landscape, one page wide, the header row repeated
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0 and ws.print_title_rows == "$2:$2"

    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    # 業務名 "子ども医療費申請入力" is 10 full-width characters = 20 columns of display width
    assert widths["B"] >= 20 and all(widths[k] >= 8 for k in "ABCDEFGHIJK")


def test_xlsx_overwrites_atomically(tmp_path: Path, table: pd.DataFrame) -> None:
    out = tmp_path / "report.xlsx"
    render(kpi_table(pd.DataFrame(columns=FRAME_COLUMNS), APRIL), APRIL, "xlsx", out)
    assert openpyxl.load_workbook(out).active["A5"].value == "2026年4月の記録はありません (自動化された処理も取り込んだ実績もありません)。"
    render(table, APRIL, "xlsx", out)
    assert openpyxl.load_workbook(out).active["A6"].value == "合計"


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    out.write_text("old", encoding="utf-8")

    def broken(p: Path) -> None:
        p.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomic(out, broken)
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_bad_requests(table: pd.DataFrame) -> None:
    with pytest.raises(ReportError, match="出力ファイル"):
        render(table, APRIL, "xlsx", None)
    with pytest.raises(ReportError, match="pdf"):
        render(table, APRIL, "pdf", None)  # type: ignore[arg-type]
