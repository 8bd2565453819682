"""Start the sample system as a real uvicorn subprocess on 127.0.0.1 and a free port (tests, benchmark)."""
from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


TABLES = {"eisei": "applications", "kosodate": "jukyu"}  # each system's table of registered entries
KEY_COLUMNS = {"eisei": "kakari_ref", "kosodate": "seiri_no"}  # and the column kakari's key goes in


@dataclass
class Backoffice:
    """A running sample system: its URL, its database file, the user and the fault switch."""

    url: str
    db_path: Path
    user: str
    password: str
    admin_token: str
    process: subprocess.Popen[bytes]
    system: str = "eisei"

    def faults(self, **values: Any) -> dict[str, Any]:
        r = httpx.post(f"{self.url}/_admin/faults", json=values, headers={"X-Admin-Token": self.admin_token},
                       timeout=10)
        r.raise_for_status()
        return dict(r.json())

    def injected(self) -> dict[str, int]:
        """How many faults the server actually injected since it started."""
        return dict(self._status()["injected"])

    def requests(self) -> list[str]:
        """"METHOD /path" of the latest requests (" 503" appended to those answered 503 by a fault)."""
        return list(self._status()["log"])

    def _status(self) -> dict[str, Any]:
        r = httpx.get(f"{self.url}/_admin/faults", headers={"X-Admin-Token": self.admin_token}, timeout=10)
        r.raise_for_status()
        return dict(r.json())

    def calm(self) -> None:
        """Every fault off."""
        self.faults(slow_ms=0, slow_rate=1.0, delay_min_ms=0, delay_max_ms=0, error_rate=0.0,
                    error_after_commit_rate=0.0, error_after_commit_every=0, logout_every=0, session_requests=0, duplicate_check=True,
                    fail_once="")

    def applications(self) -> list[dict[str, Any]]:
        """Rows of the system's own database, read directly (not through its web pages)."""
        with closing(sqlite3.connect(self.db_path)) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute(f"SELECT * FROM {TABLES[self.system]} ORDER BY id")]

    def by_key(self) -> dict[str, list[dict[str, Any]]]:
        """The registered entries grouped by the column kakari writes its key into."""
        out: dict[str, list[dict[str, Any]]] = {}
        for row in self.applications():
            out.setdefault(str(row[KEY_COLUMNS[self.system]]), []).append(row)
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start(db_path: Path, user: str = "kakari01", password: str | None = None, session_seconds: float = 1200.0,
          timeout: float = 30.0, system: str = "eisei") -> Backoffice:
    """Start `python -m samples.backoffice --system SYSTEM` and wait until it answers."""
    port = free_port()
    password = password or secrets.token_urlsafe(12)
    token = secrets.token_urlsafe(12)
    env = os.environ | {"BACKOFFICE_USERS": f"{user}:{password}", "BACKOFFICE_ADMIN_TOKEN": token,
                        "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "samples.backoffice", "--system", system, "--port", str(port), "--db", str(db_path),
         "--session-seconds", str(session_seconds)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"sample back-office exited with {proc.returncode}: {err[-2000:]}")
        try:
            if httpx.get(f"{url}/_admin/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("sample back-office did not start in time")
        time.sleep(0.1)  # polling a starting process: nothing to wait on but the port
    return Backoffice(url, Path(db_path), user, password, token, proc, system)
