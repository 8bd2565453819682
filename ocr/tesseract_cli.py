"""Tesseract through its command line (pytesseract), for machines where tesserocr cannot be imported
(a Python or PC its wheels do not cover, a wheel whose bundled Tesseract will not load).

The same model, page segmentation, character whitelist and resolution as the in-process path; the
characters come back with their boxes and confidences from hOCR (``hocr_char_boxes``), so the zone
reader's per-character checks work unchanged. A process per call costs ~0.2 s, which is why the
in-process path is preferred wherever tesserocr can be imported.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kakari.errors import MissingDependency
from kakari.locate import tesseract_exe

HOCR_CLASS = {"ocr_line": "line", "ocr_textfloat": "line", "ocr_caption": "line", "ocr_header": "line",
              "ocrx_word": "word", "ocrx_cinfo": "char"}


@dataclass
class Symbol:
    """One character as Tesseract read it."""

    text: str
    conf: float  # 0..1
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in image pixels
    line_start: bool  # the first character of a text line
    word_start: bool  # the first character of a word


def in_process() -> bool:
    """True if tesserocr can be imported here (asked each time: a test may hide it)."""
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return False
    return True


def _command() -> str:
    exe = tesseract_exe()
    if exe is None:
        raise MissingDependency("tesseract コマンドが見つかりません",
                                fix="Tesseract をインストールするか、kakari.toml の [system] tesseract にパスを書いてください")
    return str(exe)


def symbols(image: np.ndarray, lang: str, psm: int, dpi: float, tessdata: Path, whitelist: str = "") -> list[Symbol]:
    """The characters Tesseract reads on a grey image (uint8, paper 255), in reading order."""
    import pytesseract
    from PIL import Image

    pytesseract.pytesseract.tesseract_cmd = _command()
    config = f'--psm {psm} --dpi {round(dpi)} --tessdata-dir "{tessdata}" -c hocr_char_boxes=1'
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


def orientation(image: np.ndarray, dpi: float, tessdata: Path) -> tuple[int, float] | None:
    """(degrees the content is turned clockwise, confidence) by Tesseract's OSD, None if it cannot tell."""
    import pytesseract
    from PIL import Image

    pytesseract.pytesseract.tesseract_cmd = _command()
    try:
        osd = pytesseract.image_to_osd(Image.fromarray(image), config=f'--psm 0 --dpi {round(dpi)} --tessdata-dir "{tessdata}"',
                                       output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError:  # too little text to tell
        return None
    return int(osd["orientation"]), float(osd["orientation_conf"])
