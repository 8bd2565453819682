"""The database schema belongs to Alembic (jobs/migrations/versions): every Store brings its database
to the newest revision on first use in a process, and `kakari db upgrade` does it on purpose.

Before a SQLite database that holds data is changed, a copy is kept in backups/ beside it. Two
processes starting at once never migrate twice: SQLite waits on a lock file beside the database,
PostgreSQL on an advisory lock inside the migrating transaction.
"""
from __future__ import annotations

import threading
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from kakari.log import logger

SCRIPTS = Path(__file__).with_name("migrations")
_PG_LOCK = 0x6B616B61  # "kaka": the advisory lock key of kakari's migrations
_ready: set[str] = set()
_guard = threading.Lock()


def alembic_config(connection: Connection | None = None, target_metadata: Any = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    cfg.attributes["target_metadata"] = target_metadata
    return cfg


@lru_cache(maxsize=1)
def head() -> str:
    """The newest revision the installed kakari knows."""
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert found is not None
    return found


def current(conn: Connection) -> str | None:
    """The revision the database is at (None: new, or made by 0.1.0 before migrations)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def ensure_current(engine: Engine) -> None:
    """Upgrade the database once per process and URL (the cheap check after that is a set lookup)."""
    key = engine.url.render_as_string()
    if key in _ready:
        return
    with _guard:
        if key not in _ready:
            upgrade(engine)
            _ready.add(key)


def upgrade(engine: Engine, backup: bool = True) -> tuple[str | None, str]:
    """Bring the database to head; (revision before, revision after). A SQLite database with data
    is copied to backups/ first."""
    target = head()
    with _lock(engine):
        with engine.connect() as conn:
            was = current(conn)
            has_tables = bool(inspect(conn).get_table_names())
        if was == target:
            return was, target
        if backup and has_tables and engine.dialect.name == "sqlite" and engine.url.database:
            from jobs.backup import backup_sqlite

            db = Path(engine.url.database)
            copy = db.parent / "backups" / f"{db.stem}-{datetime.now():%Y%m%d-%H%M%S}-before-{target}{db.suffix}"
            backup_sqlite(db, copy)
            logger.warning(f"データベースを更新します ({was or '0.1.0'} → {target})。更新前の写し: {copy}")
        from alembic import command

        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
                if current(conn) == target:  # another process finished it while we waited
                    return was, target
            command.upgrade(alembic_config(conn), "head")
    return was, target


class _lock:
    """Across processes: a lock file beside a SQLite database (PostgreSQL locks in the transaction)."""

    def __init__(self, engine: Engine) -> None:
        self.path = None
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            self.path = Path(str(engine.url.database) + ".migrate.lock")
        self._lock: FileLock | None = None

    def __enter__(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = FileLock(self.path, thread_local=False)
            self._lock.acquire(timeout=600, poll_interval=0.1)

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()
