"""The sample system's own database (stdlib sqlite3): registered applications and receipt numbers."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_no TEXT NOT NULL UNIQUE,          -- 受付番号
    kakari_ref TEXT,                          -- 外部連携番号 (optional; duplicates refused when checked)
    applied_on TEXT NOT NULL,                 -- ISO date, converted from the 和暦 the clerk typed
    applicant_type TEXT NOT NULL,             -- 個人 | 法人
    applicant_name TEXT NOT NULL,             -- 姓　名 or 法人名称
    applicant_kana TEXT NOT NULL,
    representative TEXT,
    corporate_number TEXT,
    postal_code TEXT NOT NULL,                -- NNN-NNNN
    address TEXT NOT NULL,                    -- 都道府県 + 市区町村 + 町域以下
    tel TEXT NOT NULL,
    shop_name TEXT NOT NULL,
    shop_address TEXT NOT NULL,
    shop_tel TEXT,
    business_type TEXT NOT NULL,
    manager_name TEXT NOT NULL,
    manager_qualification TEXT NOT NULL,
    seating INTEGER NOT NULL,
    seat_count INTEGER,
    seat_area REAL,
    fee INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_applications_kakari_ref ON applications(kakari_ref);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

COLUMNS = ["kakari_ref", "applied_on", "applicant_type", "applicant_name", "applicant_kana", "representative",
           "corporate_number", "postal_code", "address", "tel", "shop_name", "shop_address", "shop_tel",
           "business_type", "manager_name", "manager_qualification", "seating", "seat_count", "seat_area", "fee"]


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, every commit on disk."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


@contextmanager
def writing(path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (BEGIN IMMEDIATE): committed, or rolled back on any error."""
    conn = connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


def next_number(conn: sqlite3.Connection, counter: str) -> int:
    """The next number of a counter (a 受付番号 series), inside the caller's transaction."""
    conn.execute("INSERT OR IGNORE INTO counters(name, value) VALUES (?, 0)", (counter,))
    conn.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (counter,))
    return int(conn.execute("SELECT value FROM counters WHERE name = ?", (counter,)).fetchone()[0])


def insert_entry(conn: sqlite3.Connection, table: str, columns: list[str], values: dict[str, Any], receipt: str,
                 user: str) -> None:
    """One registered entry: its 受付番号, the columns, who registered it and when."""
    cols = ["receipt_no", *columns, "created_at", "created_by"]
    row = [receipt, *[values.get(c) for c in columns], datetime.now().isoformat(timespec="seconds"), user]
    conn.execute(f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", row)


class Duplicate(Exception):
    """The 外部連携番号 is registered already; carries the existing 受付番号."""

    def __init__(self, receipt_no: str) -> None:
        super().__init__(receipt_no)
        self.receipt_no = receipt_no


class SampleDB:
    """A sample system's database file, created with its schema on first use."""

    schema = ""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn:
            conn.executescript(self.schema)

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path)


class BackofficeDB(SampleDB):
    schema = SCHEMA

    def register(self, values: dict[str, Any], user: str, check_duplicates: bool = True) -> str:
        """Insert one application in one transaction and return its new 受付番号. With `check_duplicates`
        a 外部連携番号 already registered raises Duplicate (many real systems have no such check)."""
        with writing(self.path) as conn:  # serialises the duplicate check, the counter and the insert
            ref = values.get("kakari_ref") or None
            if ref and check_duplicates:
                row = conn.execute("SELECT receipt_no FROM applications WHERE kakari_ref = ?", (ref,)).fetchone()
                if row:
                    raise Duplicate(row["receipt_no"])
            year = int(values["applied_on"][:4])
            fiscal = year - 1 if int(values["applied_on"][5:7]) < 4 else year
            name = f"R{fiscal - 2018}"
            receipt = f"{name}-衛-{next_number(conn, name):06d}"
            insert_entry(conn, "applications", COLUMNS, values | {"kakari_ref": ref}, receipt, user)
        return receipt

    def search(self, kakari_ref: str = "", name: str = "", limit: int = 50) -> list[dict[str, Any]]:
        q = "SELECT * FROM applications WHERE 1=1"
        args: list[Any] = []
        if kakari_ref:
            q += " AND kakari_ref = ?"
            args.append(kakari_ref)
        if name:
            q += " AND (applicant_name LIKE ? OR applicant_kana LIKE ?)"
            args += [f"%{name}%", f"%{name}%"]
        q += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute(q, args)]

    def get(self, receipt_no: str) -> dict[str, Any] | None:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT * FROM applications WHERE receipt_no = ?", (receipt_no,)).fetchone()
        return dict(row) if row else None

    def all(self) -> list[dict[str, Any]]:
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute("SELECT * FROM applications ORDER BY id")]
