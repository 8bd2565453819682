"""`kakari timelog import`: savings of tasks automated outside kakari (other RPA scenarios, manual
improvements) join the same KPI table.

One row per task and period, minutes being totals for the row. Every row is checked first; one bad
row rejects the whole file with every bad line listed. A row's key is a hash of its content, so the
same file (or the same row in another file) imported twice counts once.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime, time, timedelta
from pathlib import Path

from connectors.tabular import ImportError_, day, number, read_table, text
from jobs import timelog
from jobs.store import Store
from jobs.timelog import TOKYO, TaskRecord

ALIASES = {
    "date": ("日付",),
    "department": ("原課",),
    "task": ("業務名",),
    "items": ("件数",),
    "before_minutes": ("導入前分",),
    "after_minutes": ("導入後分",),
    "robot_minutes": ("RPA処理分",),
}
REQUIRED = ("date", "department", "task", "items", "before_minutes", "after_minutes")
JOB = "import"


def import_timelog(store: Store, path: Path) -> tuple[int, int]:
    """Validate every row, then insert all in one transaction. Returns (new rows, rows already there)."""
    path = Path(path)
    rows, errors = [], []
    occurrences: dict[str, int] = defaultdict(int)
    for line, cells in read_table(path, ALIASES, REQUIRED):
        try:
            d = day(cells.get("date"))
            dept = text(cells.get("department"), "原課")
            task = text(cells.get("task"), "業務名")
            items = number(cells.get("items"), "件数")
            if items != int(items):
                raise ValueError(f"件数「{cells.get('items')}」は整数にしてください")
            before = number(cells.get("before_minutes"), "導入前分")
            after = number(cells.get("after_minutes"), "導入後分")
            robot = number(cells.get("robot_minutes") or 0, "RPA処理分")
        except ValueError as e:
            errors.append(f"  {line}行目: {e}")
            continue
        content = "\x1f".join([d.isoformat(), dept, task, str(int(items)), repr(before), repr(after), repr(robot)])
        occurrences[content] += 1  # the same line twice in one file is two real rows
        key = "import:" + hashlib.sha256(f"{content}\x1f{occurrences[content]}".encode()).hexdigest()
        start = datetime.combine(d, time(), tzinfo=TOKYO)
        rows.append(TaskRecord(doc_id=key, job=JOB, step="import", department=dept, task=task, bot="", status="",
                               started=start, finished=start + timedelta(minutes=robot), minutes_before=before,
                               minutes_after=after, baseline="measured", items=int(items),
                               source=f"import:{path.name}"[:40], work_date=d))
    if errors:
        raise ImportError_(f"{path.name} に誤りがあるため、1行も取り込みませんでした:\n" + "\n".join(errors))
    if not rows:
        raise ImportError_(f"{path.name}: 取り込む行がありません")
    with store.begin() as conn:
        new = timelog.record_many(conn, rows)
    return new, len(rows) - new
