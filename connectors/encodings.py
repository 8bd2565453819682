"""The bytes of a text table (a CSV export, a time-log CSV) as text, refusing what would be mojibake.

Strict decoding along a chain: a byte-order mark decides (UTF-8, UTF-16); otherwise every candidate
of UTF-8, Shift_JIS (CP932) and EUC-JP that decodes without an error is a reading, and the least
messy reading wins (charset_normalizer's mess detector: odd scripts side by side, rare characters,
broken kana). EUC-JP is only recognised, to be refused by name. The winner is then checked for the
marks of an earlier mis-decoding that was saved again (UTF-8 read as Shift_JIS and written back as
UTF-8, and the like): text that turns into clean Japanese when its mistake is undone, or text messier
than any honest table (MESS_LIMIT, fitted by benchmarks/fit_encoding.py). Characters that a single
cell may carry (U+FFFD, 外字 in the private use area) are left to the cell's reader to flag.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass

# Fitted by `python benchmarks/fit_encoding.py` on synthetic exports and Vim's Japanese tutor, and their
# mis-decoded versions (figures in benchmarks/RESULTS.md): the midpoint of the gap between the messiest
# honest text (0.07) and the cleanest mojibake (0.99), on the log scale.
MESS_LIMIT = 0.27
CHUNK = 4000  # characters per chunk the mess is measured on …
CHUNKS = 16  # … at most this many, spread over the text: a large export costs the same as a small one

NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM付き)", "cp932": "Shift_JIS", "euc_jp": "EUC-JP",
         "utf-16": "UTF-16"}
ACCEPTED = ("utf-8", "utf-8-sig", "cp932", "utf-16")
CHAIN = ("utf-8", "cp932", "euc_jp")  # tried in this order; on equal mess the earlier one wins
SAVE_AS = "UTF-8 または Shift_JIS (CSV) で保存し直してください"
# a mistake that was saved again: (how the text came out, what it really was)
RESAVED = (("cp932", "utf-8", "UTF-8 の文字を Shift_JIS として読んで保存し直した文字化け"),
           ("cp1252", "utf-8", "UTF-8 の文字を欧文 (Windows-1252) として読んで保存し直した文字化け"),
           ("cp1252", "cp932", "Shift_JIS の文字を欧文 (Windows-1252) として読んで保存し直した文字化け"))


class EncodingRefused(ValueError):
    """The bytes are not text in an accepted encoding, or the text is mojibake; the message is Japanese."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # codec name (ACCEPTED)

    @property
    def label(self) -> str:
        return NAMES[self.encoding]


def mess(text: str) -> float:
    """How messy the text reads (0 = clean; mojibake is near 1): the worst of up to CHUNKS chunks."""
    from charset_normalizer.md import mess_ratio

    if len(text) <= CHUNK:
        return float(mess_ratio(text, 10.0))
    starts = range(0, len(text) - CHUNK + 1, max(CHUNK, (len(text) - CHUNK) // (CHUNKS - 1) or 1))
    return max(float(mess_ratio(text[s:s + CHUNK], 10.0)) for s in list(starts)[:CHUNKS])


def decode(raw: bytes) -> Decoded:
    """The text of `raw`, or EncodingRefused saying what the bytes look like and how to save them."""
    if raw.startswith(codecs.BOM_UTF8):
        return _checked(_strict(raw[len(codecs.BOM_UTF8):], "utf-8", "UTF-8 の BOM で始まりますが"), "utf-8-sig")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _checked(_strict(raw, "utf-16", "UTF-16 の BOM で始まりますが"), "utf-16")
    if b"\x00" in raw:
        raise EncodingRefused("文字コードを判定できません: NUL 文字があります (BOM のない UTF-16 か、"
                              f"表ではないファイルです)。{SAVE_AS}")
    readings: dict[str, str] = {}
    for encoding in CHAIN:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if text not in readings.values():
            readings[encoding] = text
    if not readings:
        raise EncodingRefused(f"文字コードを判定できません (UTF-8 としても Shift_JIS としても読めません)。{SAVE_AS}")
    if len(readings) == 1:
        encoding = next(iter(readings))
    else:
        scores = {e: mess(t) for e, t in readings.items()}
        encoding = min(readings, key=lambda e: (scores[e], CHAIN.index(e)))
    if encoding not in ACCEPTED:
        raise EncodingRefused(f"{NAMES[encoding]} で保存されたファイルのようです。{SAVE_AS}")
    return _checked(readings[encoding], encoding)


def _strict(raw: bytes, encoding: str, what: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise EncodingRefused(f"{what}{e.start + 1}バイト目が {NAMES[encoding]} として正しくありません。{SAVE_AS}") from None


def _checked(text: str, encoding: str) -> Decoded:
    """Refuse a text that carries an earlier mis-decoding (see the module's docstring)."""
    own = None
    for shown_as, really, what in RESAVED:
        try:
            undone = text.encode(shown_as).decode(really)
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if undone != text and _japanese(undone):
            own = mess(text) if own is None else own
            if mess(undone) < own:
                raise EncodingRefused(f"文字化けしています ({what} のようです)。元のデータから{SAVE_AS}")
    if _japanese(text) or any(ord(ch) > 0x7F for ch in text):
        ratio = mess(text) if own is None else own
        if ratio > MESS_LIMIT:
            raise EncodingRefused(f"文字化けしているようです ({NAMES[encoding]} として読むと意味の通らない文字の並びに"
                                  f"なります)。{SAVE_AS}")
    return Decoded(text, encoding)


def _japanese(text: str) -> bool:
    """Any kana or kanji."""
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)
