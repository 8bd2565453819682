"""Field types: how a raw reading becomes a normalised value plus Japanese problems.

Each type is a small class registered by its ``type_name`` (``__init_subclass__`` fills the registry),
so kana, 〒, phone numbers and check digits live in one place (和暦 is the kernel's, kakari/wareki.py). The
helpers below (``to_katakana``, ``normalise_text`` …) are plain functions so validators and tools can reuse them.
Normalised values follow docs/template grammar: ISO strings for dates, "NNN-NNNN" for postal codes,
ASCII digit strings for numbers, int/float for amounts, bool for checkboxes, str|None for choices.
"""
from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any, ClassVar

from kakari.errors import ConfigError
from kakari.wareki import nfkc_keep_kanji, parse_wareki

if TYPE_CHECKING:  # template.py imports this module; only the type hint goes the other way
    from bots.template import FieldSpec

# -- messages shown to clerks ------------------------------------------------------------------
BAD_FORMAT = "形式が正しくありません"
NOT_KATAKANA = "カタカナ以外の文字があります"
SEVERAL_CHOICES = "複数の選択肢に印があります"

# =============================================================================================
# Text helpers
# =============================================================================================
_SPACES = re.compile(r"\s+")


def normalise_text(text: str, space: str = " ") -> str:
    """NFKC (full-width digits/Latin → ASCII, half-width katakana → full-width), never touching kanji;
    runs of whitespace (ASCII, 「　」, newlines) become one `space`; stripped."""
    return space.join(_SPACES.split(nfkc_keep_kanji(text).strip())).strip()


_HALF_KANA_RUN = re.compile("[\uFF61-\uFF9F]+")
_HIRA_TO_KATA = {c: c + 0x60 for c in range(0x3041, 0x3097)} | {0x309D: 0x30FD, 0x309E: 0x30FE}


def to_katakana(text: str) -> str:
    """Hiragana → katakana and half-width katakana (with ﾞ/ﾟ) → full-width; everything else kept."""
    text = _HALF_KANA_RUN.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return text.translate(_HIRA_TO_KATA)


def is_katakana(ch: str) -> bool:
    """Full-width katakana letters, ・, ー, ヽ, ヾ."""
    return "\u30A1" <= ch <= "\u30FE"


# =============================================================================================
# Numbers with check digits, phone numbers
# =============================================================================================
def my_number_check_digit(first11: str) -> int:
    """個人番号: P1…P11 counted from the right, Qn = n+1 (n ≤ 6) or n−5 (n ≥ 7); r = ΣPnQn mod 11;
    0 if r ≤ 1 else 11 − r."""
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise ValueError("11 ASCII digits expected")
    total = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(first11), start=1))
    r = total % 11
    return 0 if r <= 1 else 11 - r


def corporate_number_check_digit(last12: str) -> int:
    """法人番号: P1…P12 counted from the right, Qn = 1 (odd n) or 2 (even n); 9 − (ΣPnQn mod 9)."""
    if len(last12) != 12 or not last12.isascii() or not last12.isdigit():
        raise ValueError("12 ASCII digits expected")
    total = sum(int(p) * (1 if n % 2 else 2) for n, p in enumerate(reversed(last12), start=1))
    return 9 - total % 9


MOBILE_PREFIXES = ("070", "080", "090", "050")  # 11 digits; 0800 (toll free) also starts with 080
_FOUR_DIGIT_SPECIAL = ("0120", "0570", "0990")  # 0120-123-456


def phone_digits_valid(digits: str) -> bool:
    """10 digits for fixed lines (0 then a non-zero), 11 for 070/080/090/050."""
    if len(digits) == 11:
        return digits.startswith(MOBILE_PREFIXES)
    return len(digits) == 10 and digits[0] == "0" and digits[1] != "0" and not digits.startswith(MOBILE_PREFIXES)


def phone_groups_valid(groups: list[str]) -> bool:
    """Groups written with hyphens (or brackets) as the numbering plan has them: a 0-led area code of
    2–5 digits, at most one more group of 1–4, and the subscriber's last 3–4 digits (0120-123-456).
    0-91-374-1092 has the digits of a number but not its shape: a space or a dash read where none is."""
    if len(groups) <= 1:
        return True
    first, *middle, last = groups
    return (len(groups) <= 3 and first.startswith("0") and 2 <= len(first) <= 5
            and all(1 <= len(g) <= 4 for g in middle) and 3 <= len(last) <= 4)


def format_phone(digits: str) -> str:
    """Hyphenate a bare number: 090-1234-5678, 0800-123-4567, 0120-123-456, 03-1234-5678 (03/06),
    else 0AB-CDE-FGHJ. Area codes of 4–5 digits cannot be told from the digits alone; numbers
    written with hyphens keep theirs (see PhoneType), so this guess only applies to bare numbers."""
    if len(digits) == 11:
        if digits.startswith("0800"):
            return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if len(digits) == 10:
        if digits.startswith(_FOUR_DIGIT_SPECIAL):
            return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
        if digits[:2] in ("03", "06"):
            return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return digits


# =============================================================================================
# Field types
# =============================================================================================
FIELD_TYPES: dict[str, type[FieldType]] = {}


class FieldType:
    """Base of field types. Subclasses set ``type_name`` (registry key) and ``read_kind`` (how a scan
    engine should read the zone) and implement ``parse``. Instances are stateless."""

    type_name: ClassVar[str] = ""
    read_kind: ClassVar[str] = "text"  # one of ocr.document.ReadKind
    reads_mark: ClassVar[bool] = False  # the zone is asked "is it ticked?" instead of read as text

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.type_name:
            return
        old = FIELD_TYPES.get(cls.type_name)
        same = old is not None and (old.__module__, old.__qualname__) == (cls.__module__, cls.__qualname__)
        if old is not None and not same:  # the same class re-imported (reload) is fine
            raise ConfigError(f"項目の型「{cls.type_name}」が重複しています: {old.__module__}.{old.__qualname__} "
                              f"と {cls.__module__}.{cls.__qualname__}")
        FIELD_TYPES[cls.type_name] = cls

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        """Raw reading → (normalised value or None when empty, Japanese problems)."""
        raise NotImplementedError


def field_type(name: str) -> FieldType:
    """An instance of the registered type `name` (KeyError if unknown)."""
    return FIELD_TYPES[name]()


def parse_value(raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
    """Parse with the spec's type, then apply the shared `pattern` modifier to the normalised value."""
    value, problems = field_type(spec.type).parse(raw, spec)
    if (spec.pattern and value is not None and not isinstance(value, bool)
            and re.fullmatch(spec.pattern, str(value)) is None and BAD_FORMAT not in problems):
        problems = [*problems, BAD_FORMAT]
    return value, problems


class TextType(FieldType):
    type_name = "text"
    read_kind = "text"

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        return normalise_text(raw) or None, []


class NameType(FieldType):
    """氏名: surname and given name separated by one full-width space (山田　太郎)."""

    type_name = "name"
    read_kind = "line"

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        return normalise_text(raw, space="\u3000") or None, []


class KanaType(FieldType):
    type_name = "kana"
    read_kind = "kana"

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        value = to_katakana(normalise_text(raw, space="\u3000"))
        if not value:
            return None, []
        ok = all(is_katakana(ch) or ch == "\u3000" for ch in value)
        return value, [] if ok else [NOT_KATAKANA]


class WarekiDateType(FieldType):
    type_name = "wareki_date"
    read_kind = "date"

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        d, problems = parse_wareki(raw)
        if d is None and (m := _DAY_AS_11.search(normalise_text(raw))):
            # 日 read as 11 (its two uprights, its bars too faint): offered with 日, for a person to confirm
            d, again = parse_wareki(normalise_text(raw)[: m.start()] + "月" + m.group(1) + "日")
            if d is not None and not again:
                return d.isoformat(), [DAY_AS_11]
        return (d.isoformat() if d else None), problems


_DAY_AS_11 = re.compile(r"月\s*(\d{1,2})11\s*$")  # 3月2411: a day and the 日 after it read as 11
DAY_AS_11 = "日が「11」と読まれた可能性があります: 原本で確認してください"


def _digits_only(raw: str) -> str:
    return "".join(ch for ch in nfkc_keep_kanji(raw) if ch.isascii() and ch.isdigit())


class PostalCodeType(FieldType):
    type_name = "postal_code"
    read_kind = "digits"

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        digits = _digits_only(raw)
        if len(digits) == 7:
            return f"{digits[:3]}-{digits[3:]}", []
        text = "".join(normalise_text(raw).replace("〒", "").split())
        return (text or None), ([] if not text else ["郵便番号は7桁の数字です"])


PHONE_GROUPS = "電話番号の区切りが正しくありません (市外局番・市内局番・加入者番号)"
_HYPHENS = re.compile("[\u2010-\u2015\u2212\u30FC\uFF70\uFE63\uFF0D]")


class PhoneType(FieldType):
    type_name = "phone"
    read_kind = "digits"

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        text = _HYPHENS.sub("-", normalise_text(raw))
        groups = re.findall(r"\d+", text)
        digits = "".join(groups)
        if not digits:
            return (text or None), ([BAD_FORMAT] if text else [])
        # hyphens as written are kept (area codes vary); 03(1234)5678 counts as written groups too
        valid = phone_digits_valid(digits)
        value = "-".join(groups) if len(groups) > 1 else format_phone(digits) if valid else digits
        if not valid:
            return value, ["電話番号の桁数が正しくありません (固定電話は0から始まる10桁、携帯電話・IP電話は11桁)"]
        if not phone_groups_valid(groups):
            return value, [PHONE_GROUPS]
        return value, []


def _plain_digits(raw: str) -> str:
    return _HYPHENS.sub("", "".join(normalise_text(raw).split())).replace("-", "")


def _is_ascii_digits(s: str) -> bool:
    return s.isascii() and s.isdigit()


class DigitsType(FieldType):
    """A number kept as text so leading zeros survive (保険者番号 01234567); `length` checked."""

    type_name = "digits"
    read_kind = "digits"

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        value = _plain_digits(raw)
        if not value:
            return None, []
        if not _is_ascii_digits(value):
            return value, ["数字以外の文字があります"]
        lengths = spec.lengths
        if lengths and len(value) not in lengths:
            allowed = "・".join(str(n) for n in lengths)
            return value, [f"桁数が正しくありません ({len(value)}桁、正しくは{allowed}桁)"]
        return value, []


class MyNumberType(FieldType):
    type_name = "my_number"
    read_kind = "digits"

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        value = _plain_digits(raw)
        if not value:
            return None, []
        if not _is_ascii_digits(value) or len(value) != 12:
            return value, ["個人番号は12桁の数字です"]
        if my_number_check_digit(value[:11]) != int(value[11]):
            return value, ["個人番号のチェックデジットが正しくありません"]
        return value, []


class CorporateNumberType(FieldType):
    type_name = "corporate_number"
    read_kind = "digits"

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        value = _plain_digits(raw)
        if not value:
            return None, []
        if not _is_ascii_digits(value) or len(value) != 13:
            return value, ["法人番号は13桁の数字です"]
        if corporate_number_check_digit(value[1:]) != int(value[0]):
            return value, ["法人番号のチェックデジットが正しくありません"]
        return value, []


# units and currency marks written next to numbers; NFKC has already turned ㎡ into m2 and ￥ into ¥
_AMOUNT_NOISE = re.compile(r"m2|[円¥$席人名\s]|^金")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")  # thousands separators, every three digits
_POINT_GROUPED = re.compile(r"-?\d{1,3}(\.\d{3})+")  # 16.000, 1.500.000: points where thousands go
AMBIGUOUS_POINT = "小数点か桁区切り(,)か判別できません"


class AmountType(FieldType):
    type_name = "amount"
    read_kind = "amount"

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        text = normalise_text(raw)
        if not text:
            return None, []
        s = _AMOUNT_NOISE.sub("", _HYPHENS.sub("-", text))
        if not s:  # only the unit printed on the form (円, ㎡, 席): nothing was written
            return None, []
        if "," in s:
            # 71,7 is not seventy-one thousand: a decimal point misread (or miswritten) as a comma
            if _GROUPED.fullmatch(s) is None:
                return None, ["桁区切り(,)の位置が正しくありません"]
            s = s.replace(",", "")
        elif _POINT_GROUPED.fullmatch(s):
            # 16.000: a thousands separator misread (or written European style) as a point, or a
            # decimal; a person decides, offered the thousands (a form's amounts carry at most two
            # decimals, and 1.500.000 can only be thousands)
            return int(s.replace(".", "")), [AMBIGUOUS_POINT]
        m = _NUMBER.fullmatch(s)
        if m is None:
            return None, ["数値として読み取れません"]
        return (float(s) if m.group(1) else int(s)), []


_FALSE_WORDS = {"", "0", "false", "無", "なし", "いいえ", "□", "☐"}


class CheckboxType(FieldType):
    """True if the zone is ticked. A text reading (static/regex) counts unless it says 無/0/false."""

    type_name = "checkbox"
    read_kind = "char"
    reads_mark = True

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        return normalise_text(raw).lower() not in _FALSE_WORDS, []


class ChoiceType(FieldType):
    """One of the option names. `raw` is the names of the marked option zones, one per line."""

    type_name = "choice"
    read_kind = "char"
    reads_mark = True

    def parse(self, raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
        marked = [normalise_text(line) for line in raw.splitlines() if line.strip()]
        if not marked:
            return None, []
        if len(marked) > 1:
            return None, [SEVERAL_CHOICES]
        options = {normalise_text(k): k for k in (spec.options or {})}
        if marked[0] not in options:
            return marked[0], ["選択肢にない値です"]
        return options[marked[0]], []
