"""FormBot: template loading from the module's folder, extraction from in-memory text-layer pages
(boxes, anchors, marks, regex, static), required/handwritten problems, classification, registry."""
from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

import bots
from bots import Bot, FormBot, classify
from bots.base import HANDWRITTEN, REQUIRED_EMPTY
from kakari.config import KakariConfig, RunContext
from kakari.errors import TemplateError, Unrecognised
from kakari.model import Box, Status
from kakari.registry import Registry
from ocr.document import Document, Page, Reading, Word

CHAR_W = 4.0  # mm per character in the test layout
CHAR_H = 4.0


# =============================================================================================
# In-memory documents: one Word per character, 4 mm wide
# =============================================================================================
def chars(text: str, x: float, y: float, page: int = 1, confidence: float = 1.0) -> list[Word]:
    """Lay `text` out left to right from (x, y); a space leaves a 4 mm gap (read back as a space)."""
    return [Word(ch, Box(page, x + i * CHAR_W, y, CHAR_W, CHAR_H), confidence)
            for i, ch in enumerate(text) if not ch.isspace()]


def document(*runs: list[Word], marks: Iterable[Box] = (), source: str = "text", reader: object = None,
             doc_id: str = "doc1") -> Document:
    page = Page(1, 210.0, 297.0, source=source, chars=[w for run in runs for w in run], marks=list(marks),
                reader=reader)  # type: ignore[arg-type]
    return Document(doc_id, Path("memory.pdf"), [page])


# =============================================================================================
# Bots defined in temporary modules, their templates beside them
# =============================================================================================
_counter = itertools.count()

HEADER = """
title = "{title}"
task = "{task}"
manual_minutes = 5.0
review_minutes = 1.5
min_confidence = 0.7

[match]
keywords = {keywords}
exclude = {exclude}
min_score = {min_score}
priority = {priority}
"""

FIELDS = """
[fields.applied_on]
label = "申請日"
type = "wareki_date"
anchor = { text = "申請日", side = "right", dx = 2, width = 60, height = 6 }
required = true

[fields.name]
label = "氏名"
type = "name"
box = { page = 1, x = 40, y = 50, w = 80, h = 6 }
required = true
personal = true

[fields.kana]
label = "フリガナ"
type = "kana"
anchor = { text = "フリガナ", side = "below", dx = 0, dy = 1, width = 80, height = 6 }

[fields.sex]
label = "性別"
type = "choice"
options = { "男" = { page = 1, x = 100, y = 70, w = 8, h = 8 }, "女" = { page = 1, x = 120, y = 70, w = 8, h = 8 } }
required = true

[fields.agree]
label = "同意"
type = "checkbox"
box = { page = 1, x = 20, y = 90, w = 5, h = 5 }

[fields.receipt_no]
label = "受付番号"
type = "digits"
regex = '受付番号[:：]\\s*(\\d+)'

[fields.town]
label = "市町村"
static = "みどり町"

[fields.signature]
label = "署名"
type = "name"
box = { page = 1, x = 40, y = 110, w = 80, h = 8 }
handwritten = true

[fields.phone]
label = "電話番号"
type = "phone"
box = { page = 1, x = 40, y = 130, w = 80, h = 6 }
min_confidence = 0.95

[ledger]
columns = ["applied_on", "name", "sex"]
"""


def header(title: str = "テスト申請書", task: str = "テスト申請の受付入力", keywords: tuple[str, ...] = ("テスト申請書",),
           exclude: tuple[str, ...] = (), min_score: float = 0.6, priority: int = 0) -> str:
    def toml_list(words: Iterable[str]) -> str:
        return "[" + ", ".join(f'"{w}"' for w in words) + "]"

    return HEADER.format(title=title, task=task, keywords=toml_list(keywords), exclude=toml_list(exclude),
                         min_score=min_score, priority=priority)


MakeBot = Callable[..., type[FormBot]]


@pytest.fixture
def make_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeBot:
    """Write <stem>.py (+ <stem>.toml unless toml is None) into a fresh folder and import it."""

    def make(stem: str = "test_form", toml: str | None = None, body: str = "    pass\n") -> type[FormBot]:
        folder = tmp_path / f"pkg{next(_counter)}"
        folder.mkdir()
        (folder / f"{stem}.py").write_text(
            "from bots.base import FormBot\nfrom kakari.model import Record\n\n\n"
            f"class SampleForm(FormBot):\n{body}", encoding="utf-8")
        if toml is not None:
            (folder / f"{stem}.toml").write_text(toml, encoding="utf-8")
        mod_name = f"kakari_test_bot_{next(_counter)}_{stem}"
        spec = importlib.util.spec_from_file_location(mod_name, folder / f"{stem}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, mod_name, module)
        spec.loader.exec_module(module)
        return module.SampleForm

    return make


@pytest.fixture
def form(make_bot: MakeBot) -> type[FormBot]:
    return make_bot(toml=header(keywords=("テスト申請書", "みどり町")) + FIELDS)


def filled(**override: list[Word]) -> dict[str, list[Word]]:
    """A correctly filled test form, as runs of characters; override a part to spoil it."""
    parts = {
        "title": chars("みどり町 テスト申請書", 60, 10),
        "applied_label": chars("申請日", 20, 30),
        "applied": chars("令和5年4月1日", 36, 30),
        "below_applied": chars("令和6年1月1日", 36, 38),  # the next line: outside the anchor zone
        "name": chars("山田 太郎", 42, 51),
        "kana_label": chars("フリガナ", 20, 60),
        "kana": chars("やまだ たろう", 22, 65),
        "tick": chars("✓", 20.5, 90.5),
        "receipt": chars("受付番号：00123", 20, 150),
        "phone": chars("090-1234-5678", 42, 131),
    }
    parts.update(override)
    return parts


MALE = Box(1, 101, 71, 6, 6)  # a circle stroke inside the 男 zone
FEMALE = Box(1, 121, 71, 6, 6)


# =============================================================================================
# Class set-up
# =============================================================================================
def test_template_loaded_next_to_module(form: type[FormBot]) -> None:
    assert form.name == "test_form"
    assert form.template.title == "テスト申請書"
    assert form.task == "テスト申請の受付入力"
    assert form.manual_minutes == 5.0 and form.review_minutes == 1.5
    assert form.abstract is False and FormBot.abstract is True and Bot.abstract is True
    assert form.template.path is not None and form.template.path.name == "test_form.toml"


def test_class_attributes_win_over_template(make_bot: MakeBot) -> None:
    body = '    name = "renamed"\n    task = "別の業務"\n    manual_minutes = 9.5\n'
    bot = make_bot(toml=header() + FIELDS, body=body)
    assert bot.name == "renamed" and bot.task == "別の業務" and bot.manual_minutes == 9.5
    assert bot.review_minutes == 1.5


def test_missing_template_is_a_template_error(make_bot: MakeBot) -> None:
    with pytest.raises(TemplateError, match=r"lonely_form\.toml"):
        make_bot(stem="lonely_form", toml=None)


def test_broken_template_names_file_and_key(make_bot: MakeBot) -> None:
    broken = header() + FIELDS.replace("w = 80, h = 6 }\nrequired", "w = -80, h = 6 }\nrequired")
    with pytest.raises(TemplateError) as info:
        make_bot(stem="broken_form", toml=broken)
    assert "broken_form.toml" in info.value.message and "fields.name.box.w" in info.value.message


def test_abstract_subclass_needs_no_template() -> None:
    class Base(FormBot):
        abstract = True

    assert Base.abstract and not hasattr(Base, "template")


def test_run_is_not_for_form_bots(form: type[FormBot]) -> None:
    with pytest.raises(NotImplementedError):
        next(iter(form().run(RunContext(KakariConfig()))))


# =============================================================================================
# Extraction
# =============================================================================================
def test_extract_every_locator(form: type[FormBot]) -> None:
    doc = document(*filled().values(), marks=[MALE])
    rec = form().read(doc)
    assert rec.doc_id == "doc1" and rec.bot == "test_form" and rec.min_confidence == 0.7
    assert list(rec.fields) == list(form.template.fields)
    row = rec.row()
    assert row["applied_on"] == "2023-04-01"
    assert row["name"] == "山田\u3000太郎"
    assert row["kana"] == "ヤマダ\u3000タロウ"
    assert row["sex"] == "男"
    assert row["agree"] is True
    assert row["receipt_no"] == "00123"
    assert row["town"] == "みどり町"
    assert row["phone"] == "090-1234-5678"
    f = rec.fields
    assert f["name"].raw == "山田 太郎" and f["name"].label == "氏名" and f["name"].personal
    assert not f["applied_on"].personal
    assert f["name"].box == Box(1, 40, 50, 80, 6)
    # anchor zones: right of 申請日 (x1 = 32) + dx 2, centred on the 4 mm label; below フリガナ (y1 = 64) + dy 1
    assert f["applied_on"].box == Box(1, 34, 29, 60, 6)
    assert f["kana"].box == Box(1, 20, 65, 80, 6)
    assert f["sex"].box == Box(1, 100, 70, 28, 8)
    assert f["town"].box is None and f["receipt_no"].box is None
    # the only problem of a well-filled form is the handwritten field
    assert rec.problems == [f"署名: {HANDWRITTEN}"]
    assert rec.status == Status.REVIEW


def test_handwritten_is_always_reviewed_but_keeps_a_text_layer_value(form: type[FormBot]) -> None:
    doc = document(*filled(signature=chars("山田太郎", 42, 111)).values(), marks=[MALE])
    field = form().read(doc).fields["signature"]
    assert field.value == "山田太郎" and field.problems == [HANDWRITTEN]
    empty = form().read(document(*filled().values(), marks=[MALE])).fields["signature"]
    assert empty.value is None and empty.problems == [HANDWRITTEN]


class FixedReader:
    """A scan engine stand-in: every zone reads as `text`, every mark zone as ticked."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.zones: list[Box] = []

    def read(self, page: Page, box: Box, kind: str) -> Reading:
        self.zones.append(box)
        return Reading(self.text, 0.9)

    def mark(self, page: Page, box: Box) -> Reading:
        return Reading("", 0.9)


def test_handwritten_zone_on_a_scan_is_read_and_offered(form: type[FormBot]) -> None:
    # a reader with no evidence to weigh (not kakari's scan reader): the handwritten value is read
    # and offered pre-filled, but only the trust policy can let it through, so a clerk looks
    reader = FixedReader("山田太郎")
    doc = document(*filled().values(), source="scan", reader=reader)
    rec = form().read(doc)
    assert rec.fields["name"].value == "山田太郎" and rec.fields["name"].confidence == 0.9
    assert Box(1, 40, 110, 80, 8) in reader.zones  # the signature zone was read
    assert rec.fields["signature"].value == "山田太郎" and rec.fields["signature"].problems == [HANDWRITTEN]


def test_required_empty_and_missing_anchor(form: type[FormBot]) -> None:
    parts = filled()
    del parts["name"], parts["applied_label"]
    rec = form().read(document(*parts.values(), marks=[MALE]))
    assert rec.fields["name"].value is None and rec.fields["name"].problems == [REQUIRED_EMPTY]
    applied = rec.fields["applied_on"]
    assert applied.value is None and applied.problems == ["ラベル「申請日」が見つかりません"]
    assert "申請日: ラベル「申請日」が見つかりません" in rec.problems
    # not required: empty without a problem
    parts = filled()
    del parts["kana"], parts["phone"], parts["receipt"]
    rec = form().read(document(*parts.values(), marks=[MALE]))
    for name in ("kana", "phone", "receipt_no"):
        assert rec.fields[name].value is None and rec.fields[name].problems == []


@pytest.mark.parametrize(("marks", "value", "problems"), [
    ([MALE], "男", []),
    ([FEMALE], "女", []),
    ([], None, [REQUIRED_EMPTY]),
    ([MALE, FEMALE], None, ["複数の選択肢に印があります"]),  # marked twice is not empty
])
def test_choice_by_marks(form: type[FormBot], marks: list[Box], value: str | None, problems: list[str]) -> None:
    field = form().read(document(*filled().values(), marks=marks)).fields["sex"]
    assert field.value == value and field.problems == problems
    assert field.raw == "\n".join(o for o, b in (("男", MALE), ("女", FEMALE)) if b in marks)


def test_choice_by_glyph_and_checkbox_by_stroke(form: type[FormBot]) -> None:
    parts = filled(tick=[], female=chars("●", 122, 72))
    rec = form().read(document(*parts.values(), marks=[Box(1, 20.5, 90.5, 4, 4)]))
    assert rec.fields["sex"].value == "女"
    assert rec.fields["agree"].value is True
    rec = form().read(document(*filled(tick=[]).values(), marks=[MALE]))
    assert rec.fields["agree"].value is False and rec.fields["agree"].problems == []


def test_parse_problems_reach_the_record(form: type[FormBot]) -> None:
    parts = filled(applied=chars("平成31年5月1日", 36, 30), kana=chars("山田たろう", 22, 65))
    rec = form().read(document(*parts.values(), marks=[MALE]))
    assert rec.fields["applied_on"].value == "2019-05-01"
    assert rec.fields["applied_on"].problems == ["元号と日付が合いません (令和元年5月1日のこと?)"]
    assert rec.fields["kana"].problems == ["カタカナ以外の文字があります"]


def test_low_confidence(form: type[FormBot]) -> None:
    parts = filled(name=chars("山田 太郎", 42, 51, confidence=0.5), phone=chars("090-1234-5678", 42, 131,
                                                                               confidence=0.9))
    rec = form().read(document(*parts.values(), marks=[MALE]))
    # below the template's 0.7: the reason is recorded on the field itself, so a stored Record says why
    assert rec.fields["name"].confidence == 0.5
    assert rec.fields["name"].problems == ["読み取りの確信度が低い (0.50)"]
    assert "氏名: 読み取りの確信度が低い (0.50)" in rec.problems
    # per-field override 0.95 is stricter than the template's
    assert rec.fields["phone"].problems == ["読み取りの確信度が低い (0.90)"]


def test_every_doubted_field_says_why_and_only_those(form: type[FormBot]) -> None:
    """The review screen, the status and the run's reason read one place: Record.reasons."""
    from jobs.store import record_from_dict, record_to_dict

    parts = filled(name=chars("山田 太郎", 42, 51, confidence=0.5), kana=chars("山田たろう", 22, 65))
    rec = form().read(document(*parts.values(), marks=[MALE]))
    stored = record_from_dict(record_to_dict(rec))
    stored.min_confidence = 0.0  # what was written down does not depend on the threshold any more
    for r in (rec, stored):
        doubted = {n for n, f in r.fields.items() if r.doubts(f)}
        assert doubted == {n for n, f in r.fields.items() if f.problems} == {"name", "kana", "signature"}  # signature: handwritten
        assert all(r.reasons(f) == f.problems for f in r.fields.values())
        assert r.status == "要確認"
        assert r.problems == [f"{f.label}: {p}" for f in r.fields.values() for p in f.problems]


def test_validate_hook(make_bot: MakeBot) -> None:
    body = (
        "    def validate(self, rec: Record) -> Record:\n"
        "        rec = super().validate(rec)\n"
        "        if rec.fields['sex'].value == '女' and not rec.fields['agree'].value:\n"
        "            rec.fields['agree'].problems.append('同意が必要です')\n"
        "        return rec\n")
    bot = make_bot(toml=header() + FIELDS, body=body)
    rec = bot().read(document(*filled(tick=[]).values(), marks=[FEMALE]))
    assert rec.fields["agree"].problems == ["同意が必要です"]
    assert bot().extract(document(*filled(tick=[]).values(), marks=[FEMALE])).fields["agree"].problems == []


# =============================================================================================
# Scoring and classification
# =============================================================================================
def text_doc(text: str) -> Document:
    return document(*(chars(line, 10, 10 + 6 * i) for i, line in enumerate(text.splitlines())))


def test_score_counts_keywords_ignoring_whitespace(form: type[FormBot]) -> None:
    bot = form()
    assert bot.score(text_doc("みどり町\nテスト 申請書")) == 1.0  # a space inside a keyword on the page
    assert bot.score(text_doc("テスト申請書")) == 0.5
    assert bot.score(text_doc("ほかの書類")) == 0.0


def test_score_exclude(make_bot: MakeBot) -> None:
    bot = make_bot(toml=header(keywords=("テスト申請書",), exclude=("変更届",)) + FIELDS)
    assert bot().score(text_doc("テスト申請書")) == 1.0
    assert bot().score(text_doc("テスト申請書\n変 更 届")) == 0.0


def many(make_bot: MakeBot, **kw: object) -> type[FormBot]:
    return make_bot(stem=str(kw.pop("stem")), toml=header(**kw) + FIELDS)  # type: ignore[arg-type]


def test_classify_best_wins(make_bot: MakeBot) -> None:
    a = many(make_bot, stem="form_a", title="甲申請書", keywords=("甲申請書", "みどり町"))
    b = many(make_bot, stem="form_b", title="乙申請書", keywords=("乙申請書", "みどり町"))
    assert classify(text_doc("みどり町 甲申請書"), [a, b]) == (a, 1.0)
    assert classify(text_doc("みどり町 乙申請書"), [a, b]) == (b, 1.0)


def test_classify_none_names_best(make_bot: MakeBot) -> None:
    a = many(make_bot, stem="form_a", title="甲申請書", keywords=("甲申請書", "みどり町"), min_score=0.9)
    b = many(make_bot, stem="form_b", title="乙申請書", keywords=("乙申請書", "若葉県", "みどり町"))
    with pytest.raises(Unrecognised) as info:
        classify(text_doc("みどり町"), [a, b])
    assert info.value.message == "どの様式にも該当しません (最高: 甲申請書 0.50)"
    with pytest.raises(Unrecognised, match="候補の様式がありません"):
        classify(text_doc("みどり町"), [])


def test_classify_exclude_removes_a_form(make_bot: MakeBot) -> None:
    a = many(make_bot, stem="form_a", title="交付申請書", keywords=("交付申請書",), exclude=("変更届",))
    b = many(make_bot, stem="form_b", title="変更届", keywords=("交付申請書", "変更届"), min_score=0.9)
    assert classify(text_doc("交付申請書 変更届"), [a, b]) == (b, 1.0)
    with pytest.raises(Unrecognised, match=r"最高: 交付申請書 0\.00"):
        classify(text_doc("変更届"), [a])


def test_classify_exact_tie(make_bot: MakeBot) -> None:
    same = dict(keywords=("申請書", "みどり町"))
    a = many(make_bot, stem="form_a", title="甲申請書", **same)
    b = many(make_bot, stem="form_b", title="乙申請書", **same)
    with pytest.raises(Unrecognised) as info:
        classify(text_doc("みどり町 申請書"), [a, b])
    assert "甲申請書" in info.value.message and "乙申請書" in info.value.message
    hi = many(make_bot, stem="form_c", title="丙申請書", priority=5, **same)
    assert classify(text_doc("みどり町 申請書"), [a, hi]) == (hi, 1.0)
    assert classify(text_doc("みどり町 申請書"), [hi, a]) == (hi, 1.0)


def test_classify_near_tie(make_bot: MakeBot) -> None:
    words = tuple(f"語{i:02d}" for i in range(20))
    a = many(make_bot, stem="form_a", title="甲申請書", keywords=("甲申請書",))
    b = many(make_bot, stem="form_b", title="乙申請書", keywords=words)
    nineteen = "\n".join(words[:19])
    with pytest.raises(Unrecognised, match="区別できません"):  # 1.00 vs 0.95, same priority
        classify(text_doc("甲申請書\n" + nineteen), [a, b])
    eighteen = "\n".join(words[:18])  # 1.00 vs 0.90: clear
    assert classify(text_doc("甲申請書\n" + eighteen), [a, b]) == (a, 1.0)
    c = many(make_bot, stem="form_c", title="丙申請書", keywords=words, priority=3)
    assert classify(text_doc("甲申請書\n" + nineteen), [a, c]) == (a, 1.0)  # priorities differ


# =============================================================================================
# Registry
# =============================================================================================
def test_package_registry_and_facade() -> None:
    assert isinstance(bots.registry, Registry)
    assert bots.registry.group == "kakari.bots" and bots.registry.base is Bot and bots.registry.package == "bots"
    repo = Path(__file__).resolve().parents[1]
    assert Path(bots.__file__).resolve().is_relative_to(repo)  # not the PyPI package named "bots"
    import kakari

    assert bots.FormBot is FormBot and bots.Bot is Bot is kakari.Bot  # the kernel's Bot; FormBot lives in bots


def test_registry_walk_finds_form_bots_skips_bases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "kakari_tmp_botpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "shared.py").write_text(
        "from bots.base import Bot, FormBot\n\n\nclass TownBase(FormBot):\n    abstract = True\n\n\n"
        "class Counter(Bot):\n    task = '数える'\n", encoding="utf-8")
    (pkg / "permit_form.py").write_text(
        "from kakari_tmp_botpkg.shared import TownBase\n\n\nclass PermitForm(TownBase):\n    pass\n", encoding="utf-8")
    (pkg / "permit_form.toml").write_text(header(title="許可申請書") + FIELDS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        reg: Registry[Bot] = Registry("kakari.test_bots", Bot, "kakari_tmp_botpkg")
        assert reg.names() == ["permit_form", "shared"]
        form = reg.get("permit_form")
        assert issubclass(form, FormBot) and form.template.title == "許可申請書"
        assert reg.get("shared").__name__ == "Counter"  # a non-form bot, named after its file
        with pytest.raises(NotImplementedError):
            reg.get("shared")().run(RunContext(KakariConfig()))
    finally:
        for name in [m for m in sys.modules if m.startswith("kakari_tmp_botpkg")]:
            del sys.modules[name]


# =============================================================================================
# parts (digit boxes, date gaps), tables of rows, what the blank prints
# =============================================================================================
PARTS_TOML = """
[fields.postal_code]
label = "郵便番号"
type = "postal_code"
parts = [
    { x = 40, y = 40, w = 5, h = 6 }, { x = 46, y = 40, w = 5, h = 6 }, { x = 52, y = 40, w = 5, h = 6 },
    { x = 61, y = 40, w = 5, h = 6 }, { x = 67, y = 40, w = 5, h = 6 }, { x = 73, y = 40, w = 5, h = 6 },
    { x = 79, y = 40, w = 5, h = 6 },
]
format = "{}{}{}-{}{}{}{}"
required = true

[fields.moved_on]
label = "転入日"
type = "wareki_date"
parts = [{ x = 50, y = 60, w = 9, h = 6 }, { x = 64, y = 60, w = 9, h = 6 }, { x = 78, y = 60, w = 9, h = 6 }]
format = "令和{}年{}月{}日"

[tables.members]
label = "世帯員"
y = 100
rows = 3
row_height = 10
h = 8

[tables.members.columns.name]
label = "氏名"
type = "name"
x = 20
w = 60
required = true

[tables.members.columns.relation]
label = "続柄"
type = "text"
x = 82
w = 20
"""


def boxed(digits: str, xs: list[float], y: float) -> list[Word]:
    """One character centred in each box, as a form filler types into character boxes."""
    return [Word(d, Box(1, x + 0.5, y + 1, CHAR_W, CHAR_H)) for d, x in zip(digits, xs)]


def test_parts_read_as_one_field_and_tables_by_row(make_bot: MakeBot) -> None:
    bot = make_bot(toml=header() + PARTS_TOML)
    xs = [40, 46, 52, 61, 67, 73, 79]
    doc = document(boxed("9896101", xs, 40), boxed("74", [50, 64], 60), chars("11", 78.5, 61),
                   chars("山田 花子", 21, 101), chars("妻", 83, 101),  # row 1 complete
                   chars("子", 83, 111))  # row 2: a relation without the required name
    rec = bot().read(doc)
    assert rec.fields["postal_code"].value == "989-6101" and not rec.fields["postal_code"].problems
    assert rec.fields["moved_on"].value == "2025-04-11"  # 令和7年4月11日, the era printed before the gaps
    assert rec.fields["postal_code"].box == Box(1, 40, 40, 44, 6)  # the union, for the review screen's crop
    assert rec.fields["members_1_name"].value == "山田\u3000花子" and rec.fields["members_1_relation"].value == "妻"
    assert rec.fields["members_2_name"].problems == [REQUIRED_EMPTY]  # written in, so its name is needed
    assert not rec.fields["members_3_name"].problems and rec.fields["members_3_name"].value is None  # left empty
    # nothing in any box: empty (and required), not "-" or "令和年月日"
    empty = bot().read(document())
    assert empty.fields["postal_code"].value is None and REQUIRED_EMPTY in empty.fields["postal_code"].problems
    assert empty.fields["moved_on"].value is None and not empty.fields["moved_on"].problems


def test_characters_the_blank_prints_are_not_read(make_bot: MakeBot, tmp_path: Path) -> None:
    """A zone on a text-layer document holds what the blank prints there too (＿＿ typed as an
    underline, 年 月 日, a unit): with the blank beside the template, only the writing is read."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    bot = make_bot(toml=header() + """
[fields.name]
label = "氏名"
type = "name"
box = { x = 30, y = 20, w = 80, h = 8 }
""")
    pt = 72 / 25.4

    def pdf(path: Path, texts: list[tuple[float, float, str]]) -> Path:
        c = Canvas(str(path), pagesize=A4)
        c.setFont("HeiseiKakuGo-W5", 11)
        for x, y, t in texts:
            c.drawString(x * pt, (297 - y) * pt, t)
        c.save()
        return path

    underline = (30.0, 27.0, "＿＿＿＿＿＿＿＿＿＿＿＿＿＿＿＿")
    blank = pdf(bot.template.path.with_suffix(".blank.pdf"), [(15.0, 27.0, "氏名"), underline])
    filled = pdf(tmp_path / "filled.pdf", [(15.0, 27.0, "氏名"), underline, (32.0, 26.0, "山田　太郎")])
    from ocr import read_document

    config = KakariConfig(home=tmp_path / "home")
    assert bot.template.reference_path() == blank
    assert bot().read(read_document(filled, config)).fields["name"].value == "山田\u3000太郎"
    blank.unlink()  # without the blank the underline is part of the reading
    from bots.reading import _blank_print

    _blank_print.cache_clear()
    assert "_" in (bot().read(read_document(filled, config)).fields["name"].value or "")  # ＿ after NFKC


def test_a_bad_date_says_so_once() -> None:
    """A required date that does not parse shows one message, not also 必須項目が空です."""
    from bots.base import parse_checked
    from bots.template import FieldSpec
    from kakari.wareki import BAD_DATE

    spec = FieldSpec(label="申請日", type="wareki_date", required=True, static="")
    assert parse_checked("令和7年13月40日", spec)[1] == [BAD_DATE]
    assert parse_checked("", spec)[1] == [REQUIRED_EMPTY]
