"""What a mapping can say without a browser: value patterns and parts, code maps, the plug-in point for
transforms (built-in, a town's folder, an entry point), targets and steps, the 受付番号 pattern, the
validator's warnings, keys, and where the browser is found."""
from __future__ import annotations

import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from connectors.browser import find_browser, needs_display
from connectors.webmapping import SYSTEMS_DIR, FieldSpec, Step, Target, load_system, parse_system, value_for
from connectors.webvalues import TransformError, pattern_names, render, transforms
from kakari.errors import ConfigError, MissingDependency
from kakari.model import Field, Record

KOSODATE = (SYSTEMS_DIR / "kosodate.toml").read_text(encoding="utf-8")


def record(**values: object) -> Record:
    return Record("ab" * 32, "child_medical", {k: Field(k, k, v) for k, v in values.items()})


def spec(**kw: object) -> FieldSpec:
    return FieldSpec(label="欄", selector="#x", **kw)


def typed(s: FieldSpec, rec: Record) -> str | None:
    return value_for(s, rec, "KK-ABABABABABAB", load_system("kosodate"))


# =============================================================================================
# Patterns
# =============================================================================================
@pytest.mark.parametrize(("pattern", "value", "expected"), [
    ("{era_initial}{era_year}.{month}.{day}", "2024-09-11", "R6.9.11"),
    ("{era_initial}{era_year:02}.{month:02}.{day:02}", "2024-09-11", "R06.09.11"),
    ("{era}{era_year_gannen}年{month}月{day}日", "2019-05-01", "令和元年5月1日"),
    ("{year}", "1995-10-17", "1995"),
    ("{month:02}", "1995-03-07", "03"),
    ("{wareki}", date(1989, 1, 7), "昭和64年1月7日"),
    ("{surname}", "髙橋\u3000太郎", "髙橋"),
    ("{postal_head}-{postal_tail}", "９８９６１０１", "989-6101"),
    ("{prefecture}", "若葉県みどり町本町1-2-3", "若葉県"),
])
def test_patterns_put_parts_of_a_value_together(pattern: str, value: object, expected: str) -> None:
    assert render(pattern, value, lambda n: None, ["みどり町"]) == expected


def test_one_field_split_into_several_inputs_and_several_joined_into_one() -> None:
    rec = record(phone="0229-12-3456", address="若葉県みどり町本町1-2-3", building="みどりハイツ101",
                 child_birth="2023-10-03")
    parts = r"^(?P<area>\d+)-(?P<local>\d+)-(?P<line>\d+)$"
    assert [typed(spec(source="phone", parse=parts, format=f"{{{g}}}"), rec) for g in ("area", "local", "line")] \
        == ["0229", "12", "3456"]
    assert typed(spec(format="{address}\u3000{building}"), rec) == "若葉県みどり町本町1-2-3\u3000みどりハイツ101"
    assert typed(spec(format="{child_birth.year}年{child_birth.month}月"), rec) == "2023年10月"
    assert typed(spec(source="building", format="{municipality}"), record(building=None)) is None  # empty: left alone


def test_code_maps_and_their_refusal() -> None:
    rec = record(relationship="孫", insurance_type="共済組合")
    assert typed(spec(source="relationship", kind="select", choose="value", map={"子": "01", "孫": "02"}), rec) == "02"
    with pytest.raises(TransformError, match="対応付けられない"):
        typed(spec(source="insurance_type", map={"社会保険": "1"}), rec)


def test_values_a_pattern_cannot_show_are_refused_without_the_value() -> None:
    with pytest.raises(TransformError, match="日付") as e:
        typed(spec(source="x", format="{year}"), record(x="昨日"))
    assert "昨日" not in str(e.value)
    with pytest.raises(TransformError, match="書式指定"):
        typed(spec(source="x", format="{value:05}"), record(x="abc"))
    with pytest.raises(TransformError, match="必須"):
        typed(spec(source="x", required=True), record(x=""))


def test_pattern_names_allow_only_parts_and_field_names() -> None:
    assert pattern_names("{era_initial}{era_year}.{month}") == [(None, "era_initial"), (None, "era_year"), (None, "month")]
    assert pattern_names("{address} {child_birth.year}") == [("address", None), ("child_birth", "year")]
    for bad, word in [("{value.__class__}", "部分"), ("{x[0]}", "名前"), ("{value!r}", "変換"), ("{year", "括弧")]:
        with pytest.raises(ValueError, match=word):
            pattern_names(bad)


def test_mapping_errors_name_the_file_and_migrate_nothing_silently(tmp_path: Path) -> None:
    (tmp_path / "systems").mkdir()
    target = tmp_path / "systems" / "kosodate.toml"
    target.write_text(KOSODATE.replace("{era_initial}{era_year}", "{applied_on.era_inital}{era_year}"),
                      encoding="utf-8")
    with pytest.raises(ConfigError, match="era_inital") as e:
        load_system("kosodate", tmp_path)
    assert str(target) in e.value.message
    target.write_text(KOSODATE.replace("{era_initial}{era_year}", "{era_inital}{era_year}"), encoding="utf-8")
    typo = next(f for f in load_system("kosodate", tmp_path).pages[0].fields if f.label == "申請日")
    with pytest.raises(TransformError, match="era_inital"):  # not a part, not a field: never typed as ""
        typed(typo, record(applied_on="2024-09-11"))
    both = KOSODATE.replace('format = "{year}", required = true },\n    { label = "保護者生年月日（月）"',
                            'format = "{year}", transform = "wareki_year", required = true },\n    { label = "保護者生年月日（月）"')
    target.write_text(both, encoding="utf-8")
    with pytest.raises(ConfigError, match=r'format = "\{era_year\}" と同じ'):
        load_system("kosodate", tmp_path)


def test_existing_named_transforms_still_load_and_give_the_same_text() -> None:
    system = load_system("eisei")
    page1 = {f.label: f for f in system.pages[0].fields}
    rec = Record("c" * 64, "restaurant_permit", {"applied_on": Field("applied_on", "申請日", "2019-05-01")})
    assert [value_for(page1[k], rec, "K", system) for k in ("申請日（元号）", "申請日（年）", "申請日（月）")] == \
        ["令和", "1", "5"]


# =============================================================================================
# The plug-in point
# =============================================================================================
def test_a_built_in_transform_is_found_by_the_registry() -> None:
    assert "hankaku_kana" in transforms.names()
    assert typed(spec(source="k", transform="hankaku_kana"), record(k="ヤマダ\u3000ガクト")) == "ﾔﾏﾀﾞ ｶﾞｸﾄ"
    assert typed(spec(source="k", format="{surname}", transform="hankaku_kana"), record(k="パク\u3000ジヌ")) == "ﾊﾟｸ"
    with pytest.raises(TransformError, match="半角カナにできない"):
        typed(spec(source="k", transform="hankaku_kana"), record(k="やまだ"))


TOWN_TRANSFORM = '''
from connectors.webvalues import ValueTransform

class GovCode(ValueTransform):
    """みどり町の住民システムは町名を地区コードで持つ"""
    name = "midori_district"

    def __call__(self, value, record, system):
        return {"中央": "01", "桜台": "02"}.get(str(value), "99")
'''


def test_a_towns_transform_beside_its_mapping_is_registered(tmp_path: Path) -> None:
    (tmp_path / "systems").mkdir()
    (tmp_path / "systems" / "midori_codes.py").write_text(TOWN_TRANSFORM, encoding="utf-8")
    mapping = KOSODATE.replace('source = "address", required = true',
                               'source = "address", transform = "midori_district", required = true')
    (tmp_path / "systems" / "kosodate.toml").write_text(mapping, encoding="utf-8")
    system = load_system("kosodate", tmp_path)
    field = next(f for f in system.pages[0].fields if f.label == "住所")
    assert value_for(field, record(address="桜台"), "K", system) == "02"
    assert transforms.entries()["midori_district"].origin.startswith("folder")


def test_a_transform_from_another_package_comes_in_through_the_entry_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "midori_kakari_plugins-1.0.dist-info").mkdir(parents=True)
    (site / "midori_kakari_plugins-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: midori-kakari-plugins\nVersion: 1.0\n", encoding="utf-8")
    (site / "midori_kakari_plugins-1.0.dist-info" / "entry_points.txt").write_text(
        "[kakari.transforms]\nshift_jis_safe = midori_transforms:ShiftJisSafe\n", encoding="utf-8")
    (site / "midori_transforms.py").write_text(textwrap.dedent('''
        from connectors.webvalues import TransformError, ValueTransform

        class ShiftJisSafe(ValueTransform):
            name = "shift_jis_safe"

            def __call__(self, value, record, system):
                try:
                    str(value).encode("cp932")
                except UnicodeEncodeError:
                    raise TransformError("Shift_JIS にない文字があります")
                return str(value)
        '''), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(transforms, "_entries", None)
    try:
        assert transforms.entries()["shift_jis_safe"].origin == "entry point midori-kakari-plugins"
        assert typed(spec(source="n", transform="shift_jis_safe"), record(n="髙橋")) == "髙橋"
        with pytest.raises(TransformError, match="Shift_JIS"):
            typed(spec(source="n", transform="shift_jis_safe"), record(n="𠮷田"))
    finally:
        sys.modules.pop("midori_transforms", None)
        transforms._entries = None


# =============================================================================================
# Targets, steps, read-back, validator, keys
# =============================================================================================
def test_targets_are_selector_strings_or_user_facing_locators() -> None:
    assert spec(source="a").selector == Target(css="#x")
    t = FieldSpec(label="性別", selector={"role": "radio", "name": "{value}", "within": {"role": "group", "name": "性別"}},
                  source="a", kind="check").selector
    assert t.with_value("女").name == "女" and t.within is not None
    assert t.describe() == "role=group「性別」 の中の role=radio「{value}」"
    assert Target(css="input[value='{value}']").with_value("O'Neil").css == "input[value='O\\'Neil']"
    with pytest.raises(ValueError, match="どれか1つ"):
        Target(label="氏名", css="#name")
    with pytest.raises(ValueError, match="どれか1つ"):
        Step(click="#a", wait="#b")
    assert Step(tab="子育て支援業務").describe() == "tab 子育て支援業務"


def test_receipts_are_cut_out_by_the_pattern_wherever_they_are_read() -> None:
    system = load_system("kosodate")
    assert system.receipt("登録しました。受付番号：R8-000001") == "R8-000001"
    assert system.receipt(" R8-000001 ") == "R8-000001"
    assert system.receipt("受付番号はまだありません") is None
    grouped = parse_system(KOSODATE.replace(r"receipt_pattern = 'R\d+-\d{6}'",
                                            r"receipt_pattern = '受付番号：(?P<no>\S+)'"), "k", "k.toml")
    assert grouped.receipt("登録しました。受付番号：R8-000001") == "R8-000001"


def test_the_validator_says_what_exactly_once_means_without_a_key_or_a_search() -> None:
    assert load_system("kosodate").warnings() == [] and load_system("eisei").warnings() == []
    no_key = KOSODATE.replace('{ label = "整理番号", selector = { label = "整理番号" }, source = "@key" },\n', "")
    warnings = parse_system(no_key, "k", "k.toml").warnings()
    assert any("外部連携番号を書き込む欄" in w and "受付不可" in w and "担当者" in w for w in warnings)
    search = KOSODATE[KOSODATE.index("[search]"):KOSODATE.index("[errors]")]
    blind = parse_system(no_key.replace(search, ""), "k", "k.toml").warnings()
    assert any("登録されたかどうかを確かめられない" in w for w in blind)
    loose = parse_system(KOSODATE.replace(r"receipt_pattern = 'R\d+-\d{6}'", ""), "k", "k.toml").warnings()
    assert any("receipt_pattern" in w for w in loose)


def test_keys_are_stable_and_fit_a_numbers_only_column() -> None:
    system = load_system("kosodate")
    assert system.key_for("0123456789abcdef" * 4) == "KK-0123456789AB"
    digits = parse_system(KOSODATE.replace('key_prefix = "KK-"', 'key_prefix = ""\nkey_alphabet = "digits"')
                          .replace("key_length = 12", "key_length = 10"), "k", "k.toml")
    key = digits.key_for("0123456789abcdef" * 4)
    assert key.isdigit() and len(key) == 10 and key == digits.key_for("0123456789abcdef" * 4)


# =============================================================================================
# Where the browser is
# =============================================================================================
def test_the_browser_is_the_configured_one_then_the_environment_then_the_platforms(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = tmp_path / "chrome"
    exe.write_text("", encoding="utf-8")
    monkeypatch.setenv("KAKARI_CHROMIUM", str(exe))
    assert find_browser("msedge").channel == "msedge"
    assert find_browser(str(exe)).launch_options()["executable_path"] == str(exe)
    assert find_browser().executable == str(exe) and "KAKARI_CHROMIUM" in find_browser().origin
    monkeypatch.delenv("KAKARI_CHROMIUM")
    assert find_browser(platform="win32").channel == "msedge"  # Edge ships with Windows
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(MissingDependency) as e:
        find_browser(platform="linux")
    assert "apt-get install chromium" in e.value.fix and "browser" in e.value.fix
    with pytest.raises(MissingDependency, match="見つかりません"):
        find_browser(str(tmp_path / "no-such-browser"))


def test_a_headed_browser_needs_a_display_only_on_linux_without_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert needs_display("linux") and not needs_display("win32") and not needs_display("darwin")
    monkeypatch.setenv("DISPLAY", ":0")
    assert not needs_display("linux")
