"""kakari: the kernel. Bot authors import everything they need from here.

Bot and FormBot live in ``bots/`` and are re-exported lazily (PEP 562), so importing the kernel
never imports the plugin folders.
"""
from __future__ import annotations

from typing import Any

from kakari.config import JobConfig, KakariConfig, RunContext, load_config
from kakari.errors import (
    ConfigError,
    DocumentError,
    ExitCode,
    KakariError,
    MissingDependency,
    TemplateError,
    TransientError,
)
from kakari.model import Box, DocRef, Field, Record, Status

__version__ = "0.1.0"

_LAZY = {"Bot": "bots.base", "FormBot": "bots.base", "Document": "ocr.document"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kakari' has no attribute {name!r}")


__all__ = [
    "Box", "Bot", "ConfigError", "DocRef", "Document", "DocumentError", "ExitCode", "Field", "FormBot",
    "JobConfig", "KakariConfig", "KakariError", "MissingDependency", "Record", "RunContext", "Status",
    "TemplateError", "TransientError", "load_config",
]
