"""Declarative description of a web back-office system (connectors/systems/<name>.toml), value
transforms (和暦, 姓・名, 〒, 都道府県・市区町村) and credentials from the environment or a 0600 file.

The TOML says *where* to type; the record says *what*. Nothing in it is secret: a password-like key
in the file is refused, so credentials can only come from environment variables or the credentials file.
"""
from __future__ import annotations

import os
import re
import stat
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field as PField, ValidationError, model_validator

from kakari import wareki
from kakari.config import format_validation_error
from kakari.errors import ConfigError
from kakari.model import Record

SYSTEMS_DIR = Path(__file__).with_name("systems")
KEY_SOURCE = "@key"  # `source = "@key"`: the record's key in this system (外部連携番号)
_SECRET_KEYS = re.compile(r"pass(word|wd)?|secret|token|pin", re.I)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldSpec(_Strict):
    """One input on one page. `selector` may hold `{value}` (a radio button chosen by its value)."""

    label: str  # Japanese, for messages: 「申請者 姓」
    selector: str
    source: str | None = None  # record field name, or "@key"
    value: str | None = None  # a constant instead of a record field
    transform: str = "text"
    map: dict[str, str] = PField(default_factory=dict)  # transformed value → what the screen wants
    kind: Literal["fill", "select", "check"] = "fill"
    when: str | None = None  # only when this record field has a value
    unless: str | None = None  # only when this record field is empty
    required: bool = False  # an empty value stops the record before anything is typed

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        if (self.source is None) == (self.value is None):
            raise ValueError("source と value のどちらか一方を指定してください")
        if self.transform not in TRANSFORMS:
            raise ValueError(f"transform「{self.transform}」は未対応です (使用可能: {'、'.join(sorted(TRANSFORMS))})")
        return self


class PageSpec(_Strict):
    name: str  # 画面名, for messages
    marker: str  # present only on this page
    url: str | None = None  # opens this page (required on the first); later pages without one are
    #                         reached only by `next`, so a failure there starts the record over
    next: str  # the button that leaves this page
    fields: list[FieldSpec] = PField(default_factory=list)


class LoginSpec(_Strict):
    url: str
    form: str  # marks the login page: seeing it anywhere else means the session ended
    user_input: str
    password_input: str  # a selector; a key named "password" holding a value is refused as a secret
    submit: str
    success: str  # marker of the page after a successful login
    error: str  # marker of a refused login


class SearchSpec(_Strict):
    url: str
    input: str
    submit: str
    results: str  # marks the result page (present even when nothing is found)
    row: str
    row_key: str  # inside a row: the cell holding the key
    row_confirmation: str  # inside a row: the cell holding the 受付番号


class SubmitSpec(_Strict):
    marker: str | None = None  # the confirm page; None when the last input page submits directly
    button: str  # the irreversible 登録 button
    done: str  # marker of the completion page
    confirmation: str  # the 受付番号 on the completion page
    duplicate: str | None = None  # the system's own duplicate message
    duplicate_confirmation: str | None = None  # the existing 受付番号 inside it


class ErrorsSpec(_Strict):
    validation: str  # the error summary on an input page
    items: str  # one message per element


class CredentialsSpec(_Strict):
    user_env: str
    password_env: str
    file: str | None = None  # TOML with user/password, relative to the home; must be 0600


class TimeoutSpec(_Strict):
    navigation_seconds: float = PField(30.0, gt=0)
    element_seconds: float = PField(5.0, gt=0)


class RetrySpec(_Strict):
    attempts: int = PField(4, ge=1, le=20)  # per record, each from the top (search first)
    step_attempts: int = PField(3, ge=1, le=20)  # per idempotent step (open a page, search, log in)
    backoff_seconds: list[float] = PField(default_factory=lambda: [1.0, 3.0, 10.0])


class SystemMapping(_Strict):
    name: str = ""  # file stem; "web:<name>" in a job's sinks
    title: str  # 「みどり町 総合衛生システム」
    base_url: str
    base_url_env: str | None = None  # overrides base_url (test servers, staging)
    typing_minutes: float = PField(ge=0)  # 導入前: a clerk typing one record into this system
    bots: list[str] = PField(default_factory=list)  # records of these bots only; empty = all
    key_prefix: str = "KK-"
    key_length: int = PField(12, ge=8, le=64)  # hex digits of the doc_id kept in the key
    municipalities: list[str] = PField(default_factory=list)  # known 市区町村, tried before the heuristic
    credentials: CredentialsSpec
    login: LoginSpec
    search: SearchSpec | None = None
    pages: list[PageSpec] = PField(min_length=1)
    submit: SubmitSpec
    errors: ErrorsSpec
    timeouts: TimeoutSpec = PField(default_factory=TimeoutSpec)
    retry: RetrySpec = PField(default_factory=RetrySpec)

    @model_validator(mode="after")
    def _first_page_url(self) -> SystemMapping:
        if not self.pages[0].url:
            raise ValueError("最初の入力画面 (pages[0]) には url が必要です")
        return self

    @property
    def url(self) -> str:
        env = os.environ.get(self.base_url_env) if self.base_url_env else None
        return (env or self.base_url).rstrip("/")

    def key_for(self, doc_id: str) -> str:
        """The 外部連携番号 stored in the system: stable for a document, so a search finds it."""
        return f"{self.key_prefix}{doc_id[: self.key_length].upper()}"

    def accepts(self, rec: Record) -> bool:
        return not self.bots or rec.bot in self.bots


def _check_no_secrets(data: Any, where: str, path: str = "") -> None:
    if isinstance(data, dict):
        for k, v in data.items():
            here = f"{path}.{k}" if path else k
            if _SECRET_KEYS.fullmatch(k) and isinstance(v, str) and v:
                raise ConfigError(f"{where}: 「{here}」にパスワード等の秘密情報を書かないでください。"
                                  "環境変数か権限 600 の資格情報ファイルを使ってください")
            _check_no_secrets(v, where, here)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _check_no_secrets(v, where, f"{path}[{i}]")


def load_system(name: str, home: Path | None = None) -> SystemMapping:
    """<home>/systems/<name>.toml (a town's own) first, then connectors/systems/<name>.toml."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ConfigError(f"連携先システム名「{name}」には英数字・ハイフン・下線だけを使ってください")
    candidates = ([home / "systems" / f"{name}.toml"] if home else []) + [SYSTEMS_DIR / f"{name}.toml"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        known = "、".join(sorted(p.stem for p in SYSTEMS_DIR.glob("*.toml"))) or "(なし)"
        raise ConfigError(f"連携先システム「{name}」の設定ファイルがありません ({' / '.join(map(str, candidates))})。"
                          f"組み込み: {known}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"連携設定 {path} の書式が正しくありません: {e}") from None
    _check_no_secrets(data, str(path))
    try:
        return SystemMapping(**data, name=name)
    except ValidationError as e:
        raise ConfigError(format_validation_error(path, e)) from None


# =============================================================================================
# Credentials
# =============================================================================================
@dataclass(frozen=True, repr=False)
class Credentials:
    user: str
    password: str

    def __repr__(self) -> str:  # never shows either value, even in a traceback
        return "Credentials(user=＊＊＊, password=＊＊＊)"


def load_credentials(spec: CredentialsSpec, home: Path, system: str) -> Credentials:
    """Environment variables first, then the credentials file (refused unless only its owner can read it)."""
    user, password = os.environ.get(spec.user_env), os.environ.get(spec.password_env)
    if user and password:
        return Credentials(user, password)
    file = Path(spec.file) if spec.file else Path("credentials") / f"{system}.toml"
    file = file if file.is_absolute() else home / file
    if file.is_file():
        if os.name == "posix":
            mode = file.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise ConfigError(f"資格情報ファイル {file} は他の利用者も読めます (権限 {stat.S_IMODE(mode):o})。"
                                  f"chmod 600 {file} を実行してください")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            raise ConfigError(f"資格情報ファイル {file} の書式が正しくありません (user と password を TOML で)") from None
        if isinstance(data.get("user"), str) and isinstance(data.get("password"), str) and data["user"]:
            return Credentials(data["user"], data["password"])
        raise ConfigError(f"資格情報ファイル {file} に user と password がありません")
    raise ConfigError(f"連携先「{system}」の利用者IDとパスワードがありません。環境変数 {spec.user_env} と "
                      f"{spec.password_env}、または権限 600 の資格情報ファイル {file} を用意してください")


# =============================================================================================
# Value transforms: record value → text typed or chosen on the screen
# =============================================================================================
_PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}?県)")
_MUNICIPALITY = re.compile(r"^((?:.+?郡)?.+?[市区町村])")


class TransformError(ValueError):
    """The value cannot be shown the way the screen wants (message in Japanese, without the value)."""


def _nfkc(v: Any) -> str:
    return unicodedata.normalize("NFKC", str(v)).strip()


def as_date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(_nfkc(v)[:10])
    except ValueError:
        raise TransformError("日付として読めません") from None


def wareki_parts(v: Any) -> tuple[str, int, int, int]:
    try:
        return wareki.wareki_parts(as_date(v))
    except ValueError as e:
        raise TransformError(str(e)) from None


def _wareki(v: Any) -> str:
    wareki_parts(v)  # refuses dates before 明治 with the transform's error
    return wareki.format_wareki(as_date(v))


def split_name(v: Any) -> tuple[str, str]:
    """姓・名: surname first, separated by a full- or half-width space (docs/domain.md); never altered."""
    parts = str(v).strip().replace("\u3000", " ").split()
    if len(parts) < 2:
        raise TransformError("姓と名の区切り（空白）がないため分割できません")
    return parts[0], "\u3000".join(parts[1:])


def _postal_digits(v: Any) -> str:
    digits = re.sub(r"\D", "", _nfkc(v))
    if len(digits) != 7:
        raise TransformError("郵便番号が7桁ではありません")
    return digits


def split_address(v: Any, municipalities: list[str] | None = None) -> tuple[str, str, str]:
    """(都道府県, 市区町村, 町域以下). Known municipalities win over the 市区町村 heuristic."""
    text = str(v).strip()
    m = _PREFECTURE.match(text)
    if not m:
        raise TransformError("住所の先頭に都道府県がありません")
    pref, rest = m.group(1), text[m.end():]
    for name in sorted(municipalities or [], key=len, reverse=True):
        if rest.startswith(name):
            return pref, name, rest[len(name):]
    m = _MUNICIPALITY.match(rest)
    if not m or m.end() == len(rest):
        raise TransformError("住所から市区町村を切り出せません")
    return pref, m.group(1), rest[m.end():]


def _number(v: Any) -> str:
    text = _nfkc(v).replace(",", "")
    try:
        f = float(text)
    except ValueError:
        raise TransformError("数値として読めません") from None
    return str(int(f)) if f == int(f) and "." not in text else f"{f:f}".rstrip("0").rstrip(".")


def _bool(v: Any) -> str:
    if isinstance(v, str):
        return "true" if v.strip() in ("true", "True", "1", "有", "〇", "○", "はい") else "false"
    return "true" if v else "false"


Transform = Callable[[Any, SystemMapping], str]
TRANSFORMS: dict[str, Transform] = {
    "text": lambda v, m: str(v).strip(),
    "nfkc": lambda v, m: _nfkc(v),
    "iso_date": lambda v, m: as_date(v).isoformat(),
    "wareki": lambda v, m: _wareki(v),
    "wareki_era": lambda v, m: wareki_parts(v)[0],
    "wareki_year": lambda v, m: str(wareki_parts(v)[1]),
    "month": lambda v, m: str(as_date(v).month),
    "day": lambda v, m: str(as_date(v).day),
    "surname": lambda v, m: split_name(v)[0],
    "given_name": lambda v, m: split_name(v)[1],
    "postal": lambda v, m: (lambda d: f"{d[:3]}-{d[3:]}")(_postal_digits(v)),
    "postal_head": lambda v, m: _postal_digits(v)[:3],
    "postal_tail": lambda v, m: _postal_digits(v)[3:],
    "prefecture": lambda v, m: split_address(v, m.municipalities)[0],
    "municipality": lambda v, m: split_address(v, m.municipalities)[1],
    "address_rest": lambda v, m: split_address(v, m.municipalities)[2],
    "phone": lambda v, m: _nfkc(v),
    "digits": lambda v, m: re.sub(r"\D", "", _nfkc(v)),
    "number": lambda v, m: _number(v),
    "bool": lambda v, m: _bool(v),
    "present": lambda v, m: "true",  # only reached for a value that is there (see value_for)
}


def is_empty(v: Any) -> bool:
    return v is None or v is False or (isinstance(v, str) and not v.strip())


def _source_value(rec: Record, name: str, key: str) -> Any:
    if name == KEY_SOURCE:
        return key
    f = rec.fields.get(name)
    return f.value if f is not None else None


def value_for(spec: FieldSpec, rec: Record, key: str, system: SystemMapping) -> str | None:
    """The text to type (or the option / radio value to choose); None = leave this input alone."""
    if spec.when and is_empty(_source_value(rec, spec.when, key)):
        return None
    if spec.unless and not is_empty(_source_value(rec, spec.unless, key)):
        return None
    raw: Any = spec.value if spec.value is not None else _source_value(rec, spec.source or "", key)
    if spec.transform == "present":
        text = "false" if is_empty(raw) else "true"
    elif spec.transform == "bool":
        text = _bool(raw)
    elif is_empty(raw):
        if spec.required:
            raise TransformError("値がありません（必須項目）")
        return None
    else:
        text = TRANSFORMS[spec.transform](raw, system)
    if spec.map:
        if text not in spec.map:
            raise TransformError("画面の選択肢に対応付けられない値です")
        text = spec.map[text]
    return text
