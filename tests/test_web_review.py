"""The review screen and dashboard in a real Chromium (Playwright, Debian's chromium) against
a real server: a clerk corrects and confirms a 要確認 document (ledger row updated in place, measured
minutes in the time log), a manager reads the dashboard, and the security rules hold."""
from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from connectors.excel import read_ledger
from jobs.runner import run_job
from jobs.store import Store
from jobs.timelog import TimeLog
from kakari.config import KakariConfig, RunContext, load_config
from web.accounts import add_user, sections_of
from web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORD = "correct-horse-battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         module_db_url: str) -> Iterator[tuple[str, KakariConfig, Path]]:  # SQLite, then PostgreSQL
    from samples.generate import generate

    tmp = tmp_path_factory.mktemp("web")
    generate(tmp / "s", count=20, seed=8, forms=["child_medical"])  # two 要確認: one of them lacks the phone
    config = load_config(ROOT / "samples" / "kakari.toml", tmp / "home")
    job = config.job("kodomo_iryo")
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    for pdf in sorted((tmp / "s" / "child_medical").glob("child_medical_*.pdf")):
        shutil.copy2(pdf, inbox / pdf.name)
    summary = run_job(job, RunContext(config))
    assert summary.counts["要確認"] >= 1
    store = Store(config.database_url)
    sections = sections_of(config)
    add_user(store, "tanaka", PASSWORD, "clerk", "子育て支援課", sections=sections)
    add_user(store, "suzuki", PASSWORD, "clerk", "生活環境課", sections=sections)
    add_user(store, "kacho", PASSWORD, "manager", None, sections=sections)
    add_user(store, "joho", PASSWORD, "admin", None, sections=sections)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(config, flush_interval=0.2), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/login", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield base, config, tmp
    server.should_exit = True
    thread.join(10)


def login(browser, base: str, user: str, password: str = PASSWORD):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP")
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    return page


def test_clerk_corrects_and_confirms(site, browser) -> None:  # noqa: ANN001
    base, config, _ = site
    job = config.job("kodomo_iryo")
    page = login(browser, base, "tanaka")
    assert page.url.endswith("/review")
    rows = page.locator("table tr")
    assert rows.count() >= 2 and "子育て支援課" in page.content()
    import json

    _, _, tmp = site
    name = next(p.with_suffix(".pdf").name for p in sorted((tmp / "s" / "child_medical").glob("*.json"))
                if json.loads(p.read_text(encoding="utf-8"))["defect"] == "missing_phone")
    page.locator("tr", has_text=name).locator("text=確認する").click()
    page.wait_for_selector("#review")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    first = page.locator("#review .field").first
    assert "attention" in (first.get_attribute("class") or "")  # what needs a person comes first
    assert first.get_attribute("data-field") == "phone"
    assert page.locator("#review .field.attention img.crop").count() >= 1  # the zone's picture is shown
    page.wait_for_load_state("networkidle")
    widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
    assert widths and all(w > 0 for w in widths)  # the page and every crop were drawn
    page.screenshot(path=str(ARTIFACTS / "review.png"), full_page=True)
    doc_url = page.url
    doc_id = doc_url.rsplit("/", 1)[1]

    page.click("#f_phone")
    page.keyboard.type("0569-51-3413", delay=120)  # the clerk types for a couple of seconds
    time.sleep(1.5)
    page.keyboard.press("Control+Enter")
    page.wait_for_url(base + "/review")

    def confirmed_rows() -> list[dict]:
        return [r for r in read_ledger(job.ledger_path(config.home)) if r["文書ID"] == doc_id]

    for _ in range(100):  # the server's outbox flusher writes the decision shortly after the click
        if confirmed_rows()[0]["状態"] == "確認済":
            break
        time.sleep(0.1)
    rows = confirmed_rows()
    assert len(rows) == 1  # updated in place, not duplicated
    assert rows[0]["状態"] == "確認済" and rows[0]["電話番号"] == "0569-51-3413"
    frame = TimeLog(Store(config.database_url)).frame()
    mine = frame[frame["doc_id"] == doc_id] if "doc_id" in frame else None
    log = Store(config.database_url)
    with log.engine.connect() as conn:
        from sqlalchemy import select

        from jobs.timelog import time_log
        t = conn.execute(select(time_log).where(time_log.c.doc_id == doc_id)).mappings().one()
    assert t["status"] == "確認済" and 0.02 <= t["minutes_after"] < 5  # measured seconds, not the 2-minute estimate
    assert mine is None or len(mine) <= 1
    archived = list(job.folders(config.home)["archive"].glob("*.pdf"))
    assert any(p.name == next(iter(r["元ファイル名"] for r in rows)) for p in archived)
    page.goto(doc_url)
    assert "既に" in page.content() or "確認済" in page.content() or page.locator("#review").count() == 1


def test_manager_reads_the_dashboard(site, browser) -> None:  # noqa: ANN001
    from datetime import date

    from kpi.metrics import period_bounds
    from kpi.table import gather

    base, config, _ = site
    page = login(browser, base, "kacho")
    assert page.url.endswith("/dashboard")
    data = gather(config, period_bounds(month=date.today().strftime("%Y-%m")))
    headline = page.locator("p.headline").first.inner_text()
    assert headline == data.headline()
    total = data.table.iloc[-1]
    cells = page.locator("section").first.locator("tr.total td").all_inner_texts()
    assert str(int(total["items"])) in cells
    assert page.locator("img.chart").count() >= 2
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    with page.expect_download() as dl:
        page.click("text=Excel")
    assert dl.value.suggested_filename.endswith(".xlsx")


def test_other_section_wrong_password_and_csrf(site, browser) -> None:  # noqa: ANN001
    base, config, _ = site
    doc = Store(config.database_url)
    with doc.engine.connect() as conn:
        from sqlalchemy import select

        from jobs.store import documents
        doc_id = conn.execute(select(documents.c.doc_id).where(documents.c.job == "kodomo_iryo")).scalars().first()
    page = login(browser, base, "suzuki")
    response = page.goto(f"{base}/review/kodomo_iryo/{doc_id}")
    assert response.status == 403 and "権限" in page.content()
    assert page.goto(f"{base}/review/kodomo_iryo/{doc_id}/page.png").status == 403
    assert page.goto(base + "/dashboard").status == 403  # clerks have no dashboard

    bad = login(browser, base, "tanaka", "wrong-password-123")
    assert "/login" in bad.url and "違います" in bad.content()

    with httpx.Client(base_url=base, follow_redirects=False) as client:
        assert client.post("/login", data={"username": "tanaka", "password": PASSWORD}).status_code == 403
        form = client.get("/login").text
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        assert client.post("/login", data={"username": "tanaka", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 303
        # logged in, but a decision without the token is refused and changes nothing
        r = client.post(f"/review/kodomo_iryo/{doc_id}", data={"action": "reject", "reason": "x"})
        assert r.status_code == 403
        cookie = client.cookies.get("kakari_session")
        assert cookie
    raw = httpx.get(base + "/login").headers.get("set-cookie", "")
    assert "httponly" in raw.lower() and "samesite=strict" in raw.lower()


def test_admin_adds_a_user_who_can_then_log_in(site, browser) -> None:  # noqa: ANN001
    base, _, _ = site
    page = login(browser, base, "joho")
    page.goto(base + "/admin")
    assert "kodomo_iryo" in page.content() and "tanaka" in page.content()
    page.fill("form[action='/admin/users'] input[name=username]", "sato")
    page.fill("form[action='/admin/users'] input[name=password]", "another-long-password")
    page.select_option("form[action='/admin/users'] select[name=role]", "clerk")
    page.fill("form[action='/admin/users'] input[name=section]", "生活環境課")
    page.click("form[action='/admin/users'] button")
    assert "「sato」を追加しました" in page.content()
    newcomer = login(browser, base, "sato", "another-long-password")
    assert newcomer.url.endswith("/review")
    assert login(browser, base, "kacho").goto(base + "/admin").status == 403  # managers do not administer
