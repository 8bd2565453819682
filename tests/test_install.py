"""Set-up without make, as docs/windows.md tells a town to do it: a wheelhouse made with
`pip download`, an offline `pip install --no-index` into a fresh venv, `kakari setup`, then
`kakari run` on sample forms — from a folder outside the source tree, so only the installed
package is used. And the same wheelhouse can be made for Windows (every dependency has a wheel)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = "Scripts" if sys.platform == "win32" else "bin"


def run(*cmd: str | Path, cwd: Path, timeout: float = 900, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env or {k: v for k, v in os.environ.items() if not k.startswith("KAKARI_")})
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kakari as a wheel, built from this source tree (step 1 of docs/windows.md, on the machine
    that has internet)."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", out, ROOT, cwd=out)
    [built] = out.glob("kakari-*.whl")
    return built


@pytest.mark.slow
def test_offline_install_setup_and_run_without_make(tmp_path: Path, wheel: Path) -> None:
    from samples.generate import generate

    house = tmp_path / "wheelhouse"
    run(sys.executable, "-m", "pip", "download", "--dest", house, wheel, cwd=tmp_path)  # (pip's cache makes it quick)
    shutil.copy(wheel, house)
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=True)
    py, kakari = fresh / BIN / "python", fresh / BIN / "kakari"
    run(py, "-m", "pip", "install", "--no-index", "--find-links", house, "kakari", cwd=tmp_path)  # offline

    town = tmp_path / "town"  # where the town runs it: no source tree, no Makefile
    town.mkdir()
    where = run(py, "-c", "import jobs.migrations, ocr.trust as t; print(jobs.migrations.__file__, len(t.load().table()))",
                cwd=town).stdout
    assert not where.strip().endswith(" 0")  # the package data came along (the OCR trust calibration)
    assert str(fresh) in where and str(ROOT) not in where
    home = town / "kakari-home"
    setup = run(kakari, "setup", "--home", home, cwd=town)
    assert "準備ができました" in setup.stdout and (home / "kakari.toml").is_file()
    assert (home / "jobs" / "child_medical" / "inbox").is_dir() and (home / "kakari.db").is_file()

    generate(tmp_path / "samples", count=3, seed=5, forms=["child_medical"])
    pdfs = sorted((tmp_path / "samples" / "child_medical").glob("child_medical_*.pdf"))
    for pdf in pdfs:
        shutil.copy(pdf, home / "jobs" / "child_medical" / "inbox" / pdf.name)
    done = run(kakari, "run", "child_medical", "--config", home / "kakari.toml", "--home", home, cwd=town)
    assert f"{len(pdfs)}件を処理しました" in done.stdout and "エラー 0件" in done.stdout
    ledgers = list((home / "ledgers").glob("*.xlsx"))
    assert len(ledgers) == 1
    from connectors.excel import read_ledger

    assert sorted(r["元ファイル名"] for r in read_ledger(ledgers[0])) == [p.name for p in pdfs]
    run(kakari, "doctor", "--config", home / "kakari.toml", "--home", home, cwd=town)
    backup = run(kakari, "backup", "--home", home, cwd=town)
    assert "写しを作成しました" in backup.stdout


@pytest.mark.slow
def test_the_wheelhouse_can_be_made_for_windows(tmp_path: Path, wheel: Path) -> None:
    """Every dependency has a wheel for 64-bit Windows and Python 3.11: pip's own resolver, on
    package metadata only, nothing installed. pip evaluates environment markers for this machine,
    so the Windows-only pywin32 is asked for by name."""
    report = tmp_path / "report.json"
    run(sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--only-binary=:all:",
        "--platform", "win_amd64", "--python-version", "3.11", "--implementation", "cp",
        "--target", tmp_path / "t", "--report", report, wheel, "pywin32>=306", cwd=tmp_path)
    chosen = {i["metadata"]["name"].lower(): i["download_info"]["url"] for i in json.loads(report.read_text())["install"]}
    assert {"kakari", "tesserocr", "pywin32", "opencv-python-headless", "numpy", "playwright"} <= set(chosen)
    native = {n: u.rsplit("/", 1)[-1] for n, u in chosen.items() if not u.endswith(("-none-any.whl", "-py3-none-any.whl"))}
    assert native and all("win_amd64" in w for w in native.values()), native
