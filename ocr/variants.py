"""Variant kanji in names (髙/高, 﨑/崎, 邊/辺 …): what neither recogniser can tell apart.

PP-OCR reads 髙橋 as 高橋 at 0.99 and has no 﨑 at all; Tesseract's jpn cannot output either. A
clerk's ledger must not silently turn 髙橋 into 高橋, so every character of a name that has a
registered variant (``VARIANTS``, the pairs Japanese family registers keep apart) is judged on its
own ink: the common form and each variant are drawn alone where the character stands and compared
with the ink, on the part of the cell where their drawings differ (``ocr.glyphs.Matcher.differ``).
The result is the ratio by which the loser misses the ink more than the winner; the trust policy
accepts the recognisers' common form only above its calibrated ratio, and never registers a variant
on the drawing's word alone (it is offered, for the clerk to confirm).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocr.glyphs import Matcher, misses

# common form → variants kept apart in names (戸籍の異体字); the recognisers output the common form
VARIANTS: dict[str, str] = {
    "高": "髙", "崎": "﨑嵜", "辺": "邊邉", "斎": "齋齊", "沢": "澤", "浜": "濱", "島": "嶋嶌", "徳": "德",
    "恵": "惠", "広": "廣", "国": "國", "桜": "櫻", "竜": "龍", "富": "冨", "実": "實", "青": "靑",
    "吉": "\U00020bb7",
}
# variants a recogniser may output for the common form, and the form itself (髙 read as-is)
_BASE = {v: k for k, vs in VARIANTS.items() for v in vs}


@dataclass(frozen=True)
class VariantCheck:
    """One character of a reading that has variants: which form its ink prefers, and how clearly."""

    index: int
    read: str  # what the recognisers read (the common form, or a variant)
    best: str  # the form whose drawing fits the ink best
    ratio: float  # how many times as much the runner-up misses the ink (inf: no rival fits at all)


def base_form(ch: str) -> str:
    """The common form of a character (itself when it is one, or has no variants)."""
    return _BASE.get(ch, ch)


def candidates(ch: str) -> str:
    """The common form and its variants, for a character that has any ("" otherwise)."""
    base = base_form(ch)
    forms = VARIANTS.get(base, "")
    return base + forms if forms else ""


def has_variants(text: str) -> bool:
    return any(candidates(ch) for ch in text)


def check(image: np.ndarray, text: str, fonts: list[str] | None = None) -> list[VariantCheck]:
    """Each character of `text` (the reading of a cleaned crop holding just it, spaces included)
    with variants, judged on its own ink."""
    out: list[VariantCheck] = []
    positions = [i for i, ch in enumerate(text) if candidates(ch)]
    if not positions:
        return out
    m = Matcher(image)
    if m.empty:
        return [VariantCheck(i, text[i], text[i], 0.0) for i in positions]
    drawn = text.replace(" ", "\u3000")
    style = m.style(drawn)
    for i in positions:
        forms = set(candidates(text[i]))
        fits = m.local(drawn, i, forms, style)
        ranked = sorted(fits.items(), key=lambda kv: kv[1], reverse=True)
        best = ranked[0][0]
        ratio = float("inf")
        for rival, rival_fit in ranked[1:]:
            if rival_fit <= -1.0:
                continue
            a, b = m.differ(drawn, i, best, rival, style)
            ratio = min(ratio, misses(a, b))
        out.append(VariantCheck(i, text[i], best, ratio))
    return out
