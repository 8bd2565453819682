"""samples/generate.py: reproducible bytes, complete ground truth, a real text layer, synthetic people only."""
from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from pathlib import Path

import pdfplumber
import pytest

from samples import generate as g
from samples.layout import PT, layout

ROOT = Path(__file__).resolve().parents[1]
FORMS = ("child_medical", "restaurant_permit")
NAME_FIELDS = {
    "child_medical": ["guardian_name", "child_name"],
    "restaurant_permit": ["representative", "manager_name"],
}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    g.generate(out, 20, seed=7)
    return out


def _truths(out: Path, form: str) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / form).glob(f"{form}_*.json"))]


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = g.generate(tmp_path / "a", 3, seed=11)
    g.generate(tmp_path / "b", 3, seed=11)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 2 * (3 * 2 + 1)  # pdf + json each, and a blank per form
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    c = g.generate(tmp_path / "c", 3, seed=12)
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


def test_a_document_does_not_depend_on_the_count(tmp_path: Path) -> None:
    g.generate(tmp_path / "few", 2, seed=5, forms=["restaurant_permit"])
    g.generate(tmp_path / "many", 12, seed=5, forms=["restaurant_permit"])
    for name in ("restaurant_permit_0001.pdf", "restaurant_permit_0002.json"):
        few = (tmp_path / "few" / "restaurant_permit" / name).read_bytes()
        assert few == (tmp_path / "many" / "restaurant_permit" / name).read_bytes()
    assert not (tmp_path / "few" / "child_medical").exists()


@pytest.mark.parametrize("form", FORMS)
def test_ground_truth_has_every_template_field(samples: Path, form: str) -> None:
    template = tomllib.loads((ROOT / "bots" / f"{form}.toml").read_text(encoding="utf-8"))
    names = set(template["fields"])
    truths = _truths(samples, form)
    assert len(truths) == 20
    for t in truths:
        assert t["form"] == form
        assert set(t["fields"]) == names
        assert t["expected_status"] in ("自動登録", "要確認")
        assert (t["expected_status"] == "要確認") == (t["defect"] is not None)
    # the layout the generator draws from names exactly the template's fields too
    f = layout(form)
    assert set(f.slots) | {o.field for o in f.options} == names


@pytest.mark.parametrize("form", FORMS)
def test_one_in_ten_needs_review_and_kinds_rotate(samples: Path, form: str) -> None:
    defects = [t["defect"] for t in _truths(samples, form) if t["defect"]]
    assert len(defects) == 2
    assert defects == g.DEFECTS[form][:2]


def test_normalised_values_have_the_grammar_shapes(samples: Path) -> None:
    for form in FORMS:
        for t in _truths(samples, form):
            f = t["fields"]
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", f["applied_on"])
            assert f["postal_code"] is None or re.fullmatch(r"\d{3}-\d{4}", f["postal_code"])
            assert f["phone"] is None or re.fullmatch(r"0\d{1,4}-\d{1,4}-\d{4}", f["phone"])
            assert f["phone"] is None or len(f["phone"].replace("-", "")) in (10, 11)
            for key in ("address",):
                assert f[key] == unicodedata.normalize("NFKC", f[key]) and "  " not in f[key]
    for t in _truths(samples, "child_medical"):
        f = t["fields"]
        assert f["child_birth"] > f["guardian_birth"] and f["applied_on"] > f["child_birth"]
        digits = len(f["insurer_number"])
        assert digits == (6 if f["insurance_type"] == "国民健康保険" else 8) or t["defect"] == "insurer_length"
    for t in _truths(samples, "restaurant_permit"):
        f = t["fields"]
        assert isinstance(f["has_seating"], bool) and isinstance(f["fee"], int)
        if f["has_seating"] and t["defect"] != "seating_without_count":
            assert isinstance(f["seat_count"], int) and isinstance(f["seat_area"], float)


def test_corporate_numbers_follow_the_check_digit_rule(samples: Path) -> None:
    # 国税庁's own published 法人番号: the rule in docs/domain.md must accept it
    assert g.corporate_check_digit("000012050002") == 7
    seen = 0
    for t in _truths(samples, "restaurant_permit"):
        number = t["fields"]["corporate_number"]
        if number is None:
            assert t["fields"]["representative"] is None
            continue
        seen += 1
        valid = int(number[0]) == g.corporate_check_digit(number[1:])
        assert valid == (t["defect"] != "bad_corporate_number")
    assert seen > 0


def test_only_synthetic_people_and_places(samples: Path) -> None:
    surnames = {s for s, _ in g.SURNAMES}
    given = {n for n, _ in g.GIVEN_NAMES}
    readings = {f"{sk}\u3000{gk}" for _, sk in g.SURNAMES for _, gk in g.GIVEN_NAMES}
    corporations = dict(g.CORPORATIONS)
    for form, keys in NAME_FIELDS.items():
        for t in _truths(samples, form):
            f = t["fields"]
            names = [f[k] for k in keys if f[k]]
            if form == "restaurant_permit" and f["applicant_name"] not in corporations:
                names.append(f["applicant_name"])
            for name in names:
                sn, gn = name.split("\u3000")
                assert sn in surnames and gn in given
            kana_keys = ["guardian_kana", "child_kana"] if form == "child_medical" else ["applicant_kana"]
            for k in kana_keys:
                assert f[k] is None or f[k] in readings or f[k] in corporations.values()
            assert f["address"].startswith(g.PREFECTURE)
            for k in ("phone", "business_phone"):
                assert not (f.get(k) or "").startswith(("0120", "0570", "0800", "110", "119"))
    for t in _truths(samples, "restaurant_permit"):
        assert t["fields"]["business_address"].startswith(g.PREFECTURE + g.TOWN)
    # the variant kanji the lists promise are really there and survive NFKC
    for ch in "髙﨑邊齋":
        assert any(ch in s for s in surnames) and unicodedata.normalize("NFKC", ch) == ch


def test_pdf_text_layer_holds_the_written_values(samples: Path) -> None:
    """Independent of ocr/: pdfplumber finds each written value inside its layout slot."""
    for form in FORMS:
        f = layout(form)
        sample = g.make_sample(form, 1, 7, g.plan(form, 20, 7)[0])
        with pdfplumber.open(samples / form / f"{form}_0001.pdf") as pdf:
            page = pdf.pages[0]
            assert abs(page.width * PT - 210) < 0.5 and abs(page.height * PT - 297) < 0.5
            text = page.extract_text()
            assert "みどり町長" in text and ("子ども医療費" in text or "飲食店営業" in text)
            for name, written in sample.written.items():
                s = f.slots[name]
                crop = page.within_bbox((s.x / PT, s.y / PT, (s.x + s.w) / PT, (s.y + s.h) / PT))
                got = "".join(c["text"] for c in sorted(crop.chars, key=lambda c: c["x0"]) if c["text"].strip())
                want = "".join((written + s.unit).split()) if written else s.unit
                assert got == want, (form, name)
            fonts = {c["fontname"].split("+")[-1] for c in page.chars}
            assert fonts <= {"IPAGothic", "IPAMincho"}


def test_blank_form_has_labels_and_no_values(samples: Path) -> None:
    for form in FORMS:
        with pdfplumber.open(samples / form / "blank.pdf") as pdf:
            page = pdf.pages[0]
            assert "申請日" in page.extract_text()
            assert not page.curves  # nothing circled or ticked
            for s in layout(form).slots.values():
                crop = page.within_bbox((s.x / PT, s.y / PT, (s.x + s.w) / PT, (s.y + s.h) / PT))
                assert "".join(c["text"] for c in crop.chars).strip() in ("", s.unit)


def test_ground_truth_says_which_fonts_drew_it(samples: Path) -> None:
    t = _truths(samples, "child_medical")[0]
    assert t["fonts"] == {"value": "ipa-gothic", "hand": "ipa-gothic", "label": "ipa-gothic",
                          "handwriting": [], "fallback_chars": ""}


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert g.main(["--out", str(tmp_path), "--count", "2", "--seed", "3", "--forms", "child_medical"]) == 0
    assert sorted(p.name for p in (tmp_path / "child_medical").iterdir()) == [
        "blank.pdf", "child_medical_0001.json", "child_medical_0001.pdf",
        "child_medical_0002.json", "child_medical_0002.pdf"]
    assert g.main(["--out", str(tmp_path), "--forms", "ramen_permit"]) == 1
    assert "ramen_permit" in capsys.readouterr().err
