"""Is a PDF page's text layer to be believed? Why a page must be read as an image instead.

Besides a layer too thin or garbled to read (``ocr.textlayer.needs_scan``), two layers look fine to a
character count and still give wrong text:

- **A layer that lies.** A font embedded without a proper map from its glyphs to characters gives
  characters that were never printed: a gazette's date 「平成２９年」 comes out as 「平成™—年」. What such a
  font yields is what a decoder makes of bare codes: (cid:N), private-use or replacement characters,
  or the Latin-1/WinAnsi letters and symbols of those codes (™ › œ ž …), standing among Japanese
  characters. Judged per font: a font that lies, lies about most of what it draws; a page keeps its
  layer when each of its fonts draws such characters only now and then (a trademark sign).
- **Vertical text** (縦書き): columns read right to left, top to bottom. Sorting characters into lines
  reads its columns across; the page is read by OCR's vertical model instead.
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from ocr.document import Page, Word
from ocr.textlayer import needs_scan

# A font lies when at least LIE_MIN_CHARS of its characters, and at least LIE_SHARE of them, are
# misfits. Fitted by benchmarks/fit_layercheck.py (honest: the sample forms in every catalogue font,
# their blanks, honest gazette pages and honest pages carrying a lone ™/©/® in a font of its own;
# lying: gazette pages whose digits' font has a wrong or no ToUnicode map); figures in RESULTS.md.
LIE_SHARE = 0.19
LIE_MIN_CHARS = 2

# what decoding bare 8-bit codes as WinAnsi/Latin-1 produces, less the signs Japanese text does use
_EIGHT_BIT = {bytes([b]).decode("cp1252") for b in range(0x80, 0x100) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
_USED_IN_JAPANESE = set("×÷±°§¨´¶·…‘’“”–—•¥¢£‰†‡¬\xa0")
SUSPECT = frozenset(_EIGHT_BIT - _USED_IN_JAPANESE)

VERTICAL = "縦書き"
LIES = "文字の対応表"


@dataclass(frozen=True)
class Lie:
    """A font whose characters do not say what it printed."""

    font: str
    chars: int  # characters it draws on the page
    misfits: int
    sample: str  # a few of the misfits, for the log

    @property
    def share(self) -> float:
        return self.misfits / self.chars if self.chars else 0.0


def japanese(ch: str) -> bool:
    cp = ord(ch)
    return (0x3000 <= cp <= 0x30FF or 0x3400 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF
            or 0xFF00 <= cp <= 0xFFEF or 0x20000 <= cp <= 0x2FA1F)


def unmapped(ch: str) -> bool:
    """A character no glyph map meant: replacement, private use, controls, noncharacters."""
    cp = ord(ch)
    if 0x20 <= cp < 0x7F or 0xA0 <= cp < 0xE000:  # printable, below private use: what most pages hold
        return False
    if ch == "\ufffd":
        return True
    if 0xE000 <= cp <= 0xF8FF or cp >= 0xF0000 or (cp & 0xFFFE) == 0xFFFE:
        return True
    return unicodedata.category(ch) == "Cc"


def misfits_by_font(chars: list[Word]) -> dict[str, tuple[int, int, str]]:
    """font → (characters, misfits, sample). A misfit is an unmapped character, or one of the 8-bit
    decoder's letters and symbols right beside a Japanese character (in the layer's own order)."""
    solid = [c for c in chars if c.text.strip()]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    samples: dict[str, str] = defaultdict(str)
    for i, c in enumerate(solid):
        entry = counts[c.font]
        entry[0] += 1
        ch = c.text
        bad = unmapped(ch) if len(ch) == 1 else any(unmapped(x) for x in ch)
        if not bad and len(ch) == 1 and ch in SUSPECT:
            around = [solid[j].text[-1:] for j in (i - 1, i + 1) if 0 <= j < len(solid)]
            bad = any(a and japanese(a) for a in around)
        if bad:
            entry[1] += 1
            if len(samples[c.font]) < 6:
                samples[c.font] += ch if len(ch) == 1 else "\ufffd"
    return {font: (n, bad, samples[font]) for font, (n, bad) in counts.items()}


def lying_font(page: Page) -> Lie | None:
    """The font of this page's layer that lies the most, if any does."""
    worst: Lie | None = None
    for font, (n, bad, sample) in misfits_by_font(page.chars).items():
        lie = Lie(font, n, bad, sample)
        if bad >= LIE_MIN_CHARS and lie.share >= LIE_SHARE and (worst is None or lie.share > worst.share):
            worst = lie
    return worst


def vertical_share(chars: list[Word]) -> tuple[float, int]:
    """(share of characters whose nearest neighbour is above or below them, characters counted).
    In horizontal text a character's nearest neighbour is beside it; in vertical text, on top."""
    import numpy as np

    solid = [c for c in chars if c.text.strip()]
    if len(solid) < 2:
        return 0.0, 0
    xy = np.array([(c.cx, c.cy) for c in solid])
    size = np.array([max(c.box.w, c.box.h) for c in solid])
    n = len(solid)
    # a neighbour farther than this is not close whichever it is: each block of characters (in
    # order of height) is compared only with the band of characters within reach above and below
    reach = 1.6 * float(size.max())
    order = np.argsort(xy[:, 1], kind="stable")
    ys = xy[order, 1]
    norms = (xy * xy).sum(axis=1)
    vertical = counted = 0
    for start in range(0, n, 64):
        rows = order[start : start + 64]
        lo = int(np.searchsorted(ys, ys[start] - reach, "left"))
        hi = int(np.searchsorted(ys, ys[min(start + 63, n - 1)] + reach, "right"))
        cols = order[lo:hi]
        # squared distances as |a|² + |b|² − 2a·b, the product written out per axis: as a matrix
        # product it goes to BLAS, whose threads cost more CPU than this small product itself
        dot = xy[rows, 0, None] * xy[None, cols, 0] + xy[rows, 1, None] * xy[None, cols, 1]
        dist2 = norms[rows, None] + norms[None, cols] - 2.0 * dot
        dist2[rows[:, None] == cols[None, :]] = np.inf
        # the nearest, ties to the character first in the layer's order; none within the band: none close
        best = dist2.min(axis=1)
        nearest = np.where(dist2 == best[:, None], cols[None, :], n).min(axis=1)
        found = np.isfinite(best)
        rows, nearest = rows[found], nearest[found]
        d = xy[rows] - xy[nearest]
        dx, dy = np.abs(d[:, 0]), np.abs(d[:, 1])
        near = np.hypot(dx, dy) <= 1.6 * np.maximum(size[rows], size[nearest])
        counted += int(near.sum())
        vertical += int((near & (dy > dx)).sum())
    return (vertical / counted if counted else 0.0), counted


def is_vertical(page: Page, min_chars: int) -> bool:
    """Most characters stacked in columns (a majority of those with a close neighbour)."""
    share, counted = vertical_share(page.chars)
    return counted >= max(min_chars, 2) and share > 0.5


@dataclass(frozen=True)
class Route:
    """Why a text-layer page is read as an image: kind thin | lies | vertical, a Japanese message, and
    whether its characters stand in vertical columns (the layer's positions hold even when its
    characters lie)."""

    kind: str
    message: str
    vertical: bool = False

    @property
    def needs_full_text(self) -> bool:
        """The page has text nobody can take from its layer (not an image-only page): OCR all of it."""
        return self.kind in ("lies", "vertical")


def scan_reason(page: Page, min_chars: int, min_quality: float) -> Route | None:
    """Why this text-layer page must be read as an image, or None when its layer is to be believed."""
    if needs_scan(page, min_chars, min_quality):
        return Route("thin", f"{page.number}ページ目: 文字の層がないか文字化けしているため画像として読み取りました")
    vertical = is_vertical(page, min_chars)
    lie = lying_font(page)
    if lie is not None:
        return Route("lies", f"{page.number}ページ目: 埋め込みフォント {lie.font.split('+')[-1]} の{LIES}が壊れている"
                             f"ため (例「{lie.sample}」、{lie.misfits}/{lie.chars}文字) 画像として読み取りました"
                             + (f" ({VERTICAL})" if vertical else ""), vertical)
    if vertical:
        return Route("vertical", f"{page.number}ページ目: {VERTICAL}のため画像として読み取りました (縦書きの OCR)", True)
    return None
