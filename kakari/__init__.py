"""kakari: the kernel — the vocabulary every folder shares (types, errors, config, registry,
logging, the Bot base class). It imports none of the plugin folders: form readers subclass
``bots.FormBot`` (``from bots import FormBot, Record``)."""
from __future__ import annotations

from kakari.bot import Bot
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

__all__ = [
    "Bot", "Box", "ConfigError", "DocRef", "DocumentError", "ExitCode", "Field", "JobConfig", "KakariConfig",
    "KakariError", "MissingDependency", "Record", "RunContext", "Status", "TemplateError", "TransientError",
    "load_config",
]
