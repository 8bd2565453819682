"""`kakari backup` / `kakari restore`: a consistent copy of the home's database and its return.

SQLite is copied with its online backup API (a snapshot even while a watcher writes); PostgreSQL
with pg_dump's custom format and put back with pg_restore. The password of a PostgreSQL URL goes to
the tools through PGPASSWORD, never on a command line.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from kakari.errors import ConfigError, MissingDependency
from kakari.locate import postgres_tool


def backup_sqlite(db: Path, dest: Path) -> Path:
    """A consistent copy of a live SQLite database (WAL included) at `dest`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()
    os.replace(tmp, dest)
    return dest


def backup(url: str, dest: Path, pg_bin: Path | None = None) -> Path:
    """Copy the database at `url` to `dest` (a .db file for SQLite, a pg_dump archive for PostgreSQL)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        db = Path(u.database or "")
        if not db.is_file():
            raise ConfigError(f"データベース {db} がありません")
        return backup_sqlite(db, dest)
    if u.get_backend_name() == "postgresql":
        dest.parent.mkdir(parents=True, exist_ok=True)
        _pg("pg_dump", pg_bin, u, ["--format=custom", f"--file={dest}"])
        return dest
    raise ConfigError(f"このデータベースの種類は写しを取れません: {u.get_backend_name()}")


def restore(url: str, src: Path, pg_bin: Path | None = None) -> None:
    """Put a backup made by `backup` back in place of the database at `url` (its data is replaced).
    The caller disposes of its pooled connections first and upgrades the schema after."""
    if not src.is_file():
        raise ConfigError(f"バックアップ {src} がありません")
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        _check_sqlite_backup(src)
        db = Path(u.database or "")
        db.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(db)
            try:
                source.backup(target)  # page by page under the target's lock: readers never see half
            finally:
                target.close()
        finally:
            source.close()
        return
    if u.get_backend_name() == "postgresql":
        _pg("pg_restore", pg_bin, u, ["--clean", "--if-exists", "--no-owner", "--single-transaction",
                                      "--exit-on-error", str(src)])
        return
    raise ConfigError(f"このデータベースの種類には戻せません: {u.get_backend_name()}")


def _check_sqlite_backup(src: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        ok, tables = False, set()
    if not ok or "documents" not in tables:
        raise ConfigError(f"{src} は kakari のデータベースのバックアップではないか、壊れています")


def _pg(tool: str, pg_bin: Path | None, u, args: list[str]) -> None:  # noqa: ANN001 - sqlalchemy URL
    exe = postgres_tool(tool, pg_bin)
    if exe is None:
        raise MissingDependency(f"{tool} が見つかりません (PostgreSQL のバックアップに必要です)",
                                "PostgreSQL のクライアントをインストールし、kakari.toml の pg_bin にその bin フォルダーを指定してください")
    env = os.environ.copy()
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    libpq = u.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    proc = subprocess.run([str(exe), f"--dbname={libpq}", *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ConfigError(f"{tool} が失敗しました: {proc.stderr.strip()[-500:]}")
