"""Two readings compared as a clerk would: the same value written the same way counts as agreement.

``canonical`` folds what differs between the recognisers without differing on paper: full-width and
half-width forms (NFKC, kanji untouched), spaces (placed from the ink, not by either engine), the
dashes and long-vowel marks (ー, －, ‐, 一 in a number), hiragana and katakana in a フリガナ, ヶ and ケ,
and kanji and katakana drawn alike (ニ/二, ロ/口, カ/力 …). ``fix_lookalikes`` then gives such a
character the script of its neighbours in the reading that is offered (浩ニ → 浩二, みどリ → みどり).
"""
from __future__ import annotations

import re
import unicodedata

# katakana and kanji that are drawn (almost) alike: which one is meant follows from the neighbours
LOOKALIKES = {"ニ": "二", "ロ": "口", "カ": "力", "エ": "工", "タ": "夕", "ト": "卜", "ハ": "八", "ー": "一"}
_KANJI_FORM = {v: k for k, v in LOOKALIKES.items()}
# katakana and hiragana drawn (almost) alike: likewise settled by the neighbours (みどリ → みどり)
KANA_LOOKALIKES = {"リ": "り", "ヘ": "へ", "ベ": "べ", "ペ": "ぺ"}
_KATAKANA_FORM = {v: k for k, v in KANA_LOOKALIKES.items()}
_DASHES = re.compile("[\u2010-\u2015\u2212\u30fc\uff70\ufe63\uff0d\u4e00-]")
_HIRA_TO_KATA = {c: c + 0x60 for c in range(0x3041, 0x3097)}
# り/リ stay apart: where the neighbours cannot settle which is meant (みどリフーズ), the engines must agree
# ヶ/ケ and ヵ/カ: the small and the full-size letter are one place name written two ways (緑ヶ丘, 緑ケ丘)
_FOLD = str.maketrans({**{k: v for k, v in LOOKALIKES.items() if k != "ー"}, "へ": "ヘ", "べ": "ベ", "ぺ": "ペ",
                       "ヶ": "ケ", "ヵ": "力"})


def script_of(ch: str) -> str:
    if "\u30a1" <= ch <= "\u30fa" or ch == "ー":
        return "katakana"
    if "\u3041" <= ch <= "\u3096":
        return "hiragana"
    if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or ch == "々" or ord(ch) >= 0x20000:
        return "kanji"
    if ch.isascii() and ch.isdigit():
        return "digit"
    return "other"


def nfkc(text: str) -> str:
    """NFKC for everything but kanji (compatibility ideographs such as 﨑 must survive)."""
    return "".join(ch if script_of(ch) == "kanji" else unicodedata.normalize("NFKC", ch) for ch in text)


def katakana(text: str) -> str:
    """Hiragana given as the katakana of the same sound (すずき → スズキ); everything else untouched."""
    return text.translate(_HIRA_TO_KATA)


def canonical(text: str, kind: str) -> str:
    """`text` folded for comparison between the two recognisers' readings of a zone of `kind`."""
    t = "".join(nfkc(text).split())
    if kind in ("digits", "amount", "date"):
        t = _DASHES.sub("-", t) if kind == "digits" else t
    else:
        t = _DASHES.sub("ー", t)
    if kind == "kana":
        t = katakana(t)
    return t.translate(_FOLD)


# in a フリガナ (katakana only), a kanji drawn like a katakana is that katakana (ナオ三 → ナオミ)
_KANA_FIELD = str.maketrans({**_KANJI_FORM, "三": "ミ"})


# small ャュョ (ゃゅょ) only follow a kana of the イ row (キャ, しゅ); after any other a small one is the
# full-size kana read small (a half-width ﾔ is as tall as a small ャ): コバャシ is コバヤシ
_YOON_AFTER = set("キギシジチヂニヒビピミリヴきぎしじちぢにひびぴみり")
_FULL_SIZE = {"ャ": "ヤ", "ュ": "ユ", "ョ": "ヨ", "ゃ": "や", "ゅ": "ゆ", "ょ": "よ"}


SOUND_MARKS = frozenset("\u3099\u309a")  # combining dakuten, handakuten (a kana's NFD tail)
# a half-width ﾞ/ﾟ is a glyph of its own, and the recogniser often reads it as a quote or a degree sign
_DAKUTEN_MARKS = frozenset("\u3099\u309b\uff9e\"\u201c\u201d\u2033\uff02`'\u2018\u2019\u00b4\uff07\uff40")
_HANDAKUTEN_MARKS = frozenset("\u309a\u309c\uff9f\u00b0\u00ba\u02da")


def join_sound_marks(text: str) -> str:
    """A (han)dakuten read as a mark of its own after a kana joined to it (ツムキ" → ツムギ, ﾊﾟ → パ); after
    a kana that cannot take it (already voiced, ア) the mark is dropped: no word of a フリガナ has one."""
    out: list[str] = []
    for ch in text:
        mark = "\u3099" if ch in _DAKUTEN_MARKS else "\u309a" if ch in _HANDAKUTEN_MARKS else None
        if mark is None or not out or script_of(out[-1]) not in ("katakana", "hiragana"):
            out.append(ch)
            continue
        joined = unicodedata.normalize("NFC", out[-1] + mark)
        if len(joined) == 1:
            out[-1] = joined
    return "".join(out)


def nfkc_kana(text: str) -> str:
    """Half-width katakana as full-width (ｺﾊﾞﾔｼ → コバヤシ), everything else as it is."""
    return "".join(unicodedata.normalize("NFKC", ch) if "\uff65" <= ch <= "\uff9f" else ch for ch in text)


def kana_lookalikes(text: str) -> str:
    """A フリガナ reading with kanji look-alikes given as the katakana they are drawn like, sound marks
    read apart joined to their kana, and a small ャュョ that no kana before it can take read full size."""
    chars = list(join_sound_marks(nfkc_kana(text)).translate(_KANA_FIELD))
    for i, ch in enumerate(chars):
        if ch in _FULL_SIZE and (i == 0 or chars[i - 1] not in _YOON_AFTER):
            chars[i] = _FULL_SIZE[ch]
    return "".join(chars)


def unsettled_lookalike(text: str) -> bool:
    """Is there a kana drawn alike in both scripts (り/リ, へ/ヘ …) between hiragana and katakana, where
    its neighbours cannot tell which is meant (みどリフーズ)?"""
    alike = {*KANA_LOOKALIKES, *_KATAKANA_FORM}
    for i, ch in enumerate(text):
        if ch in alike:
            near = {script_of(text[j]) for j in (i - 1, i + 1) if 0 <= j < len(text) and text[j] not in alike}
            if {"hiragana", "katakana"} <= near:
                return True
    return False


# every pair of characters drawn alike in two scripts; 三/ミ too, which comparison keeps apart (a value
# both engines must read alike), but whose script the other engine's reading can tell
_SCRIPT_PAIRS = {**LOOKALIKES, **KANA_LOOKALIKES, "ミ": "三"}
_SCRIPT_PAIRS.update({v: k for k, v in list(_SCRIPT_PAIRS.items())})


def drawn_alike(a: str, b: str) -> bool:
    """Are `a` and `b` one shape written in two scripts (三/ミ, り/リ, 一/ー)?"""
    return _SCRIPT_PAIRS.get(a) == b


def has_lookalike(text: str) -> bool:
    return any(ch in _SCRIPT_PAIRS for ch in text)


def take_script(text: str, other: str) -> str:
    """`text` with each look-alike the `other` reading has in the other script at the same place
    written in that script (東原三一ト with ミート read: 東原ミート), when the two readings spell the
    same shapes and differ in nothing else; otherwise `text` as it is. Where the recognisers disagree
    this way, Tesseract's language model had the written script and PP-OCR never alone
    (``benchmarks/script_pairs.py``), but on few values: the result is offered, not a reason to register."""
    other = "".join(nfkc(other).split())
    if len(other) != sum(1 for ch in text if not ch.isspace()):
        return text
    out, j, changed = [], 0, False
    for ch in text:
        if ch.isspace():
            out.append(ch)
            continue
        theirs = other[j]
        j += 1
        if nfkc(ch) == theirs:
            out.append(ch)
        elif _SCRIPT_PAIRS.get(ch) == theirs:
            out.append(theirs)
            changed = True
        else:
            return text
    return "".join(out) if changed else text


_PAIRED = {"(": ")", "（": "）", "「": "」", "『": "』", "[": "]", "［": "］", "【": "】"}
_PAIRED.update({v: k for k, v in list(_PAIRED.items())})


def drop_stray_brackets(text: str) -> str:
    """A bracket without its partner standing between two Japanese letters is a stroke read apart (the
    tail of り read as 「)」: みどり)町), not writing: it is dropped."""
    def letter(ch: str) -> bool:
        return script_of(ch) in ("kanji", "hiragana", "katakana")

    out = []
    for i, ch in enumerate(text):
        if (ch in _PAIRED and _PAIRED[ch] not in text and 0 < i < len(text) - 1
                and letter(text[i - 1]) and letter(text[i + 1])):
            continue
        out.append(ch)
    return "".join(out)


def fix_lookalikes(text: str) -> str:
    """浩ニ → 浩二, レス卜ラン → レストラン, みどリ → みどり: a look-alike takes the script of its neighbours
    (both, or the only one at either end of a word); a stray bracket inside a word is dropped first."""
    chars = list(drop_stray_brackets(text))
    alike = {*LOOKALIKES, *_KANJI_FORM, *KANA_LOOKALIKES, *_KATAKANA_FORM}
    for i, ch in enumerate(chars):
        if ch not in alike:
            continue
        near = [chars[j] for j in (i - 1, i + 1) if 0 <= j < len(chars) and chars[j].strip()]
        scripts = {script_of(c) for c in near if c not in alike}
        if scripts == {"kanji"} and ch in LOOKALIKES:
            chars[i] = LOOKALIKES[ch]
        elif scripts == {"katakana"} and ch in _KANJI_FORM:
            chars[i] = _KANJI_FORM[ch]
        elif ch in KANA_LOOKALIKES and "hiragana" in scripts and "katakana" not in scripts:
            chars[i] = KANA_LOOKALIKES[ch]  # a one-letter katakana word beside hiragana is not one
        elif ch in _KATAKANA_FORM and "katakana" in scripts and "hiragana" not in scripts:
            chars[i] = _KATAKANA_FORM[ch]
    return "".join(chars)
