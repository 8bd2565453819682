"""Reading a masked file again, as anyone who receives it could: its structure (pikepdf), its text
(pdfplumber and pypdfium2) and its pixels (Tesseract jpn and eng). Anything that reads back a value
that was masked is a leftover: the file is not
released. Any run of 12 digits is one too, whatever its check digit and wherever it stands (a
number the finder missed, or misread so that its check digit fails, must not slip out), unless its
check digit fails and the other engines read that place as something else. Works on any PDF, so
a naive mask (a rectangle drawn over a text layer) is caught too."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bots.fields import my_number_check_digit
from bots.masking.find import SEPARATORS, Candidate, along, digit_runs, find_on_page, overlap, union
from bots.masking.spec import MaskSpec
from kakari.model import Box

if TYPE_CHECKING:
    from ocr.ppocr import Recogniser

VERIFY_DPI = 300
PAGE_KEYS = {"/Type", "/Parent", "/MediaBox", "/Resources", "/Contents"}
ROOT_KEYS = {"/Type", "/Pages"}
_RUN = re.compile(r"\d(?:[\d\s\-\u2010-\u2015\u2212\u30fc\uff0d]*\d)?")
_GROUP = re.compile(r"\d+")
MY_NUMBER_DIGITS = 12


@dataclass
class Leftover:
    page: int  # 0: the whole file
    where: str  # 構造, テキスト (pdfplumber), テキスト (pypdfium2), OCR (jpn), OCR (eng)
    what: str  # never the number itself
    box: Box | None = None

    def message(self) -> str:
        at = f"{self.page}ページ目の" if self.page else ""
        return f"{at}{self.where}: {self.what}"


def squeeze_digits(text: str) -> str:
    return "".join(ch for ch in text if ch not in SEPARATORS and not ch.isspace())


def valid_my_number(digits: str) -> bool:
    return len(digits) == 12 and digits.isascii() and digits.isdigit() and \
        my_number_check_digit(digits[:11]) == int(digits[11])


def holds_twelve(groups: Sequence[int]) -> bool:
    """Do consecutive groups of a digit run (1234 5678 9012, or 123456789012 written whole, or
    those followed by more digits on the same line) make up exactly 12 digits?"""
    for i in range(len(groups)):
        total = 0
        for g in groups[i:]:
            total += g
            if total == MY_NUMBER_DIGITS:
                return True
            if total > MY_NUMBER_DIGITS:
                break
    return False


def structure(path: Path) -> list[Leftover]:
    """Anything but pages of images: document info, XMP, annotations, forms, attachments, scripts."""
    import pikepdf

    out: list[Leftover] = []
    with pikepdf.open(path) as pdf:
        info = pdf.trailer.get("/Info")
        if info is not None and len(info.keys()):
            out.append(Leftover(0, "構造", "文書情報 (作成者・表題など) が残っています"))
        extra = set(pdf.Root.keys()) - ROOT_KEYS
        names = {"/Metadata": "XMP メタデータ", "/AcroForm": "フォーム欄", "/Names": "添付ファイル・スクリプトの名前表",
                 "/OpenAction": "開いたときの動作", "/AA": "自動実行の動作", "/Outlines": "しおり"}
        for key in sorted(extra):
            out.append(Leftover(0, "構造", f"{names.get(key, key)}が残っています"))
        for n, page in enumerate(pdf.pages, start=1):
            for key in sorted(set(page.obj.keys()) - PAGE_KEYS):
                what = {"/Annots": "注釈・リンク", "/AA": "自動実行の動作"}.get(key, key)
                out.append(Leftover(n, "構造", f"{what}が残っています"))
            resources = page.obj.get("/Resources") or {}
            for key in set(resources.keys()) - {"/XObject"}:
                out.append(Leftover(n, "構造", f"画像以外の資源 ({key}) が残っています"))
            for name, xobj in (resources.get("/XObject") or {}).items():
                if xobj.get("/Subtype") != "/Image":
                    out.append(Leftover(n, "構造", f"画像以外の描画要素 ({name}) が残っています"))
    return out


def text_layers(path: Path, values: Iterable[str]) -> list[Leftover]:
    """The file's text as pdfplumber and pypdfium2 extract it."""
    import pdfplumber
    import pypdfium2 as pdfium

    wanted = {squeeze_digits(v) for v in values if v}
    out: list[Leftover] = []
    with pdfplumber.open(path) as pdf:
        for n, page in enumerate(pdf.pages, start=1):
            text = "".join(c.get("text") or "" for c in page.chars)
            out += _in_text(text, wanted, n, "テキスト (pdfplumber)")
    doc = pdfium.PdfDocument(str(path))
    try:
        for n in range(len(doc)):
            page = doc[n]
            tp = page.get_textpage()
            out += _in_text(tp.get_text_range(), wanted, n + 1, "テキスト (pypdfium2)")
            tp.close()
            page.close()
    finally:
        doc.close()
    return out


def _in_text(text: str, wanted: set[str], page: int, where: str) -> list[Leftover]:
    out = []
    runs = {squeeze_digits(m.group(0)) for m in _RUN.finditer(unicode_digits(text))}
    if runs & wanted:
        out.append(Leftover(page, where, "墨塗りした番号が文字として読み取れます"))
    if any(valid_my_number(r) for r in runs):
        out.append(Leftover(page, where, "チェックデジットの合う12桁の番号が文字として残っています"))
    elif any(holds_twelve([len(g) for g in _GROUP.findall(m.group(0))]) for m in _RUN.finditer(unicode_digits(text))):
        out.append(Leftover(page, where, "12桁の番号が文字として残っています (チェックデジットは合いません)"))
    return out


def unicode_digits(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text)


def ocr_pages(path: Path, values: Iterable[str], tessdata: Path, kept: Sequence[Box] = (),
              models_dir: str | None = None, spec: MaskSpec | None = None) -> list[Leftover]:
    """Every page rendered and read by Tesseract (jpn with layout, then eng) and by PP-OCR: masked
    values and 12-digit runs must not be legible (except inside `kept`, areas a clerk decided are
    not personal numbers). With `spec`, nothing its patterns would mask may be read either."""
    import pypdfium2 as pdfium

    from ocr.pagetext import clean_page, ocr_lines, read_page
    from ocr.pplines import try_page_lines

    wanted = {squeeze_digits(v) for v in values if v}
    out: list[Leftover] = []
    doc = pdfium.PdfDocument(str(path))
    try:
        for n in range(len(doc)):
            page = doc[n]
            bitmap = page.render(scale=VERIFY_DPI / 72.0, grayscale=True)
            gray = np.asarray(bitmap.to_pil().convert("L"))
            bitmap.close()
            page.close()
            readings = [("OCR (jpn)", read_page(gray, VERIFY_DPI, tessdata, turns=0).lines),
                        ("OCR (eng)", ocr_lines(clean_page(gray, VERIFY_DPI), VERIFY_DPI, tessdata, "eng", 11)),
                        ("OCR (PP-OCR)", try_page_lines(gray, VERIFY_DPI, recogniser_for(models_dir)) or [])]
            for where, lines in readings:
                others = [other for w, other in readings if w != where]
                out += _in_lines(lines, wanted, n + 1, where, kept, spec, others)
    finally:
        doc.close()
    return out


def _in_lines(lines: Sequence[Sequence], wanted: set[str], page: int, where: str,
              kept: Sequence[Box], spec: MaskSpec | None = None,
              others: Sequence[Sequence[Sequence]] = ()) -> list[Leftover]:
    """What one reading of a page gives away. A 12-digit run whose check digit fails is no personal
    number when the `others` (the other engines' readings of the page) read that place as something
    else and none of them as 12 digits: one engine's misreading (年月日 read as digits by eng, a
    phone number read with a digit too many) must not keep a clean file back. A masked value, or a
    run whose check digit holds, counts whoever reads it."""
    out: list[Leftover] = []
    if spec is not None:  # what the finder itself would mask here, read with no doubt (基礎年金番号 …)
        for f in find_on_page(lines, spec, ocr=True)[0]:
            box = Box(page, f.box.x, f.box.y, f.box.w, f.box.h)
            if f.value and not f.problems and not any(_inside(box, k) for k in kept if k.page == page):
                out.append(Leftover(page, where, f"{f.label}が画像から読み取れます", box))
    for cand in digit_runs(lines, ocr=True):
        box = Box(page, cand.box.x, cand.box.y, cand.box.w, cand.box.h)
        if any(_inside(box, k) for k in kept if k.page == page):
            continue
        if cand.value in wanted:
            out.append(Leftover(page, where, "墨塗りした番号が画像から読み取れます", box))
        elif valid_my_number(cand.value):
            out.append(Leftover(page, where, "チェックデジットの合う12桁の番号が画像から読み取れます", box))
        elif _twelve(cand) and not _read_otherwise(cand.box, others):
            out.append(Leftover(page, where, "12桁の番号が画像から読み取れます (チェックデジットは合いません)", box))
    return out


def _twelve(cand: Candidate) -> bool:
    return len(cand.value) == MY_NUMBER_DIGITS or (len(cand.value) > MY_NUMBER_DIGITS and holds_twelve(cand.groups))


def _read_otherwise(box: Box, others: Sequence[Sequence[Sequence]]) -> bool:
    """Does another reading see text over most of `box`, and does none of them see 12 digits there
    (as one run, or a digit at a time)?"""
    seen = False
    for lines in others:
        if any(_twelve(c) and overlap(c.box, box) >= 0.5 for c in digit_runs(lines, ocr=True)):
            return False
        words = [w for line in lines for w in line if w.text.strip() and overlap(w.box, box) >= 0.5]
        if sum(ch.isdigit() for w in words for ch in unicode_digits(w.text)) == MY_NUMBER_DIGITS:
            return False
        if words and along(union([w.box for w in words]), box) >= 0.5:
            seen = True
    return seen


def _inside(inner: Box, outer: Box) -> bool:
    cx, cy = inner.x + inner.w / 2, inner.y + inner.h / 2
    return outer.contains_point(cx, cy)


def recogniser_for(models_dir: str | None) -> Recogniser:
    """The process's PP-OCR recogniser for the configured models folder (None: the wheel's)."""
    from kakari.config import OcrConfig
    from ocr.ppocr import recogniser

    return recogniser(OcrConfig(models_dir=models_dir))


def verify(path: Path, values: Iterable[str], tessdata: Path | None, kept: Sequence[Box] = (),
           ocr: bool = True, models_dir: str | None = None, spec: MaskSpec | None = None) -> list[Leftover]:
    """Every way the masked file could still give a number away, empty when there is none."""
    values = list(values)
    found = structure(path) + text_layers(path, values)
    if ocr and tessdata is not None:
        found += ocr_pages(path, values, tessdata, kept, models_dir, spec)
    return found
