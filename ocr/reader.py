"""The reader of one scanned page: zones cut through the page's registration, read by PP-OCR, with
Tesseract's reading and the variant-kanji check available as further evidence on demand.

Reading a zone: the template box is mapped through the page's alignment onto the scan
(``ocr.register``), cut upright at 300 dpi, cleaned (``ocr.zones.clean_crop``), split where its ink
has spaces (neither recogniser reports spaces reliably), and read by PP-OCR; a zone with several
lines of writing is first split into lines by PP-OCR's detector. Zones asked for together
(``prefetch``: every field of a form) are recognised in one batch. The result is a Reading whose
``evidence`` (a ``ZoneEvidence``) lets the trust policy (``ocr.trust``) ask for Tesseract's opinion
and the variant check only where its table needs them.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kakari.model import Box
from ocr.document import Page, Reading
from ocr.normalise import SOUND_MARKS
from ocr.ppocr import LineText, Recogniser
from ocr.zones import space_cuts, split_at, text_rows, text_spaces

if TYPE_CHECKING:
    from ocr.dispute import DisputeCheck
    from ocr.register import Alignment, Coarse, RefPage
    from ocr.tesseract import ZoneText
    from ocr.variants import VariantCheck

CROP_DPI = 300.0
EMPTY_SURE = 1.0  # confidence of a zone with no ink at all
# a フリガナ written in half-width katakana (ｺﾊﾞﾔｼ): both engines read it as the katakana it is once widened
# to full-width proportions; both fitted by benchmarks/fit_halfwidth.py on drawn フリガナ in every font not held out
HALF_PITCH = 0.90  # ink width per character read, over the ink height, below which a line is half-width
HALF_STRETCH = 2.0  # how much wider such a line is read


@dataclass
class ZoneEvidence:
    """What is known about one zone's reading; the costlier parts are computed when first asked."""

    kind: str  # the read kind (text, line, kana, date, digits, amount)
    text: str  # PP-OCR's reading, spaces where the ink has them
    confs: tuple[float, ...]  # PP-OCR's per-character probabilities (spaces excluded)
    image: np.ndarray | None  # the cleaned crop (None: the zone holds no ink)
    tessdata: Path | None
    lines: int = 1
    ink_mm2: float = 0.0
    dpi: float = CROP_DPI  # the page's scan resolution (the crop itself is always CROP_DPI)
    bilevel: bool = False  # the page was scanned in black and white (a fax): no grey left in its ink
    stretch: float = 1.0  # read this much wider (a フリガナ in half-width katakana), by both engines
    _second: ZoneText | None = field(default=None, repr=False)
    _variants: list[VariantCheck] | None = field(default=None, repr=False)
    _disputes: list[DisputeCheck] | None = field(default=None, repr=False)
    _sealed: bool | None = field(default=None, repr=False)

    @property
    def neural_conf(self) -> float:
        """PP-OCR's weakest character (0 when it read nothing)."""
        return min(self.confs, default=0.0)

    @property
    def empty(self) -> bool:
        return self.image is None

    def second(self) -> ZoneText:
        """Tesseract's reading of the same crop (model and whitelist of the kind), read once."""
        from ocr.tesseract import ZoneText, ocr_crop

        if self._second is None:
            if self.image is None or self.tessdata is None:
                self._second = ZoneText("", 0.0)
            else:
                self._second = ocr_crop(widened(self.image, self.stretch), self.second_kind, self.tessdata)
        return self._second

    @property
    def second_kind(self) -> str:
        """Tesseract's model for the zone: eng for a text zone PP-OCR read as a number (記号 29807466),
        whose digits jpn reads far worse."""
        plain = "".join(ch for ch in self.text if ch not in " -")
        return "digits" if self.kind in ("text", "line") and plain.isascii() and plain.isdigit() else self.kind

    @property
    def sealed(self) -> bool:
        """Does a seal (印) that printed black stand in the zone (``ocr.seal``)?"""
        from ocr.seal import has_seal

        if self._sealed is None:
            self._sealed = self.image is not None and has_seal(self.image, CROP_DPI)
        return self._sealed

    def variants(self) -> list[VariantCheck]:
        """The variant check of each character of the reading that has variants (髙/高 …)."""
        from ocr.variants import check

        if self._variants is None:
            self._variants = [] if self.image is None else check(self.image, self.text)
        return self._variants

    def disputes(self) -> list[DisputeCheck]:
        """The ink's judgement of each character PP-OCR and Tesseract read differently (a few at most)."""
        from ocr.dispute import check

        if self._disputes is None:
            self._disputes = [] if self.image is None else check(
                self.image, self.text, self.second().text, self.kind)
        return self._disputes


class ScanReader:
    """Reads zones of one scanned page. Template mm are mapped through the page's alignment: to the
    blank form of the bot that claimed the page (``use_reference``), else to the page itself after
    orientation (Tesseract OSD) and deskew."""

    def __init__(self, gray: np.ndarray, dpi: float, recogniser: Recogniser, tessdata: Path | None,
                 scan_dpi: float = 0.0, bilevel: bool = False) -> None:
        self.gray = gray
        self.dpi = dpi  # of `gray`
        self.scan_dpi = scan_dpi or dpi  # what the paper was scanned at (``Raster.scan_dpi``)
        self.bilevel = bilevel  # scanned in black and white (``Raster.bilevel``)
        self.recogniser = recogniser
        self.tessdata = tessdata
        self.ref: RefPage | None = None
        self.alignment: Alignment | None = None
        self._aligned: dict[int, Alignment] = {}
        self._coarsened: dict[int, Coarse] = {}
        self._coarse_base: np.ndarray | None = None  # the scan's coarse ECC image, shared by every form
        self._upright: Alignment | None = None
        self._verified: dict[tuple[int, tuple[str, ...]], float] = {}
        self._read: dict[tuple[int, Box, str], ZoneEvidence] = {}
        self.trace: list[tuple[Box, str, ZoneEvidence]] = []  # every zone read, with its evidence

    # -- alignment ------------------------------------------------------------------------------
    def use_reference(self, page: Page, ref: RefPage, keywords: Sequence[str] = ()) -> float:
        """Align this page to a blank-form page and make it the frame for reads and marks. Returns
        0..1: how sure we are the page is that form (keywords confirmed at their printed place)."""
        from ocr.register import register

        al = self._aligned.get(id(ref))
        if al is None:
            al = register(self.gray, self.dpi, ref, first=self._coarse(ref))
            self._aligned[id(ref)] = al
        self.ref, self.alignment = ref, al
        page.chars = list(ref.chars)  # the form's printed text, in template mm (anchors, keywords)
        if not al.ok:
            return 0.0
        key = (id(ref), tuple(keywords))
        if key not in self._verified:
            self._verified[key] = self._verify_keywords(page, ref, keywords) if keywords else 1.0
        quality = min(1.0, (al.score - 0.25) / 0.25)
        return round(self._verified[key] * max(0.0, quality), 4)

    def layout_match(self, ref: RefPage) -> float:
        """How well this page's printed layout correlates with a blank-form page at a glance (the
        coarse step of registration, cached): cheap enough to rank every form before reading any."""
        return self._coarse(ref).score

    def _coarse(self, ref: RefPage) -> Coarse:
        from ocr.register import COARSE_DPI, coarse, ecc_image

        c = self._coarsened.get(id(ref))
        if c is None:
            if self._coarse_base is None:
                self._coarse_base = ecc_image(self.gray, self.dpi, COARSE_DPI)
            c = self._coarsened[id(ref)] = coarse(self.gray, self.dpi, ref, base=self._coarse_base)
        return c

    def _verify_keywords(self, page: Page, ref: RefPage, keywords: Sequence[str]) -> float:
        from ocr.document import find_in_chars
        from ocr.zones import clean_crop

        crops, words = [], []
        for word in keywords:
            box = find_in_chars(ref.chars, word, page.number)
            if box is None:
                continue
            gray, _ = self._crops(box.grown(1.0), subtract_reference=False)
            clean = clean_crop(gray, None, CROP_DPI)
            if clean.image is not None:
                crops.append(clean.image)
                words.append(word)
        found = sum(fuzzy_contains(r.text, w) for r, w in zip(self.recogniser.read(crops), words))
        return found / len(keywords)

    def frame(self) -> Alignment:
        """The alignment reads use: the reference's, or the upright page's own."""
        if self.alignment is not None:
            return self.alignment
        if self._upright is None:
            self._upright = upright_alignment(self.gray, self.dpi, self.tessdata)
        return self._upright

    def known_frame(self) -> tuple[Alignment, float, float] | None:
        """The alignment reads went through and the size in mm of the page it maps from (the blank
        form's page, or the upright page), or None when no zone has been read yet."""
        if self.alignment is not None and self.ref is not None:
            return self.alignment, self.ref.width_mm, self.ref.height_mm
        if self._upright is None:
            return None
        h, w = self.gray.shape[:2]
        if self._upright.quarter_turns % 2:
            h, w = w, h
        return self._upright, w / self.dpi * 25.4, h / self.dpi * 25.4

    # -- reading -------------------------------------------------------------------------------
    def _crops(self, box: Box, subtract_reference: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        from ocr.register import crop, ref_crop

        al = self.frame()
        gray = crop(self.gray, al, box.x, box.y, box.w, box.h, CROP_DPI)
        ref = None
        if subtract_reference and self.ref is not None and self.alignment is not None:
            ref = ref_crop(self.ref, box.x, box.y, box.w, box.h, CROP_DPI)
        return gray, ref

    def prefetch(self, page: Page, zones: Sequence[tuple[Box, str]]) -> None:
        """Read these zones together: one PP-OCR batch for all their parts (a form's every field)."""
        from ocr.zones import clean_crop

        keys, cleans = [], []
        for box, kind in zones:
            key = (id(self.frame()), box, kind)
            if key not in self._read and key not in keys:
                gray, ref = self._crops(box)
                keys.append(key)
                cleans.append(clean_crop(gray, ref, CROP_DPI))
        found = self.evidence([(c.image, k[2]) for c, k in zip(cleans, keys)])
        for key, clean, ev in zip(keys, cleans, found):
            ev.ink_mm2 = clean.ink_mm2
            self._read[key] = ev

    def evidence(self, crops: Sequence[tuple[np.ndarray | None, str]]) -> list[ZoneEvidence]:
        """Cleaned crops (None: no ink) of the given read kinds, recognised in one PP-OCR batch."""
        split = [self._parts(image, kind) if image is not None else (0, [], []) for image, kind in crops]
        flat = [(p, kind, z) for z, ((_, kind), (_, parts, _)) in enumerate(zip(crops, split)) for p in parts]
        found, narrow = self._read_parts(flat)
        results = iter(found)
        out = []
        for z, ((image, kind), (lines, parts, gaps)) in enumerate(zip(crops, split)):
            read = [next(results) for _ in parts]
            if gaps:
                read = [spaced(read[0], gaps)]
            text = ("\n" if lines > 1 else " ").join(r.text.strip() for r in read if r.text.strip())
            confs = tuple(c for r in read for ch, c in zip(r.text, r.confs) if ch.strip())
            out.append(ZoneEvidence(kind, text, confs, image, self.tessdata, max(1, lines), dpi=self.scan_dpi,
                                    bilevel=self.bilevel, stretch=HALF_STRETCH if z in narrow else 1.0))
        return out

    def _read_parts(self, parts: list[tuple[np.ndarray, str, int]]) -> tuple[list[LineText], set[int]]:
        """Each part (crop, kind, zone) read, and the zones found written in half-width katakana: the
        parts of a フリガナ zone whose reading says so (``char_pitch`` below HALF_PITCH) are read again
        widened to full-width proportions."""
        found = self.recogniser.read([p for p, _, _ in parts])
        zones: dict[int, list[int]] = {}
        for i, (_, kind, zone) in enumerate(parts):
            if kind == "kana":
                zones.setdefault(zone, []).append(i)
        narrow = [i for idx in zones.values() if char_pitch([(parts[i][0], found[i].text) for i in idx]) < HALF_PITCH
                  for i in idx]
        wide = [widened(parts[i][0], HALF_STRETCH) for i in narrow]
        for i, r in zip(narrow, self.recogniser.read(wide)):
            found[i] = keep_sound_marks(r, found[i])
        return found, {parts[i][2] for i in narrow}

    def _parts(self, image: np.ndarray, kind: str) -> tuple[int, list[np.ndarray], list[tuple[float, float]]]:
        """(lines, crops to recognise, gaps): lines found by the detector when the zone has several, each
        line split where its ink has spaces; or a one-line text read whole, with the gaps (0..1 across
        it) of its narrow spaces (``ocr.zones.text_spaces``) for ``spaced``."""
        rows = text_rows(image)
        lines = [image]
        if rows > 1 and kind in ("text", "line"):
            boxes = self.recogniser.lines(image)
            found = [image[y0:y1, x0:x1] for x0, y0, x1, y1 in boxes if x1 - x0 > 4 and y1 - y0 > 4]
            if len(found) > 1:
                lines = [p for f in found for p in split_at(f, [])]
        if kind == "text" and len(lines) == 1:
            wide, narrow = text_spaces(image)
            if narrow:
                return 1, [image], [(a / image.shape[1], b / image.shape[1]) for a, b in narrow]
            return 1, split_at(image, wide) or [image], []
        parts = []
        for line in lines:
            parts += split_at(line, space_cuts(line, kind)) or [line]
        return len(lines), parts, []

    def read(self, page: Page, box: Box, kind: str) -> Reading:
        from ocr.zones import MIN_INK_MM2

        self.prefetch(page, [(box, kind)])
        ev = self._read[(id(self.frame()), box, kind)]
        self.trace.append((box, kind, ev))
        if ev.empty:
            # confidently empty when there is no ink at all; a smudge near the dust limit is doubtful
            return Reading("", EMPTY_SURE - 0.5 * min(1.0, ev.ink_mm2 / MIN_INK_MM2), ev)
        return Reading(ev.text, ev.neural_conf, ev)

    def mark(self, page: Page, box: Box) -> Reading:
        from ocr.marks import read_mark

        gray, ref = self._crops(box)
        res = read_mark(gray, ref, CROP_DPI)
        return Reading("1" if res.marked else "", res.confidence)


def widened(image: np.ndarray, stretch: float) -> np.ndarray:
    """`image` drawn `stretch` times as wide (the same when 1)."""
    if stretch == 1.0:
        return image
    import cv2

    return cv2.resize(image, None, fx=stretch, fy=1.0, interpolation=cv2.INTER_CUBIC)


def char_pitch(parts: Sequence[tuple[np.ndarray, str]]) -> float:
    """The ink's width per character read, over the ink's height, across a zone's parts (each with its
    reading): about 1 for a line of full-width kana, about half that for half-width ones (inf when
    nothing was read). Taken over the whole zone, as a short part alone can be read as one character."""
    from ocr.preprocess import ink_bbox

    width = height = n = 0
    for part, text in parts:
        box = ink_bbox(part < 128)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        width += x1 - x0
        height = max(height, y1 - y0)
        n += sum(1 for ch in text if ch.strip())
    return width / (n * max(1, height)) if n else float("inf")


def spaced(reading: LineText, gaps: Sequence[tuple[float, float]]) -> LineText:
    """The reading with a space at each gap (first, last, across the crop 0..1), between the characters
    on either side; a character read inside a gap was read from no ink (ー for a 全角スペース) and goes."""
    solid = [(ch, c) for ch, c in zip(reading.text, reading.confs) if not ch.isspace()]
    if not gaps or len(solid) != len(reading.centres):
        return reading
    text: list[str] = []
    confs: list[float] = []
    centres: list[float] = []
    for (ch, conf), x in zip(solid, reading.centres):
        if any(a <= x <= b for a, b in gaps):
            continue
        if text and any(centres[-1] < g[0] and x > g[1] for g in gaps):
            text.append(" ")
            confs.append(1.0)
        text.append(ch)
        confs.append(conf)
        centres.append(x)
    return LineText("".join(text), tuple(confs), tuple(centres))


def keep_sound_marks(wide: LineText, first: LineText) -> LineText:
    """The widened reading, with the (han)dakuten of the first where that reading has, at the same place
    across the line, the same kana voiced: widened, a half-width ﾞ often fades into its kana (ﾊﾞ read ハ)
    that the first reading saw (バ)."""
    mine = [ch for ch in wide.text if ch.strip()]
    theirs = [ch for ch in first.text if ch.strip()]
    if not theirs or len(wide.centres) != len(mine) or len(first.centres) != len(theirs):
        return wide
    out, k = [], 0
    for ch in wide.text:
        if not ch.strip():
            out.append(ch)
            continue
        near = theirs[min(range(len(theirs)), key=lambda j: abs(first.centres[j] - wide.centres[k]))]
        k += 1
        split = unicodedata.normalize("NFD", near)
        out.append(near if len(split) == 2 and split[0] == ch and split[1] in SOUND_MARKS else ch)
    return LineText("".join(out), wide.confs, wide.centres)


def fuzzy_contains(text: str, word: str) -> bool:
    """Is `word` in `text`, allowing one wrong character in five (OCR of printed labels)?"""
    t = "".join(unicodedata.normalize("NFKC", text).split())
    w = "".join(unicodedata.normalize("NFKC", word).split())
    if not w:
        return True
    if w in t:
        return True
    allowed = len(w) // 5
    if allowed == 0 or len(t) < len(w) - allowed:
        return False
    best = min(edit_distance(t[i : i + len(w)], w) for i in range(max(1, len(t) - len(w) + 1)))
    return best <= allowed


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (also the benchmark's character-accuracy measure)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def upright_alignment(gray: np.ndarray, dpi: float, tessdata: Path | None) -> Alignment:
    """For a page without a reference: orientation by Tesseract OSD, then deskew; as an Alignment
    from the upright, straight page's mm to the scan's pixels."""
    import cv2

    from ocr.preprocess import estimate_skew, rot90
    from ocr.register import Alignment, upright_to_given
    from ocr.tesseract import detect_turns

    turns = detect_turns(gray, dpi, tessdata) if tessdata is not None else 0
    up = rot90(gray, turns)
    angle = estimate_skew(up, dpi)
    hu, wu = up.shape
    s = dpi / 25.4
    mm_to_d_idx = np.array([[s, 0, -0.5], [0, s, -0.5], [0, 0, 1.0]])
    rot = np.vstack([cv2.getRotationMatrix2D((wu / 2, hu / 2), -angle, 1.0), [0, 0, 1.0]])  # U idx → D idx
    u_idx_to_cont = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1.0]])
    cont_to_idx = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1.0]])
    m = cont_to_idx @ upright_to_given(turns, gray.shape) @ u_idx_to_cont @ np.linalg.inv(rot) @ mm_to_d_idx
    return Alignment(m[:2], 1.0, turns, dpi)
