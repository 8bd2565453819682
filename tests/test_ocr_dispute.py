"""The ink as a third opinion where the engines read a character of a name differently (PP-OCR 紬,
Tesseract 細): registered only when each disputed character's own ink clearly prefers PP-OCR's
reading by the ratio fitted for the page's scan class and the dispute's group (kanji, a voicing
mark, other characters), on a printed page; otherwise the clerk sees the disagreement."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest

from benchmarks import calibrate_ocr
from ocr.dispute import KANJI, MARKS, OTHER, DisputeCheck, disputed, group, voicing_pair
from ocr.reader import ScanReader, ZoneEvidence
from ocr.tesseract import ZoneText
from ocr.trust import COARSE, COARSE_BELOW_DPI, DISAGREE, FINE, HANDWRITTEN, Policy, from_dict, load
from samples.fonts import font
from tests.test_ocr_trust import crop_of, reader  # noqa: F401  (the module's engines, loaded once)

WRITTEN = "佐藤　紬"  # Tesseract's jpn reads 紬 as 細 or 納 in these fonts; PP-OCR reads it right


def _policy() -> Policy:
    """The calibrated policy; where the calibration found no support for the ink's word on kanji of
    fine pages, a ratio that lets the mechanism be seen: ×1.0, the ink must side with PP-OCR (the
    fitted one is what production uses)."""
    p = load()
    if not math.isinf(p.dispute_ratio_of(KANJI, COARSE_BELOW_DPI, False)):
        return p
    return replace(p, dispute_ratios={**p.dispute_ratios, FINE: {**p.dispute_ratios.get(FINE, {}), KANJI: 1.0}})


def _ratios(fine: dict[str, float], coarse: dict[str, float] | None = None) -> Policy:
    """The calibrated policy with the ink held to these ratios per dispute group (absent: never)."""
    never = dict.fromkeys((KANJI, OTHER, MARKS), float("inf"))
    return replace(load(), dispute_ratio=float("inf"), dispute_marks_ratio=float("inf"),
                   dispute_ratios={FINE: {**never, **fine}, COARSE: {**never, **(coarse or {})}})


def _ratio_for(policy: Policy, ev: ZoneEvidence) -> float:
    return policy.dispute_ratio_of(group(ev.disputes()), ev.dpi, ev.bilevel)


def _read(reader: ScanReader, written: str, font_name: str) -> ZoneEvidence:  # noqa: F811
    [ev] = reader.evidence([(crop_of(written, str(font(font_name).path)), "line")])
    return ev


@pytest.mark.parametrize(("kind", "written", "second"), [("address", "若葉県みどり町桜台4丁目15番20号",
                                                            "若葉県みどり町桜台4丁目15番26号"),
                                                           ("text", "和菓子\u3000桜台堂", "和菓子桜台常")])
def test_a_disputed_address_or_text_the_ink_settles_is_registered(reader: ScanReader, kind: str, written: str,  # noqa: F811
                                                                  second: str) -> None:
    right = _read(reader, written, "noto-sans")
    ev = ZoneEvidence("line", right.text, (0.99,) * len(right.confs), right.image, None)
    ev._second = ZoneText(second, 0.9)  # Tesseract's misreading of one character
    [c] = ev.disputes()
    policy = _policy()
    d = policy.decide(kind, ev, False, lambda t: True)
    assert c.best == c.neural and d.registered == (c.ratio >= _ratio_for(policy, ev))
    # a digit (20番 or 26番) is a simple shape, judged by the ratio of other characters; 堂 or 常 by that of kanji
    g = group(ev.disputes())
    assert g == (OTHER if kind == "address" else KANJI)
    assert d.registered or g == OTHER  # the fitted ratio lets a clear preference between kanji through
    assert _ratios({g: 1.0}).decide(kind, ev, False, lambda t: True).registered
    assert not _ratios({x: 1.0 for x in (KANJI, OTHER, MARKS) if x != g}).decide(kind, ev, False, lambda t: True).registered


def test_only_a_character_or_two_of_the_same_length_is_a_dispute() -> None:
    assert disputed("佐藤 紬", "佐藤細", "line") == [(3, "紬", "細")]
    assert disputed("佐藤 紬", "佐藤紬", "line") == []
    assert disputed("佐藤 紬", "佐藤細子", "line") == []  # not the same length: not one misread character
    assert disputed("イトウ ナオミ", "いとう なおみ", "kana") == []  # the same kana after folding


@pytest.mark.parametrize("font_name", ["noto-sans", "sawarabi-gothic"])
def test_a_disputed_name_the_ink_settles_is_registered(reader: ScanReader, font_name: str) -> None:  # noqa: F811
    ev = _read(reader, WRITTEN, font_name)
    [c] = ev.disputes()
    assert (c.neural, c.best) == ("紬", "紬") and c.second != "紬"  # the engines differ; the ink says 紬
    policy = _policy()
    d = policy.decide("name", ev, False, lambda t: True)
    assert d.registered == (c.ratio >= _ratio_for(policy, ev))
    assert not d.registered or d.text == "佐藤 紬"
    # handwritten: always to the clerk
    hand = policy.decide("name", ev, True, lambda t: True)
    assert not hand.registered and hand.problem == HANDWRITTEN
    # a page scanned coarser than the policy's fine pages is held to the coarse pages' ratio
    coarse = replace(ev, dpi=COARSE_BELOW_DPI - 100, _disputes=None)
    assert not _ratios({KANJI: 1.0}).decide("name", coarse, False, lambda t: True).registered
    assert _ratios({}, {KANJI: 1.0}).decide("name", coarse, False, lambda t: True).registered


def test_a_dispute_the_ink_does_not_settle_goes_to_review(reader: ScanReader) -> None:  # noqa: F811
    # 細 drawn, PP-OCR's reading taken as 紬 and Tesseract's as 細: the ink sides with Tesseract
    drawn = _read(reader, "佐藤　細", "noto-sans")
    ev = ZoneEvidence("line", "佐藤 紬", (0.99,) * 3, drawn.image, None)
    ev._second = ZoneText("佐藤細", 0.9)
    [c] = ev.disputes()
    assert c.best == "細"
    d = _policy().decide("name", ev, False, lambda t: True)
    assert not d.registered and d.problem == DISAGREE
    # and a ratio above what the ink shows leaves even a dispute it prefers to the clerk
    settled = _read(reader, WRITTEN, "noto-sans")
    [s] = settled.disputes()
    strict = _ratios({KANJI: s.ratio * 1.01})
    d = strict.decide("name", settled, False, lambda t: True)
    assert not d.registered and d.problem == DISAGREE


def test_a_dispute_in_a_voicing_mark_only_has_a_ratio_of_its_own(reader: ScanReader) -> None:  # noqa: F811
    assert voicing_pair("す", "ズ") and voicing_pair("ﾊﾟ", "ハ") and voicing_pair("ザ", "サ")
    assert not voicing_pair("紬", "細") and not voicing_pair("す", "ス") and not voicing_pair("ゲ", "グ")
    # すずき drawn; PP-OCR's reading taken as すすき (a dropped dakuten), Tesseract's as すずき
    drawn = _read(reader, "すずき　まい", "noto-sans")
    ev = ZoneEvidence("kana", "すすき まい", (0.99,) * 3, drawn.image, None)
    ev._second = ZoneText("すずきまい", 0.9)
    [c] = ev.disputes()
    assert c.marks_only and (c.neural, c.second) == ("す", "ズ")
    # whatever the ratio for other characters, a mark dispute is held to its own (never: to the clerk)
    lax = _ratios({KANJI: 0.0, OTHER: 0.0})
    d = lax.decide("kana", ev, False, lambda t: True)
    assert not d.registered and d.problem == DISAGREE


def test_one_shape_in_two_scripts_is_never_settled_by_the_ink(reader: ScanReader) -> None:  # noqa: F811
    # ミート drawn; PP-OCR's reading taken as 三ート, Tesseract's as ミート: whichever the ink prefers,
    # the two drawings hardly differ, so the text goes to the clerk
    drawn = _read(reader, "東原ミート", "noto-sans")
    ev = ZoneEvidence("line", "東原三ート", (0.99,) * 5, drawn.image, None)
    ev._second = ZoneText("東原ミート", 0.9)
    [c] = ev.disputes()
    assert c.drawn_alike and not c.marks_only
    lax = _ratios(dict.fromkeys((KANJI, OTHER, MARKS), 0.0))
    d = lax.decide("text", ev, False, lambda t: True)
    assert not d.registered and d.problem == DISAGREE
    # り drawn, PP-OCR's リ: a hiragana and its katakana twin are the same case
    drawn = _read(reader, "みどりフーズ", "noto-sans")
    ev = ZoneEvidence("line", "みどリフーズ", (0.99,) * 6, drawn.image, None)
    ev._second = ZoneText("みどりフーズ", 0.9)
    [c] = ev.disputes()
    assert c.drawn_alike
    d = lax.decide("name", ev, False, lambda t: True)
    assert not d.registered and d.text == "みどりフーズ"


def test_without_disputes_judged_in_the_records_the_ink_is_never_trusted() -> None:
    # records made before the judgement existed carry none: the fit has nothing to hold it to
    assert calibrate_ocr.fit_dispute_ratio([], load()) is None


def _disputed_record(font_name: str, truth: str, pref: float, hand: bool = False, conf: float = 0.9):  # noqa: ANN202
    """PP-OCR 紬, Tesseract 細; the ink prefers 紬 by `pref` (below 1: 細 by 1/pref)."""
    from benchmarks.ocr_evidence import Record

    return Record(f"{font_name}/{truth}", font_name, "printed", False, 300, "clean", "child_medical", "child_name",
                  "name", "name", hand, truth, "佐藤 紬", conf, "佐藤細", 0.9,
                  disputes=[(3, "紬", "細", "紬", pref) if pref >= 1 else (3, "紬", "細", "細", 1 / pref)])


def test_the_dispute_ratio_is_fitted_above_the_wrong_readings_of_every_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibrate_ocr, "SUPPORT", 3)
    from ocr.trust import from_dict

    rules = from_dict({"rules": {"name": {"agree": 0.5, "second": 0.0}}})
    right = [_disputed_record(f, "佐藤　紬", 9.0) for f in "cdefg"]
    wrong = [_disputed_record("a", "佐藤　細", 2.0), _disputed_record("b", "佐藤　細", 2.05)]
    t = calibrate_ocr.fit_dispute_ratio(right + wrong, rules)
    assert t == pytest.approx(2.05 * 1.05, abs=1e-3)
    # handwritten readings and those PP-OCR is unsure of are not the policy's to register: not fitted on
    ignored = [_disputed_record("h", "佐藤　細", 8.0, hand=True), _disputed_record("l", "佐藤　細", 8.0, conf=0.3)]
    assert calibrate_ocr.fit_dispute_ratio(right + wrong + ignored, rules) == t
    # a font whose wrong reading the other fonts' ratio would let through: never
    assert calibrate_ocr.fit_dispute_ratio([*right, wrong[0], _disputed_record("b", "佐藤　細", 6.0)], rules) is None


def test_a_right_reading_also_counts_as_the_wrong_one_with_the_engines_swapped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibrate_ocr, "SUPPORT", 3)
    from ocr.trust import from_dict

    rules = from_dict({"rules": {"name": {"agree": 0.5, "second": 0.0}}})
    # no wrong reading at all, but in font "b" the ink preferred the wrong candidate (細) by ×1.6
    # where PP-OCR read 紬 right: had PP-OCR read 細, the ink would have let it through below ×1.6
    right = [_disputed_record(f, "佐藤　紬", 9.0) for f in "acdef"]
    weak = _disputed_record("b", "佐藤　紬", 1 / 1.6)
    assert calibrate_ocr.fit_dispute_ratio(right, rules) == 1.0  # at least: the ink prefers PP-OCR's character
    assert calibrate_ocr.fit_dispute_ratio([*right, weak], rules) is None  # no other font foresaw ×1.6
    weak_too = _disputed_record("c", "佐藤　紬", 1 / 1.58)  # foreseen: each font within 5 % of the other
    assert calibrate_ocr.fit_dispute_ratio([*right, weak, weak_too], rules) == pytest.approx(1.6 * 1.05, abs=1e-3)
    # a voicing-mark dispute is fitted apart: none among these records, so never
    assert calibrate_ocr.fit_dispute_ratio([*right, weak, weak_too], rules, MARKS) is None
    assert calibrate_ocr.fit_dispute_ratio([*right, weak, weak_too], rules, OTHER) is None


def test_disputes_are_grouped_by_what_the_ink_can_tell_apart() -> None:
    def checks(*pairs: tuple[str, str]) -> list[DisputeCheck]:
        return [DisputeCheck(i, a, b, a, 2.0) for i, (a, b) in enumerate(pairs)]

    assert group(checks(("紬", "細"))) == group(checks(("也", "志"), ("堂", "常"))) == KANJI
    assert group(checks(("ユ", "コ"))) == group(checks(("0", "6"))) == OTHER
    assert group(checks(("紬", "細"), ("ユ", "コ"))) == OTHER  # one simple shape: the weaker judgement
    assert group(checks(("す", "ず"))) == group(checks(("紬", "細"), ("ハ", "パ"))) == MARKS


def test_each_scan_class_and_group_is_fitted_on_its_own_disputes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calibrate_ocr, "SUPPORT", 3)
    rules = from_dict({"rules": {"name": {"agree": 0.5, "second": 0.0}},
                       "coarse_rules": {"name": {"agree": 0.5, "second": 0.0}}})
    fine = [_disputed_record(f, "佐藤　紬", 9.0) for f in "abcde"]
    # on coarse pages two fonts' ink preferred PP-OCR's wrong 紬 (細 drawn) by ×2.0 and ×2.05
    coarse = [replace(r, dpi=200.0) for r in [*(_disputed_record(f, "佐藤　紬", 9.0) for f in "abcde"),
                                             _disputed_record("a", "佐藤　細", 2.0),
                                             _disputed_record("b", "佐藤　細", 2.05)]]
    ratios = calibrate_ocr.fit_dispute_ratios(fine + coarse, rules)
    assert ratios[FINE][KANJI] == 1.0  # no wrong judgement near: the ink must prefer PP-OCR's character
    assert ratios[COARSE][KANJI] == pytest.approx(2.05 * 1.05, abs=1e-3)
    assert ratios[FINE][OTHER] is None and ratios[COARSE][MARKS] is None  # nothing of theirs in the corpus
    policy = from_dict({"rules": {}, "dispute_ratios": ratios})
    assert policy.dispute_ratio_of(KANJI, 300, False) == 1.0
    assert policy.dispute_ratio_of(KANJI, 200, False) == pytest.approx(2.153, abs=1e-3)
    assert math.isinf(policy.dispute_ratio_of(KANJI, 300, True))  # black and white: not fitted, never
    # a calibration made before the groups trusts the ink on fine pages only, with its one ratio
    older = from_dict({"rules": {}, "dispute_ratio": 1.3, "dispute_marks_ratio": None})
    assert older.dispute_ratio_of(OTHER, 300, False) == 1.3 and math.isinf(older.dispute_ratio_of(MARKS, 300, False))
    assert math.isinf(older.dispute_ratio_of(KANJI, 200, False))
