"""Whole-page reading by PP-OCR (the bundled models): digits one to a printed box come back as one
line in reading order with their places on the page, sideways margin numbers are read turned, and a
page given upside down is told from an upright one."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bots.masking.find import digit_runs
from kakari.model import Box
from ocr.pplines import page_lines, upside_down
from ocr.ppocr import recogniser
from ocr.preprocess import rot90

DPI = 300


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    from samples.masking import GOTHIC, PAGE_H, PT, Sheet, Truth

    path = tmp_path_factory.mktemp("pplines") / "boxes.pdf"
    sheet = Sheet(path, Truth("boxes", "boxes"))
    sheet.text(20, 40, "転入届　みどり町中央1丁目3番2号　山田 花子", 12)
    sheet.text(20, 60, "記入欄", 12)
    for i, d in enumerate("305968774120"):
        sheet.rect(50 + 8 * i, 53, 8, 9)
        sheet.text(52.3 + 8 * i, 60, d, 12)
    sheet.text(20, 80, "お問い合わせは住民課までお願いします。", 12)
    sheet.c.saveState()
    sheet.c.translate(12 / PT, (PAGE_H - 200) / PT)
    sheet.c.rotate(90)  # running up the left margin
    sheet.c.setFont(GOTHIC, 10)
    sheet.c.drawString(0, 0, "整理番号 4821 0937 5566")
    sheet.c.restoreState()
    return _rendered(sheet, path)


def _rendered(sheet: Any, path: Path) -> np.ndarray:
    """The sheet saved and its first page as a grey image at DPI."""
    import pypdfium2 as pdfium

    sheet.save()
    doc = pdfium.PdfDocument(str(path))
    img = doc[0].render(scale=DPI / 72, grayscale=True).to_pil().convert("L")
    doc.close()
    return np.asarray(img)


def _runs(lines: list) -> dict[str, Box]:
    return {c.value: c.box for c in digit_runs(lines, ocr=True) if len(c.value) >= 6}


def test_digits_in_boxes_come_back_as_one_run_where_they_are(page: np.ndarray) -> None:
    runs = _runs(page_lines(page, DPI, recogniser()))
    assert "305968774120" in runs, runs
    box = runs["305968774120"]
    assert 48 <= box.x <= 53 and 140 <= box.x1 <= 148 and box.y >= 52 and box.y1 <= 63, box


def test_a_sideways_number_is_read_turned(page: np.ndarray) -> None:
    runs = _runs(page_lines(page, DPI, recogniser()))
    assert "482109375566" in runs, runs
    box = runs["482109375566"]
    assert box.h > 3 * box.w and 5 <= box.x <= 14, box


def test_an_upside_down_page_is_told_from_an_upright_one(page: np.ndarray) -> None:
    rec = recogniser()
    assert not upside_down(page, DPI, rec)
    assert upside_down(rot90(page, 2), DPI, rec)


@pytest.fixture(scope="module")
def row_page(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """A table row (a date cell, then a 個人番号 cell) and a phone number after its word."""
    from samples.masking import Sheet, Truth

    path = tmp_path_factory.mktemp("pplines") / "row.pdf"
    sheet = Sheet(path, Truth("row", "table"))
    sheet.text(20, 40, "氏名　山崎 愛", 10)
    sheet.text(90, 40, "1971/02/11", 10)
    sheet.text(120, 40, "263425117085", 10)
    sheet.text(20, 60, "電話　022-4209-8813", 10)
    return _rendered(sheet, path)


def test_cells_of_a_row_stay_apart_and_a_word_stays_with_its_number(row_page: np.ndarray) -> None:
    """Two texts the detector found a column apart are not joined into one line (the date's last
    digits would run into the number, and the mask with them); a word and the number after it, a
    word space apart, are one line (電話 labels its number)."""
    lines = page_lines(row_page, DPI, recogniser())
    runs = {c.value: c for c in digit_runs(lines, ocr=True) if len(c.value) >= 6}
    assert "263425117085" in runs, list(runs)
    assert runs["263425117085"].box.x >= 118, runs["263425117085"].box
    phone = runs.get("02242098813")
    assert phone is not None, list(runs)
    assert "話" in "".join(w.text for w in phone.words_before), phone.words_before
