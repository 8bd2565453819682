"""時間外勤務実績の集計: each section's overtime sheet (xlsx) dropped in the job's inbox becomes rows of
one summary ledger — a task bot (``run``), not a form reader.

A row's id is the hash of its file's bytes and its row number, so a sheet sent twice adds nothing.
A sheet that cannot be read goes to errors/ with its reason; a row with a missing staff number, an
unreadable date or hours outside 0–24 goes to 要確認 with the reason, the others are registered.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from connectors.folder import free_name, is_ignored
from kakari import Bot, Record
from kakari.config import RunContext
from kakari.model import Field

COLUMNS = {  # field → headers accepted in a section's sheet
    "section": ("所属", "課", "所属課"),
    "staff_id": ("職員番号", "職員No", "職員ID"),
    "name": ("氏名", "職員名"),
    "day": ("日付", "勤務日"),
    "hours": ("時間外", "時間外(時間)", "時間外勤務時間", "時間"),
}


class OvertimeSummary(Bot):
    name = "overtime_summary"
    task = "時間外勤務実績の集計"
    manual_minutes = 1.5  # typing one row into the summary by hand, measured in 人事課
    ledger = (("section", "所属"), ("staff_id", "職員番号"), ("name", "氏名"), ("day", "日付"),
              ("hours", "時間外(時間)"))

    def run(self, ctx: RunContext) -> Iterator[Record]:
        folders = ctx.extras["job"].folders(ctx.home)
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(folders["inbox"].iterdir()):
            if is_ignored(path.name) or not path.is_file():
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            try:
                rows = _read_sheet(path)
            except ValueError as e:
                _move(path, folders["errors"], digest, reason=str(e))
                continue
            for line, cells in rows:
                yield _record(digest, path.name, line, cells)
            _move(path, folders["archive"], digest)


def _read_sheet(path: Path) -> list[tuple[int, dict[str, Any]]]:
    from connectors.tabular import ImportError_, read_table

    try:
        return read_table(path, COLUMNS, ("staff_id", "day", "hours"))
    except ImportError_ as e:
        raise ValueError(e.message) from None


def _record(digest: str, source: str, line: int, cells: dict[str, Any]) -> Record:
    from connectors.tabular import day, number

    doc_id = hashlib.sha256(f"{digest}:{line}".encode()).hexdigest()
    rec = Record(doc_id=doc_id, bot=OvertimeSummary.name, meta={"source": f"{source} {line}行目"})

    def put(name: str, label: str, value: Any, problem: str = "", personal: bool = False) -> None:
        rec.fields[name] = Field(name, label, value, raw=str(cells.get(name) or ""), personal=personal,
                                 problems=[problem] if problem else [])

    put("section", "所属", str(cells.get("section") or "").strip() or None)
    staff = str(cells.get("staff_id") or "").strip()
    put("staff_id", "職員番号", staff or None, "" if staff else "職員番号が空です")
    put("name", "氏名", str(cells.get("name") or "").strip() or None, personal=True)
    try:
        when: date | None = day(cells.get("day"), "日付")
        put("day", "日付", when.isoformat())
    except ValueError as e:
        put("day", "日付", None, str(e))
    try:
        hours = number(cells.get("hours"), "時間外")
        put("hours", "時間外(時間)", hours, "" if hours <= 24 else f"1日の時間外が {hours:g} 時間になっています")
    except ValueError as e:
        put("hours", "時間外(時間)", None, str(e))
    return rec


def _move(path: Path, folder: Path, digest: str, reason: str = "") -> None:
    target = free_name(folder, path.name, digest)
    if reason:
        (folder / f"{target.name}.error.txt").write_text(f"ファイル: {path.name}\n理由: {reason}\n", encoding="utf-8")
    os.replace(path, target)
