"""A bot that is not a form reader (時間外勤務実績の集計): sections' xlsx sheets → one summary ledger,
with the time saved logged like documents, exactly once, runnable on a schedule."""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import openpyxl

from connectors.excel import read_ledger
from jobs.runner import run_job
from jobs.store import Store
from jobs.timelog import TOKYO, TimeLog
from kakari.config import RunContext, load_config
from schedule.scheduler import Scheduler


def sheet(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["所属", "職員番号", "氏名", "日付", "時間外(時間)"])
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def setup(tmp_path: Path) -> tuple:
    cfg = tmp_path / "kakari.toml"
    cfg.write_text('[jobs.zangyo]\ndepartment = "人事課"\nbots = ["overtime_summary"]\n'
                   'ledger = "ledgers/時間外勤務集計.xlsx"\nschedule = "0 7 1 * *"\n', encoding="utf-8")
    config = load_config(cfg, tmp_path / "home")
    job = config.job("zangyo")
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    return config, job, inbox


def test_sheets_become_ledger_rows_once_with_time_saved(tmp_path: Path) -> None:
    config, job, inbox = setup(tmp_path)
    a = sheet(tmp_path / "市民課_10月.xlsx", [["市民課", "A001", "山田 花子", "2026-10-01", 2.5],
                                              ["市民課", "A002", "佐藤 一郎", "令和8年10月2日", 1]])
    b = sheet(tmp_path / "税務課_10月.xlsx", [["税務課", "B010", "鈴木 次郎", "2026/10/03", "3.0"],
                                              ["税務課", "", "高橋 三郎", "2026-10-04", 1.0],   # no staff number
                                              ["税務課", "B012", "田中 四郎", "2026-10-05", 30]])  # 30 h in a day
    (inbox / "壊れた.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    for f in (a, b):
        shutil.copy2(f, inbox / f.name)
    s = run_job(job, RunContext(config))
    assert s.counts["read"] == 5 and s.counts["自動登録"] == 3 and s.counts["要確認"] == 2
    rows = read_ledger(job.ledger_path(config.home))
    assert [r["職員番号"] for r in rows] == ["A001", "A002", "B010", None, "B012"]
    assert rows[1]["日付"] == "2026-10-02" and rows[2]["時間外(時間)"] == 3.0
    assert {r["状態"] for r in rows[3:]} == {"要確認"} and "職員番号が空" in rows[3]["備考"]
    folders = job.folders(config.home)
    assert sorted(p.name for p in folders["archive"].iterdir()) == ["市民課_10月.xlsx", "税務課_10月.xlsx"]
    assert "Excel" in (folders["errors"] / "壊れた.xlsx.error.txt").read_text(encoding="utf-8")
    frame = TimeLog(Store(config.database_url)).frame()
    assert len(frame) == 5 and set(frame["task"]) == {"時間外勤務実績の集計"} and set(frame["department"]) == {"人事課"}
    assert frame["minutes_before"].sum() == 5 * 1.5

    # the same sheet sent again: nothing doubled
    shutil.copy2(a, inbox / "再送_市民課_10月.xlsx")
    again = run_job(job, RunContext(config))
    assert all(o.replayed for o in again.outcomes) and len(again.outcomes) == 2
    assert len(read_ledger(job.ledger_path(config.home))) == 5
    assert len(TimeLog(Store(config.database_url)).frame()) == 5


def test_task_bot_runs_on_its_schedule(tmp_path: Path) -> None:
    config, job, inbox = setup(tmp_path)
    sheet(inbox / "会計課.xlsx", [["会計課", "C001", "伊藤 五郎", "2026-10-30", 4]])
    s = Scheduler(config, clock=lambda: datetime(2026, 10, 31, 9, tzinfo=TOKYO))
    assert [e.name for e in s.entries] == ["zangyo"]
    s.tick(datetime(2026, 10, 31, 9, tzinfo=TOKYO))
    assert s.tick(datetime(2026, 11, 1, 7, 0, tzinfo=TOKYO)) == [("zangyo", "started")]
    s.wait_idle()
    assert [r["職員番号"] for r in read_ledger(job.ledger_path(config.home))] == ["C001"]
    assert Store(config.database_url).runs_for("zangyo")[0]["trigger"] == "schedule"
