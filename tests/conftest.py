"""Fixtures shared by the browser tests: Debian's Chromium through Playwright, and the sample
衛生システム (samples/backoffice) as a real server, one of each per test module."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"  # playwright install cannot download here; Debian's browser is the one
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The sample back-office system on a free port, with its own database."""
    from samples.backoffice.server import start

    bo = start(tmp_path_factory.mktemp("backoffice") / "backoffice.db")
    yield bo
    bo.stop()
