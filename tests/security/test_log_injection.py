"""Item 6: text from outside (a file name, a user name typed at the login page) cannot forge a line
of kakari.log: every record starts a line of its own, its further lines are indented, and control
characters are shown as escapes."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx

from tests.security.conftest import CHILD_JOB, CONFIG, Site, csrf_of, fill_inbox, kakari

RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \| [A-Z]+ +\| \d+ \| ")
FORGED = "2026-01-01 00:00:00.000 | ERROR   | 1 | 偽の記録"


def forged_lines(log: Path) -> list[str]:
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines, "the log is empty"
    return [line for line in lines if (FORGED in line and not line.startswith((" ", "\t")))
            or line.startswith(("\x1b", "\r")) or "\r" in line or "\x1b" in line]


def test_a_file_name_cannot_forge_log_lines(tmp_path: Path, site: Site) -> None:
    home = tmp_path / "home"
    inbox = fill_inbox(home, CHILD_JOB, [])
    name = f"申請\n{FORGED}\r\x1b[2K.pdf"
    (inbox / name).write_bytes(b"not a pdf at all")  # an error: its name is logged with the reason
    os.utime(inbox / name, (time.time() - 10, time.time() - 10))
    proc = kakari("run", CHILD_JOB, "--config", str(CONFIG), "--verbose", home=home)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    log = home / "logs" / "kakari.log"
    assert not forged_lines(log), forged_lines(log)
    for line in log.read_text(encoding="utf-8").splitlines():
        assert RECORD.match(line) or line.startswith(" "), repr(line)  # a record, or a record's next line
    assert FORGED not in [line.strip() for line in (proc.stdout + proc.stderr).splitlines()]  # nor on the console


def test_a_user_name_cannot_forge_log_lines(site: Site) -> None:
    with httpx.Client(base_url=site.base, follow_redirects=False, headers={"X-Forwarded-For": "10.6.6.6"}) as c:
        token = csrf_of(c.get("/login").text)
        c.post("/login", data={"username": f"x\n{FORGED}\n", "password": "wrong-password-1", "csrf_token": token})
    log = site.home / "logs" / "kakari.log"
    time.sleep(0.5)
    assert not forged_lines(log), forged_lines(log)
