"""Golden samples: generated forms go through the real pipeline and must match their ground truth.

read_document (text layer) → classify → the bot reads every field; each value must equal the
ground-truth JSON and the status must be the expected one (自動登録, or 要確認 for the deliberately
defective one in ten). Text-layer samples must be read exactly (docs/architecture.md).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kakari.config import KakariConfig
from kakari.model import Record
from samples.generate import DEFECTS, FORMS, generate

COUNT = 60  # per form: six deliberately defective documents each, every defect kind at least once
SEED = 20250401


@pytest.fixture(scope="session")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden")
    generate(out, COUNT, SEED)
    return out


def _run(path: Path) -> tuple[str, Record]:
    """The pipeline of jobs/runner.py steps 2–4, for one file."""
    import bots
    from ocr import read_document

    doc = read_document(path, KakariConfig())
    bot_cls, _score = bots.classify(doc, list(FORMS))
    bot = bot_cls()
    return bot_cls.name, bot.read(doc)


def _diff(rec: Record, expected: dict[str, Any]) -> list[str]:
    out = []
    for name, want in expected.items():
        got = rec.fields[name].value if name in rec.fields else "<missing field>"
        if got != want or type(got) is not type(want):
            out.append(f"{name}: got {got!r}, want {want!r}")
    return out


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("index", range(1, COUNT + 1))
def test_golden_sample(golden: Path, form: str, index: int) -> None:
    pdf = golden / form / f"{form}_{index:04d}.pdf"
    truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    bot, rec = _run(pdf)
    assert bot == truth["form"]
    assert set(rec.fields) == set(truth["fields"])
    assert _diff(rec, truth["fields"]) == []
    assert rec.status == truth["expected_status"], rec.problems
    if truth["defect"] is None:
        assert rec.problems == []
    else:  # the defect is reported, and it is the only thing reported
        assert len(rec.problems) == 1, rec.problems


def test_every_defect_kind_is_covered(golden: Path) -> None:
    for form in FORMS:
        seen = {json.loads(p.read_text(encoding="utf-8"))["defect"] for p in (golden / form).glob("*.json")}
        assert set(DEFECTS[form]) <= seen


@pytest.mark.parametrize("form", FORMS)
def test_blank_form_is_recognised_and_needs_review(golden: Path, form: str) -> None:
    bot, rec = _run(golden / form / "blank.pdf")
    assert bot == form
    assert all(f.value in (None, False) for f in rec.fields.values())
    assert rec.status == "要確認"
    assert any("必須項目が空です" in p for p in rec.problems)


# -- cross-field rules of the two bots, on real PDFs drawn by the generator -----------------------
def _variant(tmp_path: Path, form: str, written: dict[str, str], marked: dict[str, list[str]] | None = None
             ) -> Record:
    """A registered-clean sample with some cells rewritten, rendered and read like any other."""
    from samples.generate import make_sample, render
    from samples.layout import layout

    sample = make_sample(form, 1, SEED, None)
    sample.written.update(written)
    sample.marked.update(marked or {})
    pdf = tmp_path / f"{form}_variant.pdf"
    render(sample, layout(form), pdf)
    bot, rec = _run(pdf)
    assert bot == form
    return rec


def _problems(rec: Record, name: str) -> list[str]:
    return rec.fields[name].problems


def test_child_medical_date_rules(tmp_path: Path) -> None:
    rec = _variant(tmp_path, "child_medical", {"applied_on": "令和30年4月1日"})
    assert _problems(rec, "applied_on") == ["申請日が未来の日付です"]
    rec = _variant(tmp_path, "child_medical", {"guardian_birth": "令和5年4月1日", "child_birth": "平成30年4月1日",
                                               "applied_on": "令和7年4月1日"})
    assert _problems(rec, "child_birth") == ["児童の生年月日が申請者の生年月日より前です"]
    assert rec.status == "要確認"
    rec = _variant(tmp_path, "child_medical", {"guardian_birth": "昭和60年1月1日", "child_birth": "令和7年6月1日",
                                               "applied_on": "令和7年4月1日"})
    assert _problems(rec, "applied_on") == ["申請日が児童の生年月日より前です"]
    assert _problems(rec, "child_birth") == []


@pytest.mark.parametrize(("kind", "number", "ok"), [
    ("共済組合", "312345", False), ("共済組合", "31234567", True),
    ("国民健康保険", "123456", True), ("社会保険", "123456", False), ("社会保険", "01234567", True),
])
def test_child_medical_insurer_number_length_by_type(tmp_path: Path, kind: str, number: str, ok: bool) -> None:
    rec = _variant(tmp_path, "child_medical", {"insurer_number": number}, {"insurance_type": [kind]})
    assert rec.fields["insurance_type"].value == kind
    assert rec.fields["insurer_number"].value == number
    assert (_problems(rec, "insurer_number") == []) is ok
    if not ok:
        assert "桁" in _problems(rec, "insurer_number")[0] and kind in _problems(rec, "insurer_number")[0]


def test_restaurant_seating_needs_count_and_area(tmp_path: Path) -> None:
    rec = _variant(tmp_path, "restaurant_permit", {"seat_count": "", "seat_area": ""}, {"has_seating": ["有"]})
    assert rec.fields["has_seating"].value is True
    assert _problems(rec, "seat_count") == ["客席ありの場合は客席数が必要です"]
    assert _problems(rec, "seat_area") == ["客席ありの場合は客席面積が必要です"]
    rec = _variant(tmp_path, "restaurant_permit", {"seat_count": "", "seat_area": ""}, {"has_seating": []})
    assert rec.fields["has_seating"].value is False
    assert _problems(rec, "seat_count") == _problems(rec, "seat_area") == []
    rec = _variant(tmp_path, "restaurant_permit", {"applied_on": "R30.4.1"})
    assert _problems(rec, "applied_on") == ["申請日が未来の日付です"]
