"""Shared fixtures: a private PostgreSQL server (one per test process) and the database parameter
that runs a test against SQLite and PostgreSQL; the machine's Chromium through Playwright (found as
kakari finds it: `playwright install` cannot download here), and the sample systems
(samples/backoffice: 衛生システム and 子育て支援総合システム) as real servers, one of each per test module.

Two environment switches run the suite the way Windows runs kakari (`make test-portable`):
KAKARI_TEST_HIDE_TESSEROCR=1 makes `import tesserocr` fail in the test process and in every process
it starts (the shim in tests/data/no_tesserocr first on sys.path and PYTHONPATH), so Tesseract is
driven through pytesseract; KAKARI_START_METHOD=spawn (read by jobs.reading) starts every reader
with spawn instead of forkserver."""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NO_TESSEROCR = Path(__file__).resolve().parent / "data" / "no_tesserocr"


def hide_tesserocr() -> None:
    """`import tesserocr` fails here and in every child (spawned, forkserver'd or a new interpreter)."""
    import sys

    if str(NO_TESSEROCR) not in sys.path:
        sys.path.insert(0, str(NO_TESSEROCR))
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(NO_TESSEROCR) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(NO_TESSEROCR), *paths]))
    sys.modules.pop("tesserocr", None)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("KAKARI_TEST_HIDE_TESSEROCR") == "1":
        hide_tesserocr()


def pytest_report_header(config: pytest.Config) -> str:
    from ocr.tesseract import in_process

    method = os.environ.get("KAKARI_START_METHOD") or "auto"
    return f"kakari: tesseract {'in-process (tesserocr)' if in_process() else 'through pytesseract'}, " \
           f"reader start method {method}"


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


# -- PostgreSQL ---------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(root: Path) -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as the unprivileged `nobody`."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    import pwd

    nobody = pwd.getpwnam("nobody")
    os.chown(root, nobody.pw_uid, nobody.pw_gid)
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail("runuser がありません (Debian パッケージ util-linux)")
    return [runuser, "-u", "nobody", "--"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A private PostgreSQL server on a free port in a temporary folder, stopped at the end:
    the base URL (add /<database>)."""
    from kakari.locate import postgres_tool

    initdb, pg_ctl = postgres_tool("initdb"), postgres_tool("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.fail("PostgreSQL がありません: make setup (Debian パッケージ postgresql) を実行してください")
    root = Path(tempfile.mkdtemp(prefix="kakari-pg-"))  # not under pytest's 0700 folders: `nobody` must enter it
    prefix = _as_postgres_user(root)
    data = root / "data"
    subprocess.run([*prefix, str(initdb), "-D", str(data), "-U", "kakari", "--auth=trust", "-E", "UTF8",
                    "--no-locale", "--no-sync"], check=True, capture_output=True)
    port = free_port()
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200 "
               "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
    start = subprocess.run([*prefix, str(pg_ctl), "-D", str(data), "-l", str(root / "server.log"), "-o", options,
                            "-w", "-t", "60", "start"], capture_output=True, text=True)
    if start.returncode != 0:
        log = (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
        pytest.fail(f"PostgreSQL が起動しません: {start.stderr}{log[-2000:]}")
    try:
        yield f"postgresql+psycopg://kakari@127.0.0.1:{port}"
    finally:
        subprocess.run([*prefix, str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _admin(base: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as conn:
        conn.execute(sql)


class _Database:
    """One fresh database per test (or module), named in KAKARI_DB_URL for whatever reads the config."""

    def __init__(self, kind: str, base: str | None, folder: Path) -> None:
        self.kind, self.base = kind, base
        if kind == "postgresql":
            assert base is not None
            self.name = "t_" + secrets.token_hex(6)
            _admin(base, f"CREATE DATABASE {self.name}")
            self.url = f"{base}/{self.name}"
        else:
            self.url = f"sqlite:///{folder / 'kakari.db'}"

    def close(self) -> None:
        from jobs.store import engine_for

        engine_for(self.url).dispose()
        if self.kind == "postgresql":
            _admin(self.base, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def _open(request: pytest.FixtureRequest, folder: Path) -> _Database:
    base = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None
    return _Database(request.param, base, folder)


def _point_config_at(db: _Database, mp: pytest.MonkeyPatch) -> None:
    """Whatever reads a config (CLI subprocesses too) uses PostgreSQL through KAKARI_DB_URL; SQLite
    is the config's default in its home."""
    if db.kind == "postgresql":
        mp.setenv("KAKARI_DB_URL", db.url)
    else:
        mp.delenv("KAKARI_DB_URL", raising=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The test runs twice: on SQLite (the default, in the home) and on the private PostgreSQL."""
    db = _open(request, tmp_path)
    _point_config_at(db, monkeypatch)
    yield db.url
    db.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`db_url` for module-scoped fixtures (one database shared by the module's tests)."""
    db = _open(request, tmp_path_factory.mktemp("db"))
    with pytest.MonkeyPatch.context() as mp:
        _point_config_at(db, mp)
        yield db.url
    db.close()


@pytest.fixture(scope="module")
def kosodate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The second sample system (子育て支援総合システム), as built but for the faults the tests switch on."""
    from samples.backoffice.server import start

    bo = start(tmp_path_factory.mktemp("kosodate") / "kosodate.db", system="kosodate")
    yield bo
    bo.stop()
