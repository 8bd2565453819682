"""Form templates (bots/<stem>.toml) → pydantic models, checked once when the bot is defined.

Every mistake an author can make becomes a TemplateError naming the file, the key path
(``fields.applied_on.box.w``) and what is wrong, in Japanese, all problems at once.
The grammar is described in docs (template grammar): one locator per field (box, anchor, regex,
static, options for choices, or parts: one zone per written character or gap, read as one value)
plus shared modifiers; and tables of repeated rows (``[tables.NAME]``: one field per column and row).
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field as PField,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from bots.fields import FIELD_TYPES, field_type
from kakari.errors import TemplateError
from kakari.model import Box

LOCATORS = ("box", "anchor", "regex", "static", "options", "parts")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_ROWS = 200


class At(ValueError):
    """A validation error found by a model validator, pointing below the model (``options``)."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known_type(v: str) -> str:
    if v not in FIELD_TYPES:
        known = "、".join(sorted(FIELD_TYPES))
        raise ValueError(f"「{v}」という型はありません。使える型: {known}")
    return v


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, int) and not isinstance(v, bool) else v


class BoxSpec(_Strict):
    """A zone in mm from the page's top-left corner; pages count from 1."""

    page: int = PField(1, ge=1)
    x: float = PField(ge=0)
    y: float = PField(ge=0)
    w: float = PField(gt=0)
    h: float = PField(gt=0)

    def to_box(self) -> Box:
        return Box(self.page, self.x, self.y, self.w, self.h)


class AnchorSpec(_Strict):
    """A zone placed relative to a printed label found in the text layer."""

    text: str = PField(min_length=1)
    side: Literal["right", "below"] = "right"
    dx: float = 0.0
    dy: float = 0.0
    width: float = PField(gt=0)
    height: float | None = PField(None, gt=0)  # default: twice the label's height
    page: int | None = PField(None, ge=1)  # search only this page

    def zone(self, label: Box) -> Box:
        """right: vertically centred on the label, starting dx after it; below: dy under it."""
        height = self.height if self.height is not None else 2 * label.h
        if self.side == "right":
            return Box(label.page, label.x1 + self.dx, label.y - (height - label.h) / 2 + self.dy, self.width, height)
        return Box(label.page, label.x + self.dx, label.y1 + self.dy, self.width, height)


class MatchSpec(_Strict):
    keywords: list[str] = PField(min_length=1)
    exclude: list[str] = PField(default_factory=list)
    min_score: float = PField(0.6, gt=0, le=1)
    priority: int = 0

    @field_validator("keywords", "exclude")
    @classmethod
    def _no_blank(cls, v: list[str]) -> list[str]:
        for i, word in enumerate(v):
            if not "".join(word.split()):
                raise At((str(i),), "空の語は指定できません")
        return v


class LedgerSpec(_Strict):
    columns: list[str] | None = None  # default: every field, in template order
    sheet: str = PField("台帳", min_length=1)


class FieldSpec(_Strict):
    """One field of a form: its label, type, exactly one locator and modifiers."""

    label: str = PField(min_length=1)
    type: str = "text"
    # locators (exactly one)
    box: BoxSpec | None = None
    anchor: AnchorSpec | None = None
    regex: str | None = None  # first group (or the whole match) over the document text
    static: str | None = None
    options: dict[str, BoxSpec] | None = None  # choice only: option name → zone
    parts: list[BoxSpec] | None = None  # digit boxes, 年　月　日 gaps: each read, joined by `format`
    # modifiers
    format: str | None = None  # parts only: "{}" per part, e.g. "{}{}{}-{}{}{}{}" or "令和{}年{}月{}日"
    required: bool = False
    personal: bool = False
    pattern: str | None = None
    length: list[int] | None = None
    handwritten: bool = False
    ocr: dict[str, Any] = PField(default_factory=dict)
    min_confidence: float | None = PField(None, ge=0, le=1)
    reading_of: str | None = None  # kana only: the name field this フリガナ reads (bots.readings)

    _name: str = PrivateAttr("")
    _row: tuple[str, int, str] | None = PrivateAttr(None)  # (table, row from 1, column) of a table cell

    @property
    def name(self) -> str:
        """The field's key in the template (set by FormTemplate)."""
        return self._name

    @property
    def row(self) -> tuple[str, int, str] | None:
        """(table, row, column) when the field is one cell of a ``[tables.NAME]`` table."""
        return self._row

    @property
    def locator(self) -> str:
        return next(k for k in LOCATORS if getattr(self, k) is not None)

    @property
    def lengths(self) -> tuple[int, ...]:
        return tuple(self.length or ())

    @property
    def zones(self) -> list[Box]:
        """Every fixed zone of the field (box or option boxes), for previews."""
        if self.box is not None:
            return [self.box.to_box()]
        if self.parts is not None:
            return [b.to_box() for b in self.parts]
        return [b.to_box() for b in (self.options or {}).values()]

    def joined(self, readings: list[str]) -> str:
        """The parts' readings as one raw value: through `format`, or concatenated. Nothing read in
        any part is "" (the format's printed text alone is not a value)."""
        texts = [r.strip() for r in readings]
        if not any(texts):
            return ""
        return self.format.format(*texts) if self.format else "".join(texts)

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        return _known_type(v)

    @field_validator("regex", "pattern")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"正規表現として正しくありません ({e})") from None
        return v

    @field_validator("length", mode="before")
    @classmethod
    def _length_list(cls, v: Any) -> Any:
        return _as_list(v)

    @field_validator("length")
    @classmethod
    def _length_positive(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and (not v or any(n <= 0 for n in v)):
            raise ValueError("桁数は1以上の整数 (または整数のリスト) で指定してください")
        return v

    @model_validator(mode="after")
    def _one_locator(self) -> FieldSpec:
        given = [k for k in LOCATORS if getattr(self, k) is not None]
        if len(given) != 1:
            what = "、".join(given) if given else "なし"
            raise ValueError(f"場所の指定 (box・anchor・regex・static・options・parts) はちょうど1つにしてください (指定: {what})")
        if self.type == "choice" and self.options is None:
            raise At(("options",), "choice 型には options (選択肢ごとの枠) が必要です")
        if self.options is not None and self.type != "choice":
            raise At(("options",), f"options は choice 型だけで使えます (この項目の型: {self.type})")
        if self.options is not None and not self.options:
            raise At(("options",), "選択肢が1つもありません")
        if self.length is not None and self.type != "digits":
            raise At(("length",), f"length は digits 型だけで使えます (この項目の型: {self.type})")
        if self.parts is not None and not self.parts:
            raise At(("parts",), "枠が1つもありません")
        if self.format is not None:
            if self.parts is None:
                raise At(("format",), "format は parts (文字ごとの枠) と一緒に使います")
            slots = _format_slots(self.format)
            if slots != len(self.parts):
                raise At(("format",), f"{{}} の数 ({slots}) が parts の枠の数 ({len(self.parts)}) と違います")
        return self


def _format_slots(fmt: str) -> int:
    """How many {} a parts format has (-1 if it is not a plain positional format)."""
    import string

    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]
    except ValueError:
        return -1
    return len(fields) if all(f == "" for f in fields) else -1


class ColumnSpec(_Strict):
    """One column of a table: the zone's x and width, the field's type and modifiers."""

    label: str = PField(min_length=1)
    type: str = "text"
    x: float = PField(ge=0)
    w: float = PField(gt=0)
    required: bool = False  # in every row that has something written in it
    personal: bool = False
    pattern: str | None = None
    length: list[int] | None = None
    handwritten: bool = False
    min_confidence: float | None = PField(None, ge=0, le=1)

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        return _known_type(v)

    @field_validator("length", mode="before")
    @classmethod
    def _length_list(cls, v: Any) -> Any:
        return _as_list(v)

    @model_validator(mode="after")
    def _box_types(self) -> ColumnSpec:
        if field_type(self.type).reads_mark:
            raise At(("type",), f"表の列には {self.type} 型は使えません (文字を読む型にしてください)")
        if self.length is not None and self.type != "digits":
            raise At(("length",), f"length は digits 型だけで使えます (この項目の型: {self.type})")
        return self


class TableSpec(_Strict):
    """Repeated rows (世帯員, 扶養親族 …): row i of column c is the field ``<table>_<i>_<c>``, its zone
    (c.x, y + (i-1)·row_height, c.w, h)."""

    label: str = ""
    page: int = PField(1, ge=1)
    y: float = PField(ge=0)  # top of the first row's zones
    rows: int = PField(ge=1, le=MAX_ROWS)
    row_height: float = PField(gt=0)  # from one row to the next
    h: float | None = PField(None, gt=0)  # height of each zone (default: row_height)
    min_rows: int = PField(0, ge=0)  # rows that must be filled in (required columns)
    columns: dict[str, ColumnSpec] = PField(min_length=1)

    @model_validator(mode="after")
    def _sizes(self) -> TableSpec:
        if self.min_rows > self.rows:
            raise At(("min_rows",), f"rows ({self.rows}) 以下にしてください")
        for name in self.columns:
            if not _FIELD_NAME.fullmatch(name):
                raise At(("columns", name), "列名は半角英数字と _ で書いてください (先頭は英字か _)")
        return self

    def cell_name(self, table: str, row: int, column: str) -> str:
        return f"{table}_{row}_{column}"

    def expand(self, table: str) -> dict[str, FieldSpec]:
        """Every cell as a box field, row by row."""
        out: dict[str, FieldSpec] = {}
        h = self.h or self.row_height
        for i in range(1, self.rows + 1):
            top = self.y + (i - 1) * self.row_height
            for col, c in self.columns.items():
                label = f"{self.label}{i} {c.label}" if self.label else f"{c.label} ({i}行目)"
                spec = FieldSpec(label=label, type=c.type, box=BoxSpec(page=self.page, x=c.x, y=top, w=c.w, h=h),
                                 personal=c.personal, pattern=c.pattern, length=c.length, handwritten=c.handwritten,
                                 min_confidence=c.min_confidence)
                name = self.cell_name(table, i, col)
                spec._name, spec._row = name, (table, i, col)
                out[name] = spec
        return out


class FormTemplate(_Strict):
    title: str = PField(min_length=1)
    task: str = PField(min_length=1)
    manual_minutes: float = PField(ge=0)
    review_minutes: float = PField(2.0, ge=0)
    min_confidence: float = PField(0.80, ge=0, le=1)
    page: str | None = None  # paper size, informational ("A4")
    ocr: dict[str, Any] = PField(default_factory=dict)  # engine hints for the whole form
    reference: str | None = None  # blank form PDF scans are registered to; default <stem>.blank.pdf beside
    match: MatchSpec
    fields: dict[str, FieldSpec] = PField(default_factory=dict)  # after loading: the tables' cells too
    tables: dict[str, TableSpec] = PField(default_factory=dict)
    ledger: LedgerSpec = PField(default_factory=LedgerSpec)

    _path: Path | None = PrivateAttr(None)

    @property
    def path(self) -> Path | None:
        """The TOML file the template came from."""
        return self._path

    def reference_path(self) -> Path | None:
        """The blank form scanned pages are aligned to (and marks compared with): `reference`
        (relative to the template), else ``<stem>.blank.pdf`` beside the template if it exists."""
        if self.reference:
            return self._path.parent / self.reference if self._path else Path(self.reference)
        if self._path is None:
            return None
        default = self._path.with_suffix(".blank.pdf")
        return default if default.is_file() else None

    @field_validator("fields")
    @classmethod
    def _names(cls, v: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        for name, spec in v.items():
            if not _FIELD_NAME.fullmatch(name):
                raise At((name,), "項目名は半角英数字と _ で書いてください (先頭は英字か _)")
            spec._name = name
        return v

    @model_validator(mode="after")
    def _ledger_columns(self) -> FormTemplate:
        if not self.fields and not self.tables:
            raise At(("fields",), "必須の項目がありません ([fields.名前] か [tables.名前] で項目を書いてください)")
        for table, spec in self.tables.items():
            if not _FIELD_NAME.fullmatch(table):
                raise At(("tables", table), "表の名前は半角英数字と _ で書いてください (先頭は英字か _)")
            for name, cell in spec.expand(table).items():
                if name in self.fields:
                    raise At(("tables", table), f"表のセル「{name}」が fields の項目名と重なっています")
                self.fields[name] = cell
        for name, spec in self.fields.items():
            if spec.reading_of is None:
                continue
            if spec.type != "kana":
                raise At(("fields", name, "reading_of"), f"reading_of は kana 型だけで使えます (この項目の型: {spec.type})")
            if spec.reading_of not in self.fields:
                raise At(("fields", name, "reading_of"), f"「{spec.reading_of}」は fields にない項目名です")
        cols = self.ledger.columns
        if cols is None:
            return self
        for i, col in enumerate(cols):
            if col not in self.fields:
                raise At(("ledger", "columns", str(i)), f"「{col}」は fields にない項目名です")
            if col in cols[:i]:
                raise At(("ledger", "columns", str(i)), f"「{col}」が重複しています")
        return self

    def ledger_columns(self) -> list[str]:
        """Ledger column order: [ledger].columns, or every field in template order."""
        return list(self.ledger.columns) if self.ledger.columns is not None else list(self.fields)


# =============================================================================================
# Loading and error messages
# =============================================================================================
def _message(e: Any) -> tuple[tuple[str, ...], str]:
    """(extra key path, Japanese message) of one pydantic error."""
    kind, ctx = e["type"], e.get("ctx") or {}
    err = ctx.get("error")
    if isinstance(err, At):
        return err.loc, err.message
    if isinstance(err, Exception):  # our own ValueError messages are already Japanese
        return (), str(err)
    fixed = {
        "missing": "必須の項目がありません",
        "extra_forbidden": "不明な項目です (綴りを確認してください)",
        "string_type": "文字列で指定してください",
        "float_parsing": "数値で指定してください",
        "float_type": "数値で指定してください",
        "int_parsing": "整数で指定してください",
        "int_type": "整数で指定してください",
        "int_from_float": "整数で指定してください",
        "bool_type": "true か false で指定してください",
        "bool_parsing": "true か false で指定してください",
        "dict_type": "表 (テーブル) で指定してください",
        "model_type": "表 (テーブル) で指定してください",
        "model_attributes_type": "表 (テーブル) で指定してください",
        "list_type": "リストで指定してください",
    }
    if kind in fixed:
        return (), fixed[kind]
    if kind == "greater_than":
        return (), f"{_num(ctx['gt'])} より大きい値にしてください"
    if kind == "greater_than_equal":
        return (), f"{_num(ctx['ge'])} 以上にしてください"
    if kind == "less_than_equal":
        return (), f"{_num(ctx['le'])} 以下にしてください"
    if kind in ("too_short", "string_too_short"):
        return (), "空にはできません"
    if kind == "literal_error":
        return (), f"{str(ctx.get('expected')).replace(' or ', '、')} のどれかにしてください"
    return (), e["msg"]


def _num(v: Any) -> Any:
    return int(v) if isinstance(v, float) and v.is_integer() else v


def format_template_error(source: Path | str, err: ValidationError) -> str:
    lines = [f"様式テンプレート {source} に誤りがあります:"]
    for e in err.errors():
        extra, msg = _message(e)
        loc = ".".join(str(p) for p in (*e["loc"], *extra)) or "(全体)"
        shown = "" if e["type"] == "missing" or isinstance(e.get("input"), dict) else f" (入力値: {e.get('input')!r})"
        lines.append(f"  - {loc}: {msg}{shown}")
    return "\n".join(lines)


def load_template(path: Path) -> FormTemplate:
    """Read and check a template. TemplateError names the file, the key path and the problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TemplateError(f"様式テンプレート {path} がありません (ボットの .py と同じフォルダーに置いてください)") from None
    except UnicodeDecodeError:
        raise TemplateError(f"様式テンプレート {path} を読めません (UTF-8 で保存してください)") from None
    except tomllib.TOMLDecodeError as e:
        raise TemplateError(f"様式テンプレート {path} の TOML の書き方に誤りがあります: {e}") from None
    try:
        template = FormTemplate.model_validate(data)
    except ValidationError as e:
        raise TemplateError(format_template_error(path, e)) from None
    template._path = path
    ref = template.reference_path()
    if template.reference and (ref is None or not ref.is_file()):
        raise TemplateError(f"様式テンプレート {path} の reference: 白紙の様式 {ref} がありません")
    return template
