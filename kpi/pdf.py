"""The report as PDF: the HTML report (kpi/html.py) printed by headless Chromium through
Playwright, A4 landscape, in the report font chosen by its file.

The page and the font are served to the browser from one made-up origin by Playwright's request
routing (nothing is fetched from anywhere; a font read from file:// would be refused as
cross-origin), so the printed page is exactly the HTML report with one @font-face added.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

from kakari.errors import MissingDependency
from kpi.charts import FAMILY, font_file
from kpi.html import to_html
from kpi.table import ReportData

ORIGIN = "http://kakari-report.invalid"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]
FOOTER = ('<div style="font-size:9pt;width:100%;text-align:center;color:#555;font-family:sans-serif">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
PRINT_SECONDS = 120.0


def find_browser() -> Path:
    """Chromium (or Chrome / Edge): KAKARI_CHROMIUM first, then the PATH, then the platform's usual places."""
    candidates: list[str] = []
    if os.environ.get("KAKARI_CHROMIUM"):
        candidates.append(os.environ["KAKARI_CHROMIUM"])
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "msedge"):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    if sys.platform == "win32":
        for base in (os.environ.get("PROGRAMFILES"), os.environ.get("PROGRAMFILES(X86)"), os.environ.get("LOCALAPPDATA")):
            if base:
                candidates += [str(Path(base) / "Google" / "Chrome" / "Application" / "chrome.exe"),
                               str(Path(base) / "Microsoft" / "Edge" / "Application" / "msedge.exe")]
    elif sys.platform == "darwin":
        candidates += ["/Applications/Chromium.app/Contents/MacOS/Chromium",
                       "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"]
    for c in candidates:
        if Path(c).is_file():
            return Path(c)
    raise MissingDependency("PDF の報告に必要なブラウザー (Chromium) が見つかりません",
                            "apt-get install chromium (または環境変数 KAKARI_CHROMIUM でブラウザーの場所を指定)")


def write_pdf(data: ReportData, out: Path) -> None:
    """Print the HTML report to `out` (A4 landscape; the page size and margins are the report's @page)."""
    page = to_html(data).encode("utf-8")
    font = font_file()
    browser = find_browser()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            _print(page, font, browser, Path(out))
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread below
            failure.append(e)

    # a thread of its own: Playwright's sync API refuses to start inside a running event loop (the web
    # server's, or a caller's own browser session)
    thread = threading.Thread(target=work, name="kakari-report-pdf", daemon=True)
    thread.start()
    thread.join(PRINT_SECONDS)
    if thread.is_alive():
        raise TimeoutError(f"PDF の作成が {PRINT_SECONDS:.0f} 秒で終わりませんでした")
    if failure:
        raise failure[0]


def _print(page_html: bytes, font: Path, browser_path: Path, out: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    font_bytes = font.read_bytes()

    def serve(route: Route) -> Any:
        url = route.request.url
        if url == f"{ORIGIN}/report.html":
            return route.fulfill(body=page_html, content_type="text/html; charset=utf-8")
        if url == f"{ORIGIN}/font":
            return route.fulfill(body=font_bytes, content_type="font/ttf")
        return route.abort()  # the report has no other resource; nothing leaves the machine

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(browser_path), headless=True, args=BROWSER_ARGS)
        try:
            page = browser.new_page(locale="ja-JP")
            page.route("**/*", serve)
            page.goto(f"{ORIGIN}/report.html", wait_until="load")
            page.add_style_tag(content=f'@font-face{{font-family:"{FAMILY}";src:url("{ORIGIN}/font")}}')
            loaded = page.evaluate(f"document.fonts.load('12px \"{FAMILY}\"').then(f => f.length)")
            if not loaded:
                raise MissingDependency(f"報告のフォント {font.name} をブラウザーが読めませんでした",
                                        "make setup (Debian パッケージ fonts-ipafont-gothic)")
            page.pdf(path=str(out), print_background=True, prefer_css_page_size=True, display_header_footer=True,
                     header_template="<span></span>", footer_template=FOOTER)
        finally:
            browser.close()
