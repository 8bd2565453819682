"""Item 3: sessions live on the server. Logging out ends the session — a cookie saved before the
logout opens nothing — and `kakari users disable` ends every session of that user at once."""
from __future__ import annotations

import httpx

from tests.security.conftest import PASSWORD, Site, csrf_of, kakari, login


def saved_cookie(client: httpx.Client) -> httpx.Client:
    """A second browser holding a copy of the first one's cookie (a stolen or shared-PC cookie)."""
    copy = httpx.Client(base_url=str(client.base_url), follow_redirects=False, timeout=60)
    copy.cookies.set("kakari_session", client.cookies["kakari_session"])
    return copy


def test_a_cookie_saved_before_logout_opens_nothing(site: Site) -> None:
    site.add_user("logout_check")
    clerk = login(site.base, "logout_check")
    thief = saved_cookie(clerk)
    assert thief.get("/review").status_code == 200  # the copy works while the session lives
    token = csrf_of(clerk.get("/review").text)
    assert clerk.post("/logout", data={"csrf_token": token}).status_code == 303
    after = thief.get("/review")
    assert after.status_code == 303 and after.headers["location"] == "/login"
    assert clerk.get("/review").status_code == 303


def test_disabling_a_user_ends_their_sessions_and_enabling_lets_them_back(site: Site) -> None:
    site.add_user("leaver")
    clerk = login(site.base, "leaver")
    assert clerk.get("/review").status_code == 200
    proc = kakari("users", "disable", "leaver", home=site.home, check=True)
    assert "無効" in proc.stdout
    assert clerk.get("/review").status_code == 303  # at once, from another process
    with httpx.Client(base_url=site.base, follow_redirects=False) as again:
        token = csrf_of(again.get("/login").text)
        r = again.post("/login", data={"username": "leaver", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 401 and "違います" in r.text  # no hint that the account exists
    kakari("users", "enable", "leaver", home=site.home, check=True)
    assert login(site.base, "leaver").get("/review").status_code == 200


def test_a_password_reset_ends_the_old_sessions(site: Site) -> None:
    site.add_user("forgetful")
    clerk = login(site.base, "forgetful")
    kakari("users", "reset-password", "forgetful", "--password-stdin", home=site.home,
           stdin="a-brand-new-passphrase\n", check=True)
    assert clerk.get("/review").status_code == 303
    assert login(site.base, "forgetful", "a-brand-new-passphrase").get("/review").status_code == 200
