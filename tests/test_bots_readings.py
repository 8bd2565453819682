"""A scanned フリガナ checked against its name's usual reading (bots/readings.py, janome's IPA
dictionary): a lost dakuten goes to the clerk, offered with the marks one engine read; any other
difference, and every typed value, is left as it is."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import bots
from bots.base import check_reading
from bots.readings import VOICING, usual_reading, voicing_only, with_marks
from kakari.config import KakariConfig
from kakari.model import Field


def test_the_usual_reading_of_a_name_comes_from_the_dictionary() -> None:
    assert usual_reading("鈴木　健一") == "スズキケンイチ"
    assert usual_reading("山﨑　紬") == "ヤマザキツムギ"  # a variant kanji is read as its common form
    assert usual_reading("颯太") is None  # not in the dictionary: nothing to check against
    assert usual_reading("すずき") is None  # no kanji: nothing to read


def test_only_a_difference_in_voicing_marks_counts() -> None:
    assert voicing_only("ススキケンイチ", "スズキケンイチ") == [1]
    assert voicing_only("ハンダ", "バンタ") == [0, 2]
    assert voicing_only("ヨウシ", "ヨウコ") == []  # another reading altogether (陽子)
    assert voicing_only("スズキ", "スズキ") == []
    assert with_marks("すすき　けんいち", "スズキケンイチ") == "スズキ ケンイチ"  # (NFKC: full-width forms folded)


SPEC = bots.registry.get("child_medical").template.fields["guardian_kana"]


@pytest.mark.parametrize("read, second, name, flagged, offered", [
    ("ススキ　ケンイチ", "ススキケンイチ", "鈴木　健一", True, "ススキ　ケンイチ"),  # both engines lost the mark
    ("すすき けんいち", "すずきけんいち", "鈴木　健一", True, "スズキ　ケンイチ"),  # Tesseract read it
    ("スズキ　ケンイチ", "スズキケンイチ", "鈴木　健一", False, "スズキ　ケンイチ"),
    ("ヨウコ", "ヨウコ", "陽子", False, "ヨウコ"),  # the dictionary's ヨウシ is another reading, not a lost mark
    ("ソウタ", "ゾウタ", "颯太", False, "ソウタ"),  # a name the dictionary does not know
])
def test_a_scanned_furigana_is_checked_against_its_name(read: str, second: str, name: str, flagged: bool,
                                                       offered: str) -> None:
    kana = Field("guardian_kana", "申請者フリガナ", value=read, raw=read, confidence=0.95)
    check_reading(kana, Field("guardian_name", "申請者氏名", value=name, raw=name), lambda: second, SPEC)
    assert (VOICING in kana.problems) == flagged
    assert kana.value == offered
    assert (kana.confidence < 0.8) == flagged


def _written(tmp_path: Path, kana: str) -> Path:
    """A child_medical form whose guardian is 鈴木 健一, his フリガナ written as `kana`."""
    from samples.generate import field_order, make_sample, render, truth_json
    from samples.layout import layout

    sample = make_sample("child_medical", 1, 42, None)
    sample.put("guardian_name", "鈴木　健一", "鈴木　健一")
    sample.put("guardian_kana", kana, kana)
    form = layout("child_medical")
    tmp_path.mkdir(parents=True, exist_ok=True)
    pdf = tmp_path / "child_medical_0001.pdf"
    render(sample, form, pdf)
    pdf.with_suffix(".json").write_text(truth_json(sample, field_order(form)), encoding="utf-8")
    return pdf


def test_a_scan_whose_furigana_lacks_its_dakuten_goes_to_the_clerk(tmp_path: Path) -> None:
    """Both engines read ススキ with full confidence on a clean scan (it is what is printed): only the
    name says the mark may be lost. Typed into a text layer, the same value is the applicant's own."""
    from ocr import read_document
    from samples.scanlike import scan_one

    bot = bots.registry.get("child_medical")
    pdf = _written(tmp_path, "ススキ　ケンイチ")
    typed = bot().read(read_document(pdf, KakariConfig()))
    assert VOICING not in typed.fields["guardian_kana"].problems
    scan = scan_one(pdf, tmp_path / "scan", 42, 300, profile="clean")
    assert json.loads(scan.with_suffix(".json").read_text(encoding="utf-8"))["fields"]["guardian_kana"] == "ススキ　ケンイチ"
    rec = bot().read(read_document(scan, KakariConfig()))
    kana = rec.fields["guardian_kana"]
    assert kana.value == "ススキ　ケンイチ" and VOICING in kana.problems
    assert rec.status == "要確認"
    right = bot().read(read_document(scan_one(_written(tmp_path / "b", "スズキ　ケンイチ"), tmp_path / "scan-b", 42,
                                              300, profile="clean"), KakariConfig()))
    assert right.fields["guardian_kana"].value == "スズキ　ケンイチ"
    assert VOICING not in right.fields["guardian_kana"].problems
