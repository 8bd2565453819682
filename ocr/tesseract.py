"""TesseractEngine: scanned pages read in-process through tesserocr, one zone at a time.

Why in-process: pytesseract starts a process per call (~0.18 s); tesserocr keeps the model loaded,
one ``PyTessBaseAPI`` per language per process, reused for every crop. OpenMP threading inside
Tesseract is switched off (OMP_THREAD_LIMIT=1): on two cores, two single-threaded workers read five
times more pages than one multi-threaded one (measured on a 2-core machine).

Why tesserocr once read worse than the CLI: it hands Tesseract an image without a resolution, so
Tesseract assumes 70 dpi and sizes its noise filters for that. We pass the crop's real resolution
(``SetSourceResolution``), trim each crop to its ink with a white margin and give every zone kind its
own page-segmentation mode, model and character whitelist (``KINDS``): digits are read by the ``eng``
model, whose digits are far better than ``jpn``'s (70/70 vs 63/70 zones on clean renders).

Reading a zone (``ScanReader.read``): the template box is mapped through the page's registration
onto the scan (``ocr.register``), cut upright at 300 dpi, cleaned (``ocr.zones.clean_crop``), read,
and given a confidence: the weakest character's, mapped so that the per-kind threshold calibrated on
the scan-like benchmark (``THRESHOLDS``) lands at ``CONFIDENT``. Below it the bot sends the document
to 要確認. Name fields get an extra check for kanji the model cannot output (髙, 﨑 …, ``ocr.glyphs``);
digit groups of dates, amounts and addresses that the models doubt or disagree on are settled by
drawing (``ocr.numbers``); a reading whose drawing fits poorly is offered repaired (``ocr.repair``);
a character still in doubt is trusted only once its own ink settles it (``ocr.repair.confirm``).
"""
from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from kakari.errors import MissingDependency
from kakari.locate import tessdata_dirs, tesseract_exe
from kakari.model import Box
from ocr import tesseract_cli
from ocr.document import Page, Reading
from ocr.engine import OcrEngine
from ocr.glyphs import KANA_LOOKALIKES, Matcher, alternatives, rare_kanji, similarity, verify
from ocr.numbers import DRAWN_OK, settle
from ocr.repair import LOCAL_RATIO, confirm, contest, repair, script_of

if TYPE_CHECKING:
    from kakari.config import KakariConfig
    from ocr.register import Alignment, Coarse, RefPage

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before libtesseract (and its OpenMP) is loaded

INSTALL_FIX = "apt-get install tesseract-ocr tesseract-ocr-jpn tesseract-ocr-osd (と pip install tesserocr)"

DIGITS = "0123456789"
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ー・"
HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097))
KANJI_NUMERALS = "〇一二三四五六七八九十"
ERAS = "令和平成昭和大正明治"

CROP_DPI = 300.0
CONFIDENT = 0.85  # a reading at its kind's threshold gets this confidence; templates default to 0.80
DOUBT = 0.79  # the highest confidence a reading below its threshold can get


@dataclass(frozen=True)
class KindSpec:
    """How to read one kind of zone: model, page segmentation mode, allowed characters."""

    lang: str
    psm: int
    whitelist: str = ""


# psm 7 = one text line; 10 = one character; 8 = one word; 13 = raw line (no layout analysis)
PSM_LINE, PSM_RAW_LINE = 7, 13
KINDS: dict[str, KindSpec] = {
    "text": KindSpec("jpn", 13),
    "line": KindSpec("jpn", 13),
    "kana": KindSpec("jpn", 13, KATAKANA + HIRAGANA),
    "date": KindSpec("jpn", 7, DIGITS + "年月日元" + ERAS + KANJI_NUMERALS + "RHSTM./-"),
    "digits": KindSpec("eng", 7, DIGITS + "-"),
    "amount": KindSpec("eng", 7, DIGITS + ",."),
    "char": KindSpec("jpn", 10),
    "digitrun": KindSpec("eng", 8, DIGITS),  # a run of digits inside Japanese text, re-read by eng
    "digitchar": KindSpec("eng", 10, DIGITS),  # a single digit inside Japanese text
    "halfkana": KindSpec("jpn", 7, KATAKANA + "゛゜~"),  # half-width katakana stretched to full width
}

# Raw confidence (the weakest character's, 0..1) at or above which a reading of this kind is trusted,
# calibrated with benchmarks/ocr_scan.py on the scan-like samples (200 and 300 dpi) so that trusted
# readings are right ≥ 99.9 % of the time. "empty" is for zones with (almost) no ink.
THRESHOLDS: dict[str, float] = {
    "text": 0.80,
    "line": 0.80,
    "kana": 0.80,
    "date": 0.80,
    "digits": 0.80,
    "amount": 0.80,
    "char": 0.80,
    "empty": 0.50,
}


def spec_psm(kind: str) -> int:
    return KINDS.get(kind, KINDS["text"]).psm


def calibrated(raw: float, kind: str) -> float:
    """Map a raw confidence so that the kind's threshold becomes CONFIDENT: ≥ threshold → 0.85..1.0,
    below → at most 0.79. Templates then need one min_confidence (0.80) for every kind."""
    t = THRESHOLDS.get(kind, 0.8)
    raw = min(1.0, max(0.0, raw))
    if raw >= t:
        return round(CONFIDENT + (1.0 - CONFIDENT) * (raw - t) / max(1e-9, 1.0 - t), 4)
    return round(DOUBT * raw / max(1e-9, t), 4)


# =============================================================================================
# Tesseract, once per process
# =============================================================================================
def find_tessdata(configured: str | None = None) -> Path | None:
    """The folder holding jpn.traineddata: the configured one, $TESSDATA_PREFIX, or the tesseract
    command's own (kakari.locate)."""
    candidates = [configured, os.environ.get("TESSDATA_PREFIX"), *tessdata_dirs()]
    for c in candidates:
        if c and (Path(c) / "jpn.traineddata").is_file():
            return Path(c)
    return None


_local = threading.local()  # APIs are not thread-safe: one set per thread (normally one per process)


def api(lang: str, tessdata: Path) -> Any:
    """The process's PyTessBaseAPI for `lang`, created on first use and kept."""
    import tesserocr

    apis: dict[tuple[str, str], Any] = _local.__dict__.setdefault("apis", {})
    key = (lang, str(tessdata))
    a = apis.get(key)
    if a is None:
        a = tesserocr.PyTessBaseAPI(path=str(tessdata) + os.sep, lang=lang, psm=tesserocr.PSM.SINGLE_LINE)
        apis[key] = a
    return a


@dataclass
class Glyph:
    text: str
    conf: float  # 0..1
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in crop pixels


@dataclass
class ZoneText:
    text: str
    raw: float  # 0..1, the weakest character's confidence
    glyphs: list[Glyph] = field(default_factory=list)


def ocr_crop(image: np.ndarray, kind: str, tessdata: Path, dpi: float = CROP_DPI, psm: int | None = None) -> ZoneText:
    """Read a cleaned crop (uint8, paper 255) as one zone of `kind` (`psm` overrides the kind's)."""
    spec = KINDS.get(kind, KINDS["text"])
    if not tesseract_cli.in_process():  # the tesseract command, with the same model and settings
        glyphs = [Glyph(sym.text, sym.conf, sym.box) for sym in
                  tesseract_cli.symbols(image, spec.lang, psm if psm is not None else spec.psm, dpi, tessdata,
                                        spec.whitelist)]
        return ZoneText("".join(g.text for g in glyphs), min((g.conf for g in glyphs), default=0.0), glyphs)
    import tesserocr

    a = api(spec.lang, tessdata)
    a.SetPageSegMode(psm if psm is not None else spec.psm)
    a.SetVariable("tessedit_char_whitelist", spec.whitelist)
    h, w = image.shape
    a.SetImageBytes(image.tobytes(), w, h, 1, w)
    a.SetSourceResolution(int(dpi))
    a.Recognize()
    glyphs: list[Glyph] = []
    it = a.GetIterator()
    level = tesserocr.RIL.SYMBOL
    if it is not None:
        for sym in tesserocr.iterate_level(it, level):
            try:
                text = sym.GetUTF8Text(level)
            except RuntimeError:  # an empty result raises instead of returning ""
                break
            if not text:
                continue
            bb = sym.BoundingBox(level)
            glyphs.append(Glyph(text, sym.Confidence(level) / 100.0, tuple(bb) if bb else (0, 0, 0, 0)))
    a.Clear()
    text = "".join(g.text for g in glyphs)
    raw = min((g.conf for g in glyphs), default=0.0)
    return ZoneText(text, raw, glyphs)


def space_cuts(image: np.ndarray, kind: str) -> list[float]:
    """x positions (crop pixels) where the writing has a space, from the ink's column profile.

    Tesseract's word spacing invents spaces between kanji and digits (中央 1 丁目) and between narrow
    kana (イ トウ), and its LSTM symbol boxes are too rough to measure gaps. Names and kana get at
    most one space (surname / given name): the widest gap, if it clearly stands out; other text gets
    one at gaps wider than the line is high (the 全角スペース before a building name); numbers none."""
    if kind in ("digits", "amount", "char", "date"):
        return []
    gaps = ink_gaps(image)
    if not gaps:
        return []
    rows = np.nonzero((image < 128).any(axis=1))[0]
    height = float(rows[-1] - rows[0] + 1) if rows.size else 1.0
    if kind in ("line", "kana"):
        widths = sorted((w for _, w in gaps), reverse=True)
        second = widths[1] if len(widths) > 1 else 0.0
        if widths[0] >= 0.45 * height and widths[0] >= 1.6 * second:
            return [x for x, w in gaps if w == widths[0]][:1]
        return []
    return [x for x, w in gaps if w >= 1.0 * height]


def ink_gaps(image: np.ndarray) -> list[tuple[float, float]]:
    """(centre x, width) of every run of ink-free columns between the first and last ink column."""
    cols = (image < 128).any(axis=0)
    idx = np.nonzero(cols)[0]
    if idx.size == 0:
        return []
    inner = cols[idx[0] : idx[-1] + 1]
    edges = np.diff(inner.astype(np.int8))
    starts = np.nonzero(edges == -1)[0] + 1  # first empty column of a gap
    ends = np.nonzero(edges == 1)[0] + 1  # first inked column after it
    return [(float(idx[0] + (a + b) / 2), float(b - a)) for a, b in zip(starts, ends)]


def split_at(image: np.ndarray, cuts: list[float], pad: int = 12) -> list[np.ndarray]:
    """The crop cut into parts at the given x positions, each trimmed to its ink and padded."""
    from ocr.preprocess import ink_bbox

    bounds = [0, *[int(round(c)) for c in cuts], image.shape[1]]
    parts = []
    for x0, x1 in zip(bounds, bounds[1:]):
        piece = image[:, x0:x1]
        box = ink_bbox(piece < 128)
        if box is None:
            continue
        a, b, c, d = box
        parts.append(cv2.copyMakeBorder(piece[b:d, a:c], pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255))
    return parts


@dataclass
class ZoneResult:
    """A zone's reading with the evidence behind its confidence (kept for calibration)."""

    text: str
    raw: float  # combined raw confidence 0..1
    tess: float  # Tesseract's weakest character
    similarity: float = 1.0  # render-and-compare of the reading (1.0 when not checked)
    margin: float = 1.0  # over the best look-alike spelling
    parts: int = 1
    disagreements: int = 0  # digit runs where eng and jpn read different digits


VERIFY_KINDS = ("line", "text", "kana")
SIM_OK = {"line": 0.80, "text": 0.75, "kana": 0.75}  # render-compare similarity of a plainly right reading
MARGIN_OK = 0.03  # a look-alike spelling this close to the best one (per character): cannot tell them apart
FIT_CHECKED = 0.90  # a reading drawn this well or better is not searched for better spellings
REPAIR_GAIN = 0.05  # …a spelling from the bank fitting this much better puts it in doubt
RARE_MARGIN = 0.10  # the same for a swap to a rare kanji (JIS level 2): the common one is likelier in print
CONFIRMED = 0.85  # raw confidence of characters in doubt that their own ink settles (ocr.repair.confirm)


def read_clean(image: np.ndarray, kind: str, tessdata: Path) -> ZoneResult:
    """Read a cleaned crop: split at spaces, OCR each part, re-read digits inside Japanese text
    with the eng model, check names and text by drawing them."""
    parts = split_at(image, space_cuts(image, kind)) or [image]
    texts: list[str] = []
    tess, sim, margin, disagreements = 1.0, 1.0, 1.0, 0
    for part in parts:
        zt = ocr_crop(part, kind, tessdata)
        if not zt.text.strip() and spec_psm(kind) == PSM_LINE:
            # psm 7's line finder now and then rejects a short, clean word (炭火焼鳥, 恵子) and returns
            # nothing; psm 13 reads the crop as a raw line without that step
            zt = ocr_crop(part, kind, tessdata, psm=PSM_RAW_LINE)
        elif zt.raw < THRESHOLDS[kind] and spec_psm(kind) == PSM_RAW_LINE:
            # and psm 13 misreads a lone character psm 7 reads (蒼 as 状 at 0.58, psm 7: 蒼 at 0.95):
            # the second opinion is kept when jpn is surer of it and its drawing fits the ink as well
            zt = _surer_line_reading(part, zt, kind, tessdata)
        if kind == "kana" and _half_width(part):
            zt = _read_half_width_kana(part, zt, tessdata)
        first = zt.text
        cap = 1.0  # a doubt no later agreement of the models may lift
        if kind == "amount" and _DECIMAL_COMMA.fullmatch(zt.text):
            text, cap = decimal_point(part, zt.text)
            zt = ZoneText(text, zt.raw, zt.glyphs)
        elif kind == "amount" and "," in zt.text and "." not in zt.text:
            zt = _reread_without_commas(part, zt, tessdata)
        n = 0
        if kind in DIGIT_RUN_KINDS and zt.glyphs:
            zt, n = reread_digit_runs(part, zt, tessdata)
        text, part_raw = zt.text, zt.raw
        if (kind in SETTLE_KINDS and (n or part_raw < THRESHOLDS[kind] or not _plausible_date(text, kind))) or (
                kind == "text" and n):
            settled = settle(part, text, [first, text], lambda crop: _read_digit_piece(crop, tessdata),
                             two_models=KINDS[kind].lang != "eng")
            if settled is not None and settled.trusted and kind == "text":
                # the digits are settled; the rest keeps jpn's confidence
                rest = min((g.conf for g in zt.glyphs if not g.text.isdigit()), default=1.0)
                text, n, part_raw = settled.text, 0, max(part_raw, min(SETTLED, rest))
            elif settled is not None and settled.trusted:
                text, part_raw, n = settled.text, max(part_raw, SETTLED), 0
            elif (settled is not None and kind != "text" and settled.score >= DRAWN_OK
                  and settled.text != "".join(text.split())):
                text, part_raw = settled.text, min(part_raw, 0.5)  # the drawing's choice, for the clerk to check
        disagreements += n
        part_raw = min(part_raw, cap)
        text = fix_lookalikes(text)
        if kind in VERIFY_KINDS and text:
            checked = _check_by_drawing(part, text, zt, part_raw, kind)
            text, part_raw = checked.text, checked.raw
            sim, margin = min(sim, checked.similarity), min(margin, checked.margin)
        elif kind == "date" and part_raw < THRESHOLDS[kind] and text and not any(c.isdigit() for c in text):
            # a date in kanji numerals (令和二年五月二十日) has no digits for eng or ``settle``: a numeral
            # jpn doubts is judged on its own ink like a name's character
            checked = _check_by_drawing(part, text, zt, part_raw, "line")
            if checked.similarity >= SIM_OK["line"] and checked.margin >= MARGIN_OK:
                text, part_raw = checked.text, checked.raw
        tess = min(tess, part_raw)
        texts.append(text)
    text = " ".join(t for t in texts if t)
    raw = tess
    if kind in VERIFY_KINDS:
        ok = SIM_OK[kind]
        raw = min(raw, 1.0 if sim >= ok else max(0.0, sim) * 0.8)
        if margin < MARGIN_OK:
            raw = min(raw, 0.5)
    if disagreements:  # digits jpn and eng read differently that the drawing could not settle
        raw = min(raw, 0.5)
    return ZoneResult(text, raw, tess, sim, margin, len(parts), disagreements)


@dataclass(frozen=True)
class Checked:
    """A part's reading after the drawing checks: its spelling, confidence and the evidence."""

    text: str
    raw: float
    similarity: float  # the whole drawing's fit of `text`
    margin: float  # over the nearest look-alike spelling, per character


def _check_by_drawing(part: np.ndarray, text: str, zt: ZoneText, raw: float, kind: str) -> Checked:
    """A name or text reading drawn again and compared with its ink (``ocr.glyphs``): look-alikes jpn
    cannot output swapped in, a poor fit repaired from the glyph bank, and every character still in
    doubt (jpn unsure of it, swapped, repaired, or near a look-alike) judged on its own ink
    (``ocr.repair.confirm``): settled clearly there, it no longer holds the reading back."""
    v = verify(part, text)
    m = Matcher(part)
    read, fit, margin = text, v.similarity, 1.0
    as_read = "".join(g.text for g in zt.glyphs) == read  # jpn's glyphs spell the reading, one per character
    # the margin is measured on the whole drawing, where one character is 1/n of the ink:
    # per character it is n times larger (a long address is not less certain than a name)
    whole_margin = v.margin * max(1, len(v.text))
    repaired = False
    swapped: list[int] = []
    if v.similarity >= SIM_OK[kind]:
        swapped = [i for i, (a, b) in enumerate(zip(text, v.text)) if a != b]
        text = v.text
        if swapped:  # a look-alike jpn cannot output: is it the best of everything that looks so?
            text, contested = contest(part, text, swapped)
            if any(rare_kanji(text[i]) for i in swapped):
                # 秣 for 株 (0.075 per character): a rare kanji must beat what jpn read clearly,
                # else jpn's common one is the likelier print, and the clerk decides
                if (m.score(text) - m.score(read)) * len(text) < RARE_MARGIN:
                    text, contested = read, 0.0
            margin = contested
        if v.similarity < FIT_CHECKED and " " not in text:
            # a middling fit (済二 for 浩二 at 0.80, jpn 0.86): if another spelling from the
            # glyph bank fits clearly better, this one is in doubt; the better one is offered
            fixed, better = repair(part, text)
            if fixed != text and better > v.similarity + REPAIR_GAIN:
                text, fit, repaired = fixed, better, True
    elif " " not in text:
        # the drawing does not fit (look-alike choices are then noise): offer the clerk a
        # repaired spelling, or else jpn's own
        fixed, better = repair(part, text)
        if better >= SIM_OK[kind]:
            text, fit, repaired = fixed, better, fixed != text
    margin = min(margin, whole_margin)
    if fit < SIM_OK[kind]:
        return Checked(text, raw, fit, margin)
    if repaired:
        raw = min(raw, 0.5)  # a repair is an offer to the clerk unless its every character is settled
    elif text != v.text:
        fit = m.score(text)

    # every character still in doubt, judged on its own ink
    aligned = not repaired and as_read and len(read) == len(text)
    unsure = {i for i, g in enumerate(zt.glyphs) if g.conf < THRESHOLDS[kind]} if aligned else set()
    near = {i for i, ch in enumerate(text) if alternatives(ch)} if whole_margin < MARGIN_OK else set()
    doubts = sorted(i for i in (set(range(len(text))) if repaired else unsure | near | set(swapped))
                    if script_of(text[i]) not in ("digit", "other"))
    if not doubts or " " in text:
        return Checked(text, _unsure_of_unreadable(raw, zt, as_read, swapped, margin), fit, margin)
    local, ratio = confirm(part, text, doubts)
    if local != text:
        # the characters' own ink prefers other spellings (鄧 swapped for jpn's 部 by the whole
        # drawing, a hair better): they are offered, and trusted only where they are what jpn read
        back_to_jpn = aligned and all(local[i] == read[i] for i in doubts if local[i] != text[i])
        text, fit = local, m.score(local)
        if not (back_to_jpn and ratio >= LOCAL_RATIO):
            return Checked(text, min(raw, 0.5), fit, 0.0)
        swapped = [i for i in swapped if text[i] != read[i]]
    if ratio < LOCAL_RATIO or fit < FIT_CHECKED:
        # not settled on its own ink, or the whole reading fits too loosely to lift its doubts
        # (a character missing or too many): as the whole drawing left it
        return Checked(text, _unsure_of_unreadable(raw, zt, as_read, swapped, margin), fit, margin)
    rest = [g.conf for i, g in enumerate(zt.glyphs) if i not in doubts] if aligned else []
    if repaired or aligned:
        raw = max(raw, min([CONFIRMED, *rest]))
    return Checked(text, raw, fit, max(margin, MARGIN_OK))  # the whole drawing's narrow margin is settled


def _unsure_of_unreadable(raw: float, zt: ZoneText, as_read: bool, swapped: list[int], margin: float) -> float:
    """jpn's doubt about a character it cannot output (叱 for 颯) says nothing once the drawing has
    chosen the look-alike clearly: the rest of the reading keeps jpn's confidence."""
    if swapped and margin >= MARGIN_OK and raw == zt.raw and as_read:
        return min((g.conf for i, g in enumerate(zt.glyphs) if i not in swapped), default=raw)
    return raw


def _surer_line_reading(image: np.ndarray, zt: ZoneText, kind: str, tessdata: Path) -> ZoneText:
    alt = ocr_crop(image, kind, tessdata, psm=PSM_LINE)
    if not alt.text.strip() or alt.raw <= zt.raw:
        return zt
    m = Matcher(image)
    return alt if m.score(alt.text) >= m.score(zt.text) else zt


def _half_width(image: np.ndarray) -> bool:
    """Printed in half-width katakana (ｺﾊﾞﾔｼ)? Its characters are about half as wide as they are tall."""
    ink = image < 128
    rows = np.nonzero(ink.any(axis=1))[0]
    cells = [b - a for a, b in _ink_cells(ink.sum(axis=0))]
    if rows.size == 0 or len(cells) < 2:
        return False
    return float(np.median(cells)) < 0.6 * (rows[-1] - rows[0] + 1)


_VOICED = dict(zip("カキクケコサシスセソタチツテトハヒフヘホウ", "ガギグゲゴザジズゼゾダヂヅデドバビブベボヴ"))
_SEMI = dict(zip("ハヒフヘホ", "パピプペポ"))


def _read_half_width_kana(image: np.ndarray, zt: ZoneText, tessdata: Path) -> ZoneText:
    """jpn reads half-width kana badly (ﾊﾞ as ル); stretched 1.5× across they look full-width and are
    read with the (semi-)voiced mark as a character of its own, which is then joined to its kana."""
    wide = cv2.resize(image, None, fx=1.5, fy=1.0, interpolation=cv2.INTER_CUBIC)
    again = ocr_crop(wide, "halfkana", tessdata)
    out: list[Glyph] = []
    for g in again.glyphs:
        if g.text in "゛~" and out and out[-1].text in _VOICED:
            out[-1] = Glyph(_VOICED[out[-1].text], min(out[-1].conf, g.conf), out[-1].box)
        elif g.text == "゜" and out and out[-1].text in _SEMI:
            out[-1] = Glyph(_SEMI[out[-1].text], min(out[-1].conf, g.conf), out[-1].box)
        elif g.text not in "゛゜~":
            out.append(g)
    text = "".join(g.text for g in out)
    if not text:
        return zt
    v = verify(image, text, kana=True)  # ﾝ or ｼ: the drawing decides…
    if v.similarity <= similarity(image, zt.text):
        return zt
    # …as a whole, where one kana weighs little: a kana it changed or chose narrowly stays in doubt
    # (confidence 0.5) for ``confirm`` to judge on its own ink
    narrow = v.margin * len(text) < MARGIN_OK
    glyphs = [Glyph(ch, g.conf if ch == g.text and not (narrow and ch in KANA_LOOKALIKES) else min(g.conf, 0.5),
                    (0, 0, 0, 0)) for ch, g in zip(v.text, out)]
    return ZoneText(v.text, min(g.conf for g in glyphs), glyphs)


SETTLE_KINDS = ("date", "amount")
_DECIMAL_COMMA = re.compile(r"(\D*\d+),(\d{1,2}\D*)")  # one comma with one or two digits after it
POINT_MARGIN = 0.05  # drawn as a point, the reading fits this much better than drawn as a comma
SETTLED = 0.9  # raw confidence of a digit group the drawing and one model agree on
_DATE_GROUPS = re.compile(r"([0-9]+)月([0-9]+)日")


def _plausible_date(text: str, kind: str) -> bool:
    """A date reading whose month and day exist (jpn's 19月 does not): else it is settled by drawing."""
    if kind != "date":
        return True
    m = _DATE_GROUPS.search(text)
    return bool(m) and 1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 31


def _read_digit_piece(crop: np.ndarray, tessdata: Path) -> str:
    """eng's reading of a few columns of digits (cut where the drawing puts a digit group)."""
    piece = split_at(crop, [])
    if not piece:
        return ""
    ph, pw = piece[0].shape
    return _eng_digits(piece[0], pw < 0.9 * ph, tessdata).text


def _eng_digits(piece: np.ndarray, one_digit: bool, tessdata: Path) -> ZoneText:
    """eng on a piece of digits: psm 10 for one digit, psm 8 for a run, and the other one when the
    first returns nothing (either does now and then, e.g. for a lone, narrow 1 or an 11)."""
    kinds = ("digitchar", "digitrun") if one_digit else ("digitrun", "digitchar")
    first = ocr_crop(piece, kinds[0], tessdata)
    return first if first.text else ocr_crop(piece, kinds[1], tessdata)


def decimal_point(image: np.ndarray, text: str) -> tuple[str, float]:
    """71,7 (eng at 0.96) is 71.7 with its point read as a comma. Returns the amount with a point
    and the highest confidence it may have: kept when drawn with a point it fits clearly better,
    else capped (a comma really written there, or ink too poor to tell) so the clerk checks it."""
    as_point = text.replace(",", ".")
    m = Matcher(image)
    drawn = m.score(as_point)
    return as_point, 1.0 if drawn >= DRAWN_OK and drawn - m.score(text) >= POINT_MARGIN else 0.5


def _reread_without_commas(image: np.ndarray, zt: ZoneText, tessdata: Path) -> ZoneText:
    """eng's LSTM is unsure of the digit right after a thousands comma (16,000: the first 0 at 0.2–0.4)
    although it reads it right. Whitening the commas (small ink cells sitting low on the line) and
    reading again gives that digit most of its confidence back (0.5–0.85); kept only if the digits
    agree. (Cutting the commas out, or reading each group alone, measured worse.)"""
    ink = image < 128
    rows = np.nonzero(ink.any(axis=1))[0]
    if rows.size == 0:
        return zt
    top, height = rows[0], rows[-1] - rows[0] + 1
    clean = image.copy()
    erased = 0
    for x0, x1 in _ink_cells(ink.sum(axis=0)):
        ys = np.nonzero(ink[:, x0:x1].any(axis=1))[0]
        if ys.size and ys[-1] - ys[0] + 1 < 0.45 * height and ys[0] > top + 0.5 * height:
            clean[:, x0:x1] = 255
            erased += 1
    if erased != zt.text.count(","):
        return zt
    again = ocr_crop(clean, "amount", tessdata)
    if again.text.replace(" ", "") != "".join(ch for ch in zt.text if ch.isdigit()):
        return zt
    return ZoneText(zt.text, max(zt.raw, again.raw), zt.glyphs)


# katakana and kanji that are drawn (almost) alike: which one is meant follows from the neighbours
LOOKALIKES = {"ニ": "二", "ロ": "口", "カ": "力", "エ": "工", "タ": "夕", "ト": "卜", "ハ": "八", "ー": "一"}
_KANJI_FORM = {v: k for k, v in LOOKALIKES.items()}


def fix_lookalikes(text: str) -> str:
    """浩ニ → 浩二, レス卜ラン → レストラン: a look-alike takes the script of its neighbours
    (both, or the only one at either end of a word)."""
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch not in LOOKALIKES and ch not in _KANJI_FORM:
            continue
        near = [chars[j] for j in (i - 1, i + 1) if 0 <= j < len(chars) and chars[j].strip()]
        scripts = {script_of(c) for c in near if c not in LOOKALIKES and c not in _KANJI_FORM}
        if scripts == {"kanji"} and ch in LOOKALIKES:
            chars[i] = LOOKALIKES[ch]
        elif scripts == {"katakana"} and ch in _KANJI_FORM:
            chars[i] = _KANJI_FORM[ch]
    return "".join(chars)


DIGIT_RUN_KINDS = ("text", "date")
DRAWN_MARGIN = 0.15  # a reading whose drawing fits this well, and this much better than the other
JPN_DIGITS_SURE = 0.97  # jpn's weakest digit of a run at least this sure: its reading may stand alone
DISAGREE_CAP = 0.9  # eng and jpn read a digit run differently: eng is usually right, but not always


def reread_digit_runs(image: np.ndarray, zt: ZoneText, tessdata: Path) -> tuple[ZoneText, int]:
    """Replace each run of ASCII digits jpn read by what eng reads in the same columns.

    jpn's digits are weak (10 → 19, 8 → 6); eng's are strong but it cannot read kanji. The run's
    columns come from jpn's symbol boxes, widened to the nearest ink-free columns so no stroke is
    cut. A run eng reads with a different number of digits is left as jpn read it, with low
    confidence."""
    glyphs = list(zt.glyphs)
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(glyphs):
        if glyphs[i].text.isascii() and glyphs[i].text.isdigit():
            j = i
            while j + 1 < len(glyphs) and glyphs[j + 1].text.isascii() and glyphs[j + 1].text.isdigit():
                j += 1
            runs.append((i, j))
            i = j + 1
        else:
            i += 1
    if not runs:
        return zt, 0
    ink_cols = (image < 128).sum(axis=0)
    reach = max(2, image.shape[0] // 8)  # a digit is about half as wide as the line is tall
    disagreements = 0
    conf = zt.raw
    cells = _ink_cells(ink_cols)
    ink_rows = np.nonzero((image < 128).any(axis=1))[0]
    line_h = float(ink_rows[-1] - ink_rows[0] + 1) if ink_rows.size else float(image.shape[0])
    disputes: list[tuple[int, int, str, float]] = []  # runs eng read with another number of digits
    for a, b in runs:
        # LSTM symbol boxes are rough (a box can span the next kanji), their centres are not: the run
        # is the ink cells under its digits' centres, cut at real gaps
        hit = sorted({_cell_at(cells, (g.box[0] + g.box[2]) / 2) for g in glyphs[a : b + 1]})
        wide = None  # the run with thin neighbouring cells taken in (a lone "1" jpn folded into it)
        if cells and hit:
            left, right = cells[hit[0]][0], cells[hit[-1]][1]
            lo, hi = hit[0], hit[-1]
            thin = 0.35 * image.shape[0]

            def lone_one(c: tuple[int, int]) -> bool:  # narrow and tall: a 1, not a hyphen or comma
                ys = np.nonzero((image[:, c[0]:c[1]] < 128).any(axis=1))[0]
                return c[1] - c[0] < thin and ys.size > 0 and ys[-1] - ys[0] + 1 >= 0.5 * line_h

            while lo > 0 and lone_one(cells[lo - 1]):
                lo -= 1
            while hi < len(cells) - 1 and lone_one(cells[hi + 1]):
                hi += 1
            if (lo, hi) != (hit[0], hit[-1]):
                wide = (cells[lo][0], cells[hi][1])
        else:
            x0 = min(g.box[0] for g in glyphs[a : b + 1])
            x1 = max(g.box[2] for g in glyphs[a : b + 1])
            left = _cut_column(ink_cols, x0, -1, reach)
            right = _cut_column(ink_cols, x1, +1, reach)
        if right - left < 3:
            continue
        piece = split_at(image[:, left:right], [])
        if not piece:
            continue
        old = "".join(g.text for g in glyphs[a : b + 1])
        ph, pw = piece[0].shape
        one_digit = len(old) == 1 and pw < 0.9 * ph  # narrower than two digits side by side
        eng = _eng_digits(piece[0], one_digit, tessdata)
        if wide is not None:  # jpn may have dropped a digit (10 → 1): the wider run is the other candidate
            wide_piece = split_at(image[:, wide[0]:wide[1]], [])
            word = ocr_crop(wide_piece[0], "digitrun", tessdata) if wide_piece else None
            if word is not None and word.text.isdigit() and len(word.text) > len(old):
                # a dispute like any other: unless settled (here or by ``settle``), the run is in doubt
                # (平成24年 read 平成4年 at 0.92, eng agreeing on the 4 alone, was registered as 1992)
                disputes.append((a, b, word.text, word.raw))
                disagreements += 1
        if len(eng.text) != len(old) or not eng.text.isdigit():
            # eng saw a different number of digits (a neighbour touching the run, or jpn dropped one:
            # 10 → 1): keep jpn's reading, trusted only as far as jpn itself is sure of every digit,
            # and let the drawing decide between the two readings below
            sure = min(g.conf for g in glyphs[a : b + 1]) >= JPN_DIGITS_SURE
            conf = min(conf, DISAGREE_CAP if sure else 0.5)
            disagreements += 1
            if eng.text.isdigit():
                disputes.append((a, b, eng.text, eng.raw))
            continue
        if eng.text != old:
            disagreements += 1
        for k, ch in enumerate(eng.text):
            g = glyphs[a + k]
            sure = eng.glyphs[k].conf if k < len(eng.glyphs) else eng.raw
            # both models read this digit: as sure as the surer of them (eng doubts the 1 of "102"
            # at 0.43 that jpn read at 0.99; each alone is wrong in its own ways, rarely both alike)
            glyphs[a + k] = Glyph(ch, max(sure, g.conf) if ch == g.text else sure, g.box)
    text = "".join(g.text for g in glyphs)
    raw = min([conf] + [g.conf for g in glyphs])
    if disputes:
        glyphs, text, raw = _settle_by_drawing(image, glyphs, disputes, text, raw)
    return ZoneText(text, raw, glyphs), disagreements


def _settle_by_drawing(image: np.ndarray, glyphs: list[Glyph], disputes: list[tuple[int, int, str, float]],
                       text: str, raw: float) -> tuple[list[Glyph], str, float]:
    """jpn and eng read a digit run with different lengths: draw both readings of the whole zone and
    keep the one that matches the ink, if it wins clearly (a dropped digit changes the drawing's width
    and the fit collapses: 0.98 against 0.31 measured for 10月 read as 0月). Otherwise nothing changes
    and the low confidence stands."""
    m = Matcher(image)
    options = [(glyphs, text)]
    for a, b, digits, conf in disputes:
        alt = glyphs[:a] + [Glyph(ch, conf, glyphs[a].box) for ch in digits] + glyphs[b + 1:]
        options.append((alt, "".join(g.text for g in alt)))
    scored = sorted(((m.score(t), i) for i, (_, t) in enumerate(options)), reverse=True)
    (best, i), (second, _) = scored[0], scored[1]
    if best < DRAWN_OK or best - second < DRAWN_MARGIN:
        return glyphs, text, raw
    chosen, chosen_text = options[i]
    return chosen, chosen_text, min([DISAGREE_CAP] + [g.conf for g in chosen])


def _ink_cells(ink: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of every run of inked columns: characters, or several that touch."""
    on = np.concatenate([[0], (ink > 0).astype(np.int8), [0]])
    edges = np.diff(on)
    return list(zip(np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist()))


def _cell_at(cells: list[tuple[int, int]], x: float) -> int:
    """The cell containing x, or the nearest one."""
    return min(range(len(cells)), key=lambda i: 0 if cells[i][0] <= x < cells[i][1]
               else min(abs(x - cells[i][0]), abs(x - cells[i][1])))


def _cut_column(ink: np.ndarray, x: int, step: int, limit: int) -> int:
    """Where to cut next to a digit run: the nearest ink-free column from x outwards, looking at most
    `limit` columns away; failing that the column with the least ink there. (Searching without a
    limit walked through a kanji touching the digits — 18番15 — and handed eng "188155".)"""
    n = len(ink)
    x = int(min(max(x, 0), n - 1))
    best, best_ink = x, ink[x]
    for i in range(limit + 1):
        xi = x + step * i
        if xi <= 0 or xi >= n - 1:
            best = min(max(xi, 0), n - 1)
            break
        if ink[xi] == 0:
            best = xi
            break
        if ink[xi] < best_ink:
            best, best_ink = xi, ink[xi]
    return best + (1 if step > 0 else 0)


# =============================================================================================
# The reader of one scanned page
# =============================================================================================
class ScanReader:
    """Reads zones of one scanned page. Template mm are mapped through the page's alignment: to the
    blank form of the bot that claimed the page (``use_reference``), else to the page itself after
    orientation (Tesseract OSD) and deskew."""

    def __init__(self, gray: np.ndarray, dpi: float, tessdata: Path) -> None:
        self.gray = gray
        self.dpi = dpi
        self.tessdata = tessdata
        self.ref: RefPage | None = None
        self.alignment: Alignment | None = None
        self._aligned: dict[int, Alignment] = {}
        self._coarsened: dict[int, Coarse] = {}
        self._upright: Alignment | None = None
        self._verified: dict[tuple[int, tuple[str, ...]], float] = {}
        self.trace: list[tuple[Box, str, ZoneResult]] = []  # every zone read, with its evidence

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
        from ocr.register import coarse

        c = self._coarsened.get(id(ref))
        if c is None:
            c = self._coarsened[id(ref)] = coarse(self.gray, self.dpi, ref)
        return c

    def _verify_keywords(self, page: Page, ref: RefPage, keywords: Sequence[str]) -> float:
        from ocr.document import find_in_chars

        found = 0
        for word in keywords:
            box = find_in_chars(ref.chars, word, page.number)
            if box is None:
                continue
            zt = self._ocr_zone(box.grown(1.0), "text", subtract_reference=False)
            if zt is not None and _fuzzy_contains(zt.text, word):
                found += 1
        return found / len(keywords)

    def frame(self) -> Alignment:
        """The alignment reads use: the reference's, or the upright page's own."""
        if self.alignment is not None:
            return self.alignment
        if self._upright is None:
            self._upright = upright_alignment(self.gray, self.dpi, self.tessdata)
        return self._upright

    # -- reading -------------------------------------------------------------------------------
    def _crops(self, box: Box, subtract_reference: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        from ocr.register import crop, ref_crop

        al = self.frame()
        gray = crop(self.gray, al, box.x, box.y, box.w, box.h, CROP_DPI)
        ref = None
        if subtract_reference and self.ref is not None and self.alignment is not None:
            ref = ref_crop(self.ref, box.x, box.y, box.w, box.h, CROP_DPI)
        return gray, ref

    def _ocr_zone(self, box: Box, kind: str, subtract_reference: bool = True) -> ZoneText | None:
        from ocr.zones import clean_crop

        gray, ref = self._crops(box, subtract_reference)
        clean = clean_crop(gray, ref, CROP_DPI)
        if clean.image is None:
            return None
        return ocr_crop(clean.image, kind, self.tessdata)

    def read(self, page: Page, box: Box, kind: str) -> Reading:
        from ocr.zones import MIN_INK_MM2, clean_crop

        gray, ref = self._crops(box)
        clean = clean_crop(gray, ref, CROP_DPI)
        if clean.image is None:
            # confidently empty when there is no ink at all; a smudge near the dust limit is doubtful
            raw = 1.0 - 0.5 * min(1.0, clean.ink_mm2 / MIN_INK_MM2)
            return Reading("", calibrated(raw, "empty"))
        res = read_clean(clean.image, kind, self.tessdata)
        self.trace.append((box, kind, res))
        if not res.text.strip():
            return Reading("", calibrated(0.0, kind))  # ink, but nothing readable: a person must look
        return Reading(res.text, calibrated(res.raw, kind))

    def mark(self, page: Page, box: Box) -> Reading:
        from ocr.marks import read_mark

        gray, ref = self._crops(box)
        res = read_mark(gray, ref, CROP_DPI)
        return Reading("1" if res.marked else "", res.confidence)


def _fuzzy_contains(text: str, word: str) -> bool:
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


def upright_alignment(gray: np.ndarray, dpi: float, tessdata: Path) -> Alignment:
    """For a page without a reference: orientation by Tesseract OSD, then deskew; as an Alignment
    from the upright, straight page's mm to the scan's pixels."""
    import cv2
    import numpy as np

    from ocr.preprocess import estimate_skew, rot90
    from ocr.register import Alignment, upright_to_given

    turns = detect_turns(gray, dpi, tessdata)
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


def detect_turns(gray: np.ndarray, dpi: float, tessdata: Path) -> int:
    """Clockwise quarter turns that make the page upright, by Tesseract OSD on a 150 dpi copy
    (0 when OSD is unsure or unavailable)."""
    import cv2

    if not (Path(tessdata) / "osd.traineddata").is_file():
        return 0
    f = min(1.0, 150.0 / dpi)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
    if tesseract_cli.in_process():
        a = api("osd", tessdata)
        import tesserocr

        a.SetPageSegMode(tesserocr.PSM.OSD_ONLY)
        h, w = small.shape
        a.SetImageBytes(small.tobytes(), w, h, 1, w)
        a.SetSourceResolution(int(dpi * f))
        try:
            osd = a.DetectOrientationScript()
        except RuntimeError:
            osd = None
        a.Clear()
    else:
        found = tesseract_cli.orientation(small, dpi * f, tessdata)
        osd = {"orient_deg": found[0], "orient_conf": found[1]} if found else None
    if not osd or osd.get("orient_conf", 0) < 2.0:
        return 0
    # OSD reports how far the content is turned clockwise; turning on by the rest makes it upright
    return ((360 - int(osd["orient_deg"])) // 90) % 4


# =============================================================================================
# The engine
# =============================================================================================
class TesseractEngine(OcrEngine):
    """Scanned pages → Pages with a ZoneReader; reading happens when a bot asks for a zone."""

    name: ClassVar[str] = "tesseract"

    @classmethod
    def check(cls) -> None:
        if not tesseract_cli.in_process() and tesseract_exe() is None:  # neither way to Tesseract
            raise MissingDependency("Tesseract が見つかりません (tesserocr も tesseract コマンドもありません)",
                                    fix=INSTALL_FIX)
        if find_tessdata() is None:
            raise MissingDependency("Tesseract の日本語データ (jpn.traineddata) が見つかりません", fix=INSTALL_FIX)

    def read_pages(self, path: Path, kind: str, page_numbers: list[int] | None,
                   cfg: KakariConfig) -> list[Page]:
        from PIL import Image

        from ocr.preprocess import to_gray
        from ocr.raster import iter_rasters

        tessdata = find_tessdata(cfg.ocr.tessdata)
        if tessdata is None:
            raise MissingDependency("Tesseract の日本語データ (jpn.traineddata) が見つかりません", fix=INSTALL_FIX)
        pages: list[Page] = []
        for r in iter_rasters(path, kind, page_numbers, cfg.ocr.dpi, cfg.limits.max_pixels, cfg.limits.max_pages):
            gray = to_gray(r.image)
            r.image = None  # type: ignore[assignment]  # the colour page is no longer needed
            reader = ScanReader(gray, r.dpi, tessdata)
            pages.append(Page(r.number, gray.shape[1] / r.dpi * 25.4, gray.shape[0] / r.dpi * 25.4,
                              source="scan", image=Image.fromarray(gray), reader=reader))
        return pages
