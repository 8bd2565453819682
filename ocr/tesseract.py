"""Tesseract: the second opinion on a zone, and the page's orientation.

In-process through tesserocr where it can be installed: one ``PyTessBaseAPI`` per language per thread,
kept loaded (pytesseract starts a process per call, ~0.18 s). Where tesserocr cannot be imported
(Windows has no wheel), the same calls go through pytesseract and the ``tesseract`` program, whose
hOCR output (``hocr_char_boxes``) gives every character its own box and confidence, as tesserocr does.
OpenMP inside Tesseract is switched off (OMP_THREAD_LIMIT=1): workers are processes, and two
single-threaded ones read more than one threaded one on two cores.

tesserocr hands Tesseract an image without a resolution (it then assumes 70 dpi and sizes its noise
filters for that), so the crop's real resolution is always passed. Each zone kind has its model,
page-segmentation mode and character whitelist (``KINDS``): digits are read by ``eng``, whose digits
are far better than ``jpn``'s.
"""
from __future__ import annotations

import os
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kakari.errors import MissingDependency
from kakari.locate import tessdata_dirs, tesseract_exe

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # before libtesseract (and its OpenMP) is loaded

INSTALL_FIX = ("apt-get install tesseract-ocr tesseract-ocr-jpn tesseract-ocr-osd (と pip install tesserocr; "
               "Windows では Tesseract をインストールし、見つからなければ [system] tesseract に場所を書く)")

DIGITS = "0123456789"
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ー・"
HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097))
KANJI_NUMERALS = "〇一二三四五六七八九十"
ERAS = "令和平成昭和大正明治"
CROP_DPI = 300.0


@dataclass(frozen=True)
class KindSpec:
    """How to read one kind of zone: model, page segmentation mode, allowed characters."""

    lang: str
    psm: int
    whitelist: str = ""


# psm 7 = one text line; 10 = one character; 8 = one word; 13 = raw line (no layout analysis)
KINDS: dict[str, KindSpec] = {
    "text": KindSpec("jpn", 13),
    "line": KindSpec("jpn", 13),
    "kana": KindSpec("jpn", 13, KATAKANA + HIRAGANA),
    "date": KindSpec("jpn", 7, DIGITS + "年月日元" + ERAS + KANJI_NUMERALS + "RHSTM./-"),
    "digits": KindSpec("eng", 7, DIGITS + "-"),
    "amount": KindSpec("eng", 7, DIGITS + ",."),
    "char": KindSpec("jpn", 10),
    "digitrun": KindSpec("eng", 8, DIGITS),  # a run of digits inside Japanese text, re-read by eng
}


def find_tessdata(configured: str | None = None) -> Path | None:
    """The folder holding jpn.traineddata: the configured one, $TESSDATA_PREFIX, or the tesseract
    command's own (kakari.locate)."""
    candidates = [configured, os.environ.get("TESSDATA_PREFIX"), *tessdata_dirs()]
    for c in candidates:
        if c and (Path(c) / "jpn.traineddata").is_file():
            return Path(c)
    return None


def in_process() -> bool:
    """tesserocr importable (else pytesseract and the tesseract program are used)."""
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return False
    return True


def check(tessdata: str | None = None) -> Path:
    """The tessdata folder; MissingDependency when Tesseract cannot be used here."""
    if not in_process():
        try:
            import pytesseract  # noqa: F401
        except ImportError as e:
            raise MissingDependency("Python から Tesseract を使う tesserocr も pytesseract も入っていません",
                                    fix=INSTALL_FIX) from e
        if tesseract_exe() is None:
            raise MissingDependency("tesseract プログラムが見つかりません (tesserocr が使えない環境です)", fix=INSTALL_FIX)
    found = find_tessdata(tessdata)
    if found is None:
        raise MissingDependency("Tesseract の日本語データ (jpn.traineddata) が見つかりません", fix=INSTALL_FIX)
    return found


_local = threading.local()  # APIs are not thread-safe: one set per thread (normally one per process)


def api(lang: str, tessdata: Path) -> Any:
    """The thread's PyTessBaseAPI for `lang`, created on first use and kept."""
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
    mode = psm if psm is not None else spec.psm
    if not in_process():
        return _ocr_crop_cli(image, kind, spec, mode, tessdata, dpi)
    import tesserocr

    a = api(spec.lang, tessdata)
    a.SetPageSegMode(mode)
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
    return _zone_text(image, glyphs, kind)


def _ocr_crop_cli(image: np.ndarray, kind: str, spec: KindSpec, psm: int, tessdata: Path, dpi: float) -> ZoneText:
    """pytesseract: each character with its own box and confidence (hOCR)."""
    glyphs = [Glyph(s.text, s.conf, s.box) for s in symbols(image, spec.lang, psm, dpi, tessdata, spec.whitelist)]
    return _zone_text(image, glyphs, kind)


def _zone_text(image: np.ndarray, glyphs: list[Glyph], kind: str) -> ZoneText:
    """The reading, in a フリガナ zone without the characters read from no ink: there a character
    whose box holds nothing but paper (a cleaned crop's paper is pure white) is the blank of the
    full-width space between two katakana words, which jpn reads as ソ or ー. (Elsewhere such a box
    is often a real character's placed over the blank after it: a half-width digit before a space.)"""
    kept = [g for g in glyphs if not (kind == "kana" and _blank(image, g.box))]
    return ZoneText("".join(g.text for g in kept), min((g.conf for g in kept), default=0.0), kept)


def _blank(image: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    x0, y0, x1, y1 = box
    cell = image[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    return cell.size > 0 and bool((cell == 255).all())


HOCR_CLASS = {"ocr_line": "line", "ocr_textfloat": "line", "ocr_caption": "line", "ocr_header": "line",
              "ocrx_word": "word", "ocrx_cinfo": "char"}


@dataclass
class Symbol:
    """One character as the tesseract program read it."""

    text: str
    conf: float  # 0..1
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in image pixels
    line_start: bool  # the first character of a text line
    word_start: bool  # the first character of a word


def _pytesseract() -> Any:
    """pytesseract, pointed at the tesseract program kakari.locate finds (configured, PATH, Program Files)."""
    import pytesseract

    exe = tesseract_exe()
    if exe is None:
        raise MissingDependency("tesseract プログラムが見つかりません (tesserocr が使えない環境です)",
                                fix=INSTALL_FIX)
    pytesseract.pytesseract.tesseract_cmd = str(exe)
    return pytesseract


def symbols(image: np.ndarray, lang: str, psm: int, dpi: float, tessdata: Path, whitelist: str = "") -> list[Symbol]:
    """The characters the tesseract program reads on a grey image (uint8, paper 255), in reading order."""
    from PIL import Image

    pytesseract = _pytesseract()
    config = f"--psm {psm} --dpi {round(dpi)} --tessdata-dir {_quoted(tessdata)} -c hocr_char_boxes=1"
    if whitelist:
        config += f" -c tessedit_char_whitelist={whitelist}"
    hocr = pytesseract.image_to_pdf_or_hocr(Image.fromarray(image), lang=lang, config=config, extension="hocr")
    return parse_hocr(hocr)


def parse_hocr(hocr: bytes) -> list[Symbol]:
    """Characters of an hOCR page made with ``hocr_char_boxes=1``."""
    root = ET.fromstring(hocr)
    out: list[Symbol] = []
    state = {"line": False, "word": False}

    def walk(el: ET.Element) -> None:
        kind = HOCR_CLASS.get(el.get("class", ""))
        if kind == "line":
            state["line"] = True
        elif kind == "word":
            state["word"] = True
        elif kind == "char":
            title = el.get("title", "")
            box = re.search(r"x_bboxes (\d+) (\d+) (\d+) (\d+)", title)
            conf = re.search(r"x_conf ([\d.]+)", title)
            text = "".join(el.itertext())
            if text and box:
                x0, y0, x1, y1 = (int(v) for v in box.groups())
                out.append(Symbol(text, float(conf.group(1)) / 100.0 if conf else 0.0, (x0, y0, x1, y1),
                                  state["line"], state["word"]))
                state["line"] = state["word"] = False
            return
        for child in el:
            walk(child)

    walk(root)
    return out


def _quoted(path: Path) -> str:
    s = str(path)
    return f'"{s}"' if " " in s else s


def detect_turns(gray: np.ndarray, dpi: float, tessdata: Path) -> int:
    """Clockwise quarter turns that make the page upright, by Tesseract OSD on a 150 dpi copy
    (0 when OSD is unsure or unavailable)."""
    import cv2

    if not (Path(tessdata) / "osd.traineddata").is_file():
        return 0
    f = min(1.0, 150.0 / dpi)
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
    osd = _osd_in_process(small, dpi * f, tessdata) if in_process() else _osd_cli(small, dpi * f, tessdata)
    if not osd or osd.get("orient_conf", 0) < 2.0:
        return 0
    # OSD reports how far the content is turned clockwise; turning on by the rest makes it upright
    return ((360 - int(osd["orient_deg"])) // 90) % 4


def _osd_in_process(small: np.ndarray, dpi: float, tessdata: Path) -> dict[str, Any] | None:
    import tesserocr

    a = api("osd", tessdata)
    a.SetPageSegMode(tesserocr.PSM.OSD_ONLY)
    h, w = small.shape
    a.SetImageBytes(small.tobytes(), w, h, 1, w)
    a.SetSourceResolution(int(dpi))
    try:
        osd = a.DetectOrientationScript()
    except RuntimeError:
        osd = None
    a.Clear()
    return osd


def _osd_cli(small: np.ndarray, dpi: float, tessdata: Path) -> dict[str, Any] | None:
    from PIL import Image

    pytesseract = _pytesseract()

    try:
        out = pytesseract.image_to_osd(Image.fromarray(small), config=f"--dpi {int(dpi)} --tessdata-dir "
                                       f"{_quoted(tessdata)}", output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError:
        return None
    return {"orient_deg": int(out.get("orientation", 0)), "orient_conf": float(out.get("orientation_conf", 0))}


def version() -> str:
    """Tesseract's version, and which binding reads with it."""
    if in_process():
        import tesserocr

        return f"{tesserocr.tesseract_version().splitlines()[0]} (tesserocr)"
    return f"tesseract {_pytesseract().get_tesseract_version()} (pytesseract)"
