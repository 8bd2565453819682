"""Logging with loguru: console + rotating file, personal data masked and control characters
neutralised in every line.

Masking works two ways, because one is not enough: values the runner knows are personal (the
fields marked ``personal`` in a template) are registered and replaced wherever they appear, and
patterns that look like phone numbers, postal codes, My Numbers and dates of birth are masked even
when nobody registered them. Digits are only masked as a whole number, never inside a longer run of
letters and digits, so a hexadecimal document id in a log line still matches its document.

Text that came from outside (file names, user names typed at the login page) can hold newlines and
other control characters; ``neutralise`` makes each record start a line of its own, and every
further line of a record is indented, so nobody can forge a log line.
"""
from __future__ import annotations

import functools
import os
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from kakari.files import make_private_dir, private_opener

if TYPE_CHECKING:
    from loguru import Record

_lock = threading.Lock()
_personal: set[str] = set()
_by_head: dict[str, set[str]] = {}  # the registered values by their first two characters
_kana_parts: set[str] = set()  # kana-only parts of a registered name, matched as whole words only

_ALNUM = "0-9A-Za-z０-９Ａ-Ｚａ-ｚ"
_B, _E = f"(?<![{_ALNUM}])", f"(?![{_ALNUM}])"  # a whole number, not digits inside an id
_PATTERNS = [
    re.compile(_B + r"\d{4}[\s-]?\d{4}[\s-]?\d{4}" + _E),  # 12-digit individual numbers
    re.compile(_B + r"0\d{1,4}-\d{1,4}-\d{3,4}" + _E),  # phone numbers with hyphens
    re.compile(_B + r"0\d{9,10}" + _E),  # phone numbers without hyphens
    re.compile(r"〒?\s?" + _B + r"\d{3}-\d{4}" + _E),  # postal codes
    re.compile(r"(明治|大正|昭和|平成|令和)\s*[0-9０-９元]{1,2}\s*年\s*[0-9０-９]{1,2}\s*月\s*[0-9０-９]{1,2}\s*日"),
    re.compile(_B + r"(19|20)\d\d\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"),  # 西暦 dates written out
]
# A kana part of a name (モリ of モリ　タロウ) is a word of its own only where the script changes:
# inside a run of the same kana it is part of another word (メモリ). Kanji parts match anywhere,
# since Japanese writes 様・殿・氏 and compounds straight after a surname with no change of script.
_SCRIPTS = {"katakana": "\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f", "hiragana": "\u3041-\u309f"}
_HONORIFICS = "さん|さま|くん|ちゃん"  # written after a name in the same script: still its end
# C0 and C1 controls, DEL, line/paragraph separators and bidirectional overrides (which reorder
# what a reader sees); newline and tab are handled on their own
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTINUATION = "\n    "


def mask_value(value: Any) -> str:
    """Keep the first character so a clerk can still tell two log lines apart: 山田太郎 → 山＊＊＊."""
    text = str(value)
    if len(text) <= 1:
        return "＊"
    return text[0] + "＊" * min(len(text) - 1, 8)


def mask_name(name: str) -> str:
    """A file name as logs, events and error notes show it: scanners and clerks often name a file
    after the applicant, so only its first character and its extension stay (山田太郎.pdf → 山＊＊＊.pdf)."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem or len(suffix) > 5 or not suffix.isalnum():
        stem, suffix = name, ""
    return mask_value(stem) + (f".{suffix}" if suffix else "")


def mask_path(path: str | os.PathLike[str]) -> str:
    """A path with its file name masked (the folders are the job's own and say nothing personal)."""
    p = Path(path)
    return str(p.with_name(mask_name(p.name))) if p.name else str(p)


def short_id(doc_id: str, length: int = 12) -> str:
    """A document id as log lines and the console show it: its first 12 characters, or as many more as
    it takes to include a letter, so the prefix never reads as a 12-digit number (and is never masked
    as a My Number)."""
    n = length
    while n < len(doc_id) and doc_id[:n].isdigit():
        n += 1
    return doc_id[:n]


def neutralise(text: str) -> str:
    """Control characters shown as escapes (\\r, \\x1b, \\u202e); every line after the first indented."""
    text = _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)
    return text.replace("\n", _CONTINUATION) if "\n" in text else text


def register_personal(values: Any) -> None:
    """Remember personal values so that any log line containing them is masked."""
    with _lock:
        for v in values:
            if v is None or isinstance(v, bool):
                continue
            text = str(v).strip()
            if len(text) >= 2:
                _add(text)
                # names are also written without the space between surname and given name
                squeezed = re.sub(r"[\s\u3000]+", "", text)
                if len(squeezed) >= 2:
                    _add(squeezed)
                parts = re.split(r"[\s\u3000]+", text)
                for part in parts if len(parts) > 1 else ():
                    if len(part) >= 2:
                        _add(part, part=True)


def _add(value: str, part: bool = False) -> None:
    if part and value not in _personal and all(map(_script, value)):
        _kana_parts.add(value)
    elif not part:
        _kana_parts.discard(value)  # registered whole somewhere: masked anywhere
    _personal.add(value)
    _by_head.setdefault(value[:2], set()).add(value)


def _script(ch: str) -> str:
    """The set of characters of `ch`'s kana script ('' for anything else)."""
    return next((chars for chars in _SCRIPTS.values() if re.match(f"[{chars}]", ch)), "")


def _bounded(value: str, kana_part: bool = False) -> str:
    """`value` as a pattern that matches only where it is not part of a longer word of letters and
    digits: 78 is masked in 78番地, not in the document id c67d482785f3; a kana part of a name only
    where the kana around it is of another script (モリ in モリ様 and 森モリ, not in メモリ)."""
    if kana_part:
        first, last = _script(value[0]), _script(value[-1])
        return f"(?<![{first}]){re.escape(value)}(?:(?={_HONORIFICS})|(?![{last}]))"
    head = _B if re.match(f"[{_ALNUM}]", value) else ""
    tail = _E if re.match(f"[{_ALNUM}]", value[-1]) else ""
    return head + re.escape(value) + tail


@functools.lru_cache(maxsize=8192)
def _value_pattern(value: str, kana_part: bool) -> re.Pattern[str]:
    return re.compile(_bounded(value, kana_part))


def _mask_values(text: str, found: tuple[str, ...], kana_parts: frozenset[str]) -> str:
    """`text` with the found values masked as one alternation of them, in `found`'s order, would mask
    them: leftmost first, the first value that matches there. Each value's pattern is compiled once;
    the alternation of the values of each line would be compiled anew for most lines."""
    spans: list[tuple[int, int, int]] = []  # start, rank, end
    for rank, value in enumerate(found):
        pattern = _value_pattern(value, value in kana_parts)
        i = text.find(value)
        while i >= 0:
            m = pattern.match(text, i)
            if m:
                spans.append((i, rank, m.end()))
            i = text.find(value, i + 1)
    out, pos = [], 0
    for start, _, end in sorted(spans):
        if start >= pos:
            out += [text[pos:start], mask_value(text[start:end])]
            pos = end
    return "".join(out) + text[pos:]


def redact(text: str) -> str:
    """Mask every registered personal value and every personal-looking pattern in `text`."""
    with _lock:  # only the values that start somewhere in the text: a long run registers many thousands
        heads = {v for i in range(len(text) - 1) for v in _by_head.get(text[i:i + 2], ())}
        found = tuple(sorted((v for v in heads if v in text), key=lambda v: (-len(v), v)))
        kana_parts = frozenset(v for v in found if v in _kana_parts)
    if found:
        text = _mask_values(text, found, kana_parts)
    for pat in _PATTERNS:
        text = pat.sub(lambda m: mask_value(m.group(0)), text)
    return text


def clean(text: str) -> str:
    """What any stored free text (events, run notes, error notes, log lines) holds: masked, one line
    per line, no control characters."""
    return neutralise(redact(text))


def _patch(record: Record) -> None:
    record["message"] = clean(record["message"])
    if record["exception"] is not None:
        record["extra"]["masked"] = True


_configured: set[tuple[str, str]] = set()


def setup_logging(home: Path, level: str = "INFO", console: bool = True) -> None:
    """Console (warnings only unless verbose) + `<home>/logs/kakari.log`, rotated at 10 MB, 10 kept,
    readable by the service account only."""
    key = (str(home), level)
    if key in _configured:
        return
    _configured.clear()
    _configured.add(key)
    logger.remove()
    logger.configure(patcher=_patch)
    if console:
        logger.add(sys.stderr, level=level, format="<level>{level: <7}</level> {message}", colorize=None)
    logs = home / "logs"
    make_private_dir(logs)
    logger.add(
        logs / "kakari.log",
        level="DEBUG",
        rotation="10 MB",
        retention=10,
        encoding="utf-8",
        enqueue=False,
        # tracebacks go only to the file, and their locals are never printed (they hold personal data)
        backtrace=False,
        diagnose=False,
        format="{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <7} | {process} | {message}",
        opener=private_opener,
    )


__all__ = ["clean", "logger", "mask_name", "mask_path", "mask_value", "neutralise", "redact",
           "register_personal", "setup_logging", "short_id"]
