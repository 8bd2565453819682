"""The 子育て支援総合システム's own database (stdlib sqlite3). No duplicate check: like many real systems,
it registers whatever it is sent, so only a search by 整理番号 keeps a replay from entering twice."""
from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kakari.wareki import wareki_parts

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


class KosodateDB:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn:
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def register(self, values: dict[str, Any], user: str) -> str:
        """Insert one record in one transaction; the 受付番号 counts per 令和 year of registration."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            _, year, _, _ = wareki_parts(date.today())
            name = f"R{year}"
            conn.execute("INSERT OR IGNORE INTO counters(name, value) VALUES (?, 0)", (name,))
            conn.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (name,))
            seq = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0]
            receipt = f"{name}-{seq:06d}"
            cols = ["receipt_no", *COLUMNS, "created_at", "created_by"]
            row = [receipt, *[values.get(c) for c in COLUMNS], datetime.now().isoformat(timespec="seconds"), user]
            conn.execute(f"INSERT INTO jukyu({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", row)
            conn.execute("COMMIT")
            return receipt
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

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
