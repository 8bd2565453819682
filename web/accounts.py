"""Accounts for kakari web: argon2id password hashes, three roles, a 原課 per clerk."""
from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, DateTime, String, Table, Text, select

from jobs.store import Store, metadata, now
from kakari.errors import ConfigError

users = Table(  # kakari web accounts: clerks see their own 原課 only
    "users", metadata,
    Column("username", String(100), primary_key=True),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", String(20), nullable=False),  # clerk, manager, admin
    Column("section", String(100)),  # 原課 (clerks)
    Column("created", DateTime(timezone=True)),
)

ROLES = ("clerk", "manager", "admin")
_hasher = PasswordHasher()
# verifying against this keeps a wrong user name as slow as a wrong password (no user enumeration)
_DUMMY = _hasher.hash("kakari-dummy-password")


@dataclass(frozen=True)
class User:
    username: str
    role: str
    section: str | None

    def may_see(self, department: str | None) -> bool:
        """Clerks: their own 原課 only. Managers and admins: every section."""
        return self.role in ("manager", "admin") or (self.section is not None and department == self.section)


def add_user(store: Store, username: str, password: str, role: str, section: str | None) -> User:
    if role not in ROLES:
        raise ConfigError(f"役割「{role}」はありません ({'・'.join(ROLES)})")
    if role == "clerk" and not section:
        raise ConfigError("担当職員 (clerk) には原課 (--section) が必要です")
    if len(password) < 10:
        raise ConfigError("パスワードは10文字以上にしてください")
    with store.begin() as conn:
        if conn.execute(select(users.c.username).where(users.c.username == username)).first():
            raise ConfigError(f"利用者「{username}」は既にあります")
        conn.execute(users.insert(), {"username": username, "password_hash": _hasher.hash(password), "role": role,
                                      "section": section, "created": now()})
    return User(username, role, section)


def authenticate(store: Store, username: str, password: str) -> User | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return User(row["username"], row["role"], row["section"]) if row else None


def get_user(store: Store, username: str) -> User | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return User(row["username"], row["role"], row["section"]) if row else None
