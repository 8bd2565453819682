"""Where this machine keeps what kakari uses but does not ship: Japanese fonts, Tesseract and its
data, a browser for Playwright, PostgreSQL's tools.

Each is looked for in the configuration first (`[system]` in kakari.toml, applied by load_config),
then in the platform's usual places: the font folders of kakari.fonts, $PATH, Program Files and
Edge on Windows. Nothing here hard-codes a distribution's layout; the answers are cached per process.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

# preferred font files, best first: IPA (what the forms and reports were laid out with), then the
# Japanese fonts every Windows and macOS machine has
GOTHIC = ("ipag.ttf", "ipaexg.ttf", "ipagp.ttf", "msgothic.ttc", "YuGothM.ttc", "YuGothR.ttc", "meiryo.ttc",
          "ヒラギノ角ゴシック W3.ttc", "NotoSansCJK-Regular.ttc", "NotoSansJP-Regular.otf")
MINCHO = ("ipam.ttf", "ipaexm.ttf", "ipamp.ttf", "msmincho.ttc", "yumin.ttf", "YuMincho.ttc",
          "ヒラギノ明朝 ProN.ttc", "NotoSerifCJK-Regular.ttc", "NotoSerifJP-Regular.otf")

_configured: dict[str, object] = {}


def configure(fonts: Iterable[Path] = (), browser: str | None = None, tesseract: Path | None = None,
              pg_bin: Path | None = None) -> None:
    """What kakari.toml's [system] says; called by load_config (and by reader processes)."""
    new = {"fonts": tuple(Path(f) for f in fonts), "browser": browser, "tesseract": tesseract, "pg_bin": pg_bin}
    if new != _configured:
        _configured.clear()
        _configured.update(new)
        for cached in (japanese_fonts, tesseract_exe, tessdata_dirs):
            cached.cache_clear()


# -- fonts (files found by kakari.fonts) ----------------------------------------------------------
@lru_cache(maxsize=1)
def japanese_fonts() -> tuple[Path, ...]:
    """Japanese font files, configured ones first, then a gothic and a mincho of the platform."""
    from kakari.fonts import find_font

    out = [f for f in _configured.get("fonts", ()) if Path(f).is_file()]  # type: ignore[attr-defined]
    for family in (GOTHIC, MINCHO):
        hit = find_font(*family)
        if hit is not None and hit not in out:
            out.append(hit)
    return tuple(out)


def gothic_font() -> Path | None:
    """The gothic (sans) font for reports, previews and generated forms."""
    return _pick(GOTHIC)


def mincho_font() -> Path | None:
    """The mincho (serif) font, else the gothic one."""
    return _pick(MINCHO) or gothic_font()


def _pick(family: tuple[str, ...]) -> Path | None:
    fonts = japanese_fonts()
    names = {n.lower() for n in family}
    configured = [f for f in fonts if f in _configured.get("fonts", ())]  # type: ignore[operator]
    return next((f for f in fonts if f.name.lower() in names), configured[0] if configured else None)


# -- Tesseract --------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def tesseract_exe() -> Path | None:
    """The tesseract command: configured, on $PATH, or where Windows' installers put it."""
    configured = _configured.get("tesseract")
    if configured and Path(str(configured)).is_file():
        return Path(str(configured))
    found = shutil.which("tesseract")
    if found:
        return Path(found)
    if sys.platform == "win32":
        for base in _program_dirs():
            exe = base / "Tesseract-OCR" / "tesseract.exe"
            if exe.is_file():
                return exe
    return None


@lru_cache(maxsize=1)
def tessdata_dirs() -> tuple[Path, ...]:
    """Folders that may hold *.traineddata: $TESSDATA_PREFIX, the folder the tesseract command
    reports, and the one beside it (Windows' installer)."""
    out: list[Path] = []
    if os.environ.get("TESSDATA_PREFIX"):
        out.append(Path(os.environ["TESSDATA_PREFIX"]))
    exe = tesseract_exe()
    if exe is not None:
        try:
            proc = subprocess.run([str(exe), "--list-langs"], capture_output=True, text=True, timeout=30)
            m = re.search(r'"([^"]+)"', proc.stdout + proc.stderr)
            if m:
                out.append(Path(m.group(1)))
        except (OSError, subprocess.SubprocessError):
            pass
        out.append(exe.parent / "tessdata")
    return tuple(dict.fromkeys(out))


# -- the browser ------------------------------------------------------------------------------------
def configured_browser() -> str | None:
    """[system] browser of kakari.toml (connectors.browser chooses the browser from it and the platform)."""
    value = _configured.get("browser")
    return str(value) if value else None


# -- PostgreSQL's tools ----------------------------------------------------------------------------
def postgres_tool(name: str, pg_bin: Path | None = None) -> Path | None:
    """pg_dump, pg_restore, initdb …: in pg_bin, on $PATH, or in the newest installed version's bin
    folder (Program Files\\PostgreSQL\\<v>\\bin on Windows, lib/postgresql/<v>/bin on Debian)."""
    exe_name = name + (".exe" if sys.platform == "win32" else "")
    for folder in (pg_bin, _configured.get("pg_bin")):
        if folder and (Path(str(folder)) / exe_name).is_file():
            return Path(str(folder)) / exe_name
    found = shutil.which(name)
    if found:
        return Path(found)
    roots = [b / "PostgreSQL" for b in _program_dirs()] if sys.platform == "win32" else \
        [Path(sys.base_prefix) / "lib" / "postgresql"]  # Debian: the system Python's prefix
    versions: list[Path] = []
    for root in roots:
        if root.is_dir():
            versions += [d for d in root.iterdir() if (d / "bin" / exe_name).is_file()]
    versions.sort(key=lambda d: [int(x) for x in re.findall(r"\d+", d.name)] or [0])
    return versions[-1] / "bin" / exe_name if versions else None


def _program_dirs() -> list[Path]:
    names = ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)", "LOCALAPPDATA")
    out = [Path(os.environ[n]) for n in names if os.environ.get(n)]
    if os.environ.get("LOCALAPPDATA"):
        out.append(Path(os.environ["LOCALAPPDATA"]) / "Programs")
    return list(dict.fromkeys(out))
