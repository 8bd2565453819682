"""Bots: one small .py plus one .toml per paper form. Found by walking this package (built-ins),
entry points (group "kakari.bots") and a town's ``bots_dir`` folders; see kakari.registry.

Every module in this package is imported by the walk, so modules here must import cheaply.
"""
from __future__ import annotations

from bots.base import Bot, FormBot, classify
from kakari.registry import Registry

registry: Registry[Bot] = Registry("kakari.bots", Bot, "bots")

__all__ = ["Bot", "FormBot", "classify", "registry"]
