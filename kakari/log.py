"""Logging with loguru: console + rotating file, personal data masked in every line.

Masking works two ways, because one is not enough: values the runner knows are personal (the
fields marked ``personal`` in a template) are registered and replaced wherever they appear, and
patterns that look like phone numbers, postal codes, My Numbers and dates of birth are masked even
when nobody registered them.
"""
from __future__ import annotations

import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

if TYPE_CHECKING:
    from loguru import Record

_lock = threading.Lock()
_personal: set[str] = set()
_by_head: dict[str, set[str]] = {}  # the registered values by their first two characters

_PATTERNS = [
    re.compile(r"\d{4}[\s-]?\d{4}[\s-]?\d{4}"),  # 12-digit individual numbers
    re.compile(r"0\d{1,4}-\d{1,4}-\d{3,4}"),  # phone numbers with hyphens
    re.compile(r"(?<!\d)0\d{9,10}(?!\d)"),  # phone numbers without hyphens
    re.compile(r"〒?\s?\d{3}-\d{4}(?!\d)"),  # postal codes
    re.compile(r"(明治|大正|昭和|平成|令和)\s*[0-9０-９元]{1,2}\s*年\s*[0-9０-９]{1,2}\s*月\s*[0-9０-９]{1,2}\s*日"),
]


def mask_value(value: Any) -> str:
    """Keep the first character so a clerk can still tell two log lines apart: 山田太郎 → 山＊＊＊."""
    text = str(value)
    if len(text) <= 1:
        return "＊"
    return text[0] + "＊" * min(len(text) - 1, 8)


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
                for part in re.split(r"[\s\u3000]+", text):
                    if len(part) >= 2:
                        _add(part)


def _add(value: str) -> None:
    _personal.add(value)
    _by_head.setdefault(value[:2], set()).add(value)


def redact(text: str) -> str:
    """Mask every registered personal value and every personal-looking pattern in `text`."""
    with _lock:  # only the values that start somewhere in the text: a long run registers many thousands
        found = {v for i in range(len(text) - 1) for v in _by_head.get(text[i:i + 2], ())}
    for v in sorted(found, key=len, reverse=True):
        if v in text:
            text = text.replace(v, mask_value(v))
    for pat in _PATTERNS:
        text = pat.sub(lambda m: mask_value(m.group(0)), text)
    return text


def _patch(record: Record) -> None:
    record["message"] = redact(record["message"])
    if record["exception"] is not None:
        record["extra"]["masked"] = True


_configured: set[tuple[str, str]] = set()


def setup_logging(home: Path, level: str = "INFO", console: bool = True) -> None:
    """Console (warnings only unless verbose) + `<home>/logs/kakari.log`, rotated at 10 MB, 10 kept."""
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
    logs.mkdir(parents=True, exist_ok=True)
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
    )


__all__ = ["logger", "mask_value", "redact", "register_personal", "setup_logging"]
