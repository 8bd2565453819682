"""The zone editor of `kakari web` (administrators only): a form's blank with every reading zone
drawn on it, to move, resize, draw and label; a filled sample's reading shown in each zone as the
zones change; saved back into the bot's TOML (comments kept, previous version backed up). A new bot
is made here from an uploaded blank (``kakari bots new`` on it), then edited the same way.

Registered into the app by ``mount``; its pages, script and style live beside this module, and
every POST carries the session's CSRF token (a form field, or the X-CSRF-Token header for JSON).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from kakari.config import KakariConfig


def mount(app: FastAPI, config: KakariConfig, *, admin: Callable[..., Any], csrf: Callable[..., str],
          check_csrf: Callable[..., None], render_lock: Any = None) -> None:
    """Add the editor's routes (/editor…) to the app, behind `admin` (raises 403 for others).
    `render_lock` is the app's lock around pdfium, which is not thread-safe."""
    from web.editor.routes import router

    app.include_router(router(config, admin=admin, csrf=csrf, check_csrf=check_csrf, render_lock=render_lock))
