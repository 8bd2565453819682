"""The kernel's era table: parts, initials and 年度 labels (parsing is tested with the field types)."""
from __future__ import annotations

from datetime import date

import pytest

from kakari.wareki import era_initial, format_wareki, wareki_parts, wareki_year


@pytest.mark.parametrize(("d", "parts"), [
    (date(2019, 4, 30), ("平成", 31, 4, 30)),
    (date(2019, 5, 1), ("令和", 1, 5, 1)),
    (date(2024, 9, 11), ("令和", 6, 9, 11)),
    (date(1989, 1, 7), ("昭和", 64, 1, 7)),
    (date(1912, 7, 30), ("大正", 1, 7, 30)),
])
def test_parts_follow_the_first_day_of_each_era(d: date, parts: tuple[str, int, int, int]) -> None:
    assert wareki_parts(d) == parts


def test_before_meiji_is_refused_in_japanese() -> None:
    with pytest.raises(ValueError, match="明治より前"):
        wareki_parts(date(1867, 12, 31))


def test_initials_and_gannen() -> None:
    assert [era_initial(e) for e in ("令和", "平成", "昭和", "大正", "明治")] == ["R", "H", "S", "T", "M"]
    assert format_wareki(date(2019, 5, 1)) == "令和元年5月1日"


@pytest.mark.parametrize(("year", "label"), [(2019, "令和元"), (2025, "令和7"), (1989, "平成元"), (2018, "平成30")])
def test_fiscal_year_names_take_the_era_that_ends_the_year(year: int, label: str) -> None:
    assert wareki_year(year) == label
