"""Fixtures shared by the browser tests: the machine's Chromium through Playwright (found as kakari finds
it: `playwright install` cannot download here), and the sample systems (samples/backoffice: 衛生システム and
子育て支援総合システム) as real servers, one of each per test module."""
from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    from connectors.browser import find_browser

    with sync_playwright() as pw:
        b = pw.chromium.launch(headless=True, **find_browser().launch_options())
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The sample back-office system on a free port, with its own database."""
    from samples.backoffice.server import start

    bo = start(tmp_path_factory.mktemp("backoffice") / "backoffice.db")
    yield bo
    bo.stop()


@pytest.fixture(scope="module")
def kosodate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The second sample system (子育て支援総合システム), as built but for the faults the tests switch on."""
    from samples.backoffice.server import start

    bo = start(tmp_path_factory.mktemp("kosodate") / "kosodate.db", system="kosodate")
    yield bo
    bo.stop()
