"""Which browser Playwright drives, and a display for a headed one.

The browser is never downloaded (`playwright install` needs the internet): it is the one configured
(`browser = "…"` or `[system] browser` in kakari.toml: a path, or a Playwright channel such as "msedge" or "chrome"), else
KAKARI_CHROMIUM, else the platform's usual one — Microsoft Edge on Windows (channel "msedge", part of
Windows 10/11), Chrome or Edge on macOS, the distribution's Chromium on Linux.

A headed browser (the recorder, KAKARI_WEB_HEADED=1) on a Linux machine without a display gets a
private Xvfb server for as long as it runs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kakari import locate
from kakari.errors import MissingDependency

CHANNELS = ("msedge", "msedge-beta", "msedge-dev", "chrome", "chrome-beta", "chrome-dev", "chromium")
_LINUX = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge")
_MAC = ("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
        "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
        "/Applications/Chromium.app/Contents/MacOS/Chromium")
_COMMON_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


@dataclass(frozen=True)
class BrowserChoice:
    executable: str | None = None  # a file to run
    channel: str | None = None  # or an installed browser Playwright knows by name
    origin: str = ""  # for messages: 設定 / 環境変数 KAKARI_CHROMIUM / 既定

    def launch_options(self) -> dict[str, Any]:
        args = list(_COMMON_ARGS)
        if os.name == "posix" and hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(0, "--no-sandbox")  # Chromium refuses to start as root with its sandbox
        opts: dict[str, Any] = {"args": args}
        if self.channel:
            opts["channel"] = self.channel
        else:
            opts["executable_path"] = self.executable
        return opts

    def describe(self) -> str:
        return f"{self.channel or self.executable} ({self.origin})"


def _choice(value: str, origin: str) -> BrowserChoice:
    if value in CHANNELS:
        return BrowserChoice(channel=value, origin=origin)
    path = Path(os.path.expanduser(value))
    if not path.is_file():
        found = shutil.which(value)
        if found is None:
            raise MissingDependency(f"ブラウザー {value} が見つかりません ({origin})",
                                    fix="ブラウザーのパスを kakari.toml の browser = \"…\" に書くか、"
                                        "msedge・chrome のように名前で指定してください")
        path = Path(found)
    return BrowserChoice(executable=str(path), origin=origin)


def find_browser(configured: str | None = None, platform: str = sys.platform) -> BrowserChoice:
    """The configured browser ([system] browser too), else KAKARI_CHROMIUM, else the platform's usual one."""
    if configured:
        return _choice(configured, "kakari.toml の browser")
    system = locate.configured_browser()
    if system:
        return _choice(system, "kakari.toml の [system] browser")
    env = os.environ.get("KAKARI_CHROMIUM")
    if env:
        return _choice(env, "環境変数 KAKARI_CHROMIUM")
    if platform.startswith("win"):
        return BrowserChoice(channel="msedge", origin="既定 (Windows の Microsoft Edge)")
    if platform == "darwin":
        for p in _MAC:
            if Path(p).is_file():
                return BrowserChoice(executable=p, origin="既定")
    else:
        for name in _LINUX:
            found = shutil.which(name)
            if found:
                return BrowserChoice(executable=found, origin="既定")
    fix = ("apt-get install chromium" if platform.startswith("linux") else "Google Chrome か Microsoft Edge をインストール")
    raise MissingDependency("Playwright で操作するブラウザー (Chromium・Chrome・Edge) が見つかりません",
                            fix=f"{fix}、または kakari.toml に browser = \"ブラウザーのパス\" を書いてください")


def needs_display(platform: str = sys.platform) -> bool:
    """A headed browser here needs a display server started for it (Linux without X or Wayland)."""
    return platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _end_with_parent() -> None:
    """In the Xvfb child (Linux only): ask the kernel to stop it when kakari dies, even by kill -9."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextmanager
def display_for_headed() -> Iterator[dict[str, str]]:
    """Environment for a headed browser: as it is, or with DISPLAY of a private Xvfb started here."""
    if not needs_display():
        yield dict(os.environ)
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise MissingDependency("画面のないこの機械でブラウザーを表示するための Xvfb がありません",
                                fix="apt-get install xvfb (scripts/install-system.sh が入れます)")
    read, write = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write), "-screen", "0", "1366x900x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=_end_with_parent)
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()  # Xvfb writes the display it took once it accepts clients
        if not number:
            raise MissingDependency("Xvfb を起動できませんでした", fix="Xvfb が動くか確かめてください (Xvfb :99)")
        yield dict(os.environ) | {"DISPLAY": f":{number}"}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
