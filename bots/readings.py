"""A scanned フリガナ checked against the usual reading of the name it reads (鈴木 → スズキ).

A dakuten or handakuten is the first thing a coarse or black-and-white scan loses, and both engines
then read the same wrong kana with full confidence (スズキ read ススキ): no confidence or agreement
can see it. The name beside it can: its usual reading comes from the IPA dictionary that ships
inside the janome package (nothing is downloaded). A フリガナ that differs from that reading *only*
by voicing marks goes to the clerk; where one engine read the marks the reading has, that reading is
offered. A name has every reading the dictionary gives each of its words (陽子: ヨウコ as a given
name, ヨウシ as a noun; 山崎: ヤマザキ and ヤマサキ), so any other difference says nothing, and a name
the dictionary does not know is not checked.

A name read as one word beside a フリガナ of two (林浩二 beside ハヤシ　コウジ) has lost the space
between surname and given name, which both engines miss alike where the letters stand wide apart:
it goes to the clerk, offered split where the フリガナ splits it (``lost_space``).

The same reading settles a name the two engines read differently (山崎細 and 山崎 紬 beside the
registered ヤマザキ ツムギ): only a reading of which the フリガナ is a reading, where it is not one of
the other's, may be registered (``settles_name``; whether it is, the trust policy says per scan class).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ocr.dispute import voicing_pair
from ocr.normalise import katakana, nfkc
from ocr.variants import candidates

VOICING = "フリガナの濁点・半濁点が氏名の読みと違います: 原本で確認してください"
UNSPACED = "氏名の姓と名の間の空白が読み取れません: 原本で確認してください"
CORPORATE = ("会社", "法人", "組合")  # words of a corporation's name (株式会社…), which has no surname to split


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from janome.tokenizer import Tokenizer

    return Tokenizer()


@lru_cache(maxsize=4096)
def word_readings(name: str) -> tuple[tuple[str, ...], ...]:
    """Each word of a name (as the dictionary splits it) with its readings in katakana, the usual
    one first: the word's own reading and those of every entry spelt like it (a variant kanji read
    as its common form: 山﨑 as 山崎); () when a word of it is not in the dictionary (颯太) or the
    name holds no kanji to read."""
    tokenizer = _tokenizer()
    words: list[tuple[str, ...]] = []
    for part in name.split():
        common = "".join((candidates(ch) or ch)[0] for ch in part)
        for token in tokenizer.tokenize(common):
            if token.reading == "*":
                return ()
            spelt = tokenizer.sys_dic.lookup(token.surface.encode("utf-8"), tokenizer.matcher)
            others = [tokenizer.sys_dic.lookup_extra(e[0])[4] for e in spelt if e[1] == token.surface]
            words.append(tuple(dict.fromkeys([token.reading, *others])))
    return tuple(words) if "".join(w[0] for w in words) != squeezed(name) else ()


def usual_reading(name: str) -> str | None:
    """A name's usual reading, spaces dropped (each word's first reading): the one a dropped voicing
    mark is checked against, since a scan loses marks rather than adds them; None when there is none."""
    return "".join(w[0] for w in words) if (words := word_readings(name)) else None


def is_reading(kana: str, name: str) -> bool:
    """Is `kana` (spaces dropped) one of the name's readings: a reading of each word in turn?"""
    words = word_readings(name)
    ends = {0}  # where in `kana` the words read so far may end
    for readings in words:
        ends = {end + len(r) for end in ends for r in readings if kana.startswith(r, end)}
    return bool(words) and len(kana) in ends


def squeezed(text: str) -> str:
    """Katakana, spaces dropped: what a フリガナ and a reading are compared on."""
    return "".join(katakana(nfkc(text)).split())


def voicing_only(a: str, b: str) -> list[int]:
    """Places where two kana strings differ, when each differs only by a voicing mark (す/ず,
    ハ/パ); [] when they are equal or differ in anything else."""
    if len(a) != len(b):
        return []
    places = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    return places if places and all(voicing_pair(a[i], b[i]) for i in places) else []


def with_marks(text: str, reading: str) -> str:
    """`text` (a フリガナ as read, spaces kept) in katakana with the voicing marks of `reading` at
    the places where only a mark differs."""
    kana = katakana(nfkc(text))
    letters = [i for i, ch in enumerate(kana) if not ch.isspace()]
    out = list(kana)
    for i in voicing_only(squeezed(kana), reading):
        out[letters[i]] = reading[i]
    return "".join(out)


def settles_name(read: str, other: str, kana: str) -> bool:
    """Does the フリガナ `kana` side with the name reading `read` against the `other` engine's: it is
    a reading of `read` and not one of `other`?"""
    reading = squeezed(kana)
    return bool(reading) and is_reading(reading, read) and not is_reading(reading, other)


def settles_kana(read: str, other: str, name: str) -> bool:
    """Does the name `name` side with the フリガナ reading `read` against the `other` engine's: `read`
    is a reading of the name and `other` is not, and the two differ in more than voicing marks
    (ヤマサキ or ヤマザキ: a lost mark can turn one real reading of 山崎 into another)?"""
    mine, theirs = squeezed(read), squeezed(other)
    return is_reading(mine, name) and not is_reading(theirs, name) and not voicing_only(mine, theirs)


def lost_space(name: str, kana: str) -> str | None:
    """A person's name read as one word beside a フリガナ of two: the name split where the usual
    reading of its first characters is the フリガナ's first part (林浩二, ハヤシ　コウジ → 林　浩二), or
    as read where no split gives it; None when the name has its space, the フリガナ has none, or the
    name is a corporation's."""
    parts = kana.split()
    if len(name.split()) != 1 or len(parts) != 2 or any(word in name for word in CORPORATE):
        return None
    first = squeezed(parts[0])
    for i in range(1, len(name)):
        if is_reading(first, name[:i]):
            return f"{name[:i]}\u3000{name[i:]}"
    return name
