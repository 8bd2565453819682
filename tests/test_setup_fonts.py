"""scripts/setup_fonts.py without npm's registry: the installation goes on, says why, and the reason
reaches whoever asks for a handwriting-style font."""
from __future__ import annotations

import importlib.util
import json
import os
import stat
import types
from pathlib import Path

import pytest

from samples import fonts

ROOT = Path(__file__).resolve().parents[1]


def load_script() -> types.ModuleType:  # scripts/ is not a package
    spec = importlib.util.spec_from_file_location("setup_fonts", ROOT / "scripts" / "setup_fonts.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_unreachable_registry_is_reported_and_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # the one stand-in: an npm whose registry cannot be reached (this machine's npm can reach it)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text("#!/bin/sh\necho 'npm ERR! code ENOTFOUND' >&2\necho 'npm ERR! network request failed' >&2\nexit 1\n")
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(fonts, "NPM_DIR", tmp_path / "npm")
    monkeypatch.setattr(fonts, "NPM_STATUS", tmp_path / "npm" / "fetch.json")
    script = load_script()
    status = script.fetch_handwriting()
    err = capsys.readouterr().err
    assert set(status) == set(fonts.NPM_PACKAGES)
    for name, package in fonts.NPM_PACKAGES.items():
        assert status[name]["error"] and "network request failed" in status[name]["error"]
        assert package in err
        assert not (tmp_path / "npm" / f"{name}.ttf").exists()
    saved = json.loads((tmp_path / "npm" / "fetch.json").read_text(encoding="utf-8"))
    assert saved["fonts"] == status
    # whoever needs the font is told why it is missing
    monkeypatch.setattr(fonts, "search_dirs", lambda: [tmp_path / "npm"])
    with pytest.raises(FileNotFoundError, match="network request failed"):
        fonts.font("klee-one")


def test_without_npm_at_all_the_reason_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm anywhere
    monkeypatch.setattr(fonts, "NPM_DIR", tmp_path / "npm")
    monkeypatch.setattr(fonts, "NPM_STATUS", tmp_path / "npm" / "fetch.json")
    status = load_script().fetch_handwriting()
    assert all("npm がありません" in s["error"] for s in status.values())


def test_fetched_fonts_are_whole_truetype_files() -> None:
    """What make setup fetched: one TrueType file per package, covering kana and the common kanji."""
    from fontTools.ttLib import TTFont

    for name in fonts.NPM_PACKAGES:
        try:
            font = fonts.font(name)
        except FileNotFoundError as e:
            pytest.skip(str(e))
        f = TTFont(str(font.path))
        cmap = f.getBestCmap()
        assert "glyf" in f and len(cmap) > 6000, name  # all the woff slices, merged
        assert all(ord(ch) in cmap for ch in "あいうアイウ申請書住所氏名電話番号０１２"), name
        assert (font.path.with_suffix(".LICENSE.txt")).is_file()
