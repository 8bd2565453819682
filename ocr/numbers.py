"""Digit groups of dates and amounts settled by drawing: a third opinion next to jpn and eng.

jpn reads 10月 as 19月 at 0.99; eng, which reads digits far better, is handed the wrong columns
whenever a digit touches its kanji (7年 at 200 dpi), and is unsure of the digit after a thousands
comma (16,000) although it reads it right. Neither model's confidence can tell these apart.

So every plausible value of each digit group (月: 1–12, 日: 1–31, 和暦の年: 1–99, otherwise each
digit replaced, one dropped or one added) is drawn in place, in the font and width the reading fits
best, and compared with the ink (``ocr.glyphs.Matcher``). The drawing also tells where each group's
digits lie, so eng reads exactly those columns. A group is *trusted* when the drawing's winner is
clear and one of the models read exactly that value: two of three independent readers agree.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ocr.glyphs import Matcher, Style
from ocr.repair import LOCAL_FIT, LOCAL_RATIO, confirm, misses

ERA_CHARS = "令和平成昭大正明治元"
DRAWN_OK = 0.90  # the winning drawing fits the ink at least this well
MARGIN_OK = 0.03  # …and beats the next value by this much, per character of the zone
VETO = 0.10  # per character: the drawing overrules jpn and eng agreeing only by this much
MODELS_FIT = 0.80  # jpn and eng agreeing: their reading need only fit the ink as a whole (nothing missing)
_GROUP = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Settled:
    text: str  # the reading with every group at the drawing's winner
    trusted: bool  # every group: clear winner, and read so by jpn or eng
    score: float  # the drawing's fit of `text`
    margin: float  # narrowest per-character win among the groups


def candidates(text: str, start: int, end: int) -> list[str]:
    """Values a digit group may have: by the unit after it in a date, else one-digit edits."""
    group, unit = text[start:end], text[end : end + 1]
    after_era = start > 0 and text[start - 1] in ERA_CHARS
    if unit == "月":
        values = [str(v) for v in range(1, 13)]
    elif unit == "日":
        values = [str(v) for v in range(1, 32)]
    elif unit == "年" and (after_era or len(group) <= 2):
        values = [str(v) for v in range(1, 100)]
    else:
        return sorted(_edits(group))
    if len(group) == 2 and group[0] == "0":  # printed zero-padded (05月): keep that style
        values += [f"{v:0>2}" for v in values if len(v) == 1]
    return values


def _edits(group: str) -> set[str]:
    """The group with one digit replaced, dropped or added (and itself)."""
    out = {group}
    digits = "0123456789"
    for i in range(len(group)):
        out.update(group[:i] + d + group[i + 1 :] for d in digits)
        if len(group) > 1:
            out.add(group[:i] + group[i + 1 :])
    for i in range(len(group) + 1):
        out.update(group[:i] + d + group[i:] for d in digits)
    return {g for g in out if g}


SPACERS = ("", " ", "\u3000")


def spaced(text: str, spacer: str) -> str:
    """`text` with `spacer` between each digit group and its neighbours: 平成27年 → 平成 27 年."""
    return _GROUP.sub(lambda g: (spacer if g.start() else "") + g.group() + (spacer if g.end() < len(text) else ""),
                      text) if spacer else text


def _positions(text: str, spacer: str) -> list[int]:
    """Index in spaced(text, spacer) of each character of `text`."""
    out, j = [], 0
    for i, ch in enumerate(text):
        if spacer and ch.isdigit() and i > 0 and not text[i - 1].isdigit():
            j += len(spacer)
        out.append(j)
        j += 1
        if spacer and ch.isdigit() and i + 1 < len(text) and not text[i + 1].isdigit():
            j += len(spacer)
    return out


def settle(image: np.ndarray, text: str, proposals: Sequence[str],
           read_digits: Callable[[np.ndarray], str] | None = None, two_models: bool = False) -> Settled | None:
    """The reading's digit groups decided by drawing. `proposals` are whole readings by the models
    (jpn's, eng's …); `read_digits` reads a crop of digits (eng), used on each group's columns.
    `two_models`: the first proposal is another model's (jpn) than `read_digits`' (eng); where the two
    agree on every group they are trusted even if the drawing cannot tell (a blurred 200 dpi date)
    or prefers another value by less than VETO (19 drawn closer to 18 by 0.037: as when the two read
    alike in the first place, which is trusted without drawing)."""
    text = "".join(text.split())
    if not _GROUP.search(text):
        return None
    m = Matcher(image)
    if m.empty:
        return None
    # print style: font, digit width, and the spaces some systems put around numbers (平成 27 年)
    looks = [(m.score_with(spaced(text, sp), st), sp, st) for sp in SPACERS for st in [m.style(spaced(text, sp))]]
    _, spacer, style = max(looks, key=lambda x: x[0])
    current = text
    margins: dict[int, float] = {}
    for _ in range(2):  # a second pass: a group decided before its neighbour was fixed
        changed = False
        for k in range(len(_GROUP.findall(current))):
            g = list(_GROUP.finditer(current))[k]
            trials = {c: current[: g.start()] + c + current[g.end() :] for c in candidates(current, g.start(), g.end())}
            scored = sorted(((m.score_with(spaced(t, spacer), style), c) for c, t in trials.items()), reverse=True)
            (best, value), second = scored[0], (scored[1][0] if len(scored) > 1 else -1.0)
            margins[k] = (best - second) * len(current)
            if value != g.group():
                current, changed = trials[value], True
        if not changed:
            break
    score = m.score_with(spaced(current, spacer), style)
    margin = min(margins.values(), default=1.0)
    groups = [g.group() for g in _GROUP.finditer(current)]
    read = [_GROUP.findall(p) for p in proposals]
    if read_digits is not None:
        at = _positions(current, spacer)
        drawn = m.spans(spaced(current, spacer), style)
        spans = [drawn[i] for i in at]
        eng = []
        for g in _GROUP.finditer(current):
            x0, x1 = spans[g.start()][0], spans[g.end() - 1][1]
            pad = max(2, int(0.08 * m.h))
            piece = m.image[:, max(0, x0 - pad) : x1 + pad]
            eng.append(read_digits(piece) if piece.size else "")
        read.append(eng)
        if two_models and read[0] == eng and len(eng) == len(groups) and all(
                v == w or margins[k] < VETO or not _drawn_clearly(m, current, spacer, style, k, w)
                for k, (v, w) in enumerate(zip(groups, eng))):
            current = _with_groups(current, eng)
            score = m.score_with(spaced(current, spacer), style)
            if score >= MODELS_FIT:
                return Settled(current, True, score, margin)
    agreed = all(any(len(r) == len(groups) and r[k] == v for r in read) for k, v in enumerate(groups))
    trusted = agreed and score >= DRAWN_OK and margin >= MARGIN_OK
    if not trusted and read_digits is not None:
        confirmed = _eng_confirmed(m, current, spacer, read[-1], read[0])
        if confirmed is not None:
            return confirmed
    return Settled(current, trusted, score, margin)


def _with_groups(text: str, groups: list[str]) -> str:
    """`text` with its digit groups replaced, in order, by `groups`."""
    values = iter(groups)
    return _GROUP.sub(lambda _: next(values), text)


def _eng_confirmed(m: Matcher, current: str, spacer: str, eng: list[str], jpn: list[str]) -> Settled | None:
    """eng's reading (in the drawing's columns) where the whole drawing chose another value or
    too narrowly: trusted if each digit jpn read otherwise (each digit, when jpn read another
    number of them) is eng's on its own ink too (``ocr.repair.confirm``). The whole drawing errs at
    a zone's ends (29807466 drawn as 29807468: the last digit's bearing); a digit's ink does not.
    A group eng reads nothing in (a lone 1, which eng misses at any psm) is jpn's, on the same terms."""
    groups = list(_GROUP.finditer(current))
    if len(eng) != len(groups):
        return None
    read_by_eng = [bool(e) for e in eng]
    if len(jpn) == len(eng):
        eng = [e or j for e, j in zip(eng, jpn)]
    if not all(e.isdigit() for e in eng):
        return None
    text = _with_groups(current, eng)
    drawn, at = spaced(text, spacer), _positions(text, spacer)
    score = m.score(drawn)
    same_shape = [len(j) for j in jpn] == [len(e) for e in eng]
    # jpn and eng agreeing on how many digits there are, the whole need only fit as when they agree
    # on all of them (digits of another typeface: 0.86)
    if score < (MODELS_FIT if same_shape else DRAWN_OK):
        return None
    disputed = [at[g.start() + d] for k, g in enumerate(_GROUP.finditer(text)) for d in range(len(g.group()))
                if not same_shape or jpn[k][d] != eng[k][d] or not read_by_eng[k]]
    if not disputed:
        return None
    local, ratio = confirm(m.image, drawn, disputed)
    return Settled(text, True, score, MARGIN_OK) if local == drawn and ratio >= LOCAL_RATIO else None


def _drawn_clearly(m: Matcher, current: str, spacer: str, style: Style, k: int, models: str) -> bool:
    """The drawing's value of group k beats the models' on the group's own ink too, digit by digit
    (1-10-8 drawn 0.10 per character closer than 1-10-5 as a whole, in a font with other digit
    widths, while the last digit's own ink is a 5 at 0.98 against 0.83): only then may it veto them."""
    g = list(_GROUP.finditer(current))[k]
    if len(models) != len(g.group()):
        return True  # a digit more or less: only the whole drawing can tell
    text, at = spaced(current, spacer), _positions(current, spacer)
    for j, (mine, theirs) in enumerate(zip(g.group(), models)):
        if mine != theirs:
            fits = m.local(text, at[g.start() + j], {mine, theirs}, style)
            if fits[mine] < LOCAL_FIT or misses(fits[mine], fits[theirs]) < LOCAL_RATIO:
                return False
    return True
