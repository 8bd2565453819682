"""The 子育て支援総合システム's own database (stdlib sqlite3). No duplicate check: like many real systems,
it registers whatever it is sent, so only a search by 整理番号 keeps a replay from entering twice."""
from __future__ import annotations

from contextlib import closing
from datetime import date
from typing import Any

from kakari.wareki import wareki_parts
from samples.backoffice.store import SampleDB, insert_entry, next_number, writing

COLUMNS = ["seiri_no", "applied_on", "guardian_name", "guardian_kana", "guardian_birth", "postal_code", "address",
           "tel", "child_name", "child_kana", "child_birth", "child_sex", "relationship", "insurance_type",
           "insurance_symbol", "insurance_number", "insurer_number", "insurer_name", "other_aid",
           "attachment_name", "attachment_size", "attachment_sha256"]
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS jukyu (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_no TEXT NOT NULL UNIQUE,
    {", ".join(f"{c} TEXT" if c != "attachment_size" else f"{c} INTEGER" for c in COLUMNS)},
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_jukyu_seiri ON jukyu(seiri_no);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class KosodateDB(SampleDB):
    schema = SCHEMA

    def register(self, values: dict[str, Any], user: str) -> str:
        """Insert one record in one transaction; the 受付番号 counts per 令和 year of registration."""
        with writing(self.path) as conn:
            _, year, _, _ = wareki_parts(date.today())
            receipt = f"R{year}-{next_number(conn, f'R{year}'):06d}"
            insert_entry(conn, "jukyu", COLUMNS, values, receipt, user)
        return receipt

    def find(self, seiri_no: str = "", child: str = "", limit: int = 50) -> list[dict[str, Any]]:
        q, args = "SELECT * FROM jukyu WHERE 1=1", []
        if seiri_no:
            q += " AND seiri_no = ?"
            args.append(seiri_no)
        if child:
            q += " AND (child_name LIKE ? OR child_kana LIKE ?)"
            args += [f"%{child}%", f"%{child}%"]
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute(q + " ORDER BY id DESC LIMIT ?", [*args, limit])]

    def get(self, receipt_no: str) -> dict[str, Any] | None:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT * FROM jukyu WHERE receipt_no = ?", (receipt_no,)).fetchone()
        return dict(row) if row else None

    def all(self) -> list[dict[str, Any]]:
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute("SELECT * FROM jukyu ORDER BY id")]
