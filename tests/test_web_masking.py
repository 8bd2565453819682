"""The masking review in a real Chromium against a real server: a clerk sees the page with the
proposed box, drags another one, removes one on a second document, accepts; the masked copy is
re-made with exactly those boxes, verified and released, and the decision with its boxes is in
the document's history. Other sections get 403; a decision without the CSRF token changes nothing.
Each test runs on SQLite and on the private PostgreSQL (the `module_db_url` parameter)."""
from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import expect

from connectors.excel import read_ledger
from jobs.runner import run_job
from jobs.store import Store
from kakari.config import KakariConfig, RunContext, load_config
from samples.masking import Sheet, Truth, my_number
from tests.test_web_review import ARTIFACTS, PASSWORD, login, serve
from web.accounts import add_user, sections_of
from web.app import create_app


def _document(path: Path, rng: random.Random) -> str:
    """A one-page letter: a 個人番号 whose check digit fails (要確認) and a name below it."""
    sheet = Sheet(path, Truth(path.stem, "sentence"))
    value = my_number(rng, valid=False)
    x = 20 + sheet.text(20, 50, "個人番号", 10.5)[0]
    sheet.number(x + 3, 50, "個人番号", "my_number", value, value, False, "sentence")
    sheet.text(20, 80, "氏名　佐藤　花子（申請者）", 12)
    sheet.save()
    return value


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         module_db_url: str) -> Iterator[tuple[str, KakariConfig, dict[str, str]]]:  # SQLite, then PostgreSQL
    tmp = tmp_path_factory.mktemp("webmask")
    cfg = tmp / "kakari.toml"
    cfg.write_text('[jobs.masking]\ndepartment = "市民課"\nbots = ["mask_numbers"]\n'
                   '[jobs.other]\ndepartment = "生活環境課"\nbots = ["mask_numbers"]\n', encoding="utf-8")
    config = load_config(cfg, tmp / "home")
    job = config.job("masking")
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    rng = random.Random(12)
    values = {name: _document(inbox / name, rng) for name in ("通知_追加.pdf", "通知_削除.pdf", "通知_理由.pdf")}
    summary = run_job(job, RunContext(config))
    assert summary.counts["要確認"] == 3
    store = Store(config.database_url)
    add_user(store, "tanaka", PASSWORD, "clerk", "市民課", sections=sections_of(config))
    add_user(store, "suzuki", PASSWORD, "clerk", "生活環境課", sections=sections_of(config))
    with serve(create_app(config, flush_interval=0.2)) as base:
        yield base, config, values


def _doc_id(config: KakariConfig, name: str) -> str:
    return next(r["doc_id"] for r in Store(config.database_url).documents_for("masking") if r["original_name"] == name)


def _dark(pdf: Path, box_mm: tuple[float, float, float, float]) -> float:
    """Mean grey level (0 black … 255 white) of a region of the released page."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    image = np.asarray(doc[0].render(scale=150 / 72).to_pil().convert("L"))
    doc.close()
    s = 150 / 25.4
    x, y, w, h = box_mm
    return float(image[int(y * s): int((y + h) * s), int(x * s): int((x + w) * s)].mean())


def _drag(page, sheet, x0: float, y0: float, x1: float, y1: float) -> None:  # noqa: ANN001
    """Drag on the page image from (x0, y0) to (x1, y1), in mm of the page."""
    box = sheet.bounding_box()
    w_mm, h_mm = float(sheet.get_attribute("data-w")), float(sheet.get_attribute("data-h"))

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x / w_mm * box["width"], box["y"] + y / h_mm * box["height"]

    page.mouse.move(*at(x0, y0))
    page.mouse.down()
    page.mouse.move(*at((x0 + x1) / 2, (y0 + y1) / 2), steps=5)
    page.mouse.move(*at(x1, y1), steps=5)
    page.mouse.up()


def test_clerk_adds_a_box_and_accepts(site, browser) -> None:  # noqa: ANN001
    base, config, values = site
    job = config.job("masking")
    page = login(browser, base, "tanaka")
    page.locator("tr", has_text="通知_追加.pdf").locator("text=確認する").click()
    page.wait_for_selector(".sheet img")
    assert "/masking/masking/" in page.url
    page.wait_for_load_state("networkidle")
    assert page.eval_on_selector(".sheet img", "e => e.naturalWidth") > 0
    assert page.locator(".mask.doubt").count() == 1  # the number whose check digit fails, in red
    assert "チェックデジット" in page.content()
    sheet = page.locator(".sheet").first
    _drag(page, sheet, 18, 74, 90, 83)  # the clerk blacks out the name line as well
    expect(page.locator(".mask.clerk")).to_have_count(1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "masking.png"), full_page=True)
    page.keyboard.press("Control+Enter")
    page.wait_for_url(base + "/review", timeout=120_000)

    doc_id = _doc_id(config, "通知_追加.pdf")
    row = Store(config.database_url).document(doc_id, "masking")
    assert row["status"] == "確認済"
    out = job.output_folder(config.home) / "通知_追加.pdf"
    assert out.is_file()
    assert _dark(out, (20, 76, 60, 5)) < 40  # the added box is burnt in
    assert _dark(out, (40, 47, 18, 3)) < 40  # and the proposed one
    from bots.masking.engine import tessdata_for
    from bots.masking.verify import verify

    assert verify(out, [values["通知_追加.pdf"]], tessdata_for(config)) == []
    history = Store(config.database_url).history(doc_id_prefix=doc_id)
    confirmed = [e for e in history if e["event"] == "confirmed"]
    assert len(confirmed) == 1 and "墨塗り 2箇所 (追加 1・削除 0)" in confirmed[0]["detail"]
    assert values["通知_追加.pdf"] not in " ".join(e["detail"] or "" for e in history)
    for _ in range(100):  # the server's outbox flusher rewrites the ledger row shortly after the decision
        ledger = [r for r in read_ledger(job.ledger_path(config.home)) if r["文書ID"] == doc_id]
        if ledger and ledger[0]["状態"] == "確認済":
            break
        time.sleep(0.1)
    assert len(ledger) == 1 and ledger[0]["状態"] == "確認済" and ledger[0]["マスク箇所数"] == 2


def test_the_masking_page_works_under_the_security_headers(site, browser) -> None:  # noqa: ANN001
    """The page's own script runs under the Content-Security-Policy (it draws the proposed box), Enter
    in the 差し戻し reason box never accepts the masking (the page's first button), and a forged
    active_seconds is a Japanese 400, not a traceback."""
    base, config, _ = site
    doc_id = _doc_id(config, "通知_削除.pdf")
    page = login(browser, base, "tanaka")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    response = page.goto(f"{base}/masking/masking/{doc_id}")
    assert response is not None
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    page.wait_for_selector(".mask")  # drawn by /static/masking.js
    assert page.evaluate("getComputedStyle(document.querySelector('.sheet')).aspectRatio") != "auto"
    image = page.request.get(f"{base}/masking/masking/{doc_id}/page/1.png")
    assert "no-store" in image.headers["cache-control"] and image.headers["x-content-type-options"] == "nosniff"

    page.evaluate("window.stayed = true")
    page.click("#reason")
    page.keyboard.type("番号ではありません")
    page.keyboard.press("Enter")
    page.wait_for_timeout(800)
    assert page.evaluate("window.stayed === true"), "Enter in the reason box submitted the page"
    assert page.evaluate("document.activeElement.id") == "reject"
    assert Store(config.database_url).document(doc_id, "masking")["status"] == "要確認"
    assert not violations, violations

    with httpx.Client(base_url=base, follow_redirects=False) as client:
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "tanaka", "password": PASSWORD, "csrf_token": token})
        token = client.get(f"/masking/masking/{doc_id}").text.split('name="csrf_token" value="')[1].split('"')[0]
        r = client.post(f"/masking/masking/{doc_id}", data={"action": "reject", "reason": "x", "csrf_token": token,
                                                            "active_seconds": "abc"})
    assert r.status_code == 400 and "作業時間" in r.text and "Traceback" not in r.text
    assert Store(config.database_url).document(doc_id, "masking")["status"] == "要確認"


def test_clerk_removes_a_box_that_is_not_a_personal_number(site, browser) -> None:  # noqa: ANN001
    base, config, _values = site
    job = config.job("masking")
    page = login(browser, base, "tanaka")
    doc_id = _doc_id(config, "通知_削除.pdf")
    page.goto(f"{base}/masking/masking/{doc_id}")
    page.wait_for_selector(".mask")
    page.locator(".mask .remove").first.click()
    expect(page.locator(".mask")).to_have_count(0)
    page.click("#accept")
    page.wait_for_url(base + "/review", timeout=120_000)
    out = job.output_folder(config.home) / "通知_削除.pdf"
    assert out.is_file() and _dark(out, (40, 47, 18, 3)) > 150  # left legible, as the clerk decided
    history = Store(config.database_url).history(doc_id_prefix=doc_id)
    assert "削除: p1[" in next(e for e in history if e["event"] == "confirmed")["detail"]


def test_other_sections_and_forged_posts_are_refused(site, browser) -> None:  # noqa: ANN001
    base, config, _ = site
    doc_id = _doc_id(config, "通知_削除.pdf")
    page = login(browser, base, "suzuki")
    assert page.goto(f"{base}/masking/masking/{doc_id}").status == 403
    assert page.goto(f"{base}/masking/masking/{doc_id}/page/1.png").status == 403
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "tanaka", "password": PASSWORD, "csrf_token": token})
        r = client.post(f"/masking/masking/{doc_id}", data={"action": "reject", "reason": "x", "boxes": "[]"})
        assert r.status_code == 403
    assert Store(config.database_url).document(doc_id, "masking")["status"] != "エラー"


def test_a_post_the_pages_script_did_not_make_is_not_an_acceptance(site) -> None:  # noqa: ANN001
    """Without the page's script (blocked, or an old browser) the form still posts: Enter in the
    reason box submits its first button, 確定, with a typed reason and no boxes. The server refuses
    that in Japanese, keeps the reason on the page and changes nothing; a real 差し戻し still works."""
    base, config, values = site
    doc_id = _doc_id(config, "通知_理由.pdf")
    store = Store(config.database_url)
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"username": "tanaka", "password": PASSWORD, "csrf_token": token})

        def post(**data: str) -> httpx.Response:
            page = client.get(f"/masking/masking/{doc_id}").text
            token = page.split('name="csrf_token" value="')[1].split('"')[0]
            return client.post(f"/masking/masking/{doc_id}", data={"csrf_token": token, "active_seconds": "5", **data})

        # what a browser sends without the script: the hidden boxes left empty
        r = post(action="accept", reason="番号ではありません", boxes="", removed="")
        assert r.status_code == 400 and "差し戻しの理由が入力されています" in r.text, r.text[:300]
        assert 'value="番号ではありません"' in r.text  # the typed reason is not lost
        r = post(action="accept", boxes="", removed="")  # no reason, no boxes: an unmasked copy must not go out
        assert r.status_code == 400 and "枠の情報が送られていません" in r.text
        r = post(reason="番号ではありません", boxes="[]")  # no button named at all
        assert r.status_code == 400 and "操作が正しくありません" in r.text
        assert "Traceback" not in r.text
        assert store.document(doc_id, "masking")["status"] == "要確認"
        assert not list(config.job("masking").output_folder(config.home).glob("通知_理由*"))
        assert not [e for e in store.history(doc_id_prefix=doc_id) if e["event"] in ("confirmed", "rejected")]

        r = post(action="reject", reason="番号ではありません", boxes="", removed="")
        assert r.status_code == 303
    assert store.document(doc_id, "masking")["status"] == "エラー"
    assert values["通知_理由.pdf"] not in " ".join(e["detail"] or "" for e in store.history(doc_id_prefix=doc_id))
