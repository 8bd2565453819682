"""Render-and-compare with real Tesseract: look-alike kanji the model cannot output, digit groups
settled by drawing (a third opinion next to jpn and eng), repaired spellings and half-width katakana.
Crops are drawn here with the IPA fonts at 11 pt / 300 dpi, the way a cleaned zone reaches the reader."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.glyphs import FONTS, verify
from ocr.numbers import settle
from ocr.repair import contest, repair
from ocr.tesseract import _read_digit_piece, decimal_point, find_tessdata, read_clean

GOTHIC = FONTS[0]
PX = round(11 / 72 * 300)


@pytest.fixture(scope="module")
def tessdata() -> Path:
    td = find_tessdata()
    assert td is not None, "jpn.traineddata missing: make install sets up tesseract-ocr-jpn"
    return td


def crop_of(text: str, font: str = GOTHIC) -> np.ndarray:
    """A cleaned zone: `text` in black on white, trimmed to its ink with a 12 px margin."""
    f = ImageFont.truetype(font, PX)
    im = Image.new("L", (PX * (len(text) + 4), PX * 3), 255)
    ImageDraw.Draw(im).text((PX, PX), text, fill=0, font=f)
    a = np.asarray(im)
    ys, xs = np.nonzero(a < 128)
    return np.pad(a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], 12, constant_values=255)


def test_a_kanji_the_model_cannot_output_is_found_by_drawing() -> None:
    # jpn has no 髙: it reads 高 with high confidence; the drawing prefers the real character
    assert verify(crop_of("髙橋"), "高橋").text == "髙橋"
    assert verify(crop_of("高橋"), "高橋").text == "高橋"


def test_a_date_jpn_misread_is_settled_by_the_drawing_and_eng(tessdata: Path) -> None:
    image = crop_of("平成7年10月17日")
    s = settle(image, "平成7年19月17日", ["平成7年19月17日"], lambda c: _read_digit_piece(c, tessdata))
    assert s is not None and s.text == "平成7年10月17日"
    assert s.trusted  # the drawing's 10 is what eng read in those columns


def test_the_drawing_alone_is_not_trusted() -> None:
    image = crop_of("平成7年10月17日")
    s = settle(image, "平成7年19月17日", ["平成7年19月17日"])  # no model read 10
    assert s is not None and s.text == "平成7年10月17日"
    assert not s.trusted


def test_dates_printed_with_spaces_around_the_numbers(tessdata: Path) -> None:
    image = crop_of("平成 27 年 9 月 1 日")
    s = settle(image, "平成27年9月1日", ["平成27年9月1日"], lambda c: _read_digit_piece(c, tessdata))
    assert s is not None and s.text == "平成27年9月1日" and s.trusted


def test_an_amount_read_with_doubt_is_confirmed(tessdata: Path) -> None:
    res = read_clean(crop_of("16,000"), "amount", tessdata)
    assert res.text == "16,000"
    assert res.raw >= 0.8  # eng's doubt about the digit after the comma is settled by the drawing


def test_a_decimal_point_read_as_a_comma() -> None:
    # 71,7 would be registered as 717 ㎡; the drawing tells a point from a comma
    assert decimal_point(crop_of("71.7"), "71,7") == ("71.7", 1.0)
    text, cap = decimal_point(crop_of("71,7"), "71,7")  # a comma really written: offered, not trusted
    assert text == "71.7" and cap < 0.8


def test_a_misread_name_is_repaired_but_not_trusted(tessdata: Path) -> None:
    fixed, fit = repair(crop_of("蓮"), "運")
    assert fixed == "蓮" and fit >= 0.8
    text, margin = contest(crop_of("颯太"), "飆太", [0])  # a look-alike chosen from too few candidates
    assert text == "颯太" and margin > 0


def test_half_width_katakana(tessdata: Path) -> None:
    res = read_clean(crop_of("ｺﾊﾞﾔｼ"), "kana", tessdata)
    assert res.text == "コバヤシ"


def test_a_clean_word_psm7_drops_is_still_read(tessdata: Path) -> None:
    for word in ("炭火焼鳥", "恵子", "とり吉"):
        assert read_clean(crop_of(word), "text", tessdata).text == word
