"""Render-and-compare checks for OCR readings of names and other text.

Debian's ``jpn`` model knows only 2,380 of the 6,716 kanji of Windows-31J: 髙, 﨑, 紬, 颯 and thousands
more cannot be output at all, and Tesseract then reads the nearest character it knows (髙 → 高,
紬 → 細) with high confidence. A clerk's ledger must not silently turn 髙橋 into 高橋.

So a reading is drawn again with the Japanese fonts on this machine (IPA Gothic and Mincho) and
compared with the ink of the zone: ``similarity`` is the normalised correlation of the two, blurred,
at the zone's size. For every character that Tesseract is known to output in place of a character
it cannot read (``CONFUSABLES``, measured by running the model on each missing kanji drawn in both
fonts), the alternatives are drawn as well; the best-matching spelling wins, and a narrow win, or a
poor match for every spelling, lowers the confidence so the field goes to 要確認.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from kakari.locate import japanese_fonts

CONFUSABLES_FILE = Path(__file__).with_name("confusables.tsv")
RENDER_PX = 64  # glyphs are drawn this tall before being fitted to the zone
MAX_ALTERNATIVES = 40  # look-alikes drawn per character (a few fallback outputs like 人 have hundreds)
LOCAL_SHIFT = 0.2  # a character compared on its own may sit this much of its size (em) off its place


@dataclass(frozen=True)
class Verdict:
    text: str  # the best-matching spelling (the reading itself unless a look-alike fits better)
    similarity: float  # of that spelling, -1..1
    margin: float  # over the next best spelling (1.0 when there was no alternative)


@lru_cache(maxsize=1)
def confusables() -> dict[str, tuple[str, ...]]:
    """Character Tesseract outputs → characters it may stand for (the model cannot output those)."""
    table: dict[str, tuple[str, ...]] = {}
    if not CONFUSABLES_FILE.is_file():
        return table
    for line in CONFUSABLES_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        out, _, alts = line.partition("\t")
        if out and alts:
            table[out] = tuple(alts)
    return table


@lru_cache(maxsize=4)
def _font(path: str) -> object | None:
    from PIL import ImageFont

    try:
        return ImageFont.truetype(path, RENDER_PX)
    except OSError:
        return None


def fonts() -> list[str]:
    """The Japanese fonts readings are drawn in: a gothic and a mincho (kakari.locate finds them)."""
    return [str(f) for f in japanese_fonts() if _font(str(f)) is not None]


@lru_cache(maxsize=20000)
def glyph(ch: str, font_path: str) -> np.ndarray | None:
    """One character drawn in its advance box (float32, 1 = ink), RENDER_PX·1.25 tall, cached:
    strings are drawn by putting these side by side (Japanese type has no kerning to speak of)."""
    return draw_glyph(ch, font_path)


def render_cells(text: str, font_path: str) -> np.ndarray | None:
    """`text`'s characters side by side in their advance boxes, uncached (for building glyph banks)."""
    cells = [draw_glyph(ch, font_path) for ch in text]
    if not cells or any(c is None for c in cells):
        return None
    return np.hstack(cells)  # type: ignore[arg-type]


def draw_glyph(ch: str, font_path: str) -> np.ndarray | None:
    from PIL import Image, ImageDraw

    font = _font(font_path)
    if font is None:
        return None
    advance = max(1, int(round(font.getlength(ch))))  # type: ignore[attr-defined]
    h = int(RENDER_PX * 1.25)
    im = Image.new("L", (advance, h), 0)
    ImageDraw.Draw(im).text((0, RENDER_PX), ch, fill=255, font=font, anchor="ls")  # type: ignore[arg-type]
    return np.asarray(im, dtype=np.float32) / 255.0


def rendered(text: str, font_path: str) -> np.ndarray | None:
    """Ink of `text` in a font, trimmed to its ink; None if nothing would be drawn."""
    cells = [glyph(ch, font_path) for ch in text]
    if not cells or any(c is None for c in cells):
        return None
    a = np.hstack(cells)  # type: ignore[arg-type]
    on = a > 0.3
    cols, rows = np.flatnonzero(on.any(axis=0)), np.flatnonzero(on.any(axis=1))
    if rows.size == 0:
        return None
    return a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _prepare(ink: np.ndarray, sigma: float) -> np.ndarray:
    b = cv2.GaussianBlur(ink, (0, 0), sigma)
    b = b - b.mean()
    n = float(np.linalg.norm(b))
    return b / n if n > 0 else b


class Matcher:
    """Compares drawings of candidate texts with the ink of one cleaned crop."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        ink = (image < 128).astype(np.float32)
        x, y, w, h = cv2.boundingRect((ink > 0).astype(np.uint8))
        self.x, self.y = x, y
        self.empty = w == 0 or h == 0
        self.h, self.w = max(1, h), max(1, w)
        self.sigma = max(1.0, self.h / 20.0)
        self.target = _prepare(ink[y : y + h, x : x + w], self.sigma) if not self.empty else ink
        self._blurred: np.ndarray | None = None  # the whole crop's ink, blurred (for ``local``)

    def score(self, text: str) -> float:
        """Best correlation of `text` (in any of its drawings and fonts) with the ink, -1..1."""
        if self.empty or not text.strip():
            return -1.0
        best = -1.0
        for t in drawings(text.replace(" ", "\u3000")):
            for f in fonts():
                best = max(best, self._fit(rendered(t, f)))
        return best

    def style(self, text: str) -> Style:
        """(font, drawing) in which `text` fits the ink best: the zone's print style."""
        best, out = -2.0, (fonts()[0] if fonts() else "", "as_read")
        for variant in DRAWINGS:
            if variant != "as_read" and drawn(text, variant) == text:
                continue
            for f in fonts():
                s = self._fit(rendered(drawn(text, variant), f))
                if s > best:
                    best, out = s, (f, variant)
        return out

    def score_with(self, text: str, style: Style) -> float:
        """Like ``score`` in one print style only (many candidates of one zone: 4× faster)."""
        if self.empty or not text.strip():
            return -1.0
        return self._fit(rendered(drawn(text, style[1]), style[0]))

    def _layout(self, text: str, style: Style) -> tuple[list[float], float, float, float] | None:
        """Where `text`'s drawing lands when fitted to the ink: the crop columns of each character's
        advance-box edges, the crop row of the drawing cells' top, and the scale (x, y) from drawing
        to crop."""
        font, variant = style
        cells = [[glyph(c, font) for c in piece(ch, variant)] for ch in text]
        flat = [c for cs in cells for c in cs]
        if self.empty or not flat or any(c is None for c in flat):
            return None
        a = np.hstack(flat)  # type: ignore[arg-type]
        on = a > 0.3
        xs, ys = np.nonzero(on.any(axis=0))[0], np.nonzero(on.any(axis=1))[0]
        if xs.size == 0:
            return None
        fx = self.w / float(xs.max() + 1 - xs.min())
        fy = self.h / float(ys.max() + 1 - ys.min())
        widths = [sum(c.shape[1] for c in cs) for cs in cells]  # type: ignore[union-attr]
        edges = np.concatenate([[0.0], np.cumsum(widths)])
        return [self.x + (e - xs.min()) * fx for e in edges], self.y - ys.min() * fy, fx, fy

    def spans(self, text: str, style: Style) -> list[tuple[int, int]]:
        """Columns of the crop each character of `text` occupies (its advance box, which may reach
        past the ink at either end) when its drawing is fitted to the ink."""
        layout = self._layout(text, style)
        if layout is None:
            return [(self.x, self.x + self.w)] * len(text)
        pos = layout[0]
        return [(int(round(pos[i])), int(round(pos[i + 1]))) for i in range(len(text))]

    def local(self, text: str, i: int, candidates: set[str], style: Style) -> dict[str, float]:
        """How well each candidate for text[i], drawn alone at the reading's scale where text[i]
        stands, matches the ink there (normalised correlation, best over a small shift, -1..1).

        One character is judged on its own ink: in the whole drawing's fit it weighs 1/n, and a
        look-alike wider at the ends (秣 for 株) rescales every other character as well. A candidate
        narrower than text[i] is compared over text[i]'s cell, so ﾊ is not let off the ﾞ of a ﾊﾞ;
        a wider one over its own, so ｺﾞ must explain the ink where its ﾞ would be."""
        placed = self._placed(text, i, candidates, style)
        return {c: _match(*placed[c]) if c in placed else -1.0 for c in candidates}

    def differ(self, text: str, i: int, a: str, b: str, style: Style) -> tuple[float, float]:
        """Like ``local`` for two candidates, on only the part of the cell where their drawings
        differ: ば and ぱ are told apart by their marks, which are a twentieth of their ink."""
        placed = self._placed(text, i, {a, b}, style)
        if a not in placed or b not in placed:
            return -1.0, -1.0
        (wa, ta), (wb, tb) = placed[a], placed[b]
        h, w = min(ta.shape[0], tb.shape[0]), min(ta.shape[1], tb.shape[1])
        diff = np.abs(ta[:h, :w] - tb[:h, :w])
        ys, xs = np.nonzero(diff > 0.3 * float(diff.max()))
        if ys.size == 0 or ta.shape != tb.shape:
            return _match(wa, ta), _match(wb, tb)  # alike, or of other widths: the whole cells tell
        pad = max(2, int(round(2 * self.sigma)))
        y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + 1 + pad)
        x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + 1 + pad)
        s = (wa.shape[0] - h) // 2
        part = wa[y0 : y1 + 2 * s, x0 : x1 + 2 * s]
        return _match(part, ta[y0:y1, x0:x1]), _match(part, tb[y0:y1, x0:x1])

    def _placed(self, text: str, i: int, candidates: set[str], style: Style
                ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each candidate drawn at the reading's scale where text[i] stands, blurred like the ink,
        with the ink around it (room to shift by LOCAL_SHIFT): (window, template)."""
        layout = self._layout(text, style)
        if layout is None:
            return {}
        pos, top, fx, fy = layout
        if self._blurred is None:
            self._blurred = cv2.GaussianBlur((self.image < 128).astype(np.float32), (0, 0), self.sigma)

        def draw(c: str) -> np.ndarray | None:
            cells = [glyph(p, style[0]) for p in piece(c, style[1])]
            if not cells or any(g is None for g in cells):
                return None
            g = np.hstack(cells)  # type: ignore[arg-type]
            size = max(2, int(round(g.shape[1] * fx))), max(2, int(round(g.shape[0] * fy)))
            return cv2.GaussianBlur(cv2.resize(g, size, interpolation=cv2.INTER_AREA), (0, 0), self.sigma)

        own = draw(text[i])
        least = own.shape[1] if own is not None else 0
        shift = int(round(LOCAL_SHIFT * RENDER_PX * fy))
        x0, y0 = int(round(pos[i])) - shift, int(round(top)) - shift
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for c in candidates:
            t = own if c == text[i] else draw(c)
            if t is None:
                continue
            t = np.pad(t, ((0, 0), (0, max(0, least - t.shape[1]))))
            out[c] = ink_window(self._blurred, x0, y0, t.shape[1] + 2 * shift, t.shape[0] + 2 * shift), t
        return out

    def _fit(self, r: np.ndarray | None) -> float:
        if r is None:
            return -1.0
        r = cv2.resize(r, (self.w, self.h), interpolation=cv2.INTER_AREA)
        return float(np.sum(self.target * _prepare(r, self.sigma)))


def _match(window: np.ndarray, template: np.ndarray) -> float:
    """Best normalised correlation of `template` anywhere in `window` (-1 for a blank template)."""
    if float(template.std()) == 0.0:
        return -1.0
    return float(cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED).max())


def ink_window(a: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    """a[y:y+h, x:x+w], with zeros (no ink) where the window reaches past the crop."""
    out = np.zeros((h, w), a.dtype)
    ys, xs = slice(max(0, y), min(a.shape[0], y + h)), slice(max(0, x), min(a.shape[1], x + w))
    if ys.start < ys.stop and xs.start < xs.stop:
        out[ys.start - y : ys.stop - y, xs.start - x : xs.stop - x] = a[ys, xs]
    return out


def similarity(image: np.ndarray, text: str) -> float:
    """How well `text`, drawn in the best of our fonts, matches the ink of a cleaned crop."""
    return Matcher(image).score(text)


# half-width katakana that differ by a stroke's slant: ﾝ ｼ ｿ ﾂ (jpn mixes them up, even stretched)
KANA_LOOKALIKES = {"ン": "シソ", "シ": "ンツ", "ソ": "ンリ", "ツ": "シ", "リ": "ソ"}


def alternatives(ch: str, kana: bool = False) -> tuple[str, ...]:
    """Look-alikes worth drawing for a character Tesseract output (kanji for kanji; katakana for
    katakana only when asked: full-width print tells them apart well, half-width does not)."""
    if kana:
        return tuple(KANA_LOOKALIKES.get(ch, ""))
    if not is_kanji(ch):
        return ()
    # a compatibility ideograph (精 U+FA1D for 精) is the same character drawn the same: not a rival
    return tuple(a for a in confusables().get(ch, ())[:MAX_ALTERNATIVES]
                 if is_kanji(a) and unicodedata.normalize("NFKC", a) != ch)


def is_kanji(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0002ffff"


def rare_kanji(ch: str) -> bool:
    """A kanji of JIS X 0208 level 2 (秣, 颯): the rarely printed half. Level 1 and the IBM
    extensions (﨑, 髙: name variants) are not rare in the sense that matters on a form."""
    if not is_kanji(ch):
        return False
    try:
        code = int.from_bytes(ch.encode("cp932"), "big")
    except UnicodeEncodeError:
        return True  # not even in Windows-31J
    return 0x989F <= code <= 0xEAA4


Style = tuple[str, str]  # (font file, drawing)
DRAWINGS = ("as_read", "wide", "half")


def piece(ch: str, variant: str) -> str:
    """How one character of a reading is printed in a drawing variant (ﾊﾞ is two cells)."""
    if variant == "wide":
        return ch.translate(_FULLWIDTH)
    if variant == "half":
        return _HALF_KANA.get(ch, ch)
    return ch


def drawn(text: str, variant: str) -> str:
    return "".join(piece(ch, variant) for ch in text)


def drawings(text: str) -> list[str]:
    """Ways the same reading may have been printed: as read, with full-width digits and hyphens
    (１２３－４), with half-width katakana (ｶﾀｶﾅ). Tesseract outputs one form for all of them."""
    out = [text]
    for variant in DRAWINGS[1:]:
        d = drawn(text, variant)
        if d not in out:
            out.append(d)
    return out


_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
_HALF_KANA = dict(zip(
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォャュョッー",
    "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｬｭｮｯｰ",
))
_HALF_KANA.update(zip("ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポ",
                      ["ｶﾞ", "ｷﾞ", "ｸﾞ", "ｹﾞ", "ｺﾞ", "ｻﾞ", "ｼﾞ", "ｽﾞ", "ｾﾞ", "ｿﾞ", "ﾀﾞ", "ﾁﾞ", "ﾂﾞ", "ﾃﾞ", "ﾄﾞ",
                       "ﾊﾞ", "ﾋﾞ", "ﾌﾞ", "ﾍﾞ", "ﾎﾞ", "ﾊﾟ", "ﾋﾟ", "ﾌﾟ", "ﾍﾟ", "ﾎﾟ"]))


def verify(image: np.ndarray, text: str, kana: bool = False) -> Verdict:
    """Best spelling of a reading for a cleaned crop (uint8, paper 255) holding just that text.

    Greedy, one character at a time (left to right): each character with look-alikes is replaced
    by whichever of it and its look-alikes makes the whole drawing fit the ink best. The margin is
    the narrowest win among those choices."""
    m = Matcher(image)
    chars = list(text)
    current = m.score(text)
    margin = 1.0
    for i, ch in enumerate(chars):
        alts = alternatives(ch, kana)
        if not alts:
            continue
        scored = [(current, ch)]
        for a in alts:
            trial = "".join(chars[:i] + [a] + chars[i + 1 :])
            scored.append((m.score(trial), a))
        scored.sort(key=lambda sc: sc[0], reverse=True)
        (best_sim, best), (second_sim, second) = scored[0], scored[1]
        chars[i] = best
        current = best_sim
        if not (best == ch and rare_kanji(second)):
            # jpn's own common character, drawn a hair better or worse than a rare look-alike it
            # cannot output, is no doubt: the common one is the likelier print
            margin = min(margin, best_sim - second_sim)
    return Verdict("".join(chars), current, margin)


# =============================================================================================
# Building the table (python -m ocr.glyphs --build): run the model on what it cannot read
# =============================================================================================
