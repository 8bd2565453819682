"""A third opinion where PP-OCR and Tesseract read a few characters differently (細 or 紬, 志 or 也).

When the two readings, folded for comparison (``ocr.normalise.canonical``), have the same length and
differ in at most ``MAX_DISPUTED`` places, each disputed character is judged on its own ink, as
``ocr.variants`` judges 髙/高: both candidates are drawn alone where the character stands and compared
with the ink on the part of the cell where their drawings differ (``ocr.glyphs.Matcher.differ``).
The trust policy registers PP-OCR's reading only when the ink prefers it at every disputed place by
its calibrated ratio; anything else stays a disagreement for the clerk.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from ocr.glyphs import Matcher, misses
from ocr.normalise import SOUND_MARKS, canonical, drawn_alike, kana_lookalikes, katakana

# more differing places than this and the readings are not one word misread in a character or two:
# drawing candidates cannot tell which engine lost its place
MAX_DISPUTED = 2
# the trust policy holds the ink to one ratio per group of disputes (``group``)
KANJI, OTHER, MARKS = "kanji", "other", "marks"
DISPUTE_GROUPS = (KANJI, OTHER, MARKS)


@dataclass(frozen=True)
class DisputeCheck:
    """One disputed character: the two engines' candidates, which one its ink prefers, how clearly."""

    index: int  # in PP-OCR's reading (spaces included)
    neural: str  # PP-OCR's character
    second: str  # Tesseract's
    best: str  # the candidate whose drawing fits the ink best
    ratio: float  # how many times as much the other misses the ink (0: no judgement)

    @property
    def marks_only(self) -> bool:
        """Do the candidates differ only by a voicing mark (す/ず, ハ/パ)? That small mark is all the
        drawings differ by, and it is what a faint or coarse print loses first: such a dispute has a
        ratio of its own in the trust policy (``group``)."""
        return voicing_pair(self.neural, self.second)

    @property
    def drawn_alike(self) -> bool:
        """Are the candidates one shape in two scripts (三/ミ, 二/ニ, り/リ)? Their drawings hardly
        differ, so the ink cannot tell them apart: such a dispute is never settled by it."""
        return drawn_alike(self.neural, self.second) or kana_lookalikes(self.neural) == kana_lookalikes(self.second)


def group(checks: list[DisputeCheck]) -> str:
    """Which of the trust policy's ratios judges a reading's disputed characters: ``MARKS`` where a place
    differs only by a voicing mark, else ``KANJI`` where every place is kanji against kanji (their many
    strokes give the ink much to tell apart: 紬/細, 也/志), else ``OTHER`` (kana, digits: a simple shape
    whose drawing varies from font to font about as much as ユ differs from コ)."""
    if any(c.marks_only for c in checks):
        return MARKS
    return KANJI if all(_kanji(c.neural) and _kanji(c.second) for c in checks) else OTHER


def _kanji(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))


def voicing_pair(a: str, b: str) -> bool:
    """Two kana that differ only by a dakuten or handakuten (す/ず, ス/ズ, ハ/パ), in either script."""
    da, db = _decomposed(a), _decomposed(b)
    marks = set(da[1:] + db[1:])
    return da != db and da[:1] == db[:1] and bool(marks) and marks <= SOUND_MARKS


def _decomposed(ch: str) -> str:
    return unicodedata.normalize("NFD", katakana(unicodedata.normalize("NFKC", ch)))


def disputed(text: str, second: str, kind: str) -> list[tuple[int, str, str]]:
    """(index in `text`, PP-OCR's character, Tesseract's) where the readings differ, or [] when
    they agree, differ in length or in more than ``MAX_DISPUTED`` places."""
    places = [(i, canonical(ch, kind)) for i, ch in enumerate(text) if canonical(ch, kind)]
    other = canonical(second, kind)
    if any(len(c) != 1 for _i, c in places) or len(places) != len(other):
        return []
    out = [(i, text[i], o) for (i, c), o in zip(places, other) if c != o]
    return out if len(out) <= MAX_DISPUTED else []


def check(image: np.ndarray, text: str, second: str, kind: str) -> list[DisputeCheck]:
    """Each disputed character of PP-OCR's reading `text` (of a cleaned crop holding just it)
    against Tesseract's `second`, judged on its own ink."""
    places = disputed(text, second, kind)
    if not places:
        return []
    m = Matcher(image)
    if m.empty:
        return [DisputeCheck(i, a, b, a, 0.0) for i, a, b in places]
    drawn = text.replace(" ", "\u3000")
    style = m.style(drawn)
    out = []
    for i, a, b in places:
        fits = m.local(drawn, i, {a, b}, style)
        best, rival = (a, b) if fits.get(a, -1.0) >= fits.get(b, -1.0) else (b, a)
        ratio = 0.0
        if fits.get(best, -1.0) > -1.0:
            fa, fb = m.differ(drawn, i, best, rival, style)
            ratio = misses(fa, fb)
        out.append(DisputeCheck(i, a, b, best, ratio))
    return out
