"""Seeded generator of synthetic filled forms of the fictional town みどり町 (若葉県), with ground truth.

    python -m samples.generate --out DIR --count 50 --seed 42 [--forms child_medical,restaurant_permit]
        [--value-font FONT] [--hand-font FONT] [--label-font FONT] [--scan --profile fax --dpi 200,300]

Writes OUT/<form>/<form>_0001.pdf + <form>_0001.json ({"form", "expected_status", "fields", "defect",
"fonts"}) and OUT/<form>/blank.pdf. A4 text-layer PDFs (reportlab, embedded fonts), byte-identical for
the same seed and fonts. A FONT is any TTF/OTF/TTC file or a font name of ``samples.fonts``; values
default to IPA Gothic, and characters a font lacks are drawn in IPA Gothic. ``--scan`` also writes the
scan-like images (``samples.scanlike``) under OUT/scan/. About one document in ten carries a deliberate defect (expected_status 要確認); the
others must register automatically. Only synthetic people: every name comes from the lists below.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from samples import fonts as typefaces
from samples.fonts import DEFAULT_GOTHIC, DEFAULT_MINCHO, Font
from samples.layout import OPTION_PT, PAGE_H, PT, VALUE_PT, FormLayout, Slot, baseline_for, layout

FORMS = ("child_medical", "restaurant_permit")
REGISTERED, REVIEW = "自動登録", "要確認"

# =============================================================================================
# Synthetic people, places and numbers
# =============================================================================================
PREFECTURE = "若葉県"
TOWN = "みどり町"

# (kanji, katakana). Variant kanji (髙, 﨑, 邊, 齋) are on purpose: they must survive unchanged.
SURNAMES: list[tuple[str, str]] = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("髙橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("渡邊", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"), ("佐々木", "ササキ"),
    ("松本", "マツモト"), ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"),
    ("齋藤", "サイトウ"), ("清水", "シミズ"), ("山崎", "ヤマザキ"), ("山﨑", "ヤマザキ"), ("森", "モリ"),
    ("池田", "イケダ"), ("橋本", "ハシモト"), ("阿部", "アベ"), ("石川", "イシカワ"), ("前田", "マエダ"),
    ("藤田", "フジタ"), ("小川", "オガワ"), ("岡田", "オカダ"), ("長谷川", "ハセガワ"), ("近藤", "コンドウ"),
    ("宮﨑", "ミヤザキ"), ("坂本", "サカモト"), ("遠藤", "エンドウ"), ("青木", "アオキ"), ("髙木", "タカギ"),
]
MALE_ADULT: list[tuple[str, str]] = [
    ("太郎", "タロウ"), ("翔太", "ショウタ"), ("大輔", "ダイスケ"), ("健一", "ケンイチ"), ("直樹", "ナオキ"),
    ("拓也", "タクヤ"), ("和也", "カズヤ"), ("誠", "マコト"), ("浩二", "コウジ"), ("隆", "タカシ"),
    ("正樹", "マサキ"), ("修", "オサム"),
]
FEMALE_ADULT: list[tuple[str, str]] = [
    ("恵子", "ケイコ"), ("裕子", "ユウコ"), ("美穂", "ミホ"), ("由美", "ユミ"), ("麻衣", "マイ"),
    ("彩", "アヤ"), ("直美", "ナオミ"), ("智子", "トモコ"), ("真由美", "マユミ"), ("愛", "アイ"),
    ("陽子", "ヨウコ"), ("千尋", "チヒロ"),
]
MALE_CHILD: list[tuple[str, str]] = [
    ("蓮", "レン"), ("陽翔", "ハルト"), ("湊", "ミナト"), ("蒼", "アオイ"), ("樹", "イツキ"),
    ("大和", "ヤマト"), ("悠真", "ユウマ"), ("陽太", "ヨウタ"), ("颯太", "ソウタ"), ("律", "リツ"),
]
FEMALE_CHILD: list[tuple[str, str]] = [
    ("陽葵", "ヒマリ"), ("凛", "リン"), ("結菜", "ユイナ"), ("芽依", "メイ"), ("葵", "アオイ"),
    ("紬", "ツムギ"), ("さくら", "サクラ"), ("結衣", "ユイ"), ("美咲", "ミサキ"), ("杏", "アン"),
]
GIVEN_NAMES = MALE_ADULT + FEMALE_ADULT + MALE_CHILD + FEMALE_CHILD

# 地区 of みどり町 with its postal code
DISTRICTS: list[tuple[str, str]] = [
    ("緑ヶ丘", "989-6101"), ("桜台", "989-6102"), ("中央", "989-6103"), ("本町", "989-6104"),
    ("旭町", "989-6105"), ("東原", "989-6106"), ("若松", "989-6107"), ("西の森", "989-6108"),
]
# neighbouring (equally fictional) municipalities, for corporate head offices
CITIES: list[tuple[str, str]] = [("あおば市", "980-08"), ("若葉市", "981-31"), ("しらかば町", "989-62")]
BUILDINGS = ["みどりハイツ", "コーポ桜台", "グリーンコート", "メゾン若松", "サンライズ中央"]

# (name, reading) of fictional corporations and shops
CORPORATIONS: list[tuple[str, str]] = [
    ("株式会社みどりフーズ", "カブシキガイシャ　ミドリフーズ"),
    ("合同会社さくらダイニング", "ゴウドウガイシャ　サクラダイニング"),
    ("有限会社山の辺商店", "ユウゲンガイシャ　ヤマノベショウテン"),
    ("株式会社若葉キッチン", "カブシキガイシャ　ワカバキッチン"),
    ("株式会社ひだまりベーカリー", "カブシキガイシャ　ヒダマリベーカリー"),
    ("合同会社とり吉", "ゴウドウガイシャ　トリキチ"),
]
SHOPS: dict[str, list[str]] = {
    "飲食店営業": ["お食事処　山の辺", "中華そば　緑川", "炭火焼鳥　とり吉", "居酒屋　ほたる", "食堂みどり",
                   "レストラン　さくら", "そば処　若松庵"],
    "喫茶店営業": ["喫茶　こもれび", "カフェ・ド・ミドリ", "珈琲館　旭", "ベーカリーカフェ　ひだまり"],
    "菓子製造業": ["洋菓子工房　ミモザ", "和菓子　桜台堂", "焼き菓子の店　どんぐり"],
    "食肉販売業": ["肉のみどり屋", "精肉店　東原ミート"],
}
FEES = {"飲食店営業": 16000, "喫茶店営業": 9600, "菓子製造業": 13000, "食肉販売業": 10500}
SEATED = ("飲食店営業", "喫茶店営業")

INSURERS: dict[str, list[str]] = {
    "社会保険": ["全国健康保険協会若葉支部", "みどり精機健康保険組合", "若葉電機健康保険組合"],
    "国民健康保険": ["みどり町"],
    "共済組合": ["若葉県市町村職員共済組合", "公立学校共済組合若葉支部", "若葉県警察共済組合"],
}

KANJI_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True)
class Person:
    surname: str
    given: str
    surname_kana: str
    given_kana: str
    birth: date
    sex: str  # "男" | "女"

    @property
    def name(self) -> str:
        return f"{self.surname}\u3000{self.given}"

    @property
    def kana(self) -> str:
        return f"{self.surname_kana}\u3000{self.given_kana}"


def random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def make_person(rng: random.Random, born_from: date, born_to: date, child: bool = False,
                surname: tuple[str, str] | None = None) -> Person:
    sn = surname or rng.choice(SURNAMES)
    sex = rng.choice("男女")
    pool = (MALE_CHILD if sex == "男" else FEMALE_CHILD) if child else (MALE_ADULT if sex == "男" else FEMALE_ADULT)
    gn = rng.choice(pool)
    return Person(sn[0], gn[0], sn[1], gn[1], random_date(rng, born_from, born_to), sex)


def kanji_number(n: int) -> str:
    """1..99 in kanji numerals as written on forms (十二, 三十一)."""
    tens, ones = divmod(n, 10)
    out = "" if tens == 0 else ("十" if tens == 1 else KANJI_DIGITS[tens] + "十")
    return out + (KANJI_DIGITS[ones] if ones else "")


def town_address(rng: random.Random, building: bool = True) -> tuple[str, str]:
    """(postal code, written address) in みどり町, in one of the ways residents write 丁目・番・号."""
    district, postal = rng.choice(DISTRICTS)
    a, b, c = rng.randint(1, 4), rng.randint(1, 30), rng.randint(1, 25)
    style = rng.random()
    if style < 0.45:
        rest = f"{a}丁目{b}番{c}号"
    elif style < 0.75:
        rest = f"{a}-{b}-{c}"
    elif style < 0.85:
        rest = f"{kanji_number(a)}丁目{b}番地{c}"
    elif style < 0.93:
        rest = fullwidth_digits(f"{a}丁目{b}番{c}号")
    else:
        rest = f"{rng.randint(100, 999)}番地"
    addr = f"{PREFECTURE}{TOWN}{district}{rest}"
    if building and rng.random() < 0.2:
        addr += f"\u3000{rng.choice(BUILDINGS)}{rng.randint(1, 3)}0{rng.randint(1, 5)}"
    return postal, addr


def city_address(rng: random.Random) -> tuple[str, str]:
    city, head = rng.choice(CITIES)
    postal = f"{head[:3]}-{head[4:]}{rng.randint(10, 99)}"
    return postal, f"{PREFECTURE}{city}中央{rng.randint(1, 5)}丁目{rng.randint(1, 20)}番{rng.randint(1, 15)}号"


def phone_number(rng: random.Random, mobile: bool) -> str:
    """A syntactically valid number: 11-digit mobile or 10-digit fixed line (never 0120/0570/0800)."""
    if mobile:
        return f"{rng.choice(['090', '080', '070'])}-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
    bad = ("012", "020", "050", "057", "070", "080", "090", "099")  # mobile, IP, toll-free, special
    if rng.random() < 0.5:  # 3-digit area code: 0AB-CDE-FGHJ
        while (area := f"0{rng.randint(2, 9)}{rng.randint(1, 9)}") in bad:
            pass
        return f"{area}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
    while (area := f"0{rng.randint(1, 9)}{rng.randint(1, 9)}{rng.randint(1, 9)}")[:3] in bad:
        pass  # 4-digit area code: 0ABC-DE-FGHJ
    return f"{area}-{rng.randint(20, 99)}-{rng.randint(0, 9999):04d}"


def corporate_check_digit(body12: str) -> int:
    """法人番号 check digit for the 12 digits after it (docs/domain.md): 9 − (Σ Pn×Qn mod 9)."""
    total = sum(int(ch) * (1 if n % 2 else 2) for n, ch in enumerate(reversed(body12), start=1))
    return 9 - total % 9


def corporate_number(rng: random.Random, valid: bool = True) -> str:
    body = "".join(str(rng.randint(0, 9)) for _ in range(12))
    check = corporate_check_digit(body)
    if not valid:  # a valid check digit is 1..9, so any other digit is wrong
        check = rng.choice([d for d in range(10) if d != check])
    return f"{check}{body}"


# -- text variants a real applicant writes -----------------------------------------------------
_KATA_TO_HIRA = {chr(c): chr(c - 0x60) for c in range(0x30A1, 0x30F7)}
_FW = str.maketrans("0123456789-", "０１２３４５６７８９－")
_HALF_KANA = dict(zip(
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォャュョッー",
    "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｬｭｮｯｰ",
))
_VOICED = dict(zip("ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポ",
                   ["ｶﾞ", "ｷﾞ", "ｸﾞ", "ｹﾞ", "ｺﾞ", "ｻﾞ", "ｼﾞ", "ｽﾞ", "ｾﾞ", "ｿﾞ", "ﾀﾞ", "ﾁﾞ", "ﾂﾞ", "ﾃﾞ", "ﾄﾞ",
                    "ﾊﾞ", "ﾋﾞ", "ﾌﾞ", "ﾍﾞ", "ﾎﾞ", "ﾊﾟ", "ﾋﾟ", "ﾌﾟ", "ﾍﾟ", "ﾎﾟ"]))


def hiragana(kata: str) -> str:
    return "".join(_KATA_TO_HIRA.get(ch, ch) for ch in kata)


def halfwidth_kana(kata: str) -> str:
    return "".join(_VOICED.get(ch) or _HALF_KANA.get(ch, ch) for ch in kata)


def fullwidth_digits(s: str) -> str:
    return s.translate(_FW)


def written_kana(kata: str, rng: random.Random) -> str:
    """フリガナ as written: mostly katakana, sometimes hiragana or half-width (both are converted)."""
    r = rng.random()
    if r < 0.15:
        return hiragana(kata)
    if r < 0.2:
        # the 「　」 stays full-width: a half-width space is narrower than the gap join_chars reads
        # as a space, and the text-layer reader drops space glyphs (see the report of this module)
        return halfwidth_kana(kata)
    return kata


# -- 和暦 ------------------------------------------------------------------------------------------
ERAS = [("令和", "R", date(2019, 5, 1)), ("平成", "H", date(1989, 1, 8)), ("昭和", "S", date(1926, 12, 25))]


def era_of(d: date) -> tuple[str, str, int]:
    """(era, initial, era year) of a date."""
    for era, initial, start in ERAS:
        if d >= start:
            return era, initial, d.year - start.year + 1
    raise ValueError("dates before 昭和 are not generated")


def wareki(d: date, rng: random.Random, era: tuple[str, str, int] | None = None) -> str:
    """A date as an applicant writes it: 令和7年4月1日, 令和元年, R7.4.1, full-width, kanji numerals …
    `era` forces the era and year written (a date outside its era: 平成31年5月1日)."""
    name, initial, year = era or era_of(d)
    style = rng.random()
    if style < 0.55:
        y = "元" if year == 1 and rng.random() < 0.85 else str(year)
        return f"{name}{y}年{d.month}月{d.day}日"
    if style < 0.7:
        return f"{initial}{year}.{d.month}.{d.day}"
    if style < 0.78:
        return f"{initial}{year:02d}/{d.month:02d}/{d.day:02d}"
    if style < 0.88:
        y = "元" if year == 1 else fullwidth_digits(str(year))
        return f"{name}{y}年{fullwidth_digits(str(d.month))}月{fullwidth_digits(str(d.day))}日"
    if style < 0.94:
        y = "元" if year == 1 else kanji_number(year)
        return f"{name}{y}年{kanji_number(d.month)}月{kanji_number(d.day)}日"
    return f"{name} {year} 年 {d.month} 月 {d.day} 日"


# -- normalised values, as the grammar defines them (independent of bots/fields.py on purpose) ----
def norm_text(s: str) -> str | None:
    s = " ".join(unicodedata.normalize("NFKC", s).split())
    return s or None


def norm_name(s: str) -> str | None:
    s = "\u3000".join(unicodedata.normalize("NFKC", s).split())
    return s or None


def norm_phone(s: str) -> str | None:
    return unicodedata.normalize("NFKC", s).strip() or None


def norm_postal(s: str) -> str | None:
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", s) if ch.isdigit())
    return f"{digits[:3]}-{digits[3:]}" if digits else None


def maybe_fullwidth(s: str, rng: random.Random, p: float = 0.1) -> str:
    return fullwidth_digits(s) if rng.random() < p else s


# =============================================================================================
# A filled form: what is written where, and what a reader must get back
# =============================================================================================
@dataclass
class Sample:
    form: str
    written: dict[str, str] = field(default_factory=dict)  # slot name → text as written ("" = blank)
    marked: dict[str, list[str]] = field(default_factory=dict)  # choice/checkbox field → marked options
    truth: dict[str, Any] = field(default_factory=dict)  # field name → normalised value
    defect: str | None = None

    @property
    def status(self) -> str:
        return REVIEW if self.defect else REGISTERED

    def put(self, name: str, written: str, value: Any) -> None:
        self.written[name] = written
        self.truth[name] = value

    def choose(self, name: str, value: str | None) -> None:
        self.marked[name] = [value] if value else []
        self.truth[name] = value

    def tick(self, name: str, on: bool) -> None:
        self.marked[name] = ["有"] if on else []
        self.truth[name] = on


APPLY_FROM, APPLY_TO = date(2024, 4, 1), date(2025, 9, 30)  # 令和6年度–令和7年度, safely past
CHILD_DEFECTS = ["era_child_birth", "missing_phone", "insurer_length", "missing_child_kana",
                 "era_guardian_birth", "sex_unmarked"]
RESTAURANT_DEFECTS = ["bad_corporate_number", "seating_without_count", "era_applied_on", "missing_manager",
                      "qualification_unmarked"]


def child_medical_sample(rng: random.Random, defect: str | None) -> Sample:
    s = Sample("child_medical", defect=defect)
    reiwa_gannen = defect is None and rng.random() < 0.06  # an old form from 令和元年
    applied = random_date(rng, date(2019, 5, 7), date(2019, 12, 27)) if reiwa_gannen else \
        random_date(rng, APPLY_FROM, APPLY_TO)
    relation = rng.choices(["子", "孫", "その他"], [90, 6, 4])[0]
    if defect == "era_guardian_birth":
        relation = "子"

    # child first: born 0–14 years before the application, at least two weeks before it
    lo, hi = years_before(applied, 14), applied - timedelta(days=14)
    if defect == "era_child_birth":
        lo, hi = date(2019, 5, 1), date(2019, 12, 31)
    elif defect == "era_guardian_birth":
        lo = max(lo, date(2008, 1, 1))
    child = make_person(rng, lo, hi, child=True)
    gap = {"子": (20, 42), "孫": (45, 70), "その他": (22, 60)}[relation]
    g_lo, g_hi = years_before(child.birth, gap[1]), years_before(child.birth, gap[0])
    if defect == "era_guardian_birth":
        g_lo, g_hi = date(1989, 1, 8), date(1989, 1, 31)  # written as 昭和64年 (昭和 ended on 1月7日)
    same_surname = (relation == "子" and rng.random() < 0.92) or (relation == "孫" and rng.random() < 0.5)
    sn = (child.surname, child.surname_kana)
    guardian = make_person(rng, g_lo, g_hi, surname=sn if same_surname else None)

    s.put("applied_on", wareki(applied, rng), applied.isoformat())
    s.put("guardian_kana", written_kana(guardian.kana, rng), guardian.kana)
    s.put("guardian_name", guardian.name, guardian.name)
    g_era = ("昭和", "S", 64) if defect == "era_guardian_birth" else None
    s.put("guardian_birth", wareki(guardian.birth, rng, g_era), guardian.birth.isoformat())
    postal, addr = town_address(rng)
    written_postal = rng.choice([postal, postal, postal, postal.replace("-", ""), fullwidth_digits(postal)])
    s.put("postal_code", written_postal, postal)
    s.put("address", addr, norm_text(addr))
    tel = phone_number(rng, mobile=rng.random() < 0.7)
    if defect == "missing_phone":
        s.put("phone", "", None)
    else:
        written = maybe_fullwidth(tel, rng)
        s.put("phone", written, norm_phone(written))

    if defect == "missing_child_kana":
        s.put("child_kana", "", None)
    else:
        s.put("child_kana", written_kana(child.kana, rng), child.kana)
    s.put("child_name", child.name, child.name)
    c_era = ("平成", "H", child.birth.year - 1988) if defect == "era_child_birth" else None
    s.put("child_birth", wareki(child.birth, rng, c_era), child.birth.isoformat())
    s.choose("child_sex", None if defect == "sex_unmarked" else child.sex)
    s.choose("relationship", relation)

    kind = "国民健康保険" if defect == "insurer_length" else rng.choices(list(INSURERS), [60, 25, 15])[0]
    s.choose("insurance_type", kind)
    pref = rng.randint(1, 47)
    if kind == "社会保険":
        symbol = str(rng.randint(1000, 99999999))
        insurer = rng.choice([f"01{pref:02d}{rng.randint(0, 9999):04d}", f"06{rng.randint(0, 999999):06d}"])
    elif kind == "国民健康保険":
        symbol = rng.choice(["みどり", "み", "緑"]) + str(rng.randint(1, 99))
        insurer = f"{pref:02d}{rng.randint(0, 9999):04d}"
        if defect == "insurer_length":  # the 8-digit number of a previous 社会保険 card
            insurer = f"01{pref:02d}{rng.randint(0, 9999):04d}"
    else:
        symbol = rng.choice(["若葉", "公学", "若警"]) + str(rng.randint(10, 999))
        insurer = f"{rng.randint(31, 34)}{pref:02d}{rng.randint(0, 9999):04d}"
    s.put("insurance_symbol", symbol, norm_text(symbol))
    number = str(rng.randint(1, 9999999))
    s.put("insurance_number", number, number)
    name = rng.choice(INSURERS[kind])
    s.put("insurer_name", name, name)
    s.put("insurer_number", maybe_fullwidth(insurer, rng, 0.05), insurer)
    s.choose("other_aid", "有" if rng.random() < 0.08 else "無")
    return s


def restaurant_permit_sample(rng: random.Random, defect: str | None) -> Sample:
    s = Sample("restaurant_permit", defect=defect)
    applied = random_date(rng, APPLY_FROM, APPLY_TO)
    applied_era = ("平成", "H", applied.year - 1988) if defect == "era_applied_on" else None
    s.put("applied_on", wareki(applied, rng, applied_era), applied.isoformat())
    corporate = defect == "bad_corporate_number" or rng.random() < 0.35
    owner = make_person(rng, date(1955, 1, 1), date(2000, 12, 31))
    if corporate:
        corp, corp_kana = rng.choice(CORPORATIONS)
        postal, addr = city_address(rng) if rng.random() < 0.5 else town_address(rng, building=False)
        s.put("applicant_kana", written_kana(corp_kana, rng), corp_kana)
        s.put("applicant_name", corp, corp)
        s.put("representative", owner.name, owner.name)
        number = corporate_number(rng, valid=defect != "bad_corporate_number")
        s.put("corporate_number", number, number)
    else:
        postal, addr = town_address(rng)
        s.put("applicant_kana", written_kana(owner.kana, rng), owner.kana)
        s.put("applicant_name", owner.name, owner.name)
        s.put("representative", "", None)
        s.put("corporate_number", "", None)
    s.put("postal_code", rng.choice([postal, postal, postal.replace("-", "")]), postal)
    s.put("address", addr, norm_text(addr))
    tel = maybe_fullwidth(phone_number(rng, mobile=not corporate and rng.random() < 0.6), rng)
    s.put("phone", tel, norm_phone(tel))

    kind = rng.choices(list(FEES), [60, 20, 10, 10])[0]
    if defect == "seating_without_count":
        kind = "飲食店営業"
    shop = rng.choice(SHOPS[kind])
    s.put("business_name", shop, norm_text(shop))
    _, shop_addr = town_address(rng, building=False)
    s.put("business_address", shop_addr, norm_text(shop_addr))
    shop_tel = maybe_fullwidth(phone_number(rng, mobile=rng.random() < 0.15), rng)
    s.put("business_phone", shop_tel, norm_phone(shop_tel))
    s.choose("business_type", kind)

    manager = owner if not corporate and rng.random() < 0.6 else make_person(rng, date(1960, 1, 1), date(2004, 3, 31))
    s.put("manager_name", "" if defect == "missing_manager" else manager.name,
          None if defect == "missing_manager" else manager.name)
    qual = rng.choices(["養成講習会修了", "調理師", "栄養士"], [60, 30, 10])[0]
    s.choose("manager_qualification", None if defect == "qualification_unmarked" else qual)

    seated = defect == "seating_without_count" or (kind in SEATED and rng.random() < 0.9)
    s.tick("has_seating", seated)
    if seated:
        seats = rng.randint(6, 60)
        area = round(seats * rng.uniform(1.0, 1.8), 1)
        if defect == "seating_without_count":
            s.put("seat_count", "", None)
        else:
            s.put("seat_count", str(seats), seats)
        s.put("seat_area", f"{area:.1f}", area)
    else:
        s.put("seat_count", "", None)
        s.put("seat_area", "", None)
    fee = FEES[kind]
    s.put("fee", f"{fee:,}" if rng.random() < 0.8 else str(fee), fee)
    return s


JUMINHYO_DEFECTS = ["missing_phone", "certificate_unmarked", "era_requester_birth", "zero_copies"]
PURPOSES = ["年金の手続き", "就職先への提出", "自動車の登録", "パスポートの申請", "銀行の手続き", "児童手当の手続き"]


def juminhyo_request_sample(rng: random.Random, defect: str | None) -> Sample:
    s = Sample("juminhyo_request", defect=defect)
    applied = random_date(rng, APPLY_FROM, APPLY_TO)
    s.put("applied_on", wareki(applied, rng), applied.isoformat())
    lo, hi = (date(1989, 1, 8), date(1989, 1, 31)) if defect == "era_requester_birth" else (date(1940, 1, 1), date(2006, 3, 31))
    person = make_person(rng, lo, hi)
    postal, addr = town_address(rng)
    s.put("postal_code", rng.choice([postal, postal, postal.replace("-", "")]), postal)
    s.put("address", addr, norm_text(addr))
    s.put("requester_kana", written_kana(person.kana, rng), person.kana)
    s.put("requester_name", person.name, person.name)
    era = ("昭和", "S", 64) if defect == "era_requester_birth" else None
    s.put("requester_birth", wareki(person.birth, rng, era), person.birth.isoformat())
    tel = maybe_fullwidth(phone_number(rng, mobile=rng.random() < 0.6), rng)
    s.put("phone", "" if defect == "missing_phone" else tel, None if defect == "missing_phone" else norm_phone(tel))
    relation = rng.choices(["本人", "同一世帯", "代理人"], [70, 25, 5])[0]
    head = person if relation == "本人" and rng.random() < 0.5 else make_person(rng, date(1940, 1, 1), date(1995, 12, 31),
                                                                              surname=(person.surname, person.surname_kana))
    s.put("householder_name", head.name, head.name)
    s.choose("relation", relation)
    s.choose("certificate", None if defect == "certificate_unmarked" else rng.choices(
        ["住民票の写し", "記載事項証明書"], [85, 15])[0])
    copies = 0 if defect == "zero_copies" else rng.choices([1, 2, 3], [70, 25, 5])[0]
    s.put("copies", str(copies), copies)
    purpose = rng.choice(PURPOSES)
    s.put("purpose", purpose, purpose)
    return s


BUILDERS: dict[str, Callable[[random.Random, str | None], Sample]] = {
    "child_medical": child_medical_sample,
    "restaurant_permit": restaurant_permit_sample,
    "juminhyo_request": juminhyo_request_sample,  # not in FORMS: generated when asked for by name
}
DEFECTS = {"child_medical": CHILD_DEFECTS, "restaurant_permit": RESTAURANT_DEFECTS,
           "juminhyo_request": JUMINHYO_DEFECTS}


def plan(form: str, count: int, seed: int) -> list[str | None]:
    """Defect per document: one in ten (at a seed-chosen offset), cycling through the kinds."""
    offset = random.Random(f"{seed}/{form}/plan").randrange(10)
    kinds = DEFECTS[form]
    out: list[str | None] = []
    n = 0
    for i in range(count):
        if (i + offset) % 10 == 0:
            out.append(kinds[n % len(kinds)])
            n += 1
        else:
            out.append(None)
    return out


def make_sample(form: str, index: int, seed: int, defect: str | None) -> Sample:
    # one generator per document, so document 7 is the same whatever the count
    return BUILDERS[form](random.Random(f"{seed}/{form}/{index}"), defect)


# =============================================================================================
# Typefaces
# =============================================================================================
FALLBACK = "IPAGothic"  # draws what a value font lacks, as a PC falls back to another font


@dataclass(frozen=True)
class Typefaces:
    """The fonts a form is drawn in. `value`: the filled-in values (default IPA Gothic); `hand`: the
    fields the bot template marks ``handwritten = true`` (default: `value`); `label`: the printed
    form (default: IPA Gothic, titles in IPA Mincho, as the bots' blank references are printed)."""

    value: Font | None = None
    hand: Font | None = None
    label: Font | None = None

    def names(self) -> dict[str, str]:
        value = self.value.name if self.value else DEFAULT_GOTHIC
        return {"value": value, "hand": self.hand.name if self.hand else value,
                "label": self.label.name if self.label else DEFAULT_GOTHIC}


_registered: dict[str, str] = {}  # font file → reportlab font name


def _register_fonts() -> None:
    """IPA Gothic and Mincho, the form's own fonts and the fallback."""
    if "IPAGothic" in _registered.values():
        return
    for name, font_name in (("IPAGothic", DEFAULT_GOTHIC), ("IPAMincho", DEFAULT_MINCHO)):
        try:
            path = typefaces.font(font_name).path
        except FileNotFoundError as e:
            from kakari.errors import MissingDependency

            raise MissingDependency(f"日本語フォントがありません: {e}", fix="apt-get install fonts-ipafont") from e
        _register(path, name)


def _register(path: Path, name: str) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    key = str(path)
    if key not in _registered:
        pdfmetrics.registerFont(TTFont(name, str(path)))
        _registered[key] = name
    return _registered[key]


def _font_name(font: Font | None, default: str) -> str:
    """The reportlab name of a font, registering (and if need be converting) it on first use."""
    _register_fonts()
    if font is None:
        return default
    path = font.truetype()
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    return _register(path, f"{font.name}-{digest}")


def _has(font: str, ch: str) -> bool:
    from reportlab.pdfbase import pdfmetrics

    return ord(ch) in pdfmetrics.getFont(font).face.charToGlyph


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """`text` cut into (font, text) runs: characters `font` lacks are drawn in the fallback font."""
    out: list[tuple[str, str]] = []
    for ch in text:
        use = font if font == FALLBACK or _has(font, ch) else FALLBACK
        if out and out[-1][0] == use:
            out[-1] = (use, out[-1][1] + ch)
        else:
            out.append((use, ch))
    return out


def _width(text: str, size: float, font: str = "IPAGothic") -> float:
    from reportlab.pdfbase import pdfmetrics

    return sum(pdfmetrics.stringWidth(t, f, size) for f, t in runs(text, font)) * PT


def handwritten_fields(form: str) -> frozenset[str]:
    """The fields the bot template marks ``handwritten = true``."""
    toml = Path(__file__).resolve().parents[1] / "bots" / f"{form}.toml"
    if not toml.is_file():
        return frozenset()
    fields = tomllib.loads(toml.read_text(encoding="utf-8")).get("fields", {})
    return frozenset(name for name, spec in fields.items() if isinstance(spec, dict) and spec.get("handwritten"))


# =============================================================================================
# Rendering
# =============================================================================================
class _Page:
    """A reportlab canvas addressed in millimetres from the top-left corner."""

    def __init__(self, path: Path, title: str) -> None:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen.canvas import Canvas

        _register_fonts()
        self.c = Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
        self.c.setCreator("kakari samples.generate")
        self.c.setProducer("kakari samples.generate")
        self.c.setAuthor("みどり町 (synthetic sample)")
        self.c.setTitle(title)
        self.fallback_chars: set[str] = set()

    @staticmethod
    def xy(x: float, y: float) -> tuple[float, float]:
        return x / PT, (PAGE_H - y) / PT

    def text(self, x: float, y: float, s: str, size: float, font: str = "IPAGothic", align: str = "left") -> None:
        parts = runs(s, font)
        if len(parts) > 1:  # a character the font lacks: draw run by run in the fallback font
            self.fallback_chars.update(ch for f, t in parts if f != font for ch in t if not ch.isspace())
            w = _width(s, size, font)
            x -= w / 2 if align == "centre" else (w if align == "right" else 0.0)
            for f, t in parts:
                self.text(x, y, t, size, f)
                x += _width(t, size, f)
            return
        self.c.setFont(font, size)
        px, py = self.xy(x, y)
        if align == "centre":
            self.c.drawCentredString(px, py, s)
        elif align == "right":
            self.c.drawRightString(px, py, s)
        else:
            self.c.drawString(px, py, s)

    def hand(self, x: float, y: float, s: str, size: float, font: str, rng: random.Random) -> None:
        """Neat handwriting: each character on its own, a little off the line, in size and angle."""
        for ch in s:
            w = _width(ch, size, font)
            f = font if _has(font, ch) else FALLBACK
            if ch.isspace():  # an invisible glyph, as a PC puts in the text layer
                self.c.setFont(f, size)
                self.c.drawString(*self.xy(x, y), ch)
            else:
                if f != font:
                    self.fallback_chars.add(ch)
                k = rng.uniform(0.94, 1.05)
                px, py = self.xy(x + (1 - k) * w / 2, y + rng.uniform(-0.35, 0.35))
                self.c.saveState()
                self.c.translate(px, py)
                self.c.rotate(rng.uniform(-3.0, 3.0))
                self.c.setFont(f, size * k)
                self.c.drawString(0, 0, ch)
                self.c.restoreState()
            x += w * rng.uniform(0.97, 1.06)

    def rect(self, x: float, y: float, w: float, h: float, shade: bool, width: float = 0.5) -> None:
        px, py = self.xy(x, y + h)
        self.c.setLineWidth(width)
        if shade:
            self.c.setFillGray(0.92)
            self.c.rect(px, py, w / PT, h / PT, stroke=1, fill=1)
            self.c.setFillGray(0)
        else:
            self.c.rect(px, py, w / PT, h / PT, stroke=1, fill=0)

    def ellipse(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.c.setLineWidth(0.8)
        ax, ay = self.xy(x0, y1)
        bx, by = self.xy(x1, y0)
        self.c.ellipse(ax, ay, bx, by, stroke=1, fill=0)

    def polyline(self, points: list[tuple[float, float]]) -> None:
        self.c.setLineWidth(1.0)
        p = self.c.beginPath()
        p.moveTo(*self.xy(*points[0]))
        for pt in points[1:]:
            p.lineTo(*self.xy(*pt))
        self.c.drawPath(p, stroke=1, fill=0)

    def save(self) -> None:
        self.c.showPage()
        self.c.save()


def _draw_form(page: _Page, f: FormLayout, label: Font | None = None) -> None:
    """The printed form: cells, labels, units, choices (no values)."""
    gothic = _font_name(label, "IPAGothic")
    mincho = _font_name(label, "IPAMincho")
    for cell in f.cells:
        page.rect(cell.x, cell.y, cell.w, cell.h, cell.shade)
        if cell.label and cell.align == "left":
            page.text(cell.x + 2.0, baseline_for(cell.y, cell.h, cell.size), cell.label, cell.size, gothic)
        elif cell.label:
            base = baseline_for(cell.y, cell.h, cell.size) - (1.8 if cell.note else 0.0)
            page.text(cell.x + cell.w / 2, base, cell.label, cell.size, gothic, align="centre")
            if cell.note:
                page.text(cell.x + cell.w / 2, base + 4.0, cell.note, 6.5, gothic, align="centre")
    page.rect(*f.frame, shade=False, width=1.2)
    for t in f.texts:
        page.text(t.x, t.y, t.text, t.size, mincho if t.font == "mincho" else gothic, t.align)
    for slot in f.slots.values():
        if slot.unit:
            page.text(slot.x + slot.w - 2.0, baseline_for(slot.y, slot.h, 10.0), slot.unit, 10.0, gothic,
                      align="right")
    for o in f.options:
        if o.style == "check":
            page.text(o.x, o.y, "□", OPTION_PT, gothic)
            page.text(o.x + OPTION_PT * PT + 0.6, o.y, o.label, OPTION_PT, gothic)
        else:
            page.text(o.x, o.y, o.label, OPTION_PT, gothic)


def _fit(text: str, room: float, size: float, font: str = "IPAGothic") -> float:
    """Shrink the font, as a person writes smaller, when a value would overflow its cell."""
    while size > 6.0 and _width(text, size, font) > room:
        size -= 0.5
    return size


def _draw_values(page: _Page, f: FormLayout, sample: Sample, rng: random.Random,
                 faces: Typefaces = Typefaces(), hand_rng: random.Random | None = None) -> list[str]:
    """Draw the written values and marks; returns the fields drawn in a handwriting-style font."""
    label = _font_name(faces.label, "IPAGothic")
    value = _font_name(faces.value, "IPAGothic")
    hand_font = faces.hand or faces.value
    hand = _font_name(hand_font, "IPAGothic")
    handwritten = handwritten_fields(sample.form)
    jitter = hand_rng or random.Random(0)
    by_hand: list[str] = []
    for name, written in sample.written.items():
        if not written:
            continue
        slot: Slot = f.slots[name]
        font, face = (hand, hand_font) if name in handwritten else (value, faces.value)
        unit_w = _width(slot.unit, 10.0, label) + 3.0 if slot.unit else 0.0
        x = slot.x + 1.5 + rng.uniform(0.0, 2.0)
        room = slot.x + slot.w - unit_w - 1.0 - x
        size = _fit(written, room, VALUE_PT, font)
        if slot.unit:  # numbers sit right-aligned before their unit, as on real forms
            x = slot.x + slot.w - unit_w - _width(written, size, font) - rng.uniform(0.5, 2.5)
        y = baseline_for(slot.y, slot.h, size) + rng.uniform(-0.4, 0.4)
        if face is not None and face.kind == "handwriting":
            page.hand(x, y, written, size, font, jitter)
            by_hand.append(name)
        else:
            page.text(x, y, written, size, font)
    for o in f.options:
        if o.value not in sample.marked.get(o.field, []):
            continue
        x, top, w, h = o.glyph_box(_width(o.label, OPTION_PT, label))
        j = lambda: rng.uniform(-0.3, 0.3)  # noqa: E731 - a hand never draws the same mark twice
        if o.style == "circle":
            page.ellipse(x - 1.4 + j(), top - 0.9 + j(), x + w + 1.4 + j(), top + h + 0.9 + j())
        else:  # a tick over the □, overshooting its top right corner a little
            page.polyline([(x + 0.7 + j(), top + 2.0 + j()), (x + 1.7 + j(), top + h - 0.4 + j()),
                           (x + 4.5 + j(), top - 0.8 + j())])
    return by_hand


@dataclass
class Rendered:
    """What a page was drawn with: the fields in a handwriting-style font, characters drawn in the
    fallback font because the chosen font lacks them."""

    handwriting: list[str] = field(default_factory=list)
    fallback_chars: str = ""


def render(sample: Sample | None, f: FormLayout, path: Path, rng: random.Random | None = None,
           faces: Typefaces = Typefaces(), hand_rng: random.Random | None = None) -> Rendered:
    page = _Page(path, f.title)
    _draw_form(page, f, faces.label)
    done = Rendered()
    if sample is not None:
        done.handwriting = _draw_values(page, f, sample, rng or random.Random(0), faces, hand_rng)
    done.fallback_chars = "".join(sorted(page.fallback_chars))
    page.save()
    return done


def truth_json(sample: Sample, order: list[str], fonts: dict[str, Any] | None = None) -> str:
    fields = {name: sample.truth.get(name) for name in order}
    doc: dict[str, Any] = {"form": sample.form, "expected_status": sample.status, "fields": fields,
                           "defect": sample.defect}
    if fonts is not None:
        doc["fonts"] = fonts
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def field_order(f: FormLayout) -> list[str]:
    """Ground-truth keys: every slot and every choice/checkbox field, in page order."""
    names: dict[str, tuple[float, float]] = {n: (s.y, s.x) for n, s in f.slots.items()}
    for o in f.options:
        names.setdefault(o.field, (o.y - 4.0, o.x))
    return sorted(names, key=lambda n: names[n])


def generate(out: Path, count: int, seed: int, forms: tuple[str, ...] | list[str] = FORMS,
             faces: Typefaces = Typefaces()) -> list[Path]:
    """Write `count` filled samples (+ ground-truth JSON) and a blank form per bot under OUT/<form>/.
    Returns the PDF paths of the filled samples."""
    unknown = [f for f in forms if f not in BUILDERS]
    if unknown:
        raise ValueError(f"unknown form(s): {', '.join(unknown)}; known: {', '.join(BUILDERS)}")
    written: list[Path] = []
    for form in forms:
        f = layout(form)
        folder = Path(out) / form
        folder.mkdir(parents=True, exist_ok=True)
        render(None, f, folder / "blank.pdf", faces=faces)
        order = field_order(f)
        for i, defect in enumerate(plan(form, count, seed), start=1):
            sample = make_sample(form, i, seed, defect)
            pdf = folder / f"{form}_{i:04d}.pdf"
            done = render(sample, f, pdf, random.Random(f"{seed}/{form}/{i}/ink"), faces,
                          random.Random(f"{seed}/{form}/{i}/hand"))
            fonts = {**faces.names(), "handwriting": done.handwriting, "fallback_chars": done.fallback_chars}
            pdf.with_suffix(".json").write_text(truth_json(sample, order, fonts), encoding="utf-8")
            written.append(pdf)
    return written


def font_arg(value: str, kind: typefaces.Kind = "printed") -> Font:
    """A font given on the command line: a file (TTF/OTF/TTC) or a catalogue name (samples.fonts)."""
    path = Path(value)
    if path.is_file():
        return typefaces.from_path(path, kind=kind)
    try:
        return typefaces.font(value)
    except KeyError:
        raise FileNotFoundError(f"font {value}: no such file, nor a font name of samples.fonts") from None


def main(argv: list[str] | None = None) -> int:
    from samples.scanlike import PROFILES

    ap = argparse.ArgumentParser(prog="python -m samples.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--count", type=int, default=50, help="filled samples per form")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--forms", default=",".join(FORMS), help="comma-separated bot names")
    ap.add_argument("--value-font", help="font of the filled-in values: a TTF/OTF/TTC file or a name "
                                          "of samples.fonts (default: IPA Gothic)")
    ap.add_argument("--label-font", help="font of the printed form (default: IPA Gothic and Mincho)")
    ap.add_argument("--hand-font", help="font of the fields the template marks handwritten "
                                         "(default: the value font)")
    ap.add_argument("--handwriting", action="store_true",
                    help="draw the values as neat handwriting (implied by a handwriting-style catalogue font)")
    ap.add_argument("--scan", action="store_true", help="also write scan-like images of the samples under OUT/scan/")
    ap.add_argument("--profile", default="scanner", choices=sorted(PROFILES),
                    help="scan damage (with --scan): clean, scanner (MFP defects) or fax (200×100 dpi, 1-bit)")
    ap.add_argument("--dpi", default="300", help="scan resolutions, comma-separated (with --scan; fax: 200×100)")
    args = ap.parse_args(argv)
    forms = [f.strip() for f in args.forms.split(",") if f.strip()]
    kind: typefaces.Kind = "handwriting" if args.handwriting else "printed"
    try:
        value = font_arg(args.value_font, kind) if args.value_font else None
        faces = Typefaces(value=value, hand=font_arg(args.hand_font, "handwriting") if args.hand_font else None,
                          label=font_arg(args.label_font) if args.label_font else None)
        paths = generate(args.out, args.count, args.seed, forms, faces)
    except (ValueError, FileNotFoundError) as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{len(paths)} samples written to {args.out}")
    if args.scan:
        from samples.scanlike import make_scans

        dpis = tuple(int(d) for d in args.dpi.split(",") if d.strip())
        scans = make_scans(args.out, args.out / "scan", args.seed, dpis, forms, profile=args.profile)
        print(f"{len(scans)} scan-like pages written to {args.out / 'scan'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
