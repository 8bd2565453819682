"""A PDF's text layer through pdfium, shaped like pdfplumber's pages, for ``ocr.textlayer``.

pdfium (C) gives the characters and drawn paths of a plain page about ten times faster than
pdfminer's Python layout pass. ``open_plain`` returns pages whose ``chars``, ``lines`` and
``curves`` carry the keys ``textlayer`` reads from pdfplumber's (PDF points, top-left origin), so
the page is built, judged and routed by the same code whichever library read it.

It declines (returns None) for anything it cannot vouch for, and pdfplumber reads the file as
before, with its own error messages: a file pdfium cannot open or that does not end as a complete
PDF does, more pages than the limit, a page
whose boxes are offset or rotated, images (a scan under a text layer), shadings or form XObjects,
invisible or rotated text, and glyphs without a Unicode mapping.
"""
from __future__ import annotations

import ctypes
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kakari.config import LimitsConfig

Point = tuple[float, float]
_SURROGATE_HIGH = range(0xD800, 0xDC00)
_SURROGATE_LOW = range(0xDC00, 0xE000)
_SUBPATH = re.compile(r"m[^m]+")


class Declined(Exception):
    """Something on the page that only pdfplumber's reading reproduces."""


class PlainPage:
    """One page as ``textlayer._read_page`` reads a pdfplumber page."""

    def __init__(self, number: int, width: float, height: float) -> None:
        self.page_number = number
        self.bbox = (0.0, 0.0, width, height)
        self.width, self.height = width, height
        self.chars: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []
        self.curves: list[dict[str, Any]] = []

    def close(self) -> None:
        pass


class PlainPdf:
    def __init__(self, pages: list[PlainPage]) -> None:
        self.pages = pages

    def close(self) -> None:
        pass


def open_plain(path: Path, limits: LimitsConfig) -> PlainPdf | None:
    """Every page of the PDF read by pdfium, or None when pdfplumber must read it."""
    import pypdfium2 as pdfium

    if not _has_trailer(path):
        return None  # cut short or damaged at the end: pdfium would repair it, pdfplumber judges it
    try:
        pdf = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError, ValueError):
        return None
    try:
        count = len(pdf)
        if count == 0 or count > limits.max_pages:
            return None
        pages = []
        for index in range(count):
            page = pdf[index]
            try:
                pages.append(_read(page, index + 1))
            finally:
                page.close()
        return PlainPdf(pages)
    except (Declined, pdfium.PdfiumError):
        return None
    finally:
        pdf.close()


def _has_trailer(path: Path) -> bool:
    """The file ends as a complete PDF does: a cross-reference offset, then %%EOF."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 1024))
            tail = fh.read()
    except OSError:
        return False
    return b"startxref" in tail and b"%%EOF" in tail[tail.rfind(b"startxref"):]


def _read(page: Any, number: int) -> PlainPage:
    import pypdfium2.raw as raw

    if page.get_rotation() % 360:
        raise Declined("rotated page")
    media = page.get_mediabox()
    if media[0] or media[1] or tuple(page.get_cropbox()) != tuple(media):
        raise Declined("offset page boxes")
    width, height = float(media[2]), float(media[3])
    out = PlainPage(number, width, height)
    for index in range(raw.FPDFPage_CountObjects(page.raw)):
        obj = raw.FPDFPage_GetObject(page.raw, index)
        kind = raw.FPDFPageObj_GetType(obj)
        if kind == raw.FPDF_PAGEOBJ_PATH:
            _add_paths(obj, height, out)
        elif kind == raw.FPDF_PAGEOBJ_TEXT:
            mode = raw.FPDFTextObj_GetTextRenderMode(obj)
            if mode in (raw.FPDF_TEXTRENDERMODE_INVISIBLE, raw.FPDF_TEXTRENDERMODE_CLIP,
                        raw.FPDF_TEXTRENDERMODE_UNKNOWN):
                raise Declined("invisible text")
        else:
            raise Declined("image, shading or form XObject")
    textpage = page.get_textpage()
    try:
        out.chars = _chars(textpage.raw, height)
    finally:
        textpage.close()
    return out


def _chars(tp: Any, height: float) -> list[dict[str, Any]]:
    import pypdfium2.raw as raw

    chars: list[dict[str, Any]] = []
    rect = raw.FS_RECTF()
    name = ctypes.create_string_buffer(256)
    flags = ctypes.c_int()
    count = raw.FPDFText_CountChars(tp)
    gap_space = False  # pdfium put a space between the last character kept and the next
    i = 0
    while i < count:
        code = raw.FPDFText_GetUnicode(tp, i)
        index = i
        i += 1
        if raw.FPDFText_IsGenerated(tp, index):  # spaces and line breaks pdfium inferred
            # pdfium replaces a space glyph that ends a text run (「　」 between surname and given
            # name) by an inferred space: keep it as a space in the gap, or a font whose 「　」 is
            # narrower than the gap ocr.document.join_chars reads as a space would lose the space
            gap_space = code == 0x20 and bool(chars)
            continue
        if code == 0 or raw.FPDFText_HasUnicodeMapError(tp, index):
            raise Declined("glyph without a Unicode mapping")
        if code in _SURROGATE_HIGH:  # a character beyond the BMP comes as two UTF-16 units
            low = raw.FPDFText_GetUnicode(tp, i) if i < count else 0
            if low not in _SURROGATE_LOW:
                raise Declined("broken surrogate pair")
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            i += 1
        if abs(raw.FPDFText_GetCharAngle(tp, index)) > 1e-3:
            raise Declined("rotated text")
        if not raw.FPDFText_GetLooseCharBox(tp, index, ctypes.byref(rect)):
            raise Declined("character without a box")
        # the font name: ocr.layercheck judges each font's characters on their own
        size = raw.FPDFText_GetFontInfo(tp, index, name, len(name), ctypes.byref(flags))
        font = name.value.decode("utf-8", "replace") if 0 < size <= len(name) else ""
        char = {"text": chr(code), "x0": rect.left, "x1": rect.right, "top": height - rect.top,
                "bottom": height - rect.bottom, "fontname": font}
        if gap_space:
            prev = chars[-1]
            em = raw.FPDFText_GetFontSize(tp, index) or (char["bottom"] - char["top"])
            gap = char["x0"] - prev["x1"]
            # a glyph's width on the same line: wider gaps are read as spaces by join_chars anyway
            if 0 < gap <= 2 * em and abs(prev["top"] - char["top"]) < 0.5 * em:
                wide = gap >= 0.75 * em
                chars.append({**prev, "text": "\u3000" if wide else " ", "x0": prev["x1"], "x1": char["x0"]})
            gap_space = False
        chars.append(char)
    return chars


def _add_paths(obj: Any, height: float, out: PlainPage) -> None:
    """pdfminer's reading of a path: each subpath is a line, a rectangle or a curve, with its
    painting, its dash and its points (end points only, plus the commands with control points)."""
    import pypdfium2.raw as raw

    fillmode, stroke = ctypes.c_int(0), ctypes.c_int(0)
    if not raw.FPDFPath_GetDrawMode(obj, ctypes.byref(fillmode), ctypes.byref(stroke)):
        raise Declined("unreadable path")
    matrix = raw.FS_MATRIX()
    if not raw.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix)):
        raise Declined("unreadable path matrix")
    m = (matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f)
    ops: list[tuple[str, list[Point]]] = []
    x, y = ctypes.c_float(0), ctypes.c_float(0)
    bezier: list[Point] = []
    for index in range(raw.FPDFPath_CountSegments(obj)):
        seg = raw.FPDFPath_GetPathSegment(obj, index)
        if not raw.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y)):
            raise Declined("unreadable path segment")
        pt = _page_point(m, x.value, y.value, height)
        kind = raw.FPDFPathSegment_GetType(seg)
        if kind == raw.FPDF_SEGMENT_MOVETO:
            ops.append(("m", [pt]))
        elif kind == raw.FPDF_SEGMENT_LINETO:
            ops.append(("l", [pt]))
        elif kind == raw.FPDF_SEGMENT_BEZIERTO:
            bezier.append(pt)
            if len(bezier) == 3:
                ops.append(("c", bezier))
                bezier = []
        else:
            raise Declined("unknown path segment")
        if raw.FPDFPathSegment_GetClose(seg) and not bezier:
            ops.append(("h", []))
    if bezier:
        raise Declined("incomplete curve")
    dash = _dash(obj)
    shape = "".join(op for op, _ in ops)
    for sub in _SUBPATH.finditer(shape) if shape.startswith("m") else ():
        _add_subpath(ops[sub.start():sub.end()], stroke.value != 0, fillmode.value != 0, dash, out)


def _add_subpath(ops: list[tuple[str, list[Point]]], stroke: bool, fill: bool, dash: Any,
                 out: PlainPage) -> None:
    shape = "".join(op for op, _ in ops)
    pts = [pts[-1] if op != "h" else ops[0][1][-1] for op, pts in ops]
    if len(shape) > 3 and shape[-2:] == "lh" and pts[-2] == pts[0]:  # a redundant "l" before "h"
        shape = shape[:-2] + "h"
        pts.pop()
    if shape in ("mlllh", "mllll"):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = pts
        square = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0)
        if pts[0] == pts[4] and square:
            return  # a rectangle: form furniture, never a mark
    xs, tops = [p[0] for p in pts], [p[1] for p in pts]
    item = {"x0": min(xs), "x1": max(xs), "top": min(tops), "bottom": max(tops), "stroke": stroke,
            "fill": fill, "dash": dash, "pts": pts, "path": [(op, *p) for op, p in ops]}
    (out.lines if shape in ("mlh", "ml") else out.curves).append(item)


def _page_point(m: tuple[float, ...], x: float, y: float, height: float) -> Point:
    a, b, c, d, e, f = m
    return a * x + c * y + e, height - (b * x + d * y + f)


def _dash(obj: Any) -> tuple[list[float], float] | None:
    import pypdfium2.raw as raw

    n = raw.FPDFPageObj_GetDashCount(obj)
    if n <= 0:
        return None
    array = (ctypes.c_float * n)()
    raw.FPDFPageObj_GetDashArray(obj, array, n)
    phase = ctypes.c_float(0)
    raw.FPDFPageObj_GetDashPhase(obj, ctypes.byref(phase))
    return [float(v) for v in array], phase.value
