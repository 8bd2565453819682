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
HEADERS = ["原課", "業務名", "件数", "導入前(時間)", "導入後(時間)", "削減時間(時間)", "削減率", "RPA処理時間(時間)", "要確認率"]
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
    assert lines[3] == "| --- | --- | " + " | ".join(["---:"] * 7) + " |"
    assert lines[4] == "| 子育て支援課 | 子ども医療費申請入力 | 3 | 0.4 | 0.0 | 0.4 | 91.7% | 0.0 | 33.3% |"
    assert lines[5] == "| 環境衛生課 | 飲食店営業許可入力 | 1 | 0.3 | 0.3 | 0.0 | 6.3% | 0.0 | 100.0% |"
    assert lines[6] == "| 税務課 | 新規業務\\|試行 | 5 | 0.0 | 0.0 | 0.0 | — | 0.0 | — |"
    # totals: before 24+16 = 40 min = 0.667 h; after 17 min = 0.283 h; saved 23 min = 0.383 h;
    # rate 23/40 = 57.5%; review 2 of 4 kakari rows = 50.0%; robot 54 s = 0.015 h
    assert lines[7] == "| 合計 |  | 9 | 0.7 | 0.3 | 0.4 | 57.5% | 0.0 | 50.0% |"
    assert len(lines) == 8


def test_markdown_to_file_and_empty_period(tmp_path: Path) -> None:
    empty = kpi_table(pd.DataFrame(columns=FRAME_COLUMNS), APRIL)
    out = render(empty, period_bounds(fiscal_year=2025), "md", tmp_path / "r.md")
    assert out == tmp_path / "r.md"
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "## RPA・AI-OCR 削減効果報告 令和7年度"
    assert lines[-1] == "| 合計 |  | 0 | 0.0 | 0.0 | 0.0 | — | 0.0 | — |"


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

    r = [c for c in ws[3]]
    assert [c.value for c in r[:3]] == ["子育て支援課", "子ども医療費申請入力", 3]
    assert r[3].value == 0.4 and r[4].value == 0.0 and r[5].value == 0.4 and r[7].value == 0.0
    assert r[6].value == 0.917 and r[8].value == 0.333  # rates stored to 3 decimals, shown as 91.7%
    assert all(c.number_format == "#,##0" for c in (r[3], r[4], r[5], r[7]))  # whole hours, as published
    assert r[6].number_format == "0.0%" and r[8].number_format == "0.0%"
    assert not r[0].font.b

    kan = [c.value for c in ws[4]]
    assert kan[4] == 0.3 and kan[6] == 0.063  # half up: 0.25 h and 6.25%
    zei = [c.value for c in ws[5]]
    assert zei[6] == "—" and zei[8] == "—"

    tot = ws[6]
    assert [c.value for c in tot] == ["合計", None, 9, 0.7, 0.3, 0.4, 0.575, 0.0, 0.5]
    assert all(c.font.b and c.border.top.style == "thin" for c in tot)
    assert ws["A8"].value == "削減率は 57.5% でした。"
    assert ws.max_row == 8 and len(ws._charts) == 1

    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    # 業務名 "子ども医療費申請入力" is 10 full-width characters = 20 columns of display width
    assert widths["B"] >= 20 and all(widths[k] >= 8 for k in "ABCDEFGHI")


def test_xlsx_overwrites_atomically(tmp_path: Path, table: pd.DataFrame) -> None:
    out = tmp_path / "report.xlsx"
    render(kpi_table(pd.DataFrame(columns=FRAME_COLUMNS), APRIL), APRIL, "xlsx", out)
    assert openpyxl.load_workbook(out).active["A5"].value == "削減率は — でした。"
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
