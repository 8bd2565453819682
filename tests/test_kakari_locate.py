"""kakari.locate: this machine's fonts, Tesseract, browser and PostgreSQL tools are found without a
hard-coded path; on Windows the usual places (Fonts folder, Program Files, Edge) are looked in —
simulated here with a fake Windows layout, since the tests run on Linux."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kakari import locate


def _browser() -> dict[str, str | None]:
    """What connectors.browser picks on this (possibly simulated) platform."""
    from connectors.browser import find_browser

    choice = find_browser(platform=sys.platform)
    return {"channel": choice.channel} if choice.channel else {"executable_path": choice.executable}


def _forget() -> None:
    from kakari import fonts

    locate.configure()
    fonts.forget()
    for cached in (locate.japanese_fonts, locate.tesseract_exe, locate.tessdata_dirs):
        cached.cache_clear()


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    _forget()
    yield
    _forget()


def test_this_machine_finds_ipa_fonts_tesseract_data_and_chromium() -> None:
    assert locate.gothic_font().name == "ipag.ttf" and locate.mincho_font().name == "ipam.ttf"
    assert any((d / "jpn.traineddata").is_file() for d in locate.tessdata_dirs())
    assert Path(str(_browser()["executable_path"])).name == "chromium"
    assert locate.postgres_tool("pg_dump") is not None and locate.postgres_tool("initdb") is not None


@pytest.fixture()
def windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Windows PC: its Fonts folder, Program Files with Tesseract and PostgreSQL, nothing on PATH."""
    win = tmp_path / "Windows"
    (win / "Fonts").mkdir(parents=True)
    for name in ("msgothic.ttc", "msmincho.ttc", "arial.ttf"):
        (win / "Fonts" / name).write_bytes(b"font")
    programs = tmp_path / "Program Files"
    (programs / "Tesseract-OCR" / "tessdata").mkdir(parents=True)
    (programs / "Tesseract-OCR" / "tesseract.exe").write_bytes(b"MZ")
    (programs / "Tesseract-OCR" / "tessdata" / "jpn.traineddata").write_bytes(b"x")
    for version in ("15", "16"):
        (programs / "PostgreSQL" / version / "bin").mkdir(parents=True)
        (programs / "PostgreSQL" / version / "bin" / "pg_dump.exe").write_bytes(b"MZ")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("WINDIR", str(win))
    monkeypatch.setenv("ProgramFiles", str(programs))
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    monkeypatch.delenv("TESSDATA_PREFIX", raising=False)
    monkeypatch.delenv("KAKARI_CHROMIUM", raising=False)
    monkeypatch.delenv("KAKARI_FONT_DIRS", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no fc-list, no tesseract, no chromium
    return tmp_path


def test_windows_fonts_folder_gives_ms_gothic_and_mincho(windows: Path) -> None:
    assert locate.gothic_font() == windows / "Windows" / "Fonts" / "msgothic.ttc"
    assert locate.mincho_font() == windows / "Windows" / "Fonts" / "msmincho.ttc"


def test_ipa_fonts_the_town_installed_come_first(windows: Path) -> None:
    (windows / "Windows" / "Fonts" / "ipag.ttf").write_bytes(b"font")
    assert locate.gothic_font().name == "ipag.ttf"


def test_windows_tesseract_in_program_files_and_its_tessdata(windows: Path) -> None:
    exe = windows / "Program Files" / "Tesseract-OCR" / "tesseract.exe"
    assert locate.tesseract_exe() == exe
    assert exe.parent / "tessdata" in locate.tessdata_dirs()


def test_windows_browser_is_edge_and_newest_postgres_tools(windows: Path) -> None:
    assert _browser() == {"channel": "msedge"}
    assert locate.postgres_tool("pg_dump") == windows / "Program Files" / "PostgreSQL" / "16" / "bin" / "pg_dump.exe"


def test_configuration_wins(windows: Path, tmp_path: Path) -> None:
    font = tmp_path / "town" / "ipaexg.ttf"
    font.parent.mkdir()
    font.write_bytes(b"font")
    chrome = tmp_path / "town" / "chrome.exe"
    chrome.write_bytes(b"MZ")
    locate.configure(fonts=[font], browser=str(chrome))
    assert locate.gothic_font() == font and locate.japanese_fonts()[0] == font
    assert _browser() == {"executable_path": str(chrome)}
    locate.configure(browser="chrome")
    assert _browser() == {"channel": "chrome"}


def test_config_file_system_section_is_applied(tmp_path: Path) -> None:
    from kakari.config import load_config

    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "town.ttf").write_bytes(b"font")
    cfg = tmp_path / "kakari.toml"
    cfg.write_text('[system]\nfonts = ["fonts/town.ttf"]\nbrowser = "msedge"\n', encoding="utf-8")
    load_config(cfg, tmp_path / "home")
    assert locate.japanese_fonts()[0] == tmp_path / "fonts" / "town.ttf"  # relative to the config file
    assert _browser() == {"channel": "msedge"}
