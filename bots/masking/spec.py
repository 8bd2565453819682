"""What to mask, as the town writes it in the bot's TOML: number patterns (digits, groups, check
digit, labels or a regex) and the zones of known forms. Checked when loaded; errors name the key."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kakari.config import format_validation_error
from kakari.errors import TemplateError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Pattern(_Strict):
    """One kind of number. A digit pattern matches runs of `digits` digits (separators and digit
    boxes allowed); a regex pattern matches `regex` in the text after one of its `labels`."""

    name: str = ""
    label: str  # what clerks call it: 個人番号, 基礎年金番号 … (ledger counts, review screen)
    enabled: bool = True  # false: recognised (so it is not taken for another kind) but never masked
    digits: list[int] = Field(default_factory=list)  # accepted digit counts
    groups: list[int] | None = None  # written groups when separated (4+6: [4, 6]); unseparated is fine too
    check: Literal["my_number", "corporate_number"] | None = None
    anywhere: bool = False  # masked by content alone, without a label (sensible with a check digit)
    labels: list[str] = Field(default_factory=list)  # printed next to the number (right of it or above)
    not_labels: list[str] = Field(default_factory=list)  # phrases containing a label that are not one
    expect_number: bool = False  # a label with no number near it sends the document to 要確認
    regex: str | None = None
    reach_mm: float = Field(100.0, gt=0)  # how far right of its label a number may start
    below_mm: float = Field(25.0, ge=0)  # how far below its label (the label heads a cell or a column)

    @field_validator("regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"正規表現が正しくありません: {e}") from None
        return v

    @model_validator(mode="after")
    def _kind(self) -> Pattern:
        if not self.digits and self.regex is None:
            raise ValueError("digits (桁数) か regex (正規表現) のどちらかが必要です")
        if self.regex is not None and not self.labels:
            raise ValueError("regex で探す番号には labels (近くに印字される見出し) が必要です")
        if self.groups is not None and sum(self.groups) not in self.digits:
            raise ValueError(f"groups {self.groups} の合計が digits {self.digits} のどれとも一致しません")
        return self


class Zone(_Strict):
    """A box of a known form masked by position, in mm of the upright page. With an `anchor`
    (a printed label and where the blank form has it), the box moves with the label as found."""

    kind: str  # a pattern name (counted under that pattern's label)
    page: int = Field(1, ge=1)
    x: float
    y: float
    w: float = Field(gt=0)
    h: float = Field(gt=0)


class Anchor(_Strict):
    text: str
    x: float  # where the label's box starts on the blank form (mm)
    y: float


class KnownForm(_Strict):
    name: str = ""
    title: str
    keywords: list[str] = Field(min_length=1)  # all of them printed on the page: it is this form
    anchor: Anchor | None = None
    zones: list[Zone] = Field(min_length=1)


class MaskSpec(_Strict):
    title: str = "個人番号等の墨塗り"
    task: str = "PDF取込・マスキング"
    manual_minutes: float = Field(3.0, ge=0)
    review_minutes: float = Field(1.5, ge=0)
    dpi: int = Field(200, ge=100, le=400)  # resolution of the released page images
    margin_mm: float = Field(1.0, ge=0, le=5)  # boxes reach this far beyond the characters
    min_confidence: float = Field(0.80, ge=0, le=1)  # an OCR reading below this is 要確認
    ocr_images: float = Field(0.05, ge=0, le=1)  # text pages whose images cover this share are OCR'd too
    patterns: dict[str, Pattern]
    forms: dict[str, KnownForm] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names(self) -> MaskSpec:
        for name, p in self.patterns.items():
            p.name = name
        for name, f in self.forms.items():
            f.name = name
            for z in f.zones:
                if z.kind not in self.patterns:
                    raise ValueError(f"forms.{name} の zones の kind「{z.kind}」は patterns にありません")
        return self

    def masked(self) -> list[Pattern]:
        return [p for p in self.patterns.values() if p.enabled]


def load_spec(path: Path) -> MaskSpec:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise TemplateError(f"墨塗りの定義 {path} を読めません: {e}") from None
    try:
        return MaskSpec(**data)
    except ValidationError as e:
        raise TemplateError(format_validation_error(path, e)) from None
