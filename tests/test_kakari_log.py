"""Masking in log lines: every registered personal value is masked wherever it appears, the longest
first, however many values a long run has registered."""
from __future__ import annotations

from kakari.log import redact, register_personal


def test_registered_values_are_masked_anywhere_longest_first() -> None:
    register_personal(["架空野　太郎兵衛", "ひばり台七丁目"])  # words no other test writes
    line = redact("申請者 架空野太郎兵衛 (架空野　太郎兵衛) 住所 ひばり台七丁目8番 太郎兵衛")
    assert "太郎兵衛" not in line and "架空野" not in line and "ひばり台" not in line
    assert "(架＊＊＊＊＊＊＊)" in line  # masked whole, not as 架空野 + 太郎兵衛
    assert redact("") == "" and redact("x") == "x"


def test_many_registered_values_still_mask_each_one() -> None:
    names = [f"試験者{i:05d}号" for i in range(20000)]
    register_personal(names)
    line = redact(f"前 {names[12345]} 後 {names[-1]}")
    assert names[12345] not in line and names[-1] not in line and line.startswith("前 試＊＊＊") and " 後 試＊" in line
