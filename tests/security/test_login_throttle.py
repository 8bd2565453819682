"""Item 4: brute force. Wrong passwords are counted per account and per address; after at most 10
the login answers 429 with a wait the clerk is told in Japanese — even for the right password —
until the wait is over or an administrator lifts it."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.security.conftest import CONFIG, PASSWORD, Server, Site, csrf_of, kakari

MINUTES = re.compile(r"あと約(\d+)分")


def attempt(base: str, username: str, password: str, address: str) -> httpx.Response:
    with httpx.Client(base_url=base, follow_redirects=False, headers={"X-Forwarded-For": address}) as c:
        token = csrf_of(c.get("/login").text)
        return c.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_thirty_wrong_passwords_then_the_right_one(site: Site) -> None:
    site.add_user("target")
    address = "10.20.30.40"  # the tests' own X-Forwarded-For: a proxy on this PC is trusted for it
    codes = [attempt(site.base, "target", f"guess-number-{i:02d}", address).status_code for i in range(30)]
    assert 429 in codes[:10], codes  # throttled after at most 10 failures
    first = codes.index(429)
    assert all(c == 401 for c in codes[:first]) and all(c == 429 for c in codes[first:]), codes
    right = attempt(site.base, "target", PASSWORD, address)
    assert right.status_code == 429  # the right password does not get through while it waits
    assert "ログイン" in right.text and MINUTES.search(right.text), right.text
    assert 1 <= int(MINUTES.search(right.text).group(1)) <= 60
    assert int(right.headers["retry-after"]) > 0
    # from another address too: the account itself waits
    assert attempt(site.base, "target", PASSWORD, "10.20.30.41").status_code == 429
    kakari("users", "enable", "target", home=site.home, check=True)  # the administrator lifts it
    assert attempt(site.base, "target", PASSWORD, "10.20.30.42").status_code == 303


def test_one_address_guessing_many_accounts_is_stopped(site: Site) -> None:
    address = "10.99.99.99"
    codes = [attempt(site.base, f"nobody{i}", "guess-password-x", address).status_code for i in range(25)]
    assert 429 in codes[:21], codes
    blocked = attempt(site.base, "kacho", PASSWORD, address)
    assert blocked.status_code == 429 and "この端末" in blocked.text
    assert attempt(site.base, "kacho", PASSWORD, "10.99.99.98").status_code == 303  # others are not


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose waits last three seconds ([web] lockout_minutes), to see one end."""
    home = tmp_path_factory.mktemp("quick")
    config = home / "kakari.toml"
    config.write_text(CONFIG.read_text(encoding="utf-8") + "\n[web]\nlockout_minutes = 0.05\nlogin_attempts = 3\n",
                      encoding="utf-8")
    kakari("users", "add", "kacho", "--role", "manager", "--password-stdin", "--config", str(config),
           home=home, stdin=PASSWORD + "\n", check=True)
    server = Server(Path(home), config).start()
    yield server
    server.stop()


def test_the_wait_ends_by_itself(quick: Server) -> None:
    codes = [attempt(quick.base, "kacho", "guess-password-y", "10.1.1.1").status_code for _ in range(3)]
    assert codes == [401, 401, 429]  # login_attempts = 3
    assert attempt(quick.base, "kacho", PASSWORD, "10.1.1.1").status_code == 429
    time.sleep(3.5)
    assert attempt(quick.base, "kacho", PASSWORD, "10.1.1.1").status_code == 303
