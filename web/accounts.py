"""Accounts for kakari web: argon2id password hashes, three roles, a 原課 per clerk, and the rules a
user name and a password must follow.

A user name is compared as people read it: NFKC (full-width ｋａｃｈｏ is kacho) and without the
spaces around it, so `kacho ` and `kacho` are one account. A clerk's 原課 must be one of the
configured jobs' departments, spelled as the config spells it (else the clerk's queue would be
silently empty). A disabled account cannot log in, and its sessions end (web/sessions.py).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, Column, DateTime, String, Table, Text, select, text, update

from jobs.store import Store, metadata, now
from kakari.config import KakariConfig
from kakari.errors import ConfigError

users = Table(  # kakari web accounts: clerks see their own 原課 only
    "users", metadata,
    Column("username", String(100), primary_key=True),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", String(20), nullable=False),  # clerk, manager, admin
    Column("section", String(100)),  # 原課 (clerks)
    Column("created", DateTime(timezone=True)),
    Column("disabled", Boolean, nullable=False, default=False, server_default=text("FALSE")),
    Column("password_changed", DateTime(timezone=True)),
)

ROLES = ("clerk", "manager", "admin")
ROLE_NAMES = {"clerk": "担当職員", "manager": "管理職", "admin": "管理者"}
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes any length; a megabyte-long "password" is only a way to burn CPU
MAX_USERNAME = 64
_hasher = PasswordHasher()
# verifying against this keeps a wrong user name as slow as a wrong password (no user enumeration)
_DUMMY = _hasher.hash("kakari-dummy-password")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
# what people type when asked for a password; a password made of one of these (plus digits or
# symbols around it) is refused
_COMMON = frozenset({
    "password", "passw0rd", "p@ssw0rd", "p@ssword", "pass", "qwerty", "qwertyuiop", "asdfghjkl", "zxcvbnm",
    "abc", "abcd", "abcde", "abcdef", "iloveyou", "letmein", "welcome", "admin", "administrator", "root",
    "changeme", "secret", "test", "guest", "user", "login", "kakari", "master", "dragon", "monkey",
    "sunshine",
    "football", "baseball", "princess", "shadow", "superman", "trustno1", "hello", "default", "jichitai",
    "yakuba", "yakusho", "shiyakusho", "lgwan",
})
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm",
              "1qaz2wsx3edc4rfv5tgb", "1q2w3e4r5t6y7u8i9o0p")


@dataclass(frozen=True)
class User:
    username: str
    role: str
    section: str | None

    def may_see(self, department: str | None) -> bool:
        """Clerks: their own 原課 only. Managers and admins: every section."""
        return self.role in ("manager", "admin") or (self.section is not None and department == self.section)


@dataclass(frozen=True)
class Account:
    """A row of `kakari users list`."""

    username: str
    role: str
    section: str | None
    disabled: bool
    created: datetime | None


def normalise_username(name: str) -> str:
    """NFKC, spaces around it removed; refused if empty, too long or holding control characters."""
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not name:
        raise ConfigError("利用者名が空です。1文字以上の名前を付けてください")
    if len(name) > MAX_USERNAME:
        raise ConfigError(f"利用者名は{MAX_USERNAME}文字以内にしてください")
    if _UNPRINTABLE.search(name):
        raise ConfigError("利用者名に制御文字 (改行など) は使えません")
    return name


def password_problem(password: str, username: str = "") -> str | None:
    """Why a password is too weak, in Japanese, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"パスワードは{MIN_PASSWORD}文字以上にしてください"
    if len(password) > MAX_PASSWORD:
        return f"パスワードは{MAX_PASSWORD}文字以内にしてください"
    folded = unicodedata.normalize("NFKC", password).casefold()
    if folded.isdigit():
        return "数字だけのパスワードは使えません。英字や記号も混ぜてください"
    if len(set(folded)) < 5:
        return "パスワードに同じ文字や短い並びの繰り返しは使えません。5種類以上の文字を使ってください"
    name = unicodedata.normalize("NFKC", username).strip().casefold()
    if len(name) >= 3 and (name in folded or name[::-1] in folded):
        return "利用者名を含むパスワードは使えません"
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", folded)
    if core in _COMMON or any(folded in s or folded in s[::-1] for s in _SEQUENCES):
        return "よく使われるパスワードやキーボードの並びは使えません。推測されにくい言葉の組み合わせにしてください"
    return None


def sections_of(config: KakariConfig) -> list[str]:
    """The 原課 a clerk may belong to: the departments of the configured jobs."""
    return list(dict.fromkeys(j.department for j in config.jobs.values() if j.department))


def check_section(section: str, sections: Iterable[str]) -> str:
    """The configured spelling of `section` (compared after NFKC and trimming), or ConfigError."""
    known = list(sections)
    wanted = unicodedata.normalize("NFKC", section).strip()
    for s in known:
        if unicodedata.normalize("NFKC", s).strip() == wanted:
            return s
    listed = "・".join(known) if known else "(設定ファイルのジョブに原課 department がありません)"
    raise ConfigError(f"原課「{section.strip()}」は設定のジョブにありません。設定されている原課: {listed}")


def add_user(store: Store, username: str, password: str, role: str, section: str | None, *,
             sections: Iterable[str]) -> User:
    """A new account; `sections` are the configured 原課 (sections_of(config)) a clerk must be in."""
    username = normalise_username(username)
    if role not in ROLES:
        raise ConfigError(f"役割「{role}」はありません ({'・'.join(ROLES)})")
    if role == "clerk":
        if not section or not section.strip():
            raise ConfigError("担当職員 (clerk) には原課 (--section) が必要です")
        section = check_section(section, sections)
    else:
        section = check_section(section, sections) if section and section.strip() else None
    problem = password_problem(password, username)
    if problem:
        raise ConfigError(problem)
    with store.begin() as conn:
        if conn.execute(select(users.c.username).where(users.c.username == username)).first():
            raise ConfigError(f"利用者「{username}」は既にあります")
        conn.execute(users.insert(), {"username": username, "password_hash": _hasher.hash(password), "role": role,
                                      "section": section, "created": now(), "disabled": False,
                                      "password_changed": now()})
    return User(username, role, section)


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user, if the name and password match an enabled account; the same time spent either way."""
    try:
        username = normalise_username(username)
    except ConfigError:
        username = ""
    with store.engine.connect() as conn:
        query = select(users).where(users.c.username == username)
        row = conn.execute(query).mappings().first() if username else None
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY, password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row["disabled"]:
        return None
    return User(row["username"], row["role"], row["section"])


def get_user(store: Store, username: str) -> User | None:
    """An enabled account by its (normalised) name."""
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return User(row["username"], row["role"], row["section"]) if row and not row["disabled"] else None


def list_accounts(store: Store) -> list[Account]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).mappings().all()
    return [Account(r["username"], r["role"], r["section"], bool(r["disabled"]), r["created"]) for r in rows]


def _existing(store: Store, username: str) -> str:
    name = normalise_username(username)
    with store.engine.connect() as conn:
        if conn.execute(select(users.c.username).where(users.c.username == name)).first() is None:
            raise ConfigError(f"利用者「{name}」はありません (kakari users list)")
    return name


def set_disabled(store: Store, username: str, disabled: bool) -> str:
    """Disable or enable an account; returns its name. Ending its sessions is the caller's other step."""
    name = _existing(store, username)
    with store.begin() as conn:
        conn.execute(update(users).where(users.c.username == name).values(disabled=disabled))
    return name


def set_password(store: Store, username: str, password: str) -> str:
    name = _existing(store, username)
    problem = password_problem(password, name)
    if problem:
        raise ConfigError(problem)
    with store.begin() as conn:
        conn.execute(update(users).where(users.c.username == name)
                     .values(password_hash=_hasher.hash(password), password_changed=now()))
    return name


def set_section(store: Store, username: str, section: str, *, sections: Iterable[str]) -> tuple[str, str]:
    name = _existing(store, username)
    spelled = check_section(section, sections)
    with store.begin() as conn:
        conn.execute(update(users).where(users.c.username == name).values(section=spelled))
    return name, spelled
