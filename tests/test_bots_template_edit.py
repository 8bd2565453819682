"""The zone editor's save: a template as zones and back into its TOML with tomlkit, comments and
untouched lines as they were, renames followed in [ledger] columns, the old version backed up, and
nothing written when the result would not be a valid template."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bots.template import load_template
from bots.template_edit import render, save, zones
from kakari.errors import TemplateError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def child(tmp_path: Path) -> Path:
    path = tmp_path / "child_medical.toml"
    shutil.copy(ROOT / "bots" / "child_medical.toml", path)
    return path


def field(model: dict, name: str) -> dict:
    return next(f for f in model["fields"] if f["name"] == name)


def test_unchanged_zones_write_back_the_same_text(child: Path) -> None:
    assert render(child, zones(child)) == child.read_text(encoding="utf-8")


def test_edits_keep_comments_follow_renames_and_back_up(child: Path) -> None:
    before = child.read_text(encoding="utf-8")
    model = zones(child)
    kana = field(model, "guardian_kana")
    assert kana["box"] == [45.5, 63.5, 79.0, 7.0] and kana["required"] and kana["personal"]
    assert field(model, "applied_on")["locator"] == "anchor" and field(model, "applied_on")["box"] is None
    assert list(field(model, "child_sex")["options"]) == ["男", "女"]
    kana["box"] = [46.0, 63.0, 78.5, 7.5]
    kana["name"] = "guardian_furigana"
    field(model, "phone")["required"] = False
    model["fields"] = [f for f in model["fields"] if f["name"] != "insurer_name"]
    model["fields"].append({"name": "seal", "label": "押印", "type": "checkbox", "box": [170, 60, 12, 12], "page": 1})
    backup = save(child, model)
    assert backup.read_text(encoding="utf-8") == before and backup.name.startswith("child_medical.toml.")
    text = child.read_text(encoding="utf-8")
    t = load_template(child)
    assert t.fields["guardian_furigana"].box.to_box().w == 78.5 and "guardian_kana" not in t.fields
    assert not t.fields["phone"].required and "insurer_name" not in t.fields and t.fields["seal"].type == "checkbox"
    cols = t.ledger_columns()
    assert cols.index("guardian_furigana") == 2 and "insurer_name" not in cols and cols[-1] == "seal"
    # the file's own comments and the lines nobody touched are still there, as written
    assert "# -- 対象児童 ----" in text and "# 8 for 社会保険・共済組合" in text
    assert 'anchor = { text = "申請日", side = "right", dx = 6, width = 49, height = 8 }' in text
    assert "box = { page = 1, x = 45.5, y = 88.0, w = 149, h = 8.5 }" in text  # 88.0 stays 88.0


def test_zones_change_kind_and_tables_are_edited(tmp_path: Path) -> None:
    path = tmp_path / "form.toml"
    path.write_text("""title = "世帯員届"
task = "世帯員届の受付入力"
manual_minutes = 5

[match]
keywords = ["世帯員届"]

[fields.postal]
# 推定: 〒 の右の空欄 (確からしさ 0.90)
label = "郵便番号"
type = "postal_code"
box = { page = 1, x = 50, y = 40, w = 45, h = 7 }

[tables.members]
label = "世帯員"
y = 100
rows = 4
row_height = 10

[tables.members.columns.name]
label = "氏名"
type = "name"
x = 20
w = 60
""", encoding="utf-8")
    model = zones(path)
    postal = field(model, "postal")
    postal["box"] = None
    postal["parts"] = [[50 + 6 * i, 40, 5, 7] for i in range(7)]
    postal["format"] = "{}{}{}-{}{}{}{}"
    table = model["tables"][0]
    assert table["columns"][0]["x"] == 20 and table["rows"] == 4
    table["rows"] = 6
    table["columns"][0]["name"] = "full_name"
    table["columns"].append({"name": "relation", "label": "続柄", "type": "text", "x": 82, "w": 20})
    save(path, model)
    t = load_template(path)
    assert t.fields["postal"].locator == "parts" and len(t.fields["postal"].parts) == 7
    assert t.fields["postal"].format == "{}{}{}-{}{}{}{}"
    assert "members_6_full_name" in t.fields and "members_6_relation" in t.fields
    assert "# 推定: 〒 の右の空欄" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("spoil, words", [
    (lambda m: field(m, "child_sex").update(options=None, box=None), "ちょうど1つ"),
    (lambda m: field(m, "phone").update(name="guardian_kana"), "重複"),
    (lambda m: field(m, "phone").update(name="電話"), "半角英数字"),
    (lambda m: field(m, "phone").update(box=[45.5, 97.5, 0, 8]), "0 より大きい"),
])
def test_a_broken_model_writes_nothing(child: Path, spoil, words: str) -> None:  # noqa: ANN001
    before = child.read_text(encoding="utf-8")
    model = zones(child)
    spoil(model)
    with pytest.raises(TemplateError, match=words):
        save(child, model)
    assert child.read_text(encoding="utf-8") == before
    assert not list(child.parent.glob("*.bak"))
