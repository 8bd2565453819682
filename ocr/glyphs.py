"""Readings drawn again and compared with their ink: the ground on which a character that the
recognisers cannot tell from a look-alike (髙 from 高, 﨑 from 崎) is judged on its own ink.

A reading is drawn with the *drawing fonts* (by default IPA Gothic and Mincho, which every kakari
install has; ``[ocr] drawing_fonts`` adds others) and fitted to the ink of the zone; ``Matcher.local``
compares candidates for one character, each drawn alone at the reading's scale where that character
stands. The form's own font is not needed: the comparison is made where the candidates' drawings
differ (the top of 髙 against 高), which differs alike in every typeface.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np

from kakari.locate import japanese_fonts

RENDER_PX = 64  # glyphs are drawn this tall before being fitted to the zone
LOCAL_SHIFT = 0.2  # a character compared on its own may sit this much of its size (em) off its place
_fonts: tuple[str, ...] | None = None  # None: the fonts kakari.locate finds


def use_fonts(paths: Sequence[str] | None) -> None:
    """The drawing fonts for this process (None: the ones kakari.locate finds). Missing files are skipped."""
    global _fonts
    _fonts = tuple(paths) if paths else None


@lru_cache(maxsize=16)
def _font(path: str) -> object | None:
    from PIL import ImageFont

    try:
        return ImageFont.truetype(path, RENDER_PX)
    except OSError:
        return None


def fonts() -> list[str]:
    """The Japanese fonts readings are drawn in: those of use_fonts, else a gothic and a mincho
    (kakari.locate finds them)."""
    chosen = _fonts if _fonts is not None else tuple(str(f) for f in japanese_fonts())
    return [f for f in chosen if _font(f) is not None]


@lru_cache(maxsize=20000)
def glyph(ch: str, font_path: str) -> np.ndarray | None:
    """One character drawn in its advance box (float32, 1 = ink), RENDER_PX·1.25 tall, cached:
    strings are drawn by putting these side by side (Japanese type has no kerning to speak of)."""
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


_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
_HALF_KANA = dict(zip(
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォャュョッー",
    "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｧｨｩｪｫｬｭｮｯｰ",
))
_HALF_KANA.update(zip("ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポ",
                      ["ｶﾞ", "ｷﾞ", "ｸﾞ", "ｹﾞ", "ｺﾞ", "ｻﾞ", "ｼﾞ", "ｽﾞ", "ｾﾞ", "ｿﾞ", "ﾀﾞ", "ﾁﾞ", "ﾂﾞ", "ﾃﾞ", "ﾄﾞ",
                       "ﾊﾞ", "ﾋﾞ", "ﾌﾞ", "ﾍﾞ", "ﾎﾞ", "ﾊﾟ", "ﾋﾟ", "ﾌﾟ", "ﾍﾟ", "ﾎﾟ"]))


def misses(fit: float, rival: float) -> float:
    """How many times as much the rival misses the ink as the winner (0 if the rival fits better):
    the ratio read from ``Matcher.differ``'s two fits."""
    return (1.0 - rival) / max(1e-6, 1.0 - fit) if fit >= rival else 0.0
