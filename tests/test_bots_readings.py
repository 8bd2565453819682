"""A scanned フリガナ checked against its name's usual reading (bots/readings.py, janome's IPA
dictionary): a lost dakuten goes to the clerk, offered with the marks one engine read; any other
difference, and every typed value, is left as it is. And the other way round: a registered フリガナ
settles a name the engines read differently, for the reading it is a reading of, and tells a
name that lost the space between surname and given name."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import bots
from bots.base import check_reading
from bots.readings import (
    UNSPACED,
    VOICING,
    is_reading,
    lost_space,
    settles_kana,
    settles_name,
    squeezed,
    usual_reading,
    voicing_only,
    with_marks,
)
from kakari.config import KakariConfig
from kakari.model import Field
from ocr.reader import ScanReader
from tests.test_ocr_trust import crop_of, reader  # noqa: F401  (the module's engines, loaded once)


def test_the_usual_reading_of_a_name_comes_from_the_dictionary() -> None:
    assert usual_reading("鈴木　健一") == "スズキケンイチ"
    assert usual_reading("山﨑　紬") == "ヤマザキツムギ"  # a variant kanji is read as its common form
    assert usual_reading("颯太") is None  # not in the dictionary: nothing to check against
    assert is_reading("イトウヨウコ", "伊藤　陽子") and is_reading("イトウヨウシ", "伊藤　陽子")  # a given name, a noun
    assert is_reading("ヤマサキツムギ", "山﨑　紬") and not is_reading("ヤマサキ", "山﨑　紬")
    assert not is_reading("スズキ", "すずき")
    assert usual_reading("すずき") is None  # no kanji: nothing to read


def test_only_a_difference_in_voicing_marks_counts() -> None:
    assert voicing_only("ススキケンイチ", "スズキケンイチ") == [1]
    assert voicing_only("ハンダ", "バンタ") == [0, 2]
    assert voicing_only("ヨウシ", "ヨウコ") == []  # another reading altogether (陽子)
    assert voicing_only("スズキ", "スズキ") == []
    assert with_marks("すすき　けんいち", "スズキケンイチ") == "スズキ ケンイチ"  # (NFKC: full-width forms folded)


@pytest.mark.parametrize("read, other, kana, settles", [
    ("山崎 紬", "山崎細", "ヤマザキ　ツムギ", True),  # Tesseract's 細 for 紬
    ("山崎細", "山崎 紬", "ヤマザキ　ツムギ", False),  # the フリガナ sides with the other engine
    ("山崎 紬", "山﨑 紬", "ヤマザキ　ツムギ", False),  # a variant reads alike: the フリガナ cannot tell them apart
    ("山崎 紬", "山崎細", "ヤマサキ　ツムギ", True),  # another reading of 山崎
    ("山崎 紬", "山崎細", "ヤマモト　ツムギ", False),  # a reading the dictionary does not give says nothing
    ("山崎 紬", "山崎細", "", False),
    ("颯太", "諷太", "ソウタ", False),  # a name the dictionary does not know
])
def test_a_furigana_settles_a_name_only_for_the_reading_it_is(read: str, other: str, kana: str, settles: bool) -> None:
    assert settles_name(read, other, kana) == settles


@pytest.mark.parametrize("read, other, name, settles", [
    ("ワタナベ　タカシ", "ワタナべベタカシ", "渡辺　隆", True),  # Tesseract read a ベ twice
    ("フジタ ユミ", "フジタコユミ", "藤田　由美", True),
    ("ワタナべベタカシ", "ワタナベ　タカシ", "渡辺　隆", False),  # the name sides with the other engine
    ("ヤマザキ　ツムギ", "ヤマサキ　ツムギ", "山崎　紬", False),  # a voicing mark: ヤマサキ is a real reading too
    ("イトウ　ヨウコ", "イトウヨウコユ", "伊藤　陽子", True),  # a given name's reading, not the noun's ヨウシ
    ("イトウヨウコユ", "イトウ　ヨウコ", "伊藤　陽子", False),
    ("ソウタ", "ソワタ", "颯太", False),  # a name the dictionary does not know
])
def test_a_name_settles_its_furigana_only_for_the_reading_it_has(read: str, other: str, name: str,
                                                                  settles: bool) -> None:
    assert settles_kana(read, other, name) == settles


def test_a_furigana_the_engines_read_differently_is_registered_when_its_name_sides_with_it(
        reader: ScanReader) -> None:  # noqa: F811
    """A real crop of ワタナベ　タカシ read by PP-OCR, Tesseract's reading taken as ワタナべベタカシ (a
    character read twice): registered beside the registered 渡辺　隆 where the policy lets the name
    settle a フリガナ on such a page, to the clerk otherwise, or beside a name in doubt."""
    from dataclasses import replace

    from bots.base import settle_kana
    from ocr.tesseract import ZoneText
    from ocr.trust import DISAGREE, FINE, load
    from samples.fonts import font

    [ev] = reader.evidence([(crop_of("ワタナベ　タカシ", str(font("noto-sans").path)), "kana")])
    ev._second = ZoneText("ワタナべベタカシ", 0.9)
    spec = bots.registry.get("child_medical").template.fields["guardian_kana"]
    on, off = replace(load(), name_settles=(FINE,)), replace(load(), name_settles=())

    def settled(policy: object, name_problems: list[str]) -> Field:
        decided = policy.decide("kana", ev, False, lambda t: True)  # type: ignore[attr-defined]
        assert not decided.registered and decided.problem == DISAGREE
        kana = Field("guardian_kana", "", value=decided.text, raw=decided.text, problems=[DISAGREE],
                     confidence=decided.confidence)
        name = Field("guardian_name", "", value="渡辺　隆", raw="渡辺　隆", problems=name_problems)
        settle_kana(kana, name, ev, spec, policy)  # type: ignore[arg-type]
        return kana

    kana = settled(on, [])
    assert kana.problems == [] and kana.confidence >= 0.85 and squeezed(kana.raw) == "ワタナベタカシ"
    assert settled(off, []).problems == [DISAGREE]
    assert settled(on, [DISAGREE]).problems == [DISAGREE]  # a name in doubt settles nothing


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


def _written(tmp_path: Path, kana: str, name: str = "鈴木　健一", field: str = "guardian") -> Path:
    """A child_medical form whose guardian (or child) is `name`, the フリガナ written as `kana`."""
    from samples.generate import field_order, make_sample, render, truth_json
    from samples.layout import layout

    sample = make_sample("child_medical", 1, 42, None)
    sample.put(f"{field}_name", name, name)
    sample.put(f"{field}_kana", kana, kana)
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


@pytest.mark.parametrize("kana, settled", [("ヤマザキ　ツムギ", True), ("ヤマザキ　ツム", False)])
def test_a_name_the_engines_read_differently_is_registered_when_its_furigana_sides_with_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kana: str, settled: bool) -> None:
    """On a clean scan Tesseract reads the child's 山﨑 紬 as 山崎細 and PP-OCR as 山崎 紬 (the ink
    then says 﨑); the フリガナ both engines read alike is a reading of PP-OCR's name only. Where the フリガナ is
    a reading the dictionary does not give, the disagreement goes to the clerk as before."""
    from dataclasses import replace

    from benchmarks.calibrate_ocr import no_disputes
    from bots import base
    from ocr import read_document
    from ocr.trust import DISAGREE, FINE, load
    from samples.scanlike import scan_one

    # the ink's judgement of the disputed 紬/細 shut, so that only the フリガナ can settle the name
    shipped = no_disputes(load())
    monkeypatch.setattr(base, "trust_policy", lambda: replace(shipped, reading_settles=(FINE,)))
    scan = scan_one(_written(tmp_path, kana, "山﨑　紬", "child"), tmp_path / "scan", 42, 300, profile="clean")
    rec = bots.registry.get("child_medical")().read(read_document(scan, KakariConfig()))
    name, furigana = rec.fields["child_name"], rec.fields["child_kana"]
    assert furigana.value == kana and not furigana.problems
    assert name.value == "山﨑　紬"
    assert (DISAGREE not in name.problems) == settled
    assert not name.problems if settled else name.confidence < 0.8, name.problems
    monkeypatch.setattr(base, "trust_policy", lambda: replace(shipped, reading_settles=()))
    rec = bots.registry.get("child_medical")().read(read_document(scan, KakariConfig()))
    assert DISAGREE in rec.fields["child_name"].problems  # not fitted for such pages: the clerk decides


@pytest.mark.parametrize("name, kana, offered", [
    ("林浩二", "ハヤシ　コウジ", "林\u3000浩二"),  # split where the surname's reading ends
    ("森颯太", "モリ ソウタ", "森\u3000颯太"),
    ("林浩二", "リン　コウジ", "林\u3000浩二"),  # another reading of 林
    ("林浩二", "モリ　コウジ", "林浩二"),  # no split gives the フリガナ: to the clerk as read
    ("林　浩二", "ハヤシ　コウジ", None),
    ("林浩二", "ハヤシコウジ", None),  # written as one word, read as one
    ("株式会社みどりフーズ", "カブシキガイシャ　ミドリフーズ", None),  # a corporation has no surname
])
def test_a_name_read_as_one_word_beside_a_furigana_of_two_lost_its_space(name: str, kana: str,
                                                                        offered: str | None) -> None:
    assert lost_space(name, kana) == offered


def test_a_scanned_name_without_the_space_its_furigana_has_goes_to_the_clerk(tmp_path: Path) -> None:
    """Written 林浩二 beside ハヤシ　コウジ: on a scan, the reader cannot tell a lost space from one never
    written, so the clerk sees it, offered split; typed into a text layer, it is the applicant's own."""
    from ocr import read_document
    from samples.scanlike import scan_one

    bot = bots.registry.get("child_medical")
    pdf = _written(tmp_path, "ハヤシ　コウジ", "林浩二")
    typed = bot().read(read_document(pdf, KakariConfig())).fields["guardian_name"]
    assert typed.value == "林浩二" and UNSPACED not in typed.problems
    scan = scan_one(pdf, tmp_path / "scan", 42, 300, profile="clean")
    rec = bot().read(read_document(scan, KakariConfig()))
    name = rec.fields["guardian_name"]
    assert UNSPACED in name.problems and name.value == "林\u3000浩二" and name.confidence < 0.8
    assert rec.status == "要確認"
