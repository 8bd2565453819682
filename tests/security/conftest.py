"""The hardening suite's common ground: the real `kakari` command in a subprocess, and a real site —
sample applications processed by `kakari run`, accounts made by `kakari users add`, and `kakari web`
serving them on a free port — that the tests attack over HTTP (httpx) and in Chromium (Playwright).

Everything goes through the public interfaces (command line, HTTP, files on disk), so each test
also runs against an older kakari and shows what was broken there.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest

from tests.test_schedule_watch import until  # noqa: F401 - the suite's tests wait the same way

ROOT = Path(__file__).resolve().parents[2]
KAKARI = str(Path(sys.executable).with_name("kakari"))
CONFIG = ROOT / "samples" / "kakari.toml"
PASSWORD = "correct-horse-battery"
CHILD_JOB, SHOP_JOB = "kodomo_iryo", "inshoku_kyoka"
# the personal fields of each sample form (their `personal = true` in bots/<form>.toml)
PERSONAL = {
    "child_medical": ("guardian_kana", "guardian_name", "guardian_birth", "postal_code", "address", "phone",
                      "child_kana", "child_name", "child_birth", "insurance_symbol", "insurance_number"),
    "restaurant_permit": ("postal_code", "address", "applicant_kana", "applicant_name", "representative",
                          "phone", "manager_name"),
}


def kakari(*args: str | bytes, home: Path, stdin: str | None = None, check: bool = False,
           timeout: float = 300, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    """`kakari ARGS --home HOME`, as a clerk or IT staff would run it (arguments may be bytes)."""
    proc = subprocess.run([KAKARI, *args, "--home", str(home)], cwd=ROOT, capture_output=True, text=True,
                          input=stdin if stdin is not None else "", timeout=timeout, errors="replace",
                          env=os.environ | {"COLUMNS": "200"},
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)
    if check and proc.returncode != 0:
        raise AssertionError(f"kakari {args} → {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def form_values(page: str, form_id: str = "review") -> dict[str, str]:
    """What a browser would submit for the form: its inputs' values and each select's chosen option."""
    from html.parser import HTMLParser

    class Form(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside, self.values, self.select, self.first = False, {}, None, None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = {k: v or "" for k, v in attrs}
            if tag == "form":
                self.inside = a.get("id") == form_id
            elif not self.inside:
                return
            elif tag == "input" and a.get("name") and a.get("type", "text") in ("text", "hidden"):
                self.values[a["name"]] = a.get("value", "")
            elif tag == "select":
                self.select, self.first = a.get("name"), None
            elif tag == "option" and self.select:
                if self.first is None:
                    self.first = a.get("value", "")
                    self.values.setdefault(self.select, self.first)
                if "selected" in a:
                    self.values[self.select] = a.get("value", "")

        def handle_endtag(self, tag: str) -> None:
            if tag == "form":
                self.inside = False
            elif tag == "select":
                self.select = None

    parser = Form()
    parser.feed(page)
    return parser.values


def login(base: str, username: str, password: str = PASSWORD, address: str | None = None) -> httpx.Client:
    """An httpx client logged in as `username` (from `address`, via X-Forwarded-For, if given)."""
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=60,
                          headers={"X-Forwarded-For": address} if address else {})
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert r.status_code == 303, (r.status_code, r.text[:500])
    return client


def browser_login(browser, base: str, username: str, landing: str):  # noqa: ANN001, ANN201
    """A Chromium page logged in as `username`, and the list of Content-Security-Policy violations
    the browser reports on it from then on."""
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ja-JP").new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + landing)
    return page, violations


@dataclass
class Server:
    """`kakari web` on a free port; stopped with SIGINT like Ctrl-C."""

    home: Path
    config: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.log = open(self.home / "web-server.out", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([KAKARI, "web", "--port", str(self.port), "--config", str(self.config),
                                      "--home", str(self.home)], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                httpx.get(self.base + "/login", timeout=1)
                return self
            except httpx.HTTPError:
                assert self.proc.poll() is None, (self.home / "web-server.out").read_text(errors="replace")
                time.sleep(0.1)
        raise AssertionError("kakari web did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@dataclass
class Site:
    """A town's kakari after a morning's work: processed applications, accounts, a web server."""

    home: Path
    samples: Path
    server: Server
    console: dict[str, str]  # what `kakari run` printed, per job

    @property
    def base(self) -> str:
        return self.server.base

    def truth(self, form: str) -> list[tuple[str, dict]]:
        """(file name, ground truth) of the form's samples."""
        return [(p.with_suffix(".pdf").name, json.loads(p.read_text(encoding="utf-8")))
                for p in sorted((self.samples / form).glob(f"{form}_*.json"))]

    def with_defect(self, defect: str) -> str:
        """The file name of the sample carrying `defect` (e.g. missing_phone)."""
        return next(name for form in PERSONAL for name, t in self.truth(form) if t["defect"] == defect)

    def doc_id(self, original_name: str) -> str:
        import sqlite3

        with sqlite3.connect(self.home / "kakari.db") as db:
            row = db.execute("select doc_id from documents where original_name = ?", (original_name,)).fetchone()
        assert row, f"{original_name} was not processed"
        return row[0]

    def status(self, original_name: str) -> str:
        import sqlite3

        with sqlite3.connect(self.home / "kakari.db") as db:
            return db.execute("select status from documents where original_name = ?", (original_name,)).fetchone()[0]

    def add_user(self, name: str, role: str = "clerk", section: str | None = "子育て支援課",
                 password: str = PASSWORD) -> None:
        args = ["users", "add", name, "--role", role, "--password-stdin", "--config", str(CONFIG)]
        if section and role == "clerk":
            args += ["--section", section]
        kakari(*args, home=self.home, stdin=password + "\n", check=True)


def fill_inbox(home: Path, job: str, pdfs: list[Path]) -> Path:
    inbox = home / "jobs" / job / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for pdf in pdfs:
        shutil.copy2(pdf, inbox / pdf.name)
        os.utime(inbox / pdf.name, (time.time() - 10, time.time() - 10))  # no settling wait
    return inbox


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from samples.generate import generate

    root = tmp_path_factory.mktemp("site")
    samples = root / "samples"
    generate(samples, count=40, seed=8, forms=["child_medical"])  # 4 要確認, one per defect kind
    generate(samples, count=10, seed=8, forms=["restaurant_permit"])
    home = root / "home"
    fill_inbox(home, CHILD_JOB, sorted((samples / "child_medical").glob("child_medical_*.pdf")))
    shop = fill_inbox(home, SHOP_JOB, sorted((samples / "restaurant_permit").glob("restaurant_permit_*.pdf")))
    # a file named after its applicant that cannot be read: its name must not leak either
    (shop / "山﨑　智子_飲食店.pdf").write_bytes(b"%PDF-1.4\n\x00 broken beyond repair")
    os.utime(shop / "山﨑　智子_飲食店.pdf", (time.time() - 10, time.time() - 10))
    console = {}
    for job in (CHILD_JOB, SHOP_JOB):
        proc = kakari("run", job, "--config", str(CONFIG), "--verbose", home=home)
        assert proc.returncode in (0, 4), proc.stdout + proc.stderr
        console[job] = proc.stdout + proc.stderr
    s = Site(home, samples, Server(home, CONFIG), console)
    s.add_user("tanaka")
    s.add_user("suzuki", section="生活環境課")
    s.add_user("kacho", role="manager")
    s.add_user("joho", role="admin")
    s.server.start()
    yield s
    s.server.stop()


def this_month() -> str:
    return date.today().strftime("%Y-%m")
