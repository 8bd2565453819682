"""The recorder's inferences, without a browser: which record field and pattern a typed value came from,
how a 受付番号 is generalised, and which element names an input (the session itself is recorded in
tests/test_systems_cli.py)."""
from __future__ import annotations

import pytest

from connectors.webmapping import parse_system
from connectors.webrecord import Recording, draft, infer_source, receipt_pattern
from kakari.errors import ConfigError
from kakari.model import Field, Record

SAMPLE = Record("d" * 64, "child_medical", {
    "applied_on": Field("applied_on", "申請日", "2024-09-09"),
    "guardian_name": Field("guardian_name", "申請者氏名", "山田\u3000翔太"),
    "guardian_birth": Field("guardian_birth", "申請者生年月日", "1995-10-17"),
    "child_name": Field("child_name", "児童氏名", "山田\u3000さくら"),
    "child_birth": Field("child_birth", "児童生年月日", "2023-10-03"),
    "postal_code": Field("postal_code", "郵便番号", "989-6103"),
})


@pytest.mark.parametrize(("typed", "context", "expected"), [
    ("R6.9.9", "申請日", ("applied_on", "{era_initial}{era_year}.{month}.{day}")),
    ("令和6年9月9日", "申請日", ("applied_on", "{wareki}")),
    ("1995", "申請者生年月日 年", ("guardian_birth", "{year}")),
    ("9", "申請日 月", ("applied_on", "{month}")),  # month and day are both 9: the label decides
    ("9", "申請日 日", ("applied_on", "{day}")),
    ("山田", "児童 姓", ("child_name", "{surname}")),  # both surnames are 山田: the label decides
    ("山田", "申請者 姓", ("guardian_name", "{surname}")),
    ("989", "郵便番号 前", ("postal_code", "{postal_head}")),
    ("KK-DDDDDDDDDDDD", "整理番号", ("@key", "{value}")),
])
def test_a_typed_value_is_traced_to_its_field_and_pattern(typed: str, context: str,
                                                          expected: tuple[str, str]) -> None:
    assert infer_source(typed, context, SAMPLE, "KK-DDDDDDDDDDDD") == expected


def test_nothing_is_guessed_for_a_value_the_record_does_not_give() -> None:
    assert infer_source("社保", "保険種別", SAMPLE, "") is None


@pytest.mark.parametrize(("text", "pattern"), [
    ("登録しました。受付番号：R8-000001", r"R\d+-\d{6}"),
    ("受付番号 R7-衛-000123", r"R\d+-衛-\d{6}"),
    ("申請番号は 2026-00042 です", r"\d{4}-\d{5}"),
    ("完了しました", None),
])
def test_a_receipt_number_is_generalised_into_its_pattern(text: str, pattern: str | None) -> None:
    assert receipt_pattern(text) == pattern


def test_an_empty_recording_still_drafts_a_file_that_loads_with_its_todos() -> None:
    result = draft(Recording(), "nothing", "http://127.0.0.1:9/login", None, "")
    assert result.todo > 0 and any("ログイン画面" in n for n in result.notes)
    with pytest.raises(ConfigError, match="pages"):  # no page was recorded: loading it says which part is missing
        parse_system(result.text, "nothing", "nothing.toml")
