"""Template loading: the grammar's defaults, and errors naming the file, the key path and the problem."""
from __future__ import annotations

from pathlib import Path

import pytest

from bots.template import FormTemplate, load_template
from kakari.errors import ConfigError, TemplateError
from kakari.model import Box

GOOD = """
title = "子ども医療費受給資格証交付申請書"
task = "子ども医療費受給資格証の交付申請受付入力"
manual_minutes = 8.0

[match]
keywords = ["子ども医療費", "受給資格証交付申請書"]
exclude = ["変更届"]

[fields.applied_on]
label = "申請日"
type = "wareki_date"
box = { page = 1, x = 62, y = 48, w = 126, h = 8 }
required = true

[fields.applicant_name]
label = "申請者氏名"
type = "name"
anchor = { text = "保護者氏名", side = "right", dx = 2, width = 100, height = 8 }
personal = true

[fields.child_sex]
label = "性別"
type = "choice"
options = { "男" = { page = 1, x = 70, y = 120, w = 10, h = 8 }, "女" = { page = 1, x = 85, y = 120, w = 10, h = 8 } }

[fields.has_seating]
label = "客席の有無"
type = "checkbox"
box = { page = 1, x = 150, y = 200, w = 5, h = 5 }

[fields.insurer_number]
label = "保険者番号"
type = "digits"
length = 8
box = { x = 10, y = 10, w = 40, h = 8 }
ocr = { psm = 7 }
min_confidence = 0.9

[fields.town]
label = "市町村"
static = "みどり町"

[fields.receipt_no]
label = "受付番号"
regex = '受付番号[:：]\\s*(\\d+)'
handwritten = false
"""


def write(tmp_path: Path, text: str, name: str = "form.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_grammar_example_loads_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    t = load_template(path)
    assert isinstance(t, FormTemplate) and t.path == path
    assert t.review_minutes == 2.0 and t.min_confidence == 0.80
    assert t.match.min_score == 0.6 and t.match.priority == 0
    assert t.ledger.sheet == "台帳"
    assert t.ledger_columns() == ["applied_on", "applicant_name", "child_sex", "has_seating", "insurer_number",
                                  "town", "receipt_no"]
    f = t.fields
    assert [spec.name for spec in f.values()] == list(f)
    assert f["town"].type == "text" and f["town"].locator == "static"
    assert f["applied_on"].locator == "box" and f["applied_on"].box.to_box() == Box(1, 62, 48, 126, 8)
    assert f["applicant_name"].locator == "anchor" and f["applicant_name"].personal
    assert f["child_sex"].locator == "options" and list(f["child_sex"].options) == ["男", "女"]
    assert f["insurer_number"].lengths == (8,) and f["insurer_number"].box.page == 1
    assert f["insurer_number"].ocr == {"psm": 7} and f["insurer_number"].min_confidence == 0.9
    assert f["receipt_no"].locator == "regex"
    assert len(f["child_sex"].zones) == 2 and f["town"].zones == []


def test_ledger_columns_and_sheet(tmp_path: Path) -> None:
    t = load_template(write(tmp_path, GOOD + '\n[ledger]\ncolumns = ["town", "applied_on"]\nsheet = "受付台帳"\n'))
    assert t.ledger_columns() == ["town", "applied_on"] and t.ledger.sheet == "受付台帳"


@pytest.mark.parametrize(("side", "dx", "dy", "height", "expected"), [
    ("right", 2, 0, 8, Box(1, 32 + 2, 30 - 2, 50, 8)),  # centred on a 4 mm label
    ("right", 0, 0, None, Box(1, 32, 28, 50, 8)),  # default height: twice the label's
    ("below", 1, 0.5, 6, Box(1, 21, 34.5, 50, 6)),
])
def test_anchor_zone(side: str, dx: float, dy: float, height: float | None, expected: Box) -> None:
    from bots.template import AnchorSpec

    anchor = AnchorSpec(text="申請日", side=side, dx=dx, dy=dy, width=50, height=height)
    assert anchor.zone(Box(1, 20, 30, 12, 4)) == expected


def replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


BOX_LINE = "box = { page = 1, x = 62, y = 48, w = 126, h = 8 }"
BAD = [
    # (template text, key path, words of the message)
    (replace("w = 126", "w = 0"), "fields.applied_on.box.w", "0 より大きい"),
    (replace("h = 8 }\nrequired", "h = -3 }\nrequired"), "fields.applied_on.box.h", "0 より大きい"),
    (replace("page = 1, x = 62", "page = 0, x = 62"), "fields.applied_on.box.page", "1 以上"),
    (replace(BOX_LINE, BOX_LINE + '\nstatic = "x"'), "fields.applied_on", "ちょうど1つ"),
    (replace(BOX_LINE, ""), "fields.applied_on", "ちょうど1つにしてください (指定: なし)"),
    (replace('type = "wareki_date"', 'type = "wareki"'), "fields.applied_on.type", "「wareki」という型はありません"),
    (replace('type = "choice"\noptions', 'type = "text"\noptions'), "fields.child_sex.options", "choice 型だけ"),
    (replace('type = "checkbox"', 'type = "choice"'), "fields.has_seating.options", "options (選択肢ごとの枠) が必要"),
    (replace('type = "digits"', 'type = "text"'), "fields.insurer_number.length", "digits 型だけ"),
    (replace("length = 8", "length = 0"), "fields.insurer_number.length", "1以上"),
    (replace('label = "申請日"', 'lable = "申請日"'), "fields.applied_on.lable", "不明な項目"),
    (replace('label = "申請日"\n', ""), "fields.applied_on.label", "必須の項目がありません"),
    (replace('title = "子ども医療費受給資格証交付申請書"\n', ""), "title", "必須の項目がありません"),
    (replace("manual_minutes = 8.0", "manual_minutes = -1"), "manual_minutes", "0 以上"),
    (replace("manual_minutes = 8.0", 'manual_minutes = "八分"'), "manual_minutes", "数値で指定"),
    (replace("regex = '受付番号", "regex = '受付番号[(' # "), "fields.receipt_no.regex", "正規表現"),
    (replace("handwritten = false", "handwritten = false\npattern = '(['"), "fields.receipt_no.pattern", "正規表現"),
    (replace('exclude = ["変更届"]', 'exclude = ["変更届"]\nmin_score = 1.5'), "match.min_score", "1 以下"),
    (replace('keywords = ["子ども医療費", "受給資格証交付申請書"]', "keywords = []"), "match.keywords", "空にはできません"),
    (replace('"子ども医療費", "受給', '"子ども医療費", " ", "受給'), "match.keywords.1", "空の語"),
    (replace('side = "right"', 'side = "left"'), "fields.applicant_name.anchor.side", "'right'"),
    (replace("[fields.town]", '[fields."町"]'), "fields.町", "半角英数字"),
    (GOOD + '\n[ledger]\ncolumns = ["applied_on", "nope"]\n', "ledger.columns.1", "「nope」は fields にない"),
    (GOOD + '\n[ledger]\ncolumns = ["town", "town"]\n', "ledger.columns.1", "「town」が重複"),
    (GOOD + "\n[ledger]\ncolor = 1\n", "ledger.color", "不明な項目"),
    (GOOD.split("[fields.applied_on]")[0], "fields", "必須の項目がありません"),
]


@pytest.mark.parametrize(("text", "loc", "words"), BAD)
def test_errors_name_file_key_and_problem(tmp_path: Path, text: str, loc: str, words: str) -> None:
    path = write(tmp_path, text, "ramen_permit.toml")
    with pytest.raises(TemplateError) as info:
        load_template(path)
    message = info.value.message
    assert str(path) in message
    assert f"  - {loc}: " in message, message
    line = next(ln for ln in message.splitlines() if ln.startswith(f"  - {loc}: "))
    assert words in line, message
    assert isinstance(info.value, ConfigError)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = replace("w = 126", "w = 0").replace('type = "wareki_date"', 'type = "date"')
    with pytest.raises(TemplateError) as info:
        load_template(write(tmp_path, text))
    assert "fields.applied_on.box.w" in info.value.message and "fields.applied_on.type" in info.value.message


def test_bad_toml_syntax_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'title = "x\n')
    with pytest.raises(TemplateError, match="TOML") as info:
        load_template(path)
    assert str(path) in info.value.message


def test_missing_file_names_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.toml"
    with pytest.raises(TemplateError, match="がありません") as info:
        load_template(path)
    assert str(path) in info.value.message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "sjis.toml"
    path.write_bytes(GOOD.encode("shift_jis"))
    with pytest.raises(TemplateError, match="UTF-8"):
        load_template(path)


def test_repository_templates_load() -> None:
    """Every bots/*.toml in the repository is a valid template (a lint test); a masking bot's TOML
    (patterns of numbers, not fields) is a valid masking definition; an export mapping
    (<bot>.export.toml) is valid against its bot's template."""
    import tomllib

    from bots import registry
    from bots.exports import SUFFIX, services_of
    from bots.masking.spec import load_spec

    folder = Path(__file__).resolve().parents[1] / "bots"
    for path in sorted(folder.glob("*.toml")):
        if path.name.endswith(SUFFIX):
            bot = registry.get(path.name.removesuffix(SUFFIX))
            assert services_of(bot)
            continue
        if "patterns" in tomllib.loads(path.read_text(encoding="utf-8")):
            assert load_spec(path).masked()
            continue
        t = load_template(path)
        assert set(t.ledger_columns()) <= set(t.fields)


# =============================================================================================
# parts (digit boxes, 年 月 日 gaps) and tables of repeated rows
# =============================================================================================
PARTS_AND_TABLE = GOOD + """
[fields.postal_code]
label = "郵便番号"
type = "postal_code"
parts = [
    { x = 60, y = 60, w = 5, h = 5 }, { x = 66, y = 60, w = 5, h = 5 }, { x = 72, y = 60, w = 5, h = 5 },
    { x = 81, y = 60, w = 5, h = 5 }, { x = 87, y = 60, w = 5, h = 5 }, { x = 93, y = 60, w = 5, h = 5 },
    { x = 99, y = 60, w = 5, h = 5 },
]
format = "{}{}{}-{}{}{}{}"

[tables.members]
label = "世帯員"
y = 150
rows = 3
row_height = 9
h = 8
min_rows = 1

[tables.members.columns.name]
label = "氏名"
type = "name"
x = 20
w = 50
required = true
personal = true

[tables.members.columns.birth]
label = "生年月日"
type = "wareki_date"
x = 72
w = 40
"""


def test_parts_and_tables_load(tmp_path: Path) -> None:
    t = load_template(write(tmp_path, PARTS_AND_TABLE))
    postal = t.fields["postal_code"]
    assert postal.locator == "parts" and len(postal.zones) == 7 and postal.zones[3] == Box(1, 81, 60, 5, 5)
    assert postal.joined(["9", "8", "9", "6", "1", "0", "1"]) == "989-6101"
    assert postal.joined(["", " ", "", "", "", "", ""]) == ""  # nothing written: not "-"
    # every cell of the table is a box field, row by row, named <table>_<row>_<column>
    cells = [n for n in t.fields if n.startswith("members_")]
    assert cells == ["members_1_name", "members_1_birth", "members_2_name", "members_2_birth",
                     "members_3_name", "members_3_birth"]
    cell = t.fields["members_2_birth"]
    assert cell.box.to_box() == Box(1, 72, 159, 40, 8) and cell.type == "wareki_date"
    assert cell.row == ("members", 2, "birth") and cell.label == "世帯員2 生年月日"
    assert t.fields["members_1_name"].personal and not t.fields["members_1_name"].required  # required per row
    assert t.ledger_columns()[-6:] == cells


TABLE_OK = PARTS_AND_TABLE.split("[tables.members]")[0]
BAD_EXTENSIONS = [
    (PARTS_AND_TABLE.replace('format = "{}{}{}-{}{}{}{}"', 'format = "{}{}-{}"'), "fields.postal_code.format",
     "{} の数 (3) が parts の枠の数 (7) と違います"),
    (PARTS_AND_TABLE.replace('format = "{}{}{}-{}{}{}{}"', 'format = "{0}{name}"'), "fields.postal_code.format", "{} の数"),
    (GOOD.replace('[fields.town]\nlabel = "市町村"\nstatic = "みどり町"', '[fields.town]\nlabel = "市町村"\nstatic = "みどり町"\nformat = "{}"'),
     "fields.town.format", "parts (文字ごとの枠) と一緒に"),
    (GOOD + '\n[fields.empty]\nlabel = "空"\nparts = []\n', "fields.empty.parts", "枠が1つもありません"),
    (PARTS_AND_TABLE.replace("min_rows = 1", "min_rows = 4"), "tables.members.min_rows", "rows (3) 以下"),
    (PARTS_AND_TABLE.replace("rows = 3", "rows = 0"), "tables.members.rows", "1 以上"),
    (PARTS_AND_TABLE.replace('type = "wareki_date"\nx = 72', 'type = "choice"\nx = 72'),
     "tables.members.columns.birth.type", "choice 型は使えません"),
    (PARTS_AND_TABLE.replace("[tables.members.columns.birth]", "[tables.members.columns.\"生年月日\"]"),
     "tables.members.columns.生年月日", "半角英数字"),
    (PARTS_AND_TABLE + '\n[fields.members_1_name]\nlabel = "x"\nstatic = "y"\n', "tables.members", "重なっています"),
    (TABLE_OK.split("[fields.applied_on]")[0] + '\n[tables.t]\ny = 10\nrows = 2\nrow_height = 8\ncolumns = {}\n',
     "tables.t.columns", "空にはできません"),
    (GOOD + '\n[fields.kana]\nlabel = "フリガナ"\ntype = "kana"\nstatic = "ス"\nreading_of = "guardian"\n',
     "fields.kana.reading_of", "「guardian」は fields にない項目名です"),
    (GOOD + '\n[fields.kana]\nlabel = "フリガナ"\ntype = "text"\nstatic = "ス"\nreading_of = "applicant_name"\n',
     "fields.kana.reading_of", "kana 型だけ"),
]


@pytest.mark.parametrize(("text", "loc", "words"), BAD_EXTENSIONS)
def test_extension_errors_name_key_and_problem(tmp_path: Path, text: str, loc: str, words: str) -> None:
    with pytest.raises(TemplateError) as info:
        load_template(write(tmp_path, text, "town_form.toml"))
    line = next((ln for ln in info.value.message.splitlines() if ln.startswith(f"  - {loc}: ")), "")
    assert words in line, info.value.message


def test_a_template_of_only_a_table_is_valid(tmp_path: Path) -> None:
    text = GOOD.split("[fields.applied_on]")[0] + (
        '\n[tables.rows]\ny = 10\nrows = 2\nrow_height = 8\n[tables.rows.columns.name]\nlabel = "氏名"\nx = 10\nw = 40\n')
    t = load_template(write(tmp_path, text))
    assert list(t.fields) == ["rows_1_name", "rows_2_name"] and t.tables["rows"].label == ""
    assert t.fields["rows_2_name"].label == "氏名 (2行目)"
