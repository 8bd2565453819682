"""Item 5: accounts. Trivially weak passwords are refused, user names are compared as people read
them (`kacho ` is `kacho`, a name of spaces is no name), a clerk's 原課 must be one the config knows,
IT staff can list, disable, enable, reset and move accounts, and `kakari users add` with no input
says so in Japanese instead of ending in a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.conftest import CONFIG, PASSWORD, Server, kakari, login


def add(home: Path, name: str, password: str, role: str = "manager", section: str | None = None):  # noqa: ANN201
    args = ["users", "add", name, "--role", role, "--password-stdin", "--config", str(CONFIG)]
    if section is not None:
        args += ["--section", section]
    return kakari(*args, home=home, stdin=password + "\n")


def refused(proc) -> str:  # noqa: ANN001
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and "内部エラー" not in proc.stderr, proc.stderr
    assert "エラー" in proc.stderr
    return proc.stderr


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1234567890", "abababababab", "password2026",
                                      "qwertyuiop", "kacho-kacho-kacho", "ｋａｃｈｏ-secret-words"])
def test_weak_passwords_are_refused(tmp_path: Path, password: str) -> None:
    message = refused(add(tmp_path, "kacho", password))
    assert "パスワード" in message


def test_user_names_are_normalised(tmp_path: Path) -> None:
    assert "空" in refused(add(tmp_path, "   ", PASSWORD))
    assert "空" in refused(add(tmp_path, "\u3000", PASSWORD))
    kakari("users", "add", "kacho ", "--role", "manager", "--password-stdin", home=tmp_path,
           stdin=PASSWORD + "\n", check=True)
    assert "既に" in refused(add(tmp_path, "kacho", PASSWORD))
    assert "既に" in refused(add(tmp_path, "ｋａｃｈｏ", PASSWORD))  # full-width is the same name
    listed = kakari("users", "list", home=tmp_path, check=True).stdout
    assert listed.split()[0] == "kacho" and listed.count("kacho") == 1
    server = Server(tmp_path, CONFIG).start()
    try:
        assert login(server.base, " kacho ").get("/dashboard").status_code == 200
    finally:
        server.stop()


def test_a_clerks_section_must_be_a_configured_one(tmp_path: Path) -> None:
    message = refused(add(tmp_path, "tanaka", PASSWORD, "clerk", "子育て支援"))
    assert "子育て支援課" in message and "生活環境課" in message  # the sections it could have meant
    assert "原課" in refused(add(tmp_path, "tanaka", PASSWORD, "clerk"))
    assert add(tmp_path, "tanaka", PASSWORD, "clerk", " 子育て支援課 ").returncode == 0
    assert "子育て支援課" in kakari("users", "list", home=tmp_path, check=True).stdout


def test_users_list_disable_enable_reset_password_set_section(tmp_path: Path) -> None:
    assert add(tmp_path, "sato", PASSWORD, "clerk", "生活環境課").returncode == 0
    line = kakari("users", "list", home=tmp_path, check=True).stdout.strip()
    assert line.split()[:4] == ["sato", "担当職員", "生活環境課", "有効"], line
    kakari("users", "disable", "sato", home=tmp_path, check=True)
    assert "無効" in kakari("users", "list", home=tmp_path, check=True).stdout
    kakari("users", "enable", "sato", home=tmp_path, check=True)
    moved = kakari("users", "set-section", "sato", "子育て支援課", "--config", str(CONFIG), home=tmp_path, check=True)
    assert "子育て支援課" in moved.stdout
    assert "原課" in refused(kakari("users", "set-section", "sato", "総務", "--config", str(CONFIG), home=tmp_path))
    weak = kakari("users", "reset-password", "sato", "--password-stdin", home=tmp_path, stdin="11111111111\n")
    assert "パスワード" in refused(weak)
    kakari("users", "reset-password", "sato", "--password-stdin", home=tmp_path, stdin="a-new-long-phrase\n",
           check=True)
    server = Server(tmp_path, CONFIG).start()
    try:
        clerk = login(server.base, "sato", "a-new-long-phrase")
        assert clerk.get("/review").status_code == 200 and "子育て支援課" in clerk.get("/review").text
    finally:
        server.stop()
    assert "ありません" in refused(kakari("users", "disable", "nobody", home=tmp_path))


def test_users_add_with_no_input_is_a_japanese_message(tmp_path: Path) -> None:
    for proc in (kakari("users", "add", "kacho", "--role", "manager", home=tmp_path, stdin=""),
                 kakari("users", "add", "kacho", "--role", "manager", "--password-stdin", home=tmp_path, stdin="")):
        assert proc.returncode == 1, (proc.returncode, proc.stderr)
        assert "パスワードが入力されませんでした" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
    assert not kakari("users", "list", home=tmp_path).stdout.strip()
