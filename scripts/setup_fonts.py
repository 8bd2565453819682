"""Install-time font step of `make setup` (never run by kakari itself):

1. handwriting-style fonts: ``npm pack`` each pinned package of ``samples.fonts`` and merge its
   woff subsets (one per slice of Unicode) into ``samples/fontdata/npm/<name>.ttf``;
2. fonts reportlab cannot embed as they are (CFF outlines, collections, a misread cmap: Noto CJK,
   M+, Sawarabi Mincho): convert them once into the TrueType cache of ``samples.fonts``, so that no
   test or sample run waits for it.

Quick when everything is there. Without npm or its registry the handwriting fonts are skipped with
a message saying why (and ``samples/fontdata/npm/fetch.json`` keeps the reason for the tests that
need them); the script still exits 0 so the rest of the installation goes on.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from samples import fonts  # noqa: E402  (the repository root is on the path only now)

NPM_TIMEOUT = 600  # seconds for one package (tens of MB)


def fetch_handwriting() -> dict[str, dict[str, str]]:
    status = _read_status()
    fonts.NPM_DIR.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    for name, package in fonts.NPM_PACKAGES.items():
        target = fonts.NPM_DIR / f"{name}.ttf"
        entry = status.get(name, {})
        if target.is_file() and entry.get("package") == package and not entry.get("error"):
            continue
        try:
            if npm is None:
                raise RuntimeError("npm がありません (apt-get install npm)")
            with tempfile.TemporaryDirectory() as tmp:
                tgz = _pack(npm, package, Path(tmp))
                licence = _merge(tgz, name, target)
            status[name] = {"package": package, "file": target.name, "licence": licence, "error": ""}
            print(f"手書き風フォント {package} → {target.relative_to(ROOT)}")
        except Exception as e:  # noqa: BLE001 - any failure is reported and recorded, never fatal here
            reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
            status[name] = {"package": package, "file": "", "licence": "", "error": reason}
            print(f"手書き風フォント {package} を取得できませんでした: {reason}\n"
                  f"  → 手書き風の見本は作られず、それを使う試験は理由を示して飛ばされます", file=sys.stderr)
    fonts.NPM_STATUS.write_text(json.dumps({"fonts": status}, ensure_ascii=False, indent=2) + "\n",
                                encoding="utf-8")
    return status


def _read_status() -> dict[str, dict[str, str]]:
    try:
        return dict(json.loads(fonts.NPM_STATUS.read_text(encoding="utf-8")).get("fonts", {}))
    except (OSError, ValueError):
        return {}


def _pack(npm: str, package: str, where: Path) -> Path:
    done = subprocess.run([npm, "pack", package, "--silent", "--pack-destination", str(where)],
                          cwd=where, capture_output=True, text=True, timeout=NPM_TIMEOUT, check=False)
    tgz = sorted(where.glob("*.tgz"))
    if done.returncode != 0 or not tgz:
        raise RuntimeError(f"npm pack {package} が失敗しました: {(done.stderr or done.stdout).strip()[-300:]}")
    return tgz[0]


def _merge(tgz: Path, name: str, target: Path) -> str:
    """Merge the package's regular (400) woff subsets into one TrueType file; returns the licence name."""
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    work = tgz.parent / "x"
    with tarfile.open(tgz) as tar:
        tar.extractall(work, filter="data")
    pkg = work / "package"
    woffs = sorted((pkg / "files").glob("*-400-normal.woff"))
    if not woffs:
        raise RuntimeError(f"{tgz.name} に *-400-normal.woff がありません")
    plain = []
    created = modified = 0
    for i, woff in enumerate(woffs):
        f = TTFont(str(woff), recalcTimestamp=False)
        created, modified = max(created, f["head"].created), max(modified, f["head"].modified)
        for tag in ("GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VORG"):
            if tag in f:
                del f[tag]  # reportlab lays text out without them; merging them is slow and fragile
        f.flavor = None
        out = work / f"part{i:03d}.ttf"
        f.save(str(out))
        plain.append(str(out))
    merged = Merger().merge(plain)
    merged.recalcTimestamp = False  # the package's own dates: the same bytes on every machine
    merged["head"].created, merged["head"].modified = created, modified
    # the slices overlap (one per range and the whole "japanese" file): keep what the cmap reaches
    fonts.subset(merged, merged.getBestCmap().keys())
    tmp = target.with_suffix(".tmp")
    merged.save(str(tmp))
    tmp.replace(target)
    licence = pkg / "LICENSE"
    if licence.is_file():
        shutil.copyfile(licence, target.with_suffix(".LICENSE.txt"))
        text = licence.read_text(encoding="utf-8", errors="replace")
        return "OFL-1.1" if "SIL Open Font License" in text else text.splitlines()[0][:200]
    return ""


def convert() -> None:
    for found in fonts.available():
        target = fonts.converted_path(found.path, found.face)
        if target is None or target.is_file():
            continue
        print(f"フォント {found.path.name} を TrueType に変換しています ({target.name}) …")
        try:
            found.truetype()
        except Exception as e:  # noqa: BLE001 - one unusable font must not stop the installation
            print(f"フォント {found.path} を変換できませんでした: {e}", file=sys.stderr)


def main() -> int:
    fetch_handwriting()
    convert()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
