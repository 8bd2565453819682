"""Online applications (電子申請) read by the same bots as paper: a form bot's `<stem>.export.toml`,
beside its template, says for each service (e-申請 system, form tool) which columns of its export
hold which field of the form. A row becomes a Record through the same field types and validators
as a paper form (和暦/西暦, カナ, 〒, 電話, check digits, options) and the bot's own `validate`.

    [services.wakaba_e]                     # one section per service (the name is for kakari.toml)
    title = "若葉県電子申請・届出サービス"
    receipt = "受付番号"                      # the service's number of an application (its identity)
    [services.wakaba_e.fields]
    applied_on = "申請日"                     # field = column
    guardian_name = ["申請者氏名（姓）", "申請者氏名（名）"]        # several columns, joined
    child_sex = { column = "性別", values = { "男性" = "男", "女性" = "女" } }   # the service's words

Headers match as written, ignoring full/half width, spaces and case. A mapping is checked against
its template when first used; every mistake is a TemplateError naming the file and the key.
"""
from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field as PField, PrivateAttr, ValidationError, field_validator

from bots.base import FormBot, parse_checked
from bots.fields import field_type, normalise_text
from bots.template import FieldSpec, format_template_error
from connectors.tabular import Table
from kakari.errors import TemplateError, Unrecognised
from kakari.model import Field, Record

SUFFIX = ".export.toml"
ONLINE = "（電子申請）"  # added to the bot's 業務名 unless the mapping names its own: the report's online line
ATTACHMENTS = "attachments"  # the record's field listing a row's attached files (not a ledger column)
ATTACHMENTS_LABEL = "添付ファイル"
UNREADABLE = "文字化けか外字 (表示できない文字) があります。正しい文字を入力してください"
NOT_AN_OPTION = "選択肢にない値です"
TRUE_WORDS = frozenset({"有", "あり", "はい", "1", "true", "yes", "○", "〇", "✓", "✔", "☑", "済", "希望する", "する"})
FALSE_WORDS = frozenset({"", "無", "なし", "いいえ", "0", "false", "no", "×", "□", "☐", "未", "希望しない", "しない"})
_TIME_OF_DAY = re.compile(r"^(.+?)[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:?\d{2}|Z)?$")
_UNREADABLE = re.compile("[\ufffd\ue000-\uf8ff\U000f0000-\U0010ffff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def header_key(name: Any) -> str:
    """A header as compared: NFKC, no spaces, case-folded (申請者氏名（姓） = 申請者氏名(姓))."""
    return "".join(unicodedata.normalize("NFKC", str(name or "")).split()).casefold()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    """Where a field's value comes from: one or more columns (joined), the service's words → the form's."""

    column: str | list[str]
    join: str | None = None  # default: 「　」 for names and kana, nothing for the rest
    values: dict[str, str] = PField(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [self.column] if isinstance(self.column, str) else list(self.column)

    @field_validator("column")
    @classmethod
    def _some(cls, v: str | list[str]) -> str | list[str]:
        if (isinstance(v, str) and not v.strip()) or (isinstance(v, list) and (not v or any(not c.strip() for c in v))):
            raise ValueError("列名を1つ以上、空でなく指定してください")
        return v


class Service(_Strict):
    """One service's export of one form."""

    title: str = PField(min_length=1)
    receipt: str | list[str] | None = None  # column(s) of the service's own 受付番号
    received: str | None = None  # column of the date and time the application was sent (受付日時)
    task: str | None = None  # 業務名 in the report; default the bot's + （電子申請）
    manual_minutes: float | None = PField(None, ge=0)  # 導入前 per application typed by hand
    review_minutes: float | None = PField(None, ge=0)
    header_row: int = PField(1, ge=1)  # the line (CSV) or row (xlsx) of the column headings
    sheet: str | None = None  # xlsx: the sheet (default the first)
    attachments: list[str] = PField(default_factory=list)  # columns naming attached files
    fields: dict[str, str | list[str] | Source] = PField(min_length=1)

    _name: str = PrivateAttr("")
    _bot: str = PrivateAttr("")
    _path: Path | None = PrivateAttr(None)

    @property
    def name(self) -> str:
        return self._name

    @property
    def bot(self) -> str:
        return self._bot

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def where(self) -> str:
        """「bots/child_medical.export.toml の [services.wakaba_e]」 for messages."""
        return f"対応表 {self._path} の [services.{self._name}]"

    def source(self, field: str) -> Source | None:
        given = self.fields.get(field)
        if given is None or isinstance(given, Source):
            return given
        return Source(column=given)

    def receipt_columns(self) -> list[str]:
        return [self.receipt] if isinstance(self.receipt, str) else list(self.receipt or [])

    def columns(self) -> list[tuple[str, str]]:
        """(column, key path) of every column the mapping reads."""
        out = [(c, "receipt") for c in self.receipt_columns()]
        out += [(self.received, "received")] if self.received else []
        out += [(c, f"attachments[{i}]") for i, c in enumerate(self.attachments)]
        for name in self.fields:
            src = self.source(name)
            assert src is not None
            out += [(c, f"fields.{name}") for c in src.columns]
        return out


class _ExportFile(_Strict):
    services: dict[str, Service] = PField(min_length=1)


def export_path(bot: type[FormBot]) -> Path | None:
    """`<stem>.export.toml` beside the bot's template."""
    path = bot.template.path
    return path.with_name(path.name.removesuffix(".toml") + SUFFIX) if path is not None else None


_LOADED: dict[tuple[str, str, int], dict[str, Service]] = {}


def services_of(bot: type[FormBot]) -> dict[str, Service]:
    """The bot's export mappings by service name ({} without an .export.toml), checked against its
    template; read again when the file changes."""
    path = export_path(bot)
    if path is None or not path.is_file():
        return {}
    key = (bot.name, str(path), path.stat().st_mtime_ns)
    if key not in _LOADED:
        _LOADED[key] = _load(bot, path)
    return _LOADED[key]


def _load(bot: type[FormBot], path: Path) -> dict[str, Service]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise TemplateError(f"対応表 {path} を読めません (UTF-8 で保存してください)") from None
    except tomllib.TOMLDecodeError as e:
        raise TemplateError(f"対応表 {path} の TOML の書き方に誤りがあります: {e}") from None
    try:
        services = _ExportFile.model_validate(data).services
    except ValidationError as e:
        raise TemplateError(format_template_error(path, e).replace("様式テンプレート", "対応表", 1)) from None
    problems = []
    for name, service in services.items():
        service._name, service._bot, service._path = name, bot.name, path
        problems += [f"  - services.{name}.{p}" for p in _against_template(service, bot.template.fields)]
    if problems:
        raise TemplateError("\n".join([f"対応表 {path} に誤りがあります:", *problems]))
    return services


def _against_template(service: Service, specs: dict[str, FieldSpec]) -> list[str]:
    problems = []
    for name in service.fields:
        spec = specs.get(name)
        if spec is None:
            known = "、".join(specs)
            problems.append(f"fields.{name}: 様式テンプレートにない項目です (項目: {known})")
            continue
        src = service.source(name)
        assert src is not None
        allowed = _options(spec)
        for word, target in src.values.items():
            if allowed is not None and target not in allowed:
                problems.append(f"fields.{name}.values.{word}: 「{target}」は様式の選択肢にありません "
                                f"(選択肢: {'、'.join(sorted(allowed))})")
    missing = [n for n, spec in specs.items() if spec.required and n not in service.fields and spec.static is None]
    problems += [f"fields.{n}: 必須項目「{specs[n].label}」の列が指定されていません" for n in missing]
    if ATTACHMENTS in specs and service.attachments:
        problems.append(f"attachments: 様式に {ATTACHMENTS} という項目があるため添付ファイルの列は使えません")
    return problems


def _options(spec: FieldSpec) -> set[str] | None:
    if spec.type == "choice":
        return set(spec.options or {})
    if spec.type == "checkbox":
        return {"有", "無"}
    return None


# =============================================================================================
# Which service wrote this table
# =============================================================================================
@dataclass
class Resolved:
    """A service's mapping matched to a table's header: where each of its columns is."""

    service: Service
    bot: type[FormBot]
    index: dict[str, int]  # column as the mapping writes it → position in the row

    def cell(self, cells: Sequence[Any], column: str) -> Any:
        i = self.index[column]
        return cells[i] if i < len(cells) else None


def resolve(table: Table, candidates: Iterable[tuple[type[FormBot], Service]]) -> Resolved:
    """The service whose every column is in the table's header (the one reading most columns if
    several are); Unrecognised naming the missing columns and the mapping file otherwise."""
    positions: dict[str, int] = {}
    for i, h in enumerate(table.header):
        positions.setdefault(header_key(h), i)
    complete: list[Resolved] = []
    partial: list[tuple[int, Service, list[tuple[str, str]]]] = []
    for bot, service in candidates:
        cols = service.columns()
        missing = [(c, key) for c, key in cols if header_key(c) not in positions]
        if missing:
            partial.append((len(cols) - len(missing), service, missing))
            continue
        complete.append(Resolved(service, bot, {c: positions[header_key(c)] for c, _ in cols}))
    if complete:
        complete.sort(key=lambda r: len(r.index), reverse=True)
        if len(complete) > 1 and len(complete[1].index) == len(complete[0].index):
            both = "と".join(f"[services.{r.service.name}] ({r.service.path})" for r in complete[:2])
            raise Unrecognised(f"{table.name}: どの電子申請の列にも同じように当てはまり区別できません: {both}")
        return complete[0]
    if not partial:
        raise Unrecognised(f"{table.name}: 電子申請の対応表 (<ボット>{SUFFIX}) がありません")
    _, service, missing = max(partial, key=lambda p: p[0])
    shown = "、".join(f"「{c}」({key})" for c, key in missing)
    mapped = {header_key(c) for c, _ in service.columns()}
    headers = [str(h) for h in table.header if str(h or "").strip() and header_key(h) not in mapped]
    close = []
    for c, _ in missing:
        near = difflib.get_close_matches(c, headers, n=1)
        if near:
            close.append(f"「{c}」→「{near[0]}」?")
    hint = f"似た名前の列: {'、'.join(close)}。" if close else ""
    raise Unrecognised(f"{table.name}: {service.where} ({service.title}) の列がエクスポートにありません: {shown}。"
                       f"{hint}列の名前が変わったときは対応表を直してください")


# =============================================================================================
# A row → a Record
# =============================================================================================
def cell_text(value: Any) -> str:
    """A cell as the text an applicant typed: dates ISO, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def receipt_of(resolved: Resolved, cells: Sequence[Any]) -> str:
    """The service's 受付番号 of the row ("" if the mapping names none or the cell is empty)."""
    parts = [normalise_text(cell_text(resolved.cell(cells, c))) for c in resolved.service.receipt_columns()]
    return "-".join(p for p in parts if p) if all(parts) else ""


def received_of(resolved: Resolved, cells: Sequence[Any]) -> datetime | None:
    """The row's 受付日時 (naive times are the town's, Asia/Tokyo), or None."""
    from zoneinfo import ZoneInfo

    column = resolved.service.received
    if column is None:
        return None
    value = resolved.cell(cells, column)
    if isinstance(value, datetime):
        stamp = value
    else:
        text = unicodedata.normalize("NFKC", cell_text(value)).replace("/", "-").replace("T", " ")
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=ZoneInfo("Asia/Tokyo"))


def row_record(resolved: Resolved, cells: Sequence[Any], doc_id: str) -> tuple[Record, list[tuple[str, str]]]:
    """The row as the bot's Record, validated as a paper form is, and the (column, text) pairs it was
    read from (what the review screen shows)."""
    bot, service = resolved.bot, resolved.service
    template = bot.template
    rec = Record(doc_id=doc_id, bot=bot.name, min_confidence=template.min_confidence)
    shown: list[tuple[str, str]] = []
    for name, spec in template.fields.items():
        src = service.source(name)
        field = Field(name=name, label=spec.label, personal=spec.personal)
        rec.fields[name] = field
        if src is None:
            if spec.static is not None:
                field.raw = spec.static
                field.value, field.problems = parse_checked(spec.static, spec)
            continue
        texts = [cell_text(resolved.cell(cells, c)) for c in src.columns]
        shown += list(zip(src.columns, texts))
        field.raw = _joined(texts, src, spec)
        if _UNREADABLE.search(field.raw):
            field.problems = [UNREADABLE]
            continue
        field.value, field.problems = read_value(field.raw, src, spec)
    return bot().validate(rec), shown


def read_value(raw: str, src: Source, spec: FieldSpec) -> tuple[Any, list[str]]:
    """A cell's text → (value, problems) by the field's type, the service's words put in the form's."""
    text = raw
    if src.values:
        words = {normalise_text(k).casefold(): v for k, v in src.values.items()}
        text = words.get(normalise_text(raw).casefold(), raw)
    if field_type(spec.type).read_kind == "date" and (m := _TIME_OF_DAY.match(text.strip())):
        text = m.group(1)  # 2026-10-05 13:45:12: the day is the field's value
    if spec.type == "checkbox":
        word = normalise_text(text).casefold()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS, []
        return None, ["有・無のどちらか分かりません"]
    value, problems = parse_checked(text, spec)
    if spec.type == "choice" and value is not None and value not in (spec.options or {}):
        return None, [NOT_AN_OPTION]  # never the service's word in a ledger column of options
    return value, problems


def _joined(texts: list[str], src: Source, spec: FieldSpec) -> str:
    join = src.join if src.join is not None else ("\u3000" if spec.type in ("name", "kana") else "")
    return join.join(t for t in texts if t)


def attachment_field(names: list[str]) -> Field:
    """The record's list of a row's attached files (one per line): shown and checked on the review
    screen, never a ledger column."""
    return Field(name=ATTACHMENTS, label=ATTACHMENTS_LABEL, value="; ".join(names) or None, raw="; ".join(names),
                 personal=True)


def split_names(text: str) -> list[str]:
    """File names in one cell: one per line, or separated by ; or |."""
    return [n.strip() for n in re.split(r"[\r\n;|]+", text) if n.strip()]
