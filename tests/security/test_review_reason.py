"""Item 10: the 差し戻し reason box in Chromium. Enter in it never confirms (it only moves to the
差し戻す button), Ctrl+Enter in it does not either, and on a document with an unfixed error the typed
reason survives a refused confirmation."""
from __future__ import annotations

from tests.security.conftest import CHILD_JOB, Site, browser_login


def open_review(browser, site: Site, name: str):  # noqa: ANN001, ANN201
    page, violations = browser_login(browser, site.base, "tanaka", "/review")
    page.goto(f"{site.base}/review/{CHILD_JOB}/{site.doc_id(name)}")
    page.wait_for_selector("#review")
    return page, violations


def test_enter_in_the_reason_box_never_confirms(site: Site, browser) -> None:  # noqa: ANN001
    name = site.with_defect("missing_phone")  # the phone is missing: an unfixed error
    page, violations = open_review(browser, site, name)
    page.click("#reason")
    page.keyboard.type("電話番号の記入がないため")
    page.click("#confirm")  # a confirmation the server refuses: the phone is still missing
    page.wait_for_selector("p.error")
    assert "直して" in page.inner_text("p.error")
    assert page.input_value("#reason") == "電話番号の記入がないため"  # the typed reason is still there
    assert site.status(name) == "要確認"

    page.fill("#f_phone", "0569-51-3413")  # now nothing stops a confirmation…
    page.evaluate("window.stayed = true")
    page.click("#reason")
    page.keyboard.press("End")
    page.keyboard.press("Enter")  # … but Enter in the reason box is not one
    page.wait_for_timeout(800)
    assert page.evaluate("window.stayed === true") and site.status(name) == "要確認"
    assert page.evaluate("document.activeElement.id") == "reject"  # it moved to 差し戻す
    page.click("#reason")
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(800)
    assert page.evaluate("window.stayed === true") and site.status(name) == "要確認"

    page.click("#reason")
    page.keyboard.press("Enter")  # → 差し戻す
    page.keyboard.press("Enter")  # a deliberate second press sends it back
    page.wait_for_url("**done=rejected")  # and the next document (or the queue) opens
    assert site.status(name) == "エラー"
    assert not violations, violations  # the page's own script ran under the Content-Security-Policy


def test_enter_in_the_fields_still_walks_to_the_next_field(site: Site, browser) -> None:  # noqa: ANN001
    name = site.with_defect("insurer_length")
    page, _ = open_review(browser, site, name)
    first = page.evaluate("document.activeElement.id")
    assert first.startswith("f_")  # the page's script focused the first field that needs attention
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") not in (first, "reason", "confirm")
    assert site.status(name) == "要確認"
