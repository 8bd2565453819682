"""和暦: the era table and the conversions every layer needs (reading forms, typing dates into a
system, labelling a 年度). Pure functions, no plugin imports."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

BAD_DATE = "日付として正しくありません"

# (name, initials, first day, first day of the next era). 明治 is counted from 1868-01-01: the
# calendar reform makes its first day ambiguous, so early-1868 dates are not flagged.
ERAS: tuple[tuple[str, str, date, date | None], ...] = (
    ("明治", "M明", date(1868, 1, 1), date(1912, 7, 30)),
    ("大正", "T大", date(1912, 7, 30), date(1926, 12, 25)),
    ("昭和", "S昭", date(1926, 12, 25), date(1989, 1, 8)),
    ("平成", "H平", date(1989, 1, 8), date(2019, 5, 1)),
    ("令和", "R令", date(2019, 5, 1), None),
)
_ERA_BY_TOKEN: dict[str, int] = {}
for _i, (_name, _initials, _s, _e) in enumerate(ERAS):
    _ERA_BY_TOKEN[_name] = _i
    for _ch in _initials:
        _ERA_BY_TOKEN[_ch] = _i
_ERA_TOKENS = "|".join(sorted(_ERA_BY_TOKEN, key=len, reverse=True))
_SEP_Y = r"(?:年|[./\-])"
_SEP_M = r"(?:月|[./\-])"
_WAREKI = re.compile(rf"({_ERA_TOKENS})(元|\d{{1,2}}){_SEP_Y}(\d{{1,2}}){_SEP_M}(\d{{1,2}})(?:日|(?!\d))", re.I)
_SEIREKI = re.compile(rf"(?<!\d)(\d{{4}}){_SEP_Y}(\d{{1,2}}){_SEP_M}(\d{{1,2}})(?:日|(?!\d))")
_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")  # 20230401
_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_RUN = re.compile("[〇零一二三四五六七八九十百千]+")
# CJK compatibility ideographs (e.g. 神 U+FA19) have NFKC decompositions to other kanji; they are
# left out of normalisation so names keep the kanji as written.
_COMPAT_IDEOGRAPHS = re.compile("([\uF900-\uFAFF\U0002F800-\U0002FA1F]+)")


def nfkc_keep_kanji(text: str) -> str:
    """NFKC everywhere except on compatibility ideographs."""
    parts = _COMPAT_IDEOGRAPHS.split(text)
    # odd indexes are the captured compatibility ideographs
    return "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))


def kanji_to_int(run: str) -> int:
    """Kanji numerals → int: 十二 → 12, 三十一 → 31, 二〇二三 → 2023, 二千二十三 → 2023."""
    if not any(ch in _KANJI_UNITS for ch in run):  # positional, as in 二〇二三
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in run))
    total, digit = 0, None
    for ch in run:
        if ch in _KANJI_DIGITS:
            digit = _KANJI_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _KANJI_UNITS[ch]
            digit = None
    return total + (digit or 0)


def era_of(d: date) -> int:
    """Index into ERAS of the era a date belongs to (明治 for anything earlier)."""
    for i in range(len(ERAS) - 1, -1, -1):
        if d >= ERAS[i][2]:
            return i
    return 0


def wareki_parts(d: date) -> tuple[str, int, int, int]:
    """(era name, era year, month, day); ValueError before 明治."""
    if d < ERAS[0][2]:
        raise ValueError("明治より前の日付は和暦にできません")
    i = era_of(d)
    return ERAS[i][0], d.year - ERAS[i][2].year + 1, d.month, d.day


def era_initial(name: str) -> str:
    """令和 → R, 平成 → H …"""
    for era, initials, _, _ in ERAS:
        if era == name:
            return initials[0]
    raise ValueError(f"元号「{name}」は対応していません")


def format_wareki(d: date) -> str:
    """令和元年5月1日 style."""
    era, year, month, day = wareki_parts(d)
    return f"{era}{'元' if year == 1 else year}年{month}月{day}日"


def wareki_year(year: int) -> str:
    """Gregorian year → era and year, 元 for year 1, the year counted in the era that ends it (as
    the government names a 年度: April 2019 – March 2020 is 令和元年度): 2025 → "令和7", 2019 → "令和元"."""
    era, n, _, _ = wareki_parts(date(year, 12, 31))
    return f"{era}{'元' if n == 1 else n}"


def parse_wareki(text: str) -> tuple[date | None, list[str]]:
    """A date as people write it (和暦 or 西暦) → (date, problems).

    Unreadable or impossible dates (2月30日) give (None, [BAD_DATE]); a date outside its era
    (平成31年5月1日) is converted and flagged, since real people write it and a clerk should look.
    """
    s = "".join(nfkc_keep_kanji(text).split())
    if not s:
        return None, []
    s = _KANJI_RUN.sub(lambda m: str(kanji_to_int(m.group())), s)
    if m := _WAREKI.search(s):
        token, y, mo, d = m.groups()
        era = _ERA_BY_TOKEN[token] if token in _ERA_BY_TOKEN else _ERA_BY_TOKEN[token.upper()]
        year = 1 if y == "元" else int(y)
        if year < 1:
            return None, [BAD_DATE]
        try:
            value = date(ERAS[era][2].year + year - 1, int(mo), int(d))
        except ValueError:
            return None, [BAD_DATE]
        start, end = ERAS[era][2], ERAS[era][3]
        if value < start or (end is not None and value >= end):
            return value, [f"元号と日付が合いません ({format_wareki(value)}のこと?)"]
        return value, []
    if m := _SEIREKI.search(s) or _COMPACT.search(s):
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), []
        except ValueError:
            return None, [BAD_DATE]
    return None, [BAD_DATE]
