"""Whole-page OCR for a page no form describes and whose text layer cannot be believed (a gazette
page, a notice): its text lines in Tesseract's reading order, each line read by the model of its own
writing direction — ``jpn_vert`` for vertical lines (縦書き), ``jpn`` for horizontal ones (a gazette's
header runs across the top of its vertical columns).

Tesseract in-process through tesserocr, or its command line through pytesseract where tesserocr
cannot be installed (one model for the whole page there).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from kakari.model import Box
from ocr.document import Page, Word

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
MM_PER_INCH = 25.4
_local = threading.local()


def read_into(page: Page, tessdata: Path, vertical: bool) -> None:
    """OCR the page's image as a whole: ``page.lines`` in reading order, ``page.chars`` (for anchors
    and keywords), ``page.writing``."""
    gray = np.asarray(page.image.convert("L"))
    dpi = gray.shape[1] / (page.width / MM_PER_INCH)
    page.lines, page.chars = read_text(gray, dpi, tessdata, vertical, page.number)
    page.writing = "vertical" if vertical else "horizontal"


def read_text(gray: np.ndarray, dpi: float, tessdata: Path, vertical: bool,
              number: int = 1) -> tuple[list[Word], list[Word]]:
    """(lines, characters) of a grey page image, boxes in mm."""
    main = "jpn_vert" if vertical and (Path(tessdata) / "jpn_vert.traineddata").is_file() else "jpn"
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return _read_cli(gray, dpi, tessdata, main, number), []
    return _read_in_process(gray, dpi, tessdata, main, number)


def _api(lang: str, tessdata: Path) -> Any:
    import tesserocr

    apis = getattr(_local, "apis", None)
    if apis is None:
        apis = _local.apis = {}
    key = (lang, str(tessdata))
    if key not in apis:
        apis[key] = tesserocr.PyTessBaseAPI(path=str(tessdata) + os.sep, lang=lang)
    return apis[key]


def _read_in_process(gray: np.ndarray, dpi: float, tessdata: Path, main: str,
                     number: int) -> tuple[list[Word], list[Word]]:
    import tesserocr
    from PIL import Image

    other = "jpn" if main == "jpn_vert" else ("jpn_vert" if (Path(tessdata) / "jpn_vert.traineddata").is_file() else "")
    api = _api(main, tessdata)
    api.SetPageSegMode(tesserocr.PSM.AUTO)
    api.SetImage(Image.fromarray(gray))
    api.SetSourceResolution(round(dpi))
    api.Recognize()
    found = []  # (text, confidence, box px, vertical?, symbols)
    for line in tesserocr.iterate_level(api.GetIterator(), tesserocr.RIL.TEXTLINE):
        text = (line.GetUTF8Text(tesserocr.RIL.TEXTLINE) or "").strip()
        box = line.BoundingBox(tesserocr.RIL.TEXTLINE)
        if not text or box is None:
            continue
        direction = line.Orientation()[1]
        found.append((text, line.Confidence(tesserocr.RIL.TEXTLINE), box,
                      direction == tesserocr.WritingDirection.TOP_TO_BOTTOM))
    symbols = _symbols(api, (0, 0), dpi, number)
    api.Clear()
    lines: list[Word] = []
    chars: list[Word] = []
    for text, conf, (x0, y0, x1, y1), is_vertical in found:
        line_box = _mm(x0, y0, x1, y1, dpi, number)
        wanted = "jpn_vert" if is_vertical else "jpn"
        if wanted != main and other == wanted:  # this line runs the other way: its own model reads it
            text, conf, line_chars = _reread(gray[y0:y1, x0:x1], (x0, y0), dpi, tessdata, wanted, number)
        else:
            line_chars = [c for c in symbols if line_box.contains_point(c.cx, c.cy)]
        text = tidy(text, is_vertical)
        if text:
            lines.append(Word(text, line_box, round(conf / 100.0, 4)))
            chars.extend(line_chars)
    return lines, chars


def _reread(crop: np.ndarray, origin: tuple[int, int], dpi: float, tessdata: Path, lang: str,
            number: int) -> tuple[str, float, list[Word]]:
    import tesserocr
    from PIL import Image

    pad = 12
    padded = np.pad(crop, pad, constant_values=255)
    api = _api(lang, tessdata)
    api.SetPageSegMode(tesserocr.PSM.SINGLE_BLOCK_VERT_TEXT if lang == "jpn_vert" else tesserocr.PSM.SINGLE_LINE)
    api.SetImage(Image.fromarray(padded))
    api.SetSourceResolution(round(dpi))
    text = (api.GetUTF8Text() or "").strip()
    conf = float(api.MeanTextConf())
    chars = _symbols(api, (origin[0] - pad, origin[1] - pad), dpi, number)
    api.Clear()
    return " ".join(text.split()), conf, chars


def _symbols(api: Any, origin: tuple[int, int], dpi: float, number: int) -> list[Word]:
    import tesserocr

    out = []
    for sym in tesserocr.iterate_level(api.GetIterator(), tesserocr.RIL.SYMBOL):
        text = sym.GetUTF8Text(tesserocr.RIL.SYMBOL)
        box = sym.BoundingBox(tesserocr.RIL.SYMBOL)
        if text and text.strip() and box is not None:
            x0, y0, x1, y1 = box
            out.append(Word(text.strip(), _mm(x0 + origin[0], y0 + origin[1], x1 + origin[0], y1 + origin[1], dpi, number),
                            round(sym.Confidence(tesserocr.RIL.SYMBOL) / 100.0, 4)))
    return out


def _read_cli(gray: np.ndarray, dpi: float, tessdata: Path, lang: str, number: int) -> list[Word]:
    import pytesseract
    from PIL import Image

    data = pytesseract.image_to_data(Image.fromarray(gray), lang=lang,
                                     config=f'--psm 3 --dpi {round(dpi)} --tessdata-dir "{tessdata}"',
                                     output_type=pytesseract.Output.DICT)
    grouped: dict[tuple[int, int, int], list[int]] = {}
    for i, word in enumerate(data["text"]):
        if word.strip():
            grouped.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(i)
    lines = []
    for idx in grouped.values():
        x0 = min(data["left"][i] for i in idx)
        y0 = min(data["top"][i] for i in idx)
        x1 = max(data["left"][i] + data["width"][i] for i in idx)
        y1 = max(data["top"][i] + data["height"][i] for i in idx)
        conf = min(float(data["conf"][i]) for i in idx)
        # the program does not say a line's direction: its box does once it holds two characters
        # (twice as wide as tall runs across); a line running the other way than the page's model
        # is re-read by its own model, as the in-process path does
        w, h = x1 - x0, y1 - y0
        wanted = "jpn" if w >= 2 * h else "jpn_vert" if h >= 2 * w else lang
        text = tidy(" ".join(data["text"][i] for i in idx), wanted == "jpn_vert")
        if text and wanted != lang and (Path(tessdata) / f"{wanted}.traineddata").is_file():
            text, conf = _reread_cli(gray[y0:y1, x0:x1], dpi, tessdata, wanted, conf)
        if text:
            lines.append(Word(text, _mm(x0, y0, x1, y1, dpi, number), round(conf / 100.0, 4)))
    return lines


def _reread_cli(crop: np.ndarray, dpi: float, tessdata: Path, lang: str, conf: float) -> tuple[str, float]:
    """One line re-read by the model of its direction through the program (text, confidence 0-100)."""
    import pytesseract
    from PIL import Image

    padded = np.pad(crop, 12, constant_values=255)
    psm = 5 if lang == "jpn_vert" else 7  # a single vertical block / a single line
    data = pytesseract.image_to_data(Image.fromarray(padded), lang=lang,
                                     config=f'--psm {psm} --dpi {round(dpi)} --tessdata-dir "{tessdata}"',
                                     output_type=pytesseract.Output.DICT)
    words = [i for i, w in enumerate(data["text"]) if w.strip()]
    if not words:
        return "", conf
    text = tidy(" ".join(data["text"][i] for i in words), lang == "jpn_vert")
    return text, min(float(data["conf"][i]) for i in words)


def tidy(text: str, vertical: bool = False) -> str:
    """Tesseract's words of Japanese text joined: a space stays only between two Latin letters or
    digits of a horizontal line (``Tel 0123``), never inside 令 和 6 年; a vertical line's digits
    each sit in a cell of their own (２ ３ is 23)."""
    words = text.split()
    if vertical:
        return "".join(words)
    out = words[0] if words else ""
    for w in words[1:]:
        keep = out[-1].isascii() and out[-1].isalnum() and w[0].isascii() and w[0].isalnum()
        out += (" " if keep else "") + w
    return out


def _mm(x0: float, y0: float, x1: float, y1: float, dpi: float, number: int) -> Box:
    s = MM_PER_INCH / dpi
    return Box(number, x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s)
