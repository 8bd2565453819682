"""kakari.log: masking of personal values and patterns (never inside an id), file names masked to
their first character, control characters neutralised so no record can forge another, and a log
file only its owner may read."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from kakari.log import (
    clean,
    logger,
    mask_name,
    mask_path,
    neutralise,
    redact,
    register_personal,
    setup_logging,
    short_id,
)


@pytest.fixture(autouse=True)
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values registered here stay here (the registry is process-wide)."""
    import kakari.log

    monkeypatch.setattr(kakari.log, "_personal", set())
    monkeypatch.setattr(kakari.log, "_by_head", {})
    monkeypatch.setattr(kakari.log, "_kana_parts", set(), raising=False)


def test_registered_values_are_masked_as_words_not_inside_ids() -> None:
    register_personal(["78", "山田　太郎", "0569-51-3413"])
    assert redact("c67d482785f3 は 78番地") == "c67d482785f3 は 7＊番地"
    assert redact("山田太郎 / 山田 / 太郎") == "山＊＊＊ / 山＊ / 太＊"
    assert "3413" not in redact("電話 0569-51-3413")


@pytest.mark.parametrize(("text", "kept"), [
    ("文書 945999814901ab", "945999814901ab"),  # a document id prefix with only digits up front
    ("run 20261201T093350-a1b2c3", "20261201T093350-a1b2c3"),
    ("id 0a12345678901", "0a12345678901"),
])
def test_patterns_leave_ids_whole(text: str, kept: str) -> None:
    assert kept in redact(text)


@pytest.mark.parametrize("secret", ["1234 5678 9012", "090-1234-5678", "09012345678", "〒989-6103",
                                    "令和元年11月30日", "2019年11月30日"])
def test_patterns_mask_what_looks_personal(secret: str) -> None:
    assert secret not in redact(f"理由: {secret} のこと")


def test_short_ids_never_read_as_a_number() -> None:
    assert short_id("945999814901abcdef") == "945999814901a"
    assert short_id("c67d482785f3aaaa") == "c67d482785f3"
    assert redact(short_id("945999814901abcdef")) == "945999814901a"


def test_file_names_keep_their_first_character_and_extension() -> None:
    assert mask_name("山﨑　智子_飲食店.pdf") == "山＊＊＊＊＊＊＊＊.pdf"
    assert mask_name("x.pdf") == "＊.pdf" and mask_name("noext") == "n＊＊＊＊"
    assert mask_path(Path("/home/jobs/a/errors/田中.pdf")) == str(Path("/home/jobs/a/errors/田＊.pdf"))


def test_control_characters_cannot_forge_a_record() -> None:
    forged = "name\n2026-01-01 00:00:00.000 | ERROR | 1 | forged\r\x1b[2K\u202e"
    out = neutralise(forged)
    assert "\r" not in out and "\x1b" not in out and "\u202e" not in out
    assert all(line.startswith("    ") for line in out.split("\n")[1:])
    assert clean("a\x00b") == "a\\x00b"


def test_the_log_file_is_private_and_every_line_a_record_or_its_continuation(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        setup_logging(tmp_path, "WARNING", console=False)
        logger.info("file named x\n2026-01-01 00:00:00.000 | ERROR   | 1 | forged")
    finally:
        os.umask(old)
        logger.remove()
    log = tmp_path / "logs" / "kakari.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600 and stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and re.match(r"^\d{4}-\d\d-\d\d ", lines[0]) and lines[1].startswith("    ")


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


def test_a_kana_name_part_is_masked_as_a_word_not_inside_another() -> None:
    """モリ of モリ　タロウ is masked where it stands as a name — before 様 or さん, beside kanji or
    latin letters — not inside a longer katakana word (メモリ); the full name, squeezed or spaced,
    is masked wherever it appears, hiragana names and kanji parts too."""
    register_personal(["モリ　タロウ", "もり　はなこ", "架空原　一"])
    assert redact("読み取りに必要なメモリが上限を超えました") == "読み取りに必要なメモリが上限を超えました"
    assert redact("カモリ、モリーナ、こもりうた") == "カモリ、モリーナ、こもりうた"
    for text in ("モリ様", "モリ 様", "保護者モリの件", "(モリ)", "モリ\tタロウ", "Xモリ"):
        assert "モリ" not in redact(text), text
    for full in ("モリタロウ", "モリ　タロウ", "メモリタロウ", "もりはなこさん", "もり　はなこ"):
        masked = redact(full)
        assert "タロウ" not in masked and "はなこ" not in masked and "モリタ" not in masked, masked
    assert redact("タロウさんと はなこちゃん") == "タ＊＊さんと は＊＊ちゃん"
    assert "架空原" not in redact("架空原様") and "架空原" not in redact("架空原町")  # kanji parts: anywhere


def test_a_value_registered_whole_is_masked_anywhere_even_when_also_a_part() -> None:
    register_personal(["モリ　タロウ"])
    assert redact("メモリ") == "メモリ"
    register_personal(["モリ"])  # a field holding only the kana surname: masked wherever it appears
    assert redact("メモリ") == "メモ＊"


def test_masking_values_one_by_one_equals_one_alternation_of_them() -> None:
    """Registered values are masked as a single alternation (longest first, leftmost match) would
    mask them, also where values overlap, repeat or touch, kana parts included."""
    import random

    import kakari.log

    rng = random.Random(5)
    alphabet = "12３ab山田モリタロウメさん様 -"
    values = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 4))) for _ in range(60)})
    register_personal(values[:40])
    register_personal(["モリ　タロウ", "やま　はな"])
    for _ in range(400):
        text = "".join(rng.choice(alphabet + "xyz") for _ in range(rng.randint(0, 40)))
        found = tuple(sorted((v for v in kakari.log._personal if v in text), key=lambda v: (-len(v), v)))
        kana = frozenset(v for v in found if v in kakari.log._kana_parts)
        expected = re.sub("|".join(kakari.log._bounded(v, v in kana) for v in found),
                          lambda m: kakari.log.mask_value(m.group(0)), text) if found else text
        assert kakari.log._mask_values(text, found, kana) == expected, text
