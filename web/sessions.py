"""Server-side sessions of kakari web: the signed cookie carries only a random session id, the
database says whether it is still good. Logging out ends it; disabling a user or changing their
password ends all of theirs, at once and from any process (`kakari users disable`).

Only a hash of the id is stored, so a copy of the database cannot be replayed as a cookie. A session
ends `session_hours` after login or `idle_minutes` after its last request, whichever comes first.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, String, Table, delete, select, update

from jobs.store import Store, aware_utc, metadata, now
from kakari.config import WebConfig

sessions = Table(
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the id in the cookie
    Column("username", String(100), nullable=False, index=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("address", String(64)),
)

TOUCH_SECONDS = 60  # last_seen is written at most this often (not on every request)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


def start(store: Store, username: str, address: str | None) -> str:
    """A new session for `username`; returns the id to put in the cookie."""
    session_id = secrets.token_urlsafe(32)
    t = now()
    with store.begin() as conn:
        conn.execute(sessions.insert(), {"id_hash": _hash(session_id), "username": username, "created": t,
                                         "last_seen": t, "address": (address or "")[:64]})
    return session_id


def user_of(store: Store, session_id: str | None, web: WebConfig) -> str | None:
    """The user name of a live session, or None (unknown, logged out, revoked or expired)."""
    if not session_id:
        return None
    key = _hash(session_id)
    with store.engine.connect() as conn:
        row = conn.execute(select(sessions).where(sessions.c.id_hash == key)).mappings().first()
    if row is None:
        return None
    t = now()
    if _expired(row["created"], row["last_seen"], t, web):
        end(store, session_id)
        return None
    if (t - aware_utc(row["last_seen"])).total_seconds() > TOUCH_SECONDS:
        with store.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id_hash == key).values(last_seen=t))
    return row["username"]


def _expired(created: datetime, last_seen: datetime, t: datetime, web: WebConfig) -> bool:
    return (t - aware_utc(created) > timedelta(hours=web.session_hours)
            or t - aware_utc(last_seen) > timedelta(minutes=web.idle_minutes))


def end(store: Store, session_id: str | None) -> None:
    """Log out: this session is gone (a saved copy of its cookie opens nothing)."""
    if session_id:
        with store.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id_hash == _hash(session_id)))


def end_all(store: Store, username: str) -> int:
    """Every session of `username` (disabled, password reset); returns how many there were."""
    with store.begin() as conn:
        return conn.execute(delete(sessions).where(sessions.c.username == username)).rowcount or 0


def purge(store: Store, web: WebConfig) -> None:
    """Forget sessions that can no longer be used (called at each login, so the table stays small)."""
    t = now()
    oldest = t - timedelta(hours=web.session_hours)
    idle = t - timedelta(minutes=web.idle_minutes)
    with store.begin() as conn:
        conn.execute(delete(sessions).where((sessions.c.created < oldest) | (sessions.c.last_seen < idle)))


def count(store: Store, username: str) -> int:
    with store.engine.connect() as conn:
        return len(conn.execute(select(sessions.c.id_hash).where(sessions.c.username == username)).all())
