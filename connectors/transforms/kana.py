"""半角カナ: older host systems take katakana only in half width (ｶﾀｶﾅ), which no pattern can say."""
from __future__ import annotations

import unicodedata
from typing import Any

from connectors.webvalues import TransformError, ValueTransform
from kakari.model import Record

_HALF = [chr(c) for c in range(0xFF66, 0xFF9E)]  # ｦ … ﾝ, without the sound marks themselves
_TO_HALF: dict[str, str] = {}
for _h in _HALF:
    _TO_HALF.setdefault(unicodedata.normalize("NFKC", _h), _h)
    for _mark in ("\uff9e", "\uff9f"):  # ﾞ ﾟ: ガ is ｶﾞ, パ is ﾊﾟ
        _full = unicodedata.normalize("NFKC", _h + _mark)
        if len(_full) == 1:
            _TO_HALF.setdefault(_full, _h + _mark)
_TO_HALF |= {"ー": "ｰ", "。": "｡", "「": "｢", "」": "｣", "、": "､", "・": "･", "\u3000": " ", "ヴ": "ｳﾞ"}


class HalfWidthKana(ValueTransform):
    """全角カタカナ → 半角カナ (digits and Latin letters to half width as well)."""

    name = "hankaku_kana"

    def __call__(self, value: Any, record: Record, system: Any) -> str:
        text = "".join(_TO_HALF.get(ch, ch) for ch in nfkc_kana(str(value)))
        if any("\u3040" <= ch <= "\u30ff" for ch in text):
            raise TransformError("半角カナにできない文字（ひらがな・小書きの文字など）があります")
        return text


def nfkc_kana(text: str) -> str:
    """NFKC on everything but katakana (NFKC would turn half-width kana back into full width)."""
    return "".join(ch if "\u30a0" <= ch <= "\u30ff" or ch == "\u3000" else unicodedata.normalize("NFKC", ch)
                   for ch in text)
