"""kpi/pdf.py: the report printed by headless Chromium — A4 landscape, a long table paginated with
its header row on every page, every word inside the margins, nothing smaller than 9 pt."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pdfplumber
import pytest

from jobs import timelog
from jobs.store import Store
from jobs.timelog import TOKYO, TaskRecord
from kakari.config import KakariConfig, KpiConfig
from kakari.errors import MissingDependency
from kpi.metrics import period_bounds
from kpi.pdf import find_browser
from kpi.report import render
from kpi.table import gather

OCTOBER = period_bounds(month="2026-10")
A4_LANDSCAPE = (841.89, 595.28)  # points
MARGIN = 12 / 25.4 * 72  # the report's @page margin, 12 mm


def test_a_long_table_is_paginated_inside_the_margins(tmp_path: Path) -> None:
    config = KakariConfig(home=tmp_path, kpi=KpiConfig(target_rate=0.5, hourly_cost=2800))
    store = Store(config.database_url)
    with store.begin() as conn:  # 60 tasks in 6 原課, long names: more rows than one page holds
        for n in range(60):
            when = datetime(2026, 10, 1 + n % 28, 9, tzinfo=TOKYO)
            timelog.record(conn, TaskRecord(
                doc_id=f"d{n}", job="j", step="ledger", department=f"第{n % 6 + 1}課（窓口）",
                task=f"業務{n:02d} 住民異動届に伴う国民健康保険資格取得届の受付入力", bot="b",
                status="要確認" if n % 3 else "自動登録", started=when, finished=when + timedelta(seconds=20),
                minutes_before=8.0, minutes_after=2.0 if n % 3 else 0.0))
    pdf = Path(render(gather(config, OCTOBER), OCTOBER, "pdf", tmp_path / "r.pdf"))
    with pdfplumber.open(pdf) as doc:
        pages = doc.pages
        assert all(abs(p.width - A4_LANDSCAPE[0]) < 1.5 and abs(p.height - A4_LANDSCAPE[1]) < 1.5
                   for p in pages)  # A4 landscape
        table_pages = [p for p in pages if p.extract_tables()]
        assert len(table_pages) >= 8  # the summary spans pages, then each 原課 and the trend
        for page in table_pages:
            words = page.extract_words()
            assert words
            footer = page.height - MARGIN  # the page number is printed in the bottom margin
            for w in words:
                if w["top"] >= footer:
                    continue
                assert w["x0"] >= MARGIN - 1 and w["x1"] <= page.width - MARGIN + 1, w
                assert w["top"] >= MARGIN - 1, w
            sizes = {round(c["size"], 1) for c in page.chars}
            assert min(sizes) >= 9.0, sizes
            tables = page.extract_tables()
            assert tables  # the ruled table, and on every page its header row first (repeated by the print)
            first = ["".join((c or "").split()) for c in max(tables, key=len)[0]]
            assert first[0] in ("原課", "月") and "導入前(時間)" in first, first
        # the summary table runs over several pages, a header row on each, until its totals row
        summary, pages_used = [], 0
        for page in table_pages:
            body = [r for r in max(page.extract_tables(), key=len)[1:]]
            pages_used += 1
            ends = [i for i, r in enumerate(body) if "".join((r[0] or "").split()) == "合計"]
            summary += body[: ends[0]] if ends else body
            if ends:
                break
        assert pages_used >= 2 and len(summary) == 60  # every task once, none lost at a page break


def test_the_browser_is_found_by_configuration_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "chrome"
    fake.write_text("")
    monkeypatch.setenv("KAKARI_CHROMIUM", str(fake))
    assert find_browser() == fake
    monkeypatch.setenv("KAKARI_CHROMIUM", str(tmp_path / "missing"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingDependency, match="Chromium") as e:
        find_browser()
    assert "KAKARI_CHROMIUM" in (e.value.fix or "")
