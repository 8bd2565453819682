"""Item 8: bad parameters get a Japanese 400 or 404 page; nothing a browser or a curious user sends
produces a traceback or Starlette's English "Internal Server Error" / "Not Found" / JSON detail."""
from __future__ import annotations

from contextlib import closing

import httpx
import pytest

from tests.security.conftest import CHILD_JOB, Site, csrf_of, login

ENGLISH = ("Internal Server Error", "Traceback", "Not Found", "Method Not Allowed", '"detail"', "Bad Request",
           "Unprocessable")


def japanese_error(r: httpx.Response, *codes: int) -> None:
    assert r.status_code in codes, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    assert not [e for e in ENGLISH if e in r.text], r.text[:500]
    assert ("違います" if r.status_code == 401 else "エラー") in r.text and "<h1>" in r.text


@pytest.fixture(scope="module")
def manager(site: Site) -> httpx.Client:
    return login(site.base, "kacho")


@pytest.mark.parametrize("month", ["abc", "2026-13", "0000-01", "9999-12", "2026-00", "%00", "２０２６年１３月"])
def test_dashboard_with_a_bad_month(manager: httpx.Client, month: str) -> None:
    r = manager.get("/dashboard", params={"month": month})
    japanese_error(r, 400)
    assert "2026-04" in r.text  # says what a month looks like


@pytest.mark.parametrize("path", ["/reports/abc.xlsx", "/reports/%2e%2e.csv", "/reports/2026-13.pdf",
                                  "/reports/0000-01.csv", "/reports/2026-11.exe", "/reports/..%2f..%2fetc.csv"])
def test_report_downloads_with_bad_parameters(manager: httpx.Client, path: str) -> None:
    japanese_error(manager.get(path), 400, 404)


def test_a_review_post_with_bad_active_seconds(site: Site) -> None:
    clerk = login(site.base, "tanaka")
    name = site.with_defect("missing_phone")
    doc = site.doc_id(name)
    page = clerk.get(f"/review/{CHILD_JOB}/{doc}")
    assert page.status_code == 200
    for bad in ("abc", "nan", "inf", "1e999"):
        r = clerk.post(f"/review/{CHILD_JOB}/{doc}", data={"csrf_token": csrf_of(page.text), "action": "reject",
                                                           "reason": "x", "active_seconds": bad})
        japanese_error(r, 400)
    assert site.status(name) == "要確認"  # nothing was decided by a bad request


@pytest.mark.parametrize(("method", "path"), [("GET", "/no/such/page"), ("GET", "/review/x/y/z/w"),
                                              ("DELETE", "/login"), ("POST", "/dashboard"), ("GET", "/static/nothing.js")])
def test_unknown_pages_and_methods(manager: httpx.Client, method: str, path: str) -> None:
    japanese_error(manager.request(method, path), 404, 405)


def test_a_form_with_missing_or_odd_fields(site: Site) -> None:
    with httpx.Client(base_url=site.base, follow_redirects=False, headers={"X-Forwarded-For": "10.8.8.8"}) as c:
        token = csrf_of(c.get("/login").text)
        japanese_error(c.post("/login", data={"csrf_token": token}), 401, 400)
        japanese_error(c.post("/login", content=b"\xff\xfe\x00garbage",
                              headers={"content-type": "application/x-www-form-urlencoded"}), 400, 403)
        japanese_error(c.post("/login", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data"}),
                       400, 403)


def test_an_unexpected_error_is_a_japanese_page_with_an_incident_number(tmp_path) -> None:  # noqa: ANN001
    """Whatever escapes a route (here one added for the test, as a new module's page might) becomes
    the Japanese 500 page, with the security headers, and the traceback goes to the log only."""
    from starlette.testclient import TestClient

    from kakari.config import load_config
    from web.app import create_app

    app = create_app(load_config(None, tmp_path))

    @app.get("/broken")
    def broken() -> None:
        raise RuntimeError("a bug with a secret 0569-51-3413 in it")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/broken")
    japanese_error(r, 500)
    assert "インシデント番号" in r.text and "0569" not in r.text and "RuntimeError" not in r.text
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_the_picture_of_a_document_that_cannot_be_read(site: Site) -> None:
    with closing(login(site.base, "kacho")) as manager:
        r = manager.get(f"/review/inshoku_kyoka/{site.doc_id('山﨑　智子_飲食店.pdf')}/page.png")
    japanese_error(r, 422)
