"""The text layer of a PDF (pdfplumber) as Pages of one-character Words in millimetres.

Also finds the vector marks a person or a form filler drew (circles around an option, ticks), and
judges whether a text layer is plausible text at all (``text_quality``), so broken layers go to OCR.
"""
from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from loguru import logger

from kakari.errors import CorruptDocument, EncryptedDocument, KakariError, TooLarge
from kakari.model import Box
from ocr.document import Page, Word

if TYPE_CHECKING:
    from kakari.config import LimitsConfig

PT_MM = 25.4 / 72  # one PDF point in millimetres
MARK_MAX_MM = 15.0  # a stroke with both sides this long or longer is drawing, not a tick or a circle
AXIS_TOL = 0.05  # slope below ~3°: horizontal/vertical, i.e. a ruling, a box edge or a digit divider
_CID = re.compile(r"^\(cid:\d+\)$")  # pdfminer's text for a glyph without a Unicode mapping
T = TypeVar("T")


def read_textlayer(path: Path, doc_id: str, limits: LimitsConfig) -> list[Page]:
    """Every page of a PDF with its characters (confidence 1.0) and marks, in mm from the top-left.

    Raises EncryptedDocument, CorruptDocument, or TooLarge (page count, checked before any page is read).
    """
    pages = each_page(path, limits, _read_page, fast=True)
    logger.debug("text layer {}: {} pages, {} chars", doc_id or Path(path).name, len(pages),
                 sum(len(p.chars) for p in pages))
    return pages


def each_page(path: Path, limits: LimitsConfig, read: Callable[[Any], T], fast: bool = False) -> list[T]:
    """`read(page)` for every page, the page count checked first, pdfplumber's and pdfminer's
    failures turned into kakari document errors, each page's caches dropped after it. The page is
    pdfplumber's, or with `fast` pdfium's plain page (`ocr.pdfium_layer`) where pdfium can vouch for
    the file: it carries the chars, lines and curves `_read_page` reads, not pdfplumber's other API.
    """
    from ocr.pdfium_layer import open_plain

    try:
        # pdfium reads a plain page ~10x faster; whatever it declines, pdfplumber reads as before
        pdf = (open_plain(Path(path), limits) if fast else None) or _open_with_pdfplumber(Path(path))
    except Exception as e:
        raise _translate(e) from e
    try:
        try:
            plumber_pages = pdf.pages  # page objects only: no content stream is parsed yet
        except Exception as e:
            raise _translate(e) from e
        count = len(plumber_pages)
        if count > limits.max_pages:
            raise TooLarge(f"ページ数が多すぎます ({count} ページ、上限 {limits.max_pages} ページ)")
        if count == 0:
            raise CorruptDocument("PDF にページがありません")
        out: list[T] = []
        for pp in plumber_pages:
            try:
                out.append(read(pp))
            except Exception as e:
                raise _translate(e) from e
            finally:
                pp.close()  # drop pdfplumber's per-page caches: long documents stay small in memory
    finally:
        _close(pdf)
    return out


def _open_with_pdfplumber(path: Path) -> Any:
    import pdfplumber  # heavy (pdfminer): only when a PDF needs it

    return pdfplumber.open(path)


def needs_scan(page: Page, min_chars: int, min_quality: float = 0.8) -> bool:
    """A text-layer page too thin or too garbled to trust: it must be read as an image."""
    texts = [c.text for c in page.chars]
    solid = sum(1 for t in texts for ch in t if not ch.isspace())
    return solid < min_chars or text_quality(texts) < min_quality


def text_quality(chars: Iterable[str]) -> float:
    """Share (0..1) of non-space characters that are plausible Japanese/ASCII form text.

    A broken text layer (glyphs extracted as ™ › or private-use/control characters) scores low.
    No text at all scores 0.0: an empty layer is no evidence of a readable page.
    """
    total = good = 0
    for ch in "".join(chars):
        if ch.isspace():
            continue
        total += 1
        good += _plausible(ch)
    return good / total if total else 0.0


# --- plausible characters ------------------------------------------------------------------------
_RANGES: tuple[tuple[int, int], ...] = (
    (0x0021, 0x007E),  # ASCII letters, digits, punctuation
    (0x00C0, 0x024F),  # accented Latin (names of places, foreign residents)
    (0x2010, 0x2016),  # hyphens and dashes
    (0x2018, 0x201F),  # quotes
    (0x2020, 0x2027),  # † ‡ • ‥ …
    (0x2030, 0x2033),  # ‰ ′ ″
    (0x2190, 0x2193),  # arrows
    (0x2460, 0x24FF),  # ① ② …
    (0x2500, 0x257F),  # box drawing
    (0x25A0, 0x25FF),  # □ ■ ○ ● ◎ △ ◇
    (0x2605, 0x2606),  # ★ ☆
    (0x2610, 0x2612),  # ☐ ☑ ☒
    (0x2713, 0x2718),  # ✓ ✔ ✗ ✘
    (0x3000, 0x303F),  # CJK symbols and punctuation: 、。「」〒〇々〜
    (0x3040, 0x309F),  # hiragana
    (0x30A0, 0x30FF),  # katakana, ー ・
    (0x31F0, 0x31FF),  # small katakana extensions
    (0x3200, 0x33FF),  # ㈱ ㊞ ㍻ ㎡
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF01, 0xFF9F),  # full-width forms and half-width katakana
    (0xFFE0, 0xFFE6),  # full-width ￥ ￠ ￡
    (0x20000, 0x2FA1F),  # CJK extensions B.. and compatibility supplement (人名用漢字, 外字)
)
_SINGLES = frozenset("¥£¢§¨°±´¶·×÷※‰−∓∞∴∵≒≠≦≧≪≫∈∋⊂⊃∧∨¬⇒⇔∀∃∠⊥⌒∂∇≡√∽∝∫∬")


@functools.lru_cache(maxsize=8192)  # a page repeats a few hundred distinct characters
def _plausible(ch: str) -> bool:
    if ch in _SINGLES:
        return True
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _RANGES)


# --- one page ------------------------------------------------------------------------------------
def _read_page(pp: Any) -> Page:
    number = int(pp.page_number)
    ox, oy = float(pp.bbox[0]), float(pp.bbox[1])  # pdfplumber places objects relative to the MediaBox
    width, height = float(pp.width) * PT_MM, float(pp.height) * PT_MM

    def box(o: dict[str, Any]) -> Box:
        x0, top = (float(o["x0"]) - ox) * PT_MM, (float(o["top"]) - oy) * PT_MM
        x1, bottom = (float(o["x1"]) - ox) * PT_MM, (float(o["bottom"]) - oy) * PT_MM
        return Box(number, x0, top, x1 - x0, bottom - top)

    chars: list[Word] = []
    for c in pp.chars:
        text = _char_text(c.get("text") or "")
        if not text:
            continue
        # a space glyph is kept: join_chars reads it as a space even where the font draws it
        # narrower than the gap it reads as one (a half-width space, some fonts' 「　」)
        b = box(c)
        cx, cy = b.x + b.w / 2, b.y + b.h / 2
        if not (0 <= cx <= width and 0 <= cy <= height):  # text off the page is not on the form
            continue
        chars.append(Word(text, b, 1.0, str(c.get("fontname") or "")))
    marks = [box(o) for o in pp.lines if is_mark(o, "line")]
    marks += [box(o) for o in pp.curves if is_mark(o, "curve")]
    # pp.rects are never marks: rectangles are form furniture (cells, printed checkboxes)
    return Page(number=number, width=width, height=height, source="text", chars=chars, marks=marks)


def _char_text(text: str) -> str:
    if _CID.match(text):
        return "\ufffd"  # unmapped glyph: keep it visible to text_quality instead of "(cid:42)"
    if len(text) == 1 and 0x2E80 <= ord(text) <= 0x2FDF:
        # some Japanese PDF producers map 日 to the Kangxi radical ⽇: fold to the ideograph
        return unicodedata.normalize("NFKC", text)
    return text


def is_mark(o: dict[str, Any], kind: str) -> bool:
    """Is a pdfplumber line/curve a drawn mark (tick, circle, cross) rather than printed ruling?"""
    if not (o.get("stroke") or o.get("fill")):
        return False
    if _dashed(o.get("dash")):  # dashed circles and lines are printed guides (印 placement, cut lines)
        return False
    w = (float(o["x1"]) - float(o["x0"])) * PT_MM
    h = (float(o["bottom"]) - float(o["top"])) * PT_MM
    if kind == "line":
        if w >= MARK_MAX_MM or h >= MARK_MAX_MM:
            return False
    elif w >= MARK_MAX_MM and h >= MARK_MAX_MM:
        return False  # a long ellipse around an option is a mark; a large frame is not
    return not _axis_aligned(o)


def _dashed(dash: Any) -> bool:
    if not dash:
        return False
    pattern = dash[0] if isinstance(dash, (tuple, list)) else None
    return bool(pattern) and any(float(v) > 0 for v in pattern)


def _axis_aligned(o: dict[str, Any]) -> bool:
    """True if the path is straight segments that are all horizontal/vertical (box edges, rulings).

    Such paths are what forms print: an empty checkbox drawn as four lines, digit dividers, rulings.
    Ticks, crosses and circles always have a slanted or curved segment.
    """
    path = o.get("path") or []
    if any(cmd[0] in ("c", "v", "y") for cmd in path):
        return False
    pts = [tuple(map(float, p)) for p in (o.get("pts") or [])]
    if any(cmd[0] == "h" for cmd in path) and pts:
        pts.append(pts[0])  # closing segment
    segments = list(itertools.pairwise(pts))
    if not segments:
        return True
    for (x0, y0), (x1, y1) in segments:
        dx, dy = abs(x1 - x0), abs(y1 - y0)
        if min(dx, dy) > AXIS_TOL * max(dx, dy):
            return False
    return True


def _close(pdf: Any) -> None:
    """pdfplumber's close() walks the pages again, so on a broken page tree it raises before it
    closes the file: close what can be closed and always the file itself."""
    try:
        pdf.close()
    except Exception:  # noqa: BLE001 - the document's error was already raised and translated
        if not getattr(pdf, "stream_is_external", True):
            pdf.stream.close()


def _translate(e: BaseException) -> Exception:
    """pdfplumber/pdfminer failures → kakari document errors (the parser's reason kept)."""
    from pdfminer.pdfdocument import PDFEncryptionError

    inner: BaseException = e
    # pdfplumber wraps pdfminer's exception in PdfminerException(original)
    while type(inner).__name__ == "PdfminerException" and inner.args and isinstance(inner.args[0], Exception):
        inner = inner.args[0]
    if isinstance(inner, MemoryError):
        raise inner
    if isinstance(inner, KakariError):  # our own (the read deadline) passes through unchanged
        return inner
    if isinstance(inner, PDFEncryptionError):
        return EncryptedDocument("パスワードで保護された PDF です")
    reason = str(inner).strip() or type(inner).__name__
    return CorruptDocument(f"PDF が壊れているか途中で切れているため読み取れません ({reason})")
