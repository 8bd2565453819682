"""Bots: one small .py plus one .toml per paper form, and task bots. Found by walking this package
(built-ins), entry points (group "kakari.bots") and a town's ``bots_dir`` folders (kakari.registry).

A form bot's module needs one import: ``from bots import FormBot, Record``. Every module in this
package is imported by the walk, so modules here must import cheaply.
"""
from __future__ import annotations

from bots.base import FormBot, classify, registry
from kakari.bot import Bot
from kakari.model import Box, Field, Record, Status

__all__ = ["Bot", "Box", "Field", "FormBot", "Record", "Status", "classify", "registry"]
