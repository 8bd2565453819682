"""Declarative description of a web back-office system (connectors/systems/<name>.toml or
<home>/systems/<name>.toml): where each screen is, how to reach it, what to type where, how to read the
受付番号 back; credentials from the environment or a 0600 file.

The TOML says *where* to type; the record says *what*. Nothing in it is secret: a password-like key
in the file is refused, so credentials can only come from environment variables or the credentials file.

An element is named by a Target: a Playwright selector string (CSS, ``xpath=…``, ``text=…``) or a
table that uses Playwright's user-facing locators — ``{ label = "フリガナ" }``,
``{ role = "button", name = "次へ" }``, ``{ text = "登録しました" }`` — optionally ``within`` another
Target, inside an iframe (``frame``), or the ``nth`` of several.
"""
from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field as PField, ValidationError, model_validator

from connectors.webvalues import (
    LEGACY_TRANSFORMS,
    PRESENCE_TRANSFORMS,
    TransformError,
    apply_plugin,
    bool_text,
    is_empty,
    known_transform,
    parse_groups,
    pattern_names,
    render,
    transform_names,
    transforms,
)
from kakari.config import format_validation_error
from kakari.errors import ConfigError
from kakari.model import Record

SYSTEMS_DIR = Path(__file__).with_name("systems")
KEY_SOURCE = "@key"  # `source = "@key"`: the record's key in this system (外部連携番号)
DOCUMENT_SOURCE = "@document"  # `source = "@document"`: the application's own file (upload)
HOME_PAGE = "@home"  # `{ goto = "@home" }`: the page the system showed right after logging in
_SECRET_KEYS = re.compile(r"pass(word|wd)?|secret|token|pin", re.I)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# =============================================================================================
# Targets (which element) and steps (what to do before typing)
# =============================================================================================
_LOCATORS = ("css", "label", "role", "text", "placeholder", "title", "alt", "test_id")


class Target(_Strict):
    """One element. Exactly one way of finding it; `{value}` in any text is replaced by the value being
    entered (a radio button chosen by its value or its label)."""

    css: str | None = None  # any Playwright selector string: CSS, xpath=…, text=…
    label: str | None = None  # get_by_label: <label>, aria-label, aria-labelledby
    role: str | None = None  # get_by_role, with `name` the accessible name
    name: str | None = None
    text: str | None = None  # get_by_text
    placeholder: str | None = None
    title: str | None = None
    alt: str | None = None
    test_id: str | None = None
    exact: bool = False  # whole text (trimmed) instead of a part of it, case-sensitive
    within: Target | None = None  # look only inside this element (a fieldset, a table row)
    frame: str | None = None  # selector of the iframe the element is in
    nth: int | None = PField(None, ge=0)  # the n-th (from 0) of several matches

    @model_validator(mode="after")
    def _one_way(self) -> Target:
        ways = [k for k in _LOCATORS if getattr(self, k) is not None]
        if len(ways) != 1:
            raise ValueError(f"要素の指定は {'・'.join(_LOCATORS)} のどれか1つにしてください (指定: {'・'.join(ways) or 'なし'})")
        if self.name is not None and self.role is None:
            raise ValueError("name は role と一緒に指定してください")
        return self

    def with_value(self, value: str) -> Target:
        """A copy with `{value}` replaced (quotes escaped inside a CSS selector)."""
        css_value = value.replace("\\", "\\\\").replace("'", "\\'").replace('"', '\\"')
        data = {}
        for k in (*_LOCATORS, "name", "frame"):
            v = getattr(self, k)
            if isinstance(v, str) and "{value}" in v:
                v = v.replace("{value}", css_value if k in ("css", "frame") else value)
            data[k] = v
        within = self.within.with_value(value) if self.within else None
        return self.model_copy(update=data | {"within": within})

    def describe(self) -> str:
        """For messages: セレクター #x / ラベル「フリガナ」 / role=button「次へ」."""
        if self.css is not None:
            text = f"セレクター {self.css}"
        elif self.role is not None:
            text = f"role={self.role}" + (f"「{self.name}」" if self.name is not None else "")
        else:
            kind = next(k for k in _LOCATORS if getattr(self, k) is not None)
            word = {"label": "ラベル", "text": "文字", "placeholder": "入力例", "title": "title", "alt": "alt",
                    "test_id": "test_id"}[kind]
            text = f"{word}「{getattr(self, kind)}」"
        if self.nth is not None:
            text += f" の{self.nth + 1}番目"
        if self.within is not None:
            text = f"{self.within.describe()} の中の {text}"
        if self.frame is not None:
            text = f"フレーム {self.frame} の {text}"
        return text


def _as_target(v: Any) -> Any:
    return {"css": v} if isinstance(v, str) else v


TargetLike = Annotated[Target, BeforeValidator(_as_target)]
_ACTIONS = ("goto", "click", "wait", "wait_gone", "tab", "frame")


class Step(_Strict):
    """One action on the way to a page or before its inputs; exactly one of the action keys."""

    goto: str | None = None  # a path under base_url, or "@home" (the page shown after logging in)
    click: TargetLike | None = None  # a link, a menu item, a button
    popup: bool = False  # with click: it opens a new window, where the next steps and inputs are
    wait: TargetLike | None = None  # until this element is visible (text loaded by script, a panel)
    wait_gone: TargetLike | None = None  # until this element is gone (a 読み込み中 overlay)
    tab: str | None = None  # choose the tab (role=tab) of this name
    frame: str | None = None  # the iframe (its selector) the next steps and inputs are in; "" = the page

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        actions = [k for k in _ACTIONS if getattr(self, k) is not None]
        if len(actions) != 1:
            raise ValueError(f"手順には {'・'.join(_ACTIONS)} のどれか1つを指定してください (指定: {'・'.join(actions) or 'なし'})")
        if self.popup and self.click is None:
            raise ValueError("popup は click と一緒に指定してください")
        if self.goto is not None and not (self.goto.startswith("/") or self.goto == HOME_PAGE):
            raise ValueError(f"goto は「/」で始まるパスか \"{HOME_PAGE}\" にしてください")
        return self

    def describe(self) -> str:
        for k in _ACTIONS:
            v = getattr(self, k)
            if v is not None:
                return f"{k} {v.describe() if isinstance(v, Target) else v}"
        return "?"


# =============================================================================================
# Screens
# =============================================================================================
class FieldSpec(_Strict):
    """One input on one page: what to put there (source/value, format, transform, map) and how."""

    label: str  # Japanese, for messages and the dry run: 「申請者 姓」
    selector: TargetLike
    source: str | None = None  # record field name, "@key" or "@document"
    value: str | None = None  # a constant instead of a record field
    format: str | None = None  # pattern: "{era_initial}{era_year}.{month}.{day}", "{address} {building}"
    parse: str | None = None  # regex whose named groups the format may use: '^(?P<a>\d+)-(?P<b>\d+)'
    transform: str | None = None  # a registered ValueTransform, or a named part of earlier files
    map: dict[str, str] = PField(default_factory=dict)  # text → what the screen wants (codes)
    kind: Literal["fill", "select", "check", "upload"] = "fill"
    choose: Literal["label", "value"] = "label"  # select: the option by its text, or by its value (code)
    when: str | None = None  # only when this record field has a value
    unless: str | None = None  # only when this record field is empty
    required: bool = False  # an empty value stops the record before anything is typed

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.source is not None and self.value is not None:
            raise ValueError("source と value のどちらか一方を指定してください")
        if self.source is None and self.value is None and self.format is None:
            raise ValueError("source・value・format のどれかを指定してください")
        if self.format is not None:
            try:
                names = pattern_names(self.format)
            except ValueError as e:
                raise ValueError(str(e)) from None
            if self.source is None and self.value is None and any(f is None for f, _ in names):
                raise ValueError(f"format「{self.format}」は source の値の部分を使うので、source を指定してください")
        if self.transform is not None:
            if not known_transform(self.transform):
                raise ValueError(f"transform「{self.transform}」は未対応です (使用可能: {'、'.join(transform_names())}。"
                                 "書式は format = \"{era_initial}{era_year}.{month}.{day}\" のように書けます)")
            if self.format is not None and self.transform in LEGACY_TRANSFORMS and self.transform != "text":
                raise ValueError(f"transform「{self.transform}」と format は一緒に使えません"
                                 f" (transform「{self.transform}」は format = \"{LEGACY_TRANSFORMS[self.transform]}\" と同じです)")
        if self.parse is not None:
            try:
                if not re.compile(self.parse).groupindex:
                    raise ValueError("parse の正規表現には名前付きのグループ (?P<名前>…) が必要です")
            except re.error as e:
                raise ValueError(f"parse の正規表現が正しくありません: {e}") from None
        if self.kind == "upload" and self.source != DOCUMENT_SOURCE:
            raise ValueError(f'kind = "upload" の欄は source = "{DOCUMENT_SOURCE}" (申請書のファイル) にしてください')
        if self.source == DOCUMENT_SOURCE and self.kind != "upload":
            raise ValueError(f'source = "{DOCUMENT_SOURCE}" は kind = "upload" の欄だけに使えます')
        if self.choose == "value" and self.kind != "select":
            raise ValueError('choose = "value" は kind = "select" の欄だけに使えます')
        return self


class PageSpec(_Strict):
    name: str  # 画面名, for messages
    url: str | None = None  # opens this page directly; without one, `open` steps or the previous page's `next`
    open: list[Step] = PField(default_factory=list)  # how to reach it by clicking (a menu, a tab)
    marker: TargetLike  # present only on this page
    resume: Literal["auto", "restart"] = "auto"  # after a failure: reopen the address it was reached at
    #   (flow keys included) when it was reached by a plain GET ("auto"), or start the record over
    steps: list[Step] = PField(default_factory=list)  # before the inputs: wait, choose a tab or frame
    next: TargetLike  # the button that leaves this page
    fields: list[FieldSpec] = PField(default_factory=list)


class LoginSpec(_Strict):
    url: str
    form: TargetLike  # marks the login page: seeing it anywhere else means the session ended
    user_input: TargetLike
    password_input: TargetLike  # a selector; a key named "password" holding a value is refused as a secret
    submit: TargetLike
    success: TargetLike  # marker of the page after a successful login
    error: TargetLike  # marker of a refused login


class SearchSpec(_Strict):
    url: str | None = None
    open: list[Step] = PField(default_factory=list)  # instead of url: reach the search screen by clicking
    input: TargetLike
    submit: TargetLike
    results: TargetLike  # marks the result page (present even when nothing is found)
    row: TargetLike
    row_key: TargetLike  # inside a row: the cell holding the key
    row_confirmation: TargetLike  # inside a row: the cell holding the 受付番号
    match: Literal["exact", "contains"] = "exact"  # the key is the whole cell, or inside it (備考)

    @model_validator(mode="after")
    def _reachable(self) -> SearchSpec:
        if not self.url and not self.open:
            raise ValueError("検索画面 [search] には url か open (開き方の手順) が必要です")
        return self


class SubmitSpec(_Strict):
    marker: TargetLike | None = None  # the confirm page; None when the last input page submits directly
    button: TargetLike  # the irreversible 登録 button
    done: TargetLike  # marker of the completion page
    confirmation: TargetLike  # the element holding the 受付番号 on the completion page
    duplicate: TargetLike | None = None  # the system's own duplicate message
    duplicate_confirmation: TargetLike | None = None  # the existing 受付番号 inside it


class ErrorsSpec(_Strict):
    validation: TargetLike  # the error summary on an input page
    items: TargetLike  # one message per element


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
    key_length: int = PField(12, ge=6, le=64)  # characters of the doc_id kept in the key
    key_alphabet: Literal["hex", "digits"] = "hex"  # digits: for a column that takes numbers only
    key_column: str | None = None  # the system's own name of the column the key goes in (整理番号)
    receipt_pattern: str | None = None  # regex: the 受付番号 inside the text read (group "no", else whole match)
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
    def _checks(self) -> SystemMapping:
        if not self.pages[0].url and not self.pages[0].open:
            raise ValueError("最初の入力画面 (pages[0]) には url か open (開き方の手順) が必要です")
        if self.receipt_pattern is not None:
            try:
                re.compile(self.receipt_pattern)
            except re.error as e:
                raise ValueError(f"receipt_pattern の正規表現が正しくありません: {e}") from None
        return self

    @property
    def url(self) -> str:
        env = os.environ.get(self.base_url_env) if self.base_url_env else None
        return (env or self.base_url).rstrip("/")

    def key_for(self, doc_id: str) -> str:
        """The 外部連携番号 stored in the system: stable for a document, so a search finds it."""
        return make_key(doc_id, self.key_prefix, self.key_length, self.key_alphabet)

    def accepts(self, rec: Record) -> bool:
        return not self.bots or rec.bot in self.bots

    def receipt(self, text: str) -> str | None:
        """The 受付番号 in a text read from the screen: the pattern's group "no" (else its whole match),
        or the whole text when the mapping has no pattern. None if the pattern is not in it."""
        text = " ".join(text.split())
        if self.receipt_pattern is None:
            return text or None
        m = re.search(self.receipt_pattern, text)
        if m is None:
            return None
        return m.group("no") if "no" in m.re.groupindex else m.group(0)

    def key_fields(self) -> list[FieldSpec]:
        return [f for p in self.pages for f in p.fields if f.source == KEY_SOURCE]

    def warnings(self) -> list[str]:
        """What the mapping cannot guarantee, in Japanese, for `kakari systems check` and the log."""
        out = []
        column = f"「{self.key_column}」" if self.key_column else ""
        if not self.key_fields():
            out.append(f"外部連携番号を書き込む欄 (source = \"{KEY_SOURCE}\") がありません。システムに{column}申請ごとの"
                       "番号を残せないため、二重登録の防止は kakari 自身の記録だけに頼ります: 登録ボタンを押した後に"
                       "中断した申請は再送せず「受付不可」として担当者がシステムで確かめるのを待ちます。")
        if self.search is None and self.submit.duplicate is None:
            out.append("検索画面 [search] も二重登録のメッセージ (submit.duplicate) もありません。登録ボタンを押した後に"
                       "中断した申請は、システムに登録されたかどうかを確かめられないため「受付不可」になり、"
                       "担当者の確認が必要です (一度だけの登録は保たれますが、自動では終わりません)。")
        elif self.search is None:
            out.append("検索画面 [search] がありません。中断した申請は、システムの二重登録チェックだけを頼りに"
                       "もう一度入力します。")
        if self.key_fields() and self.key_column is None:
            out.append("key_column (外部連携番号を入れるシステムの欄の名前) が書かれていません。"
                       "どの欄で検索されるのか、設定を読む人に分かるように書いてください。")
        if self.receipt_pattern is None:
            out.append("receipt_pattern (受付番号の正規表現) がありません。完了画面と検索結果で表示の形が違うと、"
                       "台帳の受付番号の表記が揃いません。")
        return out


def make_key(doc_id: str, prefix: str = "KK-", length: int = 12, alphabet: str = "hex") -> str:
    """prefix + the doc_id's first `length` hex digits (upper case), or `length` decimal digits of it."""
    if alphabet == "digits":
        return f"{prefix}{int(doc_id[:32], 16) % 10 ** length:0{length}d}"
    return f"{prefix}{doc_id[:length].upper()}"


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


def system_path(name: str, home: Path | None = None) -> Path | None:
    """<home>/systems/<name>.toml (a town's own) first, then connectors/systems/<name>.toml."""
    candidates = ([home / "systems" / f"{name}.toml"] if home else []) + [SYSTEMS_DIR / f"{name}.toml"]
    return next((p for p in candidates if p.is_file()), None)


def load_system(name: str, home: Path | None = None) -> SystemMapping:
    """The mapping `name`; a town's transforms (.py files in <home>/systems) are registered first."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ConfigError(f"連携先システム名「{name}」には英数字・ハイフン・下線だけを使ってください")
    if home is not None and any((home / "systems").glob("*.py")):
        transforms.add_folders([home / "systems"])
    path = system_path(name, home)
    if path is None:
        known = "、".join(sorted(p.stem for p in SYSTEMS_DIR.glob("*.toml"))) or "(なし)"
        where = f"{home / 'systems' / f'{name}.toml'} / " if home else ""
        raise ConfigError(f"連携先システム「{name}」の設定ファイルがありません ({where}{SYSTEMS_DIR / f'{name}.toml'})。"
                          f"組み込み: {known}")
    return parse_system(path.read_text(encoding="utf-8"), name, str(path))


def parse_system(text: str, name: str, where: str) -> SystemMapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"連携設定 {where} の書式が正しくありません: {e}") from None
    _check_no_secrets(data, where)
    try:
        return SystemMapping(**data, name=name)
    except ValidationError as e:
        raise ConfigError(format_validation_error(where, e)) from None


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
# What to type
# =============================================================================================
def _source_value(rec: Record, name: str, key: str) -> Any:
    if name == KEY_SOURCE:
        return key
    f = rec.fields.get(name)
    return f.value if f is not None else None


def _named_value(rec: Record, name: str, key: str) -> Any:
    """A field a pattern names: a name the record does not have is a mistake in the mapping, not an empty value."""
    if name != KEY_SOURCE and name not in rec.fields:
        raise TransformError(f"書式の「{{{name}}}」は申請の項目にも値の部分にもありません（綴りを確認してください）")
    return _source_value(rec, name, key)


def document_path(rec: Record) -> Path | None:
    """The application's file as the job left it (archive/ for a registered one)."""
    for k in ("archived_path", "stored_path", "path"):
        p = rec.meta.get(k)
        if p and Path(p).is_file():
            return Path(p)
    return None


def value_for(spec: FieldSpec, rec: Record, key: str, system: SystemMapping) -> str | None:
    """The text to type (the option / radio to choose, the file to upload); None = leave this input alone."""
    if spec.when and is_empty(_source_value(rec, spec.when, key)):
        return None
    if spec.unless and not is_empty(_source_value(rec, spec.unless, key)):
        return None
    if spec.kind == "upload":
        path = document_path(rec)
        if path is None:
            raise TransformError("添付する申請書のファイルが見つかりません")
        return str(path)
    raw: Any = spec.value if spec.value is not None else (
        _source_value(rec, spec.source, key) if spec.source is not None else None)
    if spec.transform in PRESENCE_TRANSFORMS:
        text = ("false" if is_empty(raw) else "true") if spec.transform == "present" else bool_text(raw)
    else:
        if (spec.source is not None or spec.value is not None) and is_empty(raw):
            if spec.required:
                raise TransformError("値がありません（必須項目）")
            return None
        legacy = LEGACY_TRANSFORMS.get(spec.transform or "")
        pattern = spec.format or legacy or "{value}"
        groups = parse_groups(re.compile(spec.parse), raw) if spec.parse else None
        text = render(pattern, raw, lambda n: _named_value(rec, n, key), system.municipalities, groups).strip()
        if not text:
            if spec.required:
                raise TransformError("値がありません（必須項目）")
            return None
        if spec.transform is not None and legacy is None:
            text = apply_plugin(spec.transform, text if spec.format else raw, rec, system)
    if spec.map:
        if text not in spec.map:
            raise TransformError("画面の選択肢に対応付けられない値です")
        text = spec.map[text]
    return text
