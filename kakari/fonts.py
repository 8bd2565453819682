"""Font files on this machine, found by file name in the usual font folders of Linux, Windows and
macOS (and those named in ``KAKARI_FONT_DIRS``, searched first), never by one hard-coded path.

    find_font("ipag.ttf", "ipaexg.ttf")     # the first name found, or None
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

ENV_DIRS = "KAKARI_FONT_DIRS"  # extra folders, separated by os.pathsep, searched before the usual ones
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")


def font_dirs() -> list[Path]:
    """Folders that may hold fonts, in search order: KAKARI_FONT_DIRS, the user's, the system's."""
    dirs = [Path(d) for d in os.environ.get(ENV_DIRS, "").split(os.pathsep) if d.strip()]
    home = Path.home()
    if sys.platform == "win32":
        windir = os.environ.get("WINDIR") or os.environ.get("SYSTEMROOT") or r"C:\Windows"
        local = os.environ.get("LOCALAPPDATA")
        if local:
            dirs.append(Path(local) / "Microsoft" / "Windows" / "Fonts")  # fonts installed per user
        dirs.append(Path(windir) / "Fonts")
    elif sys.platform == "darwin":
        dirs += [home / "Library" / "Fonts", Path("/Library/Fonts"), Path("/System/Library/Fonts")]
    else:
        data_home = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
        dirs += [data_home / "fonts", home / ".fonts"]
        data_dirs = os.environ.get("XDG_DATA_DIRS", "")
        dirs += [Path(d) / "fonts" for d in data_dirs.split(":") if d]
        dirs += _fontconfig_dirs()  # where the distribution put its fonts, as fontconfig knows
    seen: set[str] = set()
    out: list[Path] = []
    for d in dirs:
        key = os.path.normcase(str(d))
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


@lru_cache(maxsize=1)
def _fontconfig_dirs() -> list[Path]:
    """The top folders of the font files fontconfig knows (fc-list), when it is installed."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        listed = subprocess.run([exe, "--format", "%{file}\n"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    tops: dict[str, Path] = {}
    for line in listed.splitlines():
        parts = Path(line).parts
        if "fonts" in parts:  # …/share/fonts/<family>/<file>: walk from …/share/fonts
            top = Path(*parts[: parts.index("fonts") + 1])
            tops.setdefault(str(top), top)
        elif line.strip():
            tops.setdefault(str(Path(line).parent), Path(line).parent)
    return list(tops.values())


@lru_cache(maxsize=8)
def _index(dirs: tuple[Path, ...]) -> dict[str, Path]:
    """lower-case file name → first file of that name, walking the folders in order."""
    found: dict[str, Path] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for root, _, files in os.walk(d, followlinks=True):
            for name in sorted(files):
                if name.lower().endswith(FONT_SUFFIXES):
                    found.setdefault(name.lower(), Path(root) / name)
    return found


def find_font(*names: str, dirs: Iterable[Path] | None = None) -> Path | None:
    """The first of `names` (file names, any case) found in `dirs` (default: ``font_dirs()``)."""
    index = _index(tuple(Path(d) for d in (font_dirs() if dirs is None else dirs)))
    for name in names:
        path = index.get(name.lower())
        if path is not None and path.is_file():
            return path
    return None


def forget() -> None:
    """Drop the cached folder walk (after fonts were installed while the process runs)."""
    _index.cache_clear()
