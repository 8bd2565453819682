"""Reading what a resident or a PC actually wrote, with the real engines on drawn crops: フリガナ typed in
half-width katakana, dakuten the recogniser reads as marks of their own, look-alikes whose script only
the other engine's reading can tell, a stroke read as a bracket. Each is offered as written; what is
unsure still goes to the clerk."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.ocr_evidence import covers
from ocr.normalise import canonical, drop_stray_brackets, join_sound_marks, kana_lookalikes, take_script
from ocr.ppocr import LineText, recogniser
from ocr.reader import (
    HALF_PITCH,
    HALF_STRETCH,
    ScanReader,
    ZoneEvidence,
    char_pitch,
    keep_sound_marks,
    spaced,
)
from ocr.tesseract import ZoneText, find_tessdata
from ocr.zones import space_cuts, split_at, text_spaces
from samples.fonts import font
from tests.test_ocr_trust import GOTHIC, NOTO, crop_of, field_of

MINCHO = str(font("ipa-mincho").path)


@pytest.fixture(scope="module")
def reader() -> ScanReader:
    return ScanReader(np.full((8, 8), 255, np.uint8), 300, recogniser(), find_tessdata())


def _fonts(text: str) -> list[str]:
    found = [f for f in (GOTHIC, MINCHO, NOTO) if Path(f).is_file() and covers(f, text)]
    if not found:
        pytest.skip("no installed font draws half-width katakana (scripts/install-system.sh installs fonts-ipafont)")
    return found


@pytest.mark.parametrize(("written", "truth"), [("ｺﾊﾞﾔｼ　ｱｵｲ", "コバヤシ　アオイ"), ("ｲﾄｳ　ﾘﾂ", "イトウ　リツ"),
                                                ("ﾀﾅｶ　ﾊﾙﾄ", "タナカ　ハルト"), ("ﾊｾｶﾞﾜ　ﾚﾝ", "ハセガワ　レン"),
                                                ("ｴﾝﾄﾞｳ　ﾏｲ", "エンドウ　マイ")])
def test_a_half_width_furigana_is_offered_as_the_katakana_written(reader: ScanReader, written: str, truth: str) -> None:
    # PP-OCR reads ｺﾊﾞﾔｼ unwidened as コバゼ and ｱｵｲ as 了オイ in Mincho faces: a clerk would retype them
    for f in _fonts(written):
        [ev] = reader.evidence([(crop_of(written, f), "kana")])
        field = field_of("child_medical", "child_kana", ev)
        assert field.value == truth, (Path(f).name, ev.text)


def test_half_width_kana_are_told_from_full_width_by_their_pitch(reader: ScanReader) -> None:
    # the rule that widens a line leaves every full-width フリガナ as it was read
    for f in _fonts("ｺﾊﾞﾔｼ"):
        for text, half in (("ｺﾊﾞﾔｼ　ｱｵｲ", True), ("コバヤシ　アオイ", False), ("こばやし　あおい", False),
                           ("ﾔﾏｻﾞｷ　ﾂﾑｷﾞ", True), ("ヤマザキ　ツムギ", False)):
            image = crop_of(text, f)
            parts = split_at(image, space_cuts(image, "kana")) or [image]
            read = [r.text for r in reader.recogniser.read(parts)]
            assert (char_pitch(list(zip(parts, read))) < HALF_PITCH) is half, (Path(f).name, text, read)


def test_a_full_width_furigana_reads_as_before(reader: ScanReader) -> None:
    [ev] = reader.evidence([(crop_of("ヤマザキ　ツムギ"), "kana")])
    assert field_of("child_medical", "child_kana", ev).value == "ヤマザキ　ツムギ"


def test_sound_marks_read_apart_are_joined_to_their_kana() -> None:
    assert kana_lookalikes("ヤマサ`キ ツムキ\"") == "ヤマザキ ツムギ"
    assert kana_lookalikes("ワタナヘ“ コハ'ヤシ") == "ワタナベ コバヤシ"
    assert kana_lookalikes("ﾊﾟﾝ ｶﾞｸ") == "パン ガク"  # half-width: the mark is a character of its own
    assert kana_lookalikes("スズ`キ") == "スズキ"  # already voiced: the mark read twice is dropped
    assert join_sound_marks("\"ア") == "\"ア"  # a mark with no kana before it is left for the validator


def test_a_dakuten_the_widened_reading_lost_is_kept_from_the_first() -> None:
    # widened, ｶﾞ faded into カ; the first reading saw ガ at the same place across the line
    wide = LineText("ハセカワ", (0.9,) * 4, (0.1, 0.35, 0.6, 0.85))
    first = LineText("ハセガワ", (0.5,) * 4, (0.12, 0.33, 0.62, 0.88))
    assert keep_sound_marks(wide, first).text == "ハセガワ"
    # another kana voiced nearby (コバゼ for ｺﾊﾞﾔｼ) is not the same kana: the widened reading stands
    wide = LineText("コバヤシ", (0.9,) * 4, (0.1, 0.35, 0.6, 0.85))
    first = LineText("コバゼ", (0.5,) * 3, (0.1, 0.4, 0.75))
    assert keep_sound_marks(wide, first).text == "コバヤシ"


def _evidence(kind: str, text: str, second: str, conf: float = 0.999) -> ZoneEvidence:
    ev = ZoneEvidence(kind, text, (conf,) * len(text.replace(" ", "")), crop_of(text.replace(" ", "")), None)
    ev._second = ZoneText(second, 0.99)
    ev._variants = []
    return ev


def test_a_look_alike_takes_the_script_the_other_engine_read() -> None:
    # PP-OCR reads ミー as 三ー (then 三一 after a kanji); Tesseract's language model reads ミート
    # (offered so, for the clerk: the engines still disagree on what PP-OCR read)
    f = field_of("restaurant_permit", "business_name", _evidence("text", "精肉店 東原三ート", "精肉店東原ミート"))
    assert f.value == "精肉店 東原ミート" and f.problems and f.confidence < 0.8
    # リ between hiragana and katakana: Tesseract's り settles it
    f = field_of("restaurant_permit", "applicant_name", _evidence("line", "株式会社みどリフーズ", "株式会社みどりフーズ"))
    assert f.value == "株式会社みどりフーズ" and f.problems
    # readings that differ in anything else: PP-OCR's stands, and the engines disagree
    f = field_of("restaurant_permit", "business_name", _evidence("text", "精肉店 東原三ート", "精肉店東原ミード"))
    assert f.problems and f.confidence < 0.8
    assert take_script("山田 太郎", "山田大郎") == "山田 太郎"


def test_a_handwritten_look_alike_still_goes_to_the_clerk_when_the_other_engine_settles_it() -> None:
    import bots
    from ocr.trust import HANDWRITTEN
    from tests.test_ocr_trust import _extract

    spec = bots.registry.get("restaurant_permit").template.fields["applicant_name"]
    spec = spec.model_copy(update={"handwritten": True})
    f = _extract("restaurant_permit", spec, _evidence("line", "株式会社みどリフーズ", "株式会社みどりフーズ"))
    assert f.value == "株式会社みどりフーズ" and HANDWRITTEN in f.problems and f.confidence < 0.8


def test_a_stroke_read_as_a_bracket_inside_a_word_is_dropped() -> None:
    f = field_of("child_medical", "address", _evidence("text", "若葉県みどり)町中央1丁目20番11号",
                                                       "若葉県みどり町中央1丁目20番11号"))
    assert f.value == "若葉県みどり町中央1丁目20番11号"
    assert drop_stray_brackets("(株)みどりフーズ") == "(株)みどりフーズ"  # paired: writing
    assert drop_stray_brackets("みどり町(中央)") == "みどり町(中央)"


def test_an_address_a_character_short_or_long_of_a_listed_place_is_offered_as_that_place() -> None:
    from bots.base import NOT_LISTED

    for read in ("若葉県どり町中央1丁目20番11号", "若葉県みどりり町中央1丁目20番11号"):  # み missing, り twice
        f = field_of("child_medical", "address", _evidence("text", read, read))
        assert f.value == "若葉県みどり町中央1丁目20番11号", read
        assert NOT_LISTED in f.problems and f.confidence < 0.8  # the list suggests, the clerk confirms


def test_a_day_whose_mark_is_read_as_11_is_offered_with_its_day_for_the_clerk() -> None:
    from bots.fields import DAY_AS_11

    # both engines read 24日 as 2411 (日's bars too faint to see): the only date it can be, never registered
    f = field_of("child_medical", "applied_on", _evidence("date", "令和7年3月2411", "令和7年3月2411"))
    assert f.value == "2025-03-24" and DAY_AS_11 in f.problems and f.confidence < 0.8
    f = field_of("child_medical", "applied_on", _evidence("date", "令和7年3月24日", "令和7年3月24日"))
    assert f.value == "2025-03-24" and DAY_AS_11 not in f.problems



@pytest.mark.parametrize(("written", "truth"), [("ｲﾄｳ　ﾘﾂ", "イトウ　リツ"), ("ﾀﾅｶ　ﾊﾙﾄ", "タナカ　ハルト")])
def test_tesseract_reads_a_half_width_furigana_widened_too(reader: ScanReader, written: str, truth: str) -> None:
    # unwidened, jpn reads ｲﾄｳ　ﾘﾂ as two or three stray kana: the engines could never agree on it
    for f in _fonts(written):
        [ev] = reader.evidence([(crop_of(written, f), "kana")])
        assert ev.stretch == HALF_STRETCH
        assert canonical(ev.second().text, "kana") == canonical(written, "kana"), (Path(f).name, ev.second().text)
        field = field_of("child_medical", "child_kana", ev)
        assert field.value == truth and not field.problems, (Path(f).name, field)


HACHI = font("hachi-maru-pop")  # its glyphs fill their em: a 全角スペース is narrower than the line is high


def test_a_space_in_free_text_is_found_where_it_stands_out(reader: ScanReader) -> None:
    path = str(HACHI.truetype())
    image = crop_of("中華そば　緑川", path)
    assert space_cuts(image, "text") == [] and len(text_spaces(image)[1]) == 1  # read whole, spaced at its gap
    [ev] = reader.evidence([(image, "text")])
    assert field_of("restaurant_permit", "business_name", ev).value == "中華そば 緑川", ev.text
    for text in ("カフェ・ド・ミドリ", "食堂みどり", "若葉県みどり町若松4丁目25番10号"):  # no space written
        assert text_spaces(crop_of(text, path)) == ([], []), text
    [ev] = reader.evidence([(crop_of("中華そば　緑川"), "text")])  # printed: a gap wider than the line is high
    assert field_of("restaurant_permit", "business_name", ev).value == "中華そば 緑川", ev.text


def test_a_space_goes_into_the_reading_where_its_gap_is() -> None:
    read = LineText("中華そばー緑川", (0.9,) * 7, (0.07, 0.2, 0.33, 0.46, 0.55, 0.72, 0.9))
    assert spaced(read, [(0.5, 0.6)]).text == "中華そば 緑川"  # ー was read from the blank
    assert spaced(read, []).text == read.text


def test_a_faint_stroke_is_ink_between_characters() -> None:
    # a thin 一 blurred to light grey is a character, not a gap a space could be read in
    import cv2

    image = cv2.GaussianBlur(crop_of("若葉県みどり町桜台一丁目24番地16", MINCHO), (0, 0), 1.6)
    image = np.where(image > 250, 255, image).astype(np.uint8)  # as clean_crop paints all but ink white
    assert space_cuts(image, "text") == []
