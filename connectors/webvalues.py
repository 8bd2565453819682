"""Record value → the text a screen wants: named parts of a value (和暦, 姓・名, 〒, 住所), patterns
that put parts together (`{era_initial}{era_year}.{month}.{day}`, `{year}`, `{month:02}`), and the
plug-in point for a transform no pattern can say (`ValueTransform`, found by `transforms`).

A pattern is Python's format mini-language restricted to names: `{part}` is a part of the field's
own value, `{other_field}` another record field's text, `{other_field.part}` a part of it. No
attribute or index access, no conversions: a mapping file can only ask for what is listed in PARTS.
"""
from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar

from kakari import wareki
from kakari.model import Record
from kakari.registry import Registry


class TransformError(ValueError):
    """The value cannot be shown the way the screen wants (message in Japanese, without the value)."""


# =============================================================================================
# Splitting values
# =============================================================================================
_PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}?県)")
_MUNICIPALITY = re.compile(r"^((?:.+?郡)?.+?[市区町村])")


def nfkc(v: Any) -> str:
    return unicodedata.normalize("NFKC", str(v)).strip()


def as_date(v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(nfkc(v)[:10])
    except ValueError:
        raise TransformError("日付として読めません") from None


def wareki_parts(v: Any) -> tuple[str, int, int, int]:
    try:
        return wareki.wareki_parts(as_date(v))
    except ValueError as e:
        raise TransformError(str(e)) from None


def split_name(v: Any) -> tuple[str, str]:
    """姓・名: surname first, separated by a full- or half-width space (docs/domain.md); never altered."""
    parts = str(v).strip().replace("\u3000", " ").split()
    if len(parts) < 2:
        raise TransformError("姓と名の区切り（空白）がないため分割できません")
    return parts[0], "\u3000".join(parts[1:])


def postal_digits(v: Any) -> str:
    digits = re.sub(r"\D", "", nfkc(v))
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


def number_text(v: Any) -> str:
    text = nfkc(v).replace(",", "")
    try:
        f = float(text)
    except ValueError:
        raise TransformError("数値として読めません") from None
    return str(int(f)) if f == int(f) and "." not in text else f"{f:f}".rstrip("0").rstrip(".")


def bool_text(v: Any) -> str:
    if isinstance(v, str):
        return "true" if v.strip() in ("true", "True", "1", "有", "〇", "○", "はい") else "false"
    return "true" if v else "false"


def is_empty(v: Any) -> bool:
    return v is None or v is False or (isinstance(v, str) and not v.strip())


# =============================================================================================
# Parts: what a pattern may ask of a value. Dates give numbers, so `{month:02}` pads.
# =============================================================================================
Part = Callable[[Any, list[str]], Any]  # (value, known municipalities) → part


def _era_year(v: Any) -> int:
    return wareki_parts(v)[1]


def _wareki(v: Any) -> str:
    wareki_parts(v)  # refuses dates before 明治 with the transform's error
    return wareki.format_wareki(as_date(v))


PARTS: dict[str, Part] = {
    "value": lambda v, m: str(v).strip(),
    "nfkc": lambda v, m: nfkc(v),
    "digits": lambda v, m: re.sub(r"\D", "", nfkc(v)),
    "number": lambda v, m: number_text(v),
    "year": lambda v, m: as_date(v).year,
    "month": lambda v, m: as_date(v).month,
    "day": lambda v, m: as_date(v).day,
    "iso_date": lambda v, m: as_date(v).isoformat(),
    "era": lambda v, m: wareki_parts(v)[0],  # 令和
    "era_initial": lambda v, m: wareki.era_initial(wareki_parts(v)[0]),  # R
    "era_year": lambda v, m: _era_year(v),  # 1 in 令和元年
    "era_year_gannen": lambda v, m: "元" if _era_year(v) == 1 else str(_era_year(v)),  # 元 in 令和元年
    "wareki": lambda v, m: _wareki(v),  # 令和6年9月11日
    "surname": lambda v, m: split_name(v)[0],
    "given_name": lambda v, m: split_name(v)[1],
    "postal": lambda v, m: (lambda d: f"{d[:3]}-{d[3:]}")(postal_digits(v)),
    "postal_head": lambda v, m: postal_digits(v)[:3],
    "postal_tail": lambda v, m: postal_digits(v)[3:],
    "prefecture": lambda v, m: split_address(v, m)[0],
    "municipality": lambda v, m: split_address(v, m)[1],
    "address_rest": lambda v, m: split_address(v, m)[2],
    "phone": lambda v, m: nfkc(v),
}

# The named transforms of earlier mapping files, each one part; `bool` and `present` also take an
# empty value (they say whether it is there), so they are handled before any pattern.
LEGACY_TRANSFORMS: dict[str, str] = {
    "text": "{value}", "nfkc": "{nfkc}", "iso_date": "{iso_date}", "wareki": "{wareki}",
    "wareki_era": "{era}", "wareki_year": "{era_year}", "month": "{month}", "day": "{day}",
    "surname": "{surname}", "given_name": "{given_name}", "postal": "{postal}",
    "postal_head": "{postal_head}", "postal_tail": "{postal_tail}", "prefecture": "{prefecture}",
    "municipality": "{municipality}", "address_rest": "{address_rest}", "phone": "{phone}",
    "digits": "{digits}", "number": "{number}",
}
PRESENCE_TRANSFORMS = ("bool", "present")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMERIC_SPEC = re.compile(r"[+\- ]?0\d+[,_]?d?|[+\- ]?\d*[,_]?d")  # {x:05}, {x:d}: zero-padded numbers


def pattern_names(pattern: str) -> list[tuple[str | None, str]]:
    """The (field, part) pairs a pattern asks for: (None, part) for the field's own value,
    (field, None) for another field's text. ValueError names what is not allowed."""
    out: list[tuple[str | None, str]] = []
    try:
        items = list(string.Formatter().parse(pattern))
    except ValueError as e:
        raise ValueError(f"書式「{pattern}」の括弧 {{ }} が対になっていません ({e})") from None
    for _, name, spec, conversion in items:
        if name is None:
            continue
        if conversion:
            raise ValueError(f"書式「{pattern}」: 変換指定 !{conversion} は使えません")
        if spec and "{" in spec:
            raise ValueError(f"書式「{pattern}」: 書式指定の中に {{ }} は使えません")
        head, dot, tail = name.partition(".")
        if not _NAME.fullmatch(head) or (dot and not _NAME.fullmatch(tail)):
            raise ValueError(f"書式「{pattern}」の「{{{name}}}」: 名前は英数字と下線、部分は「項目名.部分名」で指定してください")
        if dot:
            if tail not in PARTS:
                raise ValueError(f"書式「{pattern}」: 部分「{tail}」は未対応です (使用可能: {'、'.join(PARTS)})")
            out.append((head, tail))
        elif head in PARTS:
            out.append((None, head))
        else:
            out.append((head, None))  # another record field, checked against the bots by `systems check`
    return out


def render(pattern: str, own: Any, lookup: Callable[[str], Any], municipalities: list[str],
           groups: dict[str, str] | None = None) -> str:
    """Fill a pattern. `own` is the field's source value, `lookup(name)` another field's value,
    `groups` the named groups of the field's `parse` regex (they win over parts of the same name)."""
    out: list[str] = []
    for literal, name, spec, _ in string.Formatter().parse(pattern):
        out.append(literal)
        if name is None:
            continue
        head, dot, tail = name.partition(".")
        if groups is not None and not dot and head in groups:
            value: Any = groups[head]
        elif dot:
            base = lookup(head)
            value = "" if is_empty(base) else PARTS[tail](base, municipalities)
        elif head in PARTS:
            value = PARTS[head](own, municipalities)
        else:
            base = lookup(head)
            value = "" if is_empty(base) else str(base).strip()
        if spec and isinstance(value, str) and _NUMERIC_SPEC.fullmatch(spec):
            if not value.isdigit():  # format() would pad a text on the right: 12 → 12000
                raise TransformError(f"「{{{name}:{spec}}}」の書式指定は数字だけの値に使えます")
            value = int(value)
        try:
            out.append(format(value, spec or ""))
        except (ValueError, TypeError):
            raise TransformError(f"「{{{name}:{spec}}}」の書式指定をこの値に使えません") from None
    return "".join(out)


def parse_groups(regex: re.Pattern[str], value: Any) -> dict[str, str]:
    m = regex.search(nfkc(value))
    if m is None:
        raise TransformError("値が parse の正規表現に合わないため分割できません")
    return {k: v or "" for k, v in m.groupdict().items()}


# =============================================================================================
# Plug-in transforms
# =============================================================================================
class ValueTransform:
    """A transform a pattern cannot say (e.g. 全角 → 半角カナ for an old host system).

    Subclass it, give it a `name`, and implement `__call__`; it is found by the `transforms`
    registry: built-ins in connectors/transforms/, other packages through the entry-point group
    ``kakari.transforms``, a town's own as a .py file in <home>/systems/. A mapping uses it with
    ``transform = "<name>"``; it gets the pattern's result when the field has a `format`, else the
    record's raw value. Raise TransformError (a Japanese message without the value) to refuse a value.
    """

    name: ClassVar[str] = ""

    def __call__(self, value: Any, record: Record, system: Any) -> str:
        raise NotImplementedError


transforms: Registry[ValueTransform] = Registry("kakari.transforms", ValueTransform, "connectors.transforms")


def known_transform(name: str) -> bool:
    return name in LEGACY_TRANSFORMS or name in PRESENCE_TRANSFORMS or name in transforms.entries()


def transform_names() -> list[str]:
    return sorted({*LEGACY_TRANSFORMS, *PRESENCE_TRANSFORMS, *transforms.names()})


_instances: dict[type[ValueTransform], ValueTransform] = {}


def apply_plugin(name: str, value: Any, record: Record, system: Any) -> str:
    cls = transforms.get(name)
    fn = _instances.get(cls) or _instances.setdefault(cls, cls())
    result = fn(value, record, system)
    if not isinstance(result, str):
        raise TransformError(f"変換「{name}」が文字列を返しませんでした")
    return result
