"""Readings whose drawing does not fit the ink, repaired one character at a time.

When Tesseract misreads a word (運 for 蓮, コルヤッ for ｺﾊﾞﾔｼ, コーボポ for コーポ), the reading drawn
again fits the ink poorly (``ocr.glyphs``). Then each character's columns, taken from the drawing,
are compared with every character of its script drawn small (a glyph bank, built once per process
when first needed); the few closest, and dropping the character, are tried in the whole drawing, and
a change is kept when the whole fits clearly better.

A repaired reading is not trusted because of the repair: it goes to 要確認, where the clerk finds the
field filled in right more often and types less, unless every character of it is then settled on
its own ink (``confirm``): each one, drawn alone at the reading's scale in its place, matches the ink
there far better than every character that looks like it (the bank's closest, its look-alikes, its
kana kin). ``confirm`` also settles characters jpn doubts, and swaps to look-alikes jpn cannot output.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import cv2
import numpy as np

from ocr.glyphs import (
    KANA_LOOKALIKES,
    Matcher,
    Style,
    alternatives,
    ink_window,
    is_kanji,
    piece,
    render_cells,
)

BANK_PX = 24  # glyphs are compared at 24×24: enough to tell 蓮 from 運, cheap to hold for 6,000 kanji
TOP_K = 6  # closest characters tried in the whole drawing
GAIN = 0.01  # a change must raise the whole drawing's fit by this much (of -1..1)


def script_of(ch: str) -> str:
    if "\u30a1" <= ch <= "\u30fa" or ch == "ー":
        return "katakana"
    if "\u3041" <= ch <= "\u3096":
        return "hiragana"
    if is_kanji(ch) or ch == "々":
        return "kanji"
    if ch.isascii() and ch.isdigit():
        return "digit"
    return "other"


@lru_cache(maxsize=4)
def charset(script: str) -> str:
    """Characters a bank holds: the kanji of Windows-31J (what Japanese office systems print), kana, digits."""
    if script == "katakana":
        return "".join(chr(c) for c in range(0x30A1, 0x30FB)) + "ー"
    if script == "hiragana":
        return "".join(chr(c) for c in range(0x3041, 0x3097))
    if script == "digit":
        return "0123456789"
    out = []
    for hi in [*range(0x88, 0xEB), 0xED, 0xEE, 0xFA, 0xFB, 0xFC]:  # JIS X 0208 + NEC/IBM extensions
        for lo in range(0x40, 0xFD):
            try:
                ch = bytes([hi, lo]).decode("cp932")
            except UnicodeDecodeError:
                continue
            if script_of(ch) == "kanji":
                out.append(ch)
    return "".join(out)


def _vector(ink: np.ndarray) -> np.ndarray:
    v = cv2.resize(ink.astype(np.float32), (BANK_PX, BANK_PX), interpolation=cv2.INTER_AREA)
    v = cv2.GaussianBlur(v, (0, 0), 1.0).ravel()
    v = v - v.mean()
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


@lru_cache(maxsize=12)
def bank(font: str, variant: str, script: str) -> tuple[str, np.ndarray]:
    """(characters, one row per character: its drawing in its advance box, rows of a full-height kanji)."""
    chars = charset(script)
    top, bottom = _full_height(font)
    rows = []
    keep = []
    for ch in chars:
        cell = render_cells(piece(ch, variant), font)
        if cell is None:
            continue
        rows.append(_vector(cell[top:bottom]))
        keep.append(ch)
    return "".join(keep), np.vstack(rows) if rows else np.zeros((0, BANK_PX * BANK_PX), np.float32)


@lru_cache(maxsize=4)
def _full_height(font: str) -> tuple[int, int]:
    """Rows of the drawing cell a full-height character covers (the vertical extent a zone's ink has)."""
    cell = render_cells("国", font)
    if cell is None:
        return 0, 1
    ys = np.nonzero((cell > 0.3).any(axis=1))[0]
    return (int(ys.min()), int(ys.max()) + 1) if ys.size else (0, cell.shape[0])


def closest(m: Matcher, text: str, i: int, style: Style, k: int = TOP_K) -> list[str]:
    """The k characters of text[i]'s script that look most like the ink in its columns."""
    script = script_of(text[i])
    if script == "other":
        return []
    chars, matrix = bank(style[0], style[1], script)
    if not chars:
        return []
    x0, x1 = m.spans(text, style)[i]
    if x1 - x0 < 2:
        return []
    ink = ink_window((m.image < 128).astype(np.float32), x0, m.y, x1 - x0, m.h)  # the advance box, bearings too
    scores = matrix @ _vector(ink)
    best = np.argsort(-scores)[:k]
    return [chars[j] for j in best]


def repair(image: np.ndarray, text: str) -> tuple[str, float]:
    """(repaired reading, its drawing's fit) for a cleaned crop holding just `text` (no spaces).

    Characters jpn made up are dropped first (one at a time, the best drop each round), because a
    spare character shifts every column after it; then each character is replaced by its closest
    look-alike where that fits the whole clearly better."""
    m = Matcher(image)
    if m.empty or not text:
        return text, -1.0
    current, fit = text, m.score(text)
    while len(current) > 1:  # in every print style: a spare character can make the wrong one fit best
        drops = [(m.score(current[:i] + current[i + 1 :]), current[:i] + current[i + 1 :]) for i in range(len(current))]
        best_fit, best = max(drops)
        if best_fit <= fit + GAIN:
            break
        current, fit = best, best_fit
    style = m.style(current)
    for i in range(len(current)):
        trials = {current[:i] + c + current[i + 1 :] for c in closest(m, current, i, style) if c != current[i]}
        scored = [(m.score_with(t, style), t) for t in trials]
        if scored:
            best_fit, best = max(scored)
            if best_fit > fit + GAIN:
                current, fit = best, best_fit
    return current, fit


def contest(image: np.ndarray, text: str, positions: list[int]) -> tuple[str, float]:
    """Characters chosen among a few look-alikes (髙 for 高) are checked against every character that
    looks like the ink there (the glyph bank): a better one replaces it, and the per-character
    margin over the runner-up is returned, so a 凛 that could as well be 凜 is not trusted."""
    m = Matcher(image)
    if m.empty or not positions:
        return text, 1.0
    style = m.style(text)
    margin = 1.0
    for i in positions:
        options = {text[:i] + c + text[i + 1 :] for c in closest(m, text, i, style)} | {text}
        scored = sorted(((m.score_with(t, style), t) for t in options), reverse=True)
        text = scored[0][1]
        if len(scored) > 1:
            margin = min(margin, (scored[0][0] - scored[1][0]) * len(text))
    return text, margin


CONFIRM_K = 24  # closest characters (glyph bank) a character is confirmed against, beside its own kin
LOCAL_FIT = 0.95  # the character drawn alone must match its own ink this well…
LOCAL_RATIO = 3.0  # …and every close rival must miss that ink (1 - correlation) this many times as much
RIVALS = 3  # the closest rivals (by their fit) compared where they differ, when the whole cell cannot tell
_SMALL_KANA = dict(zip("ァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎ", "アイウエオツヤユヨワカケあいうえおつやゆよわ"))


def kana_base(ch: str) -> str:
    """ガ, パ, ァ → カ, ハ, ア: the kana a voiced, semi-voiced or small one is drawn from."""
    d = unicodedata.normalize("NFD", ch)[:1] or ch
    return _SMALL_KANA.get(d, d)


@lru_cache(maxsize=4)
def _kin_table(script: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for ch in charset(script):
        table[kana_base(ch)] = table.get(kana_base(ch), "") + ch
    return table


def kin(ch: str) -> str:
    """Characters that differ from `ch` by a mark or a size only (カ ガ ヵ; ハ バ パ; ツ ッ ヅ):
    the bank's whole-cell comparison hardly tells them apart, so they are always candidates."""
    script = script_of(ch)
    if script not in ("katakana", "hiragana"):
        return ""
    return _kin_table(script).get(kana_base(ch), "")


def confirm(image: np.ndarray, text: str, positions: list[int]) -> tuple[str, float]:
    """Each character at `positions` judged on its own ink against everything that looks like it
    (the glyph bank's closest, its look-alikes, its kana kin). Returns the reading with each one the
    best fit there, and how clearly the ink chose: the smallest ratio by which a close rival misses
    the ink (1 - correlation) more than the winner, on the whole cell or, where that is too close
    to call (太 0.991 against 大 0.944 is 6; ば 0.991 against ぱ 0.982 is 2), on just the part where
    the two drawings differ (the mark: 4.8). 0 when the winner itself fits poorly."""
    m = Matcher(image)
    if m.empty or not positions:
        return text, float("inf")
    style = m.style(text)
    clearest = float("inf")
    for i in positions:
        ch = text[i]
        options = ({ch} | set(closest(m, text, i, style, CONFIRM_K)) | set(alternatives(ch))
                   | set(kin(ch)) | set(KANA_LOOKALIKES.get(ch, "")))
        fits = m.local(text, i, options, style)
        scored = sorted(fits.items(), key=lambda kv: (kv[1], kv[0] == ch), reverse=True)  # a tie keeps ch
        best, fit = scored[0]
        text = text[:i] + best + text[i + 1 :]
        if fit < LOCAL_FIT:
            return text, 0.0
        for rival, rival_fit in scored[1:RIVALS + 1]:
            ratio = misses(fit, rival_fit)
            if ratio < LOCAL_RATIO:
                ratio = misses(*m.differ(text, i, best, rival, style))
            clearest = min(clearest, ratio)
    return text, clearest


def misses(fit: float, rival: float) -> float:
    """How many times as much the rival misses the ink as the winner (0 if the rival fits better)."""
    return (1.0 - rival) / max(1e-6, 1.0 - fit) if fit >= rival else 0.0
