"""Export mappings (<bot>.export.toml): one bot reads the paper form and the online form of the same
procedure — a row goes through the same field types and validators, a mapping's mistakes name the
file and the key, and an export whose columns do not fit names the column and the mapping."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bots import registry
from bots.base import REQUIRED_EMPTY, FormBot
from bots.exports import NOT_AN_OPTION, UNREADABLE, Resolved, resolve, row_record, services_of
from bots.template import load_template
from connectors.tabular import Table
from kakari.errors import TemplateError, Unrecognised

ROOT = Path(__file__).resolve().parents[1]
CHILD = registry.get("child_medical")
RESTAURANT = registry.get("restaurant_permit")


def wakaba() -> tuple[type[FormBot], object]:
    return CHILD, services_of(CHILD)["wakaba_e"]


def child_row(**changes: str) -> dict[str, str]:
    row = {
        "受付番号": "KD-000123", "申請日時": "2025/10/05 13:45:12", "申請者氏名（姓）": "髙橋", "申請者氏名（名）": "翔太",
        "申請者氏名フリガナ（セイ）": "ﾀｶﾊｼ", "申請者氏名フリガナ（メイ）": "しょうた", "申請者生年月日": "1990-04-01",
        "郵便番号": "9896101", "住所": "若葉県みどり町緑ヶ丘1丁目2番3号", "方書": "みどりハイツ101",
        "電話番号": "０９０－１２３４－５６７８", "対象児童氏名（姓）": "髙橋", "対象児童氏名（名）": "陽葵",
        "対象児童氏名フリガナ（セイ）": "タカハシ", "対象児童氏名フリガナ（メイ）": "ヒマリ", "対象児童生年月日": "令和3年5月6日",
        "対象児童の性別": "女性", "申請者との続柄": "子（実子・養子）", "加入している健康保険": "協会けんぽ・健康保険組合",
        "保険証の記号": "1234", "保険証の番号": "56", "保険者名称": "全国健康保険協会若葉支部", "保険者番号": "01040012",
        "他の医療費助成": "受けていない", "添付ファイル（保険証の写し）": "KD-000123_保険証.pdf", "メールアドレス": "a@example.jp",
    }
    return row | changes


def read(row: dict[str, str], bot: type[FormBot] = CHILD, service: str = "wakaba_e") -> dict[str, object]:
    table = Table("申請一覧.csv", list(row), [(2, list(row.values()))])
    resolved = resolve(table, [(bot, services_of(bot)[service])])
    rec, shown = row_record(resolved, table.rows[0][1], "0" * 64)
    assert ("電話番号", row.get("電話番号")) in shown or bot is not CHILD
    return {n: (f.value, f.problems) for n, f in rec.fields.items()}


def test_a_row_becomes_the_same_values_as_the_paper_form() -> None:
    got = read(child_row())
    values = {n: v for n, (v, _) in got.items()}
    assert all(not p for _, p in got.values()), got
    assert values["applied_on"] == "2025-10-05"  # the day of 申請日時
    assert values["guardian_name"] == "髙橋\u3000翔太" and values["guardian_kana"] == "タカハシ\u3000ショウタ"
    assert values["postal_code"] == "989-6101" and values["phone"] == "090-1234-5678"
    assert values["address"] == "若葉県みどり町緑ヶ丘1丁目2番3号 みどりハイツ101"  # as the paper form normalises it
    assert values["child_birth"] == "2021-05-06"  # 和暦 too
    assert (values["child_sex"], values["relationship"], values["insurance_type"], values["other_aid"]) == \
        ("女", "子", "社会保険", "無")  # the service's words → the form's options
    assert values["insurer_name"] == "全国健康保険協会若葉支部"


@pytest.mark.parametrize(("changes", "field", "problem"), [
    ({"対象児童生年月日": "2021/02/30"}, "child_birth", "日付として正しくありません"),  # an impossible date
    ({"電話番号": ""}, "phone", REQUIRED_EMPTY),
    ({"対象児童の性別": "回答しない"}, "child_sex", NOT_AN_OPTION),
    ({"申請者氏名フリガナ（セイ）": "Takahashi"}, "guardian_kana", "カタカナ以外の文字があります"),
    ({"郵便番号": "98961"}, "postal_code", "郵便番号は7桁の数字です"),
    ({"加入している健康保険": "国民健康保険"}, "insurer_number", "国民健康保険の保険者番号は6桁です"),  # the bot's own rule
    ({"申請者氏名（名）": "翔\ufffd"}, "guardian_name", UNREADABLE),  # mojibake never becomes a value
    ({"申請者氏名（名）": "\ue000太"}, "guardian_name", UNREADABLE),  # a 外字 in the private use area
])
def test_bad_values_are_flagged_as_on_paper(changes: dict[str, str], field: str, problem: str) -> None:
    value, problems = read(child_row(**changes))[field]
    assert any(problem in p for p in problems), problems
    if problem in (NOT_AN_OPTION, UNREADABLE, "日付として正しくありません"):
        assert value is None  # nothing a ledger column should hold


def test_check_digits_and_checkbox_words_of_the_restaurant_form() -> None:
    row = {"回答ID": "LG-1", "回答日時": "2025-10-05 09:00:00", "申請日": "2025年10月5日", "郵便番号": "989-6101",
           "住所": "若葉県みどり町本町1-2-3", "フリガナ": "カブシキガイシャ　ミドリフーズ", "氏名又は名称": "株式会社みどりフーズ",
           "代表者氏名（法人の場合）": "佐藤 翔太", "法人番号（法人の場合）": "1234567890123", "電話番号": "0229-12-3456",
           "営業所の名称": "食堂みどり", "営業所の所在地": "若葉県みどり町本町1-2-3", "営業所の電話番号": "",
           "営業の種類": "飲食店営業", "食品衛生責任者の氏名": "佐藤 翔太", "食品衛生責任者の資格": "養成講習会を修了",
           "客席の有無": "あり", "客席数": "24", "客席面積（㎡）": "30.5", "申請手数料（円）": "16,000", "添付書類": ""}
    got = read(row, RESTAURANT, "logo")
    assert got["corporate_number"][1] == ["法人番号のチェックデジットが正しくありません"]
    assert got["representative"][0] == "佐藤\u3000翔太" and got["manager_qualification"][0] == "養成講習会修了"
    assert got["has_seating"] == (True, []) and got["seat_area"][0] == 30.5 and got["fee"][0] == 16000
    assert read(row | {"客席の有無": "たぶん"}, RESTAURANT, "logo")["has_seating"] == (None, ["有・無のどちらか分かりません"])
    assert read(row | {"客席の有無": "なし"}, RESTAURANT, "logo")["has_seating"] == (False, [])


def test_a_missing_or_renamed_column_names_the_column_and_the_mapping_file() -> None:
    bot, service = wakaba()
    row = child_row()
    row["申請者 姓"] = row.pop("申請者氏名（姓）")  # renamed by the service
    del row["受付番号"]
    table = Table("申請一覧_1005.csv", list(row), [])
    with pytest.raises(Unrecognised) as e:
        resolve(table, [(bot, service)])
    message = e.value.message
    assert "申請一覧_1005.csv" in message and str(ROOT / "bots" / "child_medical.export.toml") in message
    assert "「申請者氏名（姓）」(fields.guardian_name)" in message and "「受付番号」(receipt)" in message
    assert "似た名前の列" in message and "「申請者 姓」" in message


def test_headers_match_whatever_the_width_and_spacing() -> None:
    bot, service = wakaba()
    row = {k.replace("（", "(").replace("）", ")").replace("番号", " 番号"): v for k, v in child_row().items()}
    resolved = resolve(Table("a.csv", list(row), []), [(bot, service)])
    assert isinstance(resolved, Resolved) and set(resolved.index) == {c for c, _ in service.columns()}


def _bot_with(tmp_path: Path, mapping: str) -> type[FormBot]:
    shutil.copy(ROOT / "bots" / "child_medical.toml", tmp_path / "child_medical.toml")
    (tmp_path / "child_medical.export.toml").write_text(mapping, encoding="utf-8")
    return type("Probe", (CHILD,), {"template": load_template(tmp_path / "child_medical.toml"), "name": "probe",
                                    "__module__": __name__})


def test_mapping_mistakes_name_the_file_and_the_key(tmp_path: Path) -> None:
    good = (ROOT / "bots" / "child_medical.export.toml").read_text(encoding="utf-8")
    bad = (good.replace('child_sex = { column = "対象児童の性別", values = { "男性" = "男", "女性" = "女" } }',
                        'child_sex = { column = "対象児童の性別", values = { "男性" = "男子" } }\nshoe_size = "靴"')
           .replace('phone = "電話番号"\n', "").replace("manual_minutes = 6.0", "manual_minutes = -1"))
    bot = _bot_with(tmp_path, bad)
    with pytest.raises(TemplateError) as e:
        services_of(bot)
    message = e.value.message
    assert str(tmp_path / "child_medical.export.toml") in message
    assert "services.wakaba_e.manual_minutes" in message
    bot = _bot_with(tmp_path, bad.replace("manual_minutes = -1", "manual_minutes = 6"))
    with pytest.raises(TemplateError) as e:
        services_of(bot)
    message = e.value.message
    assert "services.wakaba_e.fields.child_sex.values.男性: 「男子」は様式の選択肢にありません" in message
    assert "services.wakaba_e.fields.shoe_size: 様式テンプレートにない項目です" in message
    assert "services.wakaba_e.fields.phone: 必須項目「電話番号」の列が指定されていません" in message


def test_two_services_are_told_apart_by_their_columns(tmp_path: Path) -> None:
    good = (ROOT / "bots" / "child_medical.export.toml").read_text(encoding="utf-8")
    other = good.split("[services.wakaba_e]")[1].replace("[services.wakaba_e.fields]", "[services.kenmin.fields]")
    bot = _bot_with(tmp_path, good + "\n[services.kenmin]" + other.replace('receipt = "受付番号"', 'receipt = "整理番号"'))
    services = services_of(bot)
    assert set(services) == {"wakaba_e", "kenmin"}
    row = child_row()
    row["整理番号"] = row.pop("受付番号")
    chosen = resolve(Table("a.csv", list(row), []), [(bot, s) for s in services.values()])
    assert chosen.service.name == "kenmin"
