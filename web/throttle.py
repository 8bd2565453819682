"""Login throttling: wrong passwords are counted per account and per address, in the database (so a
restart or a second server process does not reset them).

After `login_attempts` wrong passwords in a row (within FAILURE_WINDOW) an account waits
`lockout_minutes`; an address that sent `address_attempts` wrong passwords (to any accounts) waits
as long. While it waits, even the right password is refused — before it is checked, so a guesser
also gets no answer and costs no argon2 time — and the clerk is told, in Japanese, how long.
`kakari users enable NAME` or `reset-password` lifts an account's wait at once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, String, Table, delete, select, update

from jobs.store import Store, aware_utc, insert_ignore, metadata, now
from kakari.config import WebConfig

FAILURE_WINDOW = timedelta(minutes=15)  # wrong passwords further apart than this no longer add up

login_failures = Table(
    "login_failures", metadata,
    Column("key", String(200), primary_key=True),  # "user:<name>" or "addr:<address>"
    Column("failures", Integer, nullable=False),
    Column("first_failure", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
)


@dataclass(frozen=True)
class Wait:
    """A refusal: who waits (account or address) and for how many seconds."""

    account: bool
    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))

    def message(self) -> str:
        if self.account:
            return (f"パスワードの誤りが続いたため、この利用者名でのログインを一時的に止めています。"
                    f"あと約{self.minutes}分待ってから、もう一度ログインしてください。"
                    "急ぐときは管理者 (情報政策係) にロックの解除を依頼してください。")
        return (f"この端末からのログインの失敗が続いたため、一時的に受け付けを止めています。"
                f"あと約{self.minutes}分待ってから、もう一度お試しください。")


def _keys(username: str, address: str | None) -> tuple[str, str]:
    return f"user:{username}"[:200], f"addr:{address or '-'}"[:200]


def waiting(store: Store, username: str, address: str | None) -> Wait | None:
    """The wait still to serve for this account or address, or None if a login may be tried."""
    user_key, addr_key = _keys(username, address)
    with store.engine.connect() as conn:
        rows = {r["key"]: r for r in conn.execute(
            select(login_failures).where(login_failures.c.key.in_([user_key, addr_key]))).mappings()}
    t = now()
    for key, account in ((user_key, True), (addr_key, False)):
        row = rows.get(key)
        if row is not None and row["locked_until"] is not None:
            left = (aware_utc(row["locked_until"]) - t).total_seconds()
            if left > 0:
                return Wait(account, math.ceil(left))
    return None


def failed(store: Store, username: str, address: str | None, web: WebConfig) -> Wait | None:
    """Count one wrong password; returns the wait it starts, if it was one too many."""
    t = now()
    wait = timedelta(minutes=web.lockout_minutes)
    started: Wait | None = None
    with store.begin() as conn:
        # names nobody has (a guesser's list) must not pile up: forget what no longer counts
        conn.execute(delete(login_failures).where(login_failures.c.first_failure < t - 4 * FAILURE_WINDOW,
                                                  (login_failures.c.locked_until.is_(None))
                                                  | (login_failures.c.locked_until < t)))
        for key, limit, account in ((_keys(username, address)[0], web.login_attempts, True),
                                    (_keys(username, address)[1], web.address_attempts, False)):
            insert_ignore(conn, login_failures, {"key": key, "failures": 0, "first_failure": t})
            row = conn.execute(select(login_failures).where(login_failures.c.key == key)).mappings().one()
            fresh = _stale(row["first_failure"], row["locked_until"], t)
            failures = 1 if fresh else row["failures"] + 1
            locked = t + wait if failures >= limit else None
            conn.execute(update(login_failures).where(login_failures.c.key == key).values(
                failures=failures, first_failure=t if fresh else row["first_failure"],
                locked_until=locked if locked else (None if fresh else row["locked_until"])))
            if locked and started is None:
                started = Wait(account, math.ceil(wait.total_seconds()))
    return started


def _stale(first: datetime, locked_until: datetime | None, t: datetime) -> bool:
    """Failures older than the window, or a wait already served, start counting again from one."""
    if locked_until is not None:
        return aware_utc(locked_until) <= t
    return t - aware_utc(first) > FAILURE_WINDOW


def succeeded(store: Store, username: str) -> None:
    """The right password (outside a wait): the account's count starts again. The address's does
    not, or a guesser with one account of their own could reset it between guesses."""
    clear(store, username)


def clear(store: Store, username: str) -> None:
    """Lift an account's wait and forget its failures (`kakari users enable` / `reset-password`)."""
    with store.begin() as conn:
        conn.execute(delete(login_failures).where(login_failures.c.key == _keys(username, None)[0]))


def locked_accounts(store: Store) -> dict[str, datetime]:
    """Account name → when its wait ends, for the accounts waiting now (`kakari users list`)."""
    t = now()
    with store.engine.connect() as conn:
        waiting_now = select(login_failures).where(login_failures.c.key.like("user:%"),
                                                    login_failures.c.locked_until.is_not(None))
        rows = conn.execute(waiting_now).mappings()
        return {r["key"][5:]: aware_utc(r["locked_until"]) for r in rows if aware_utc(r["locked_until"]) > t}
