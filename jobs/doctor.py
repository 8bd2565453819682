"""`kakari doctor`: each check says what it found and, when something is missing, how to fix it."""
from __future__ import annotations

import importlib.metadata as md
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kakari import locate
from kakari.config import KakariConfig
from kakari.errors import KakariError, MissingDependency

WINDOWS = sys.platform == "win32"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False


def fix(debian: str, windows: str) -> str:
    """The fix in this platform's words."""
    return windows if WINDOWS else debian


def _tesseract(cfg: KakariConfig) -> list[Check]:
    exe = locate.tesseract_exe()
    if exe is None:
        return [Check("Tesseract", False, "見つかりません",
                      fix("apt-get install tesseract-ocr tesseract-ocr-jpn",
                          "Tesseract for Windows (UB Mannheim 版) をインストールし、kakari.toml の [system] tesseract に "
                          "tesseract.exe の場所を指定してください (docs/windows.md)"))]
    version = (subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.splitlines() or ["?"])[0]
    from ocr.tesseract import find_tessdata

    tessdata = find_tessdata(cfg.ocr.tessdata)
    langs = {p.name.removesuffix(".traineddata") for p in tessdata.glob("*.traineddata")} if tessdata else set()
    checks = [Check("Tesseract", True, f"{version} ({exe})")]
    checks.append(Check("Tesseract 日本語データ (jpn)", "jpn" in langs, f"あり ({tessdata})" if "jpn" in langs else "ありません",
                        fix("apt-get install tesseract-ocr-jpn",
                            "jpn.traineddata を tessdata フォルダーに置くか、[ocr] tessdata に場所を指定してください")))
    for lang, what, package in (("eng", "英数字", "tesseract-ocr-eng"), ("osd", "向き判定", "tesseract-ocr-osd")):
        checks.append(Check(f"Tesseract {what}データ ({lang})", lang in langs, "あり" if lang in langs else "ありません",
                            fix(f"apt-get install {package}", f"{lang}.traineddata を tessdata フォルダーに置いてください")))
    checks.append(Check("Tesseract 縦書きデータ (jpn_vert)", "jpn_vert" in langs,
                        "あり" if "jpn_vert" in langs else "ありません",
                        fix("apt-get install tesseract-ocr-jpn-vert", "jpn_vert.traineddata を tessdata に置いてください"),
                        optional=True))
    return checks


def _ppocr(cfg: KakariConfig) -> list[Check]:
    """The neural recogniser: its version and each pinned model file (never downloaded)."""
    from ocr import ppocr

    try:
        ppocr.check()
        lines = ppocr.describe(cfg.ocr.models_dir)
    except KakariError as e:
        return [Check("PP-OCR (rapidocr)", False, e.message, getattr(e, "fix", "") or ppocr.INSTALL_FIX)]
    except ImportError as e:
        return [Check("PP-OCR (rapidocr)", False, str(e), ppocr.INSTALL_FIX)]
    return [Check(what, "不一致" not in detail, detail, ppocr.INSTALL_FIX) for what, detail in lines]


# the policy's field kinds (ocr.trust.KINDS) in the words of a form
KIND_LABELS = {"text": "文字", "address": "住所", "name": "氏名", "kana": "フリガナ", "date": "日付",
               "postal": "郵便番号", "phone": "電話番号", "number": "番号", "amount": "金額", "mark": "チェック欄"}


def _trust() -> Check:
    """Whether scanned values can be registered without a clerk, and what the thresholds were fitted on."""
    from ocr import trust

    policy = trust.load()
    trusted = [kind for kind in trust.KINDS if any(
        getattr(policy.rule(kind, dpi), name) is not None
        for dpi in (trust.COARSE_BELOW_DPI, 0.0) for name in ("alone", "agree", "hand_alone", "hand_agree"))]
    if not trusted:
        return Check("OCR 自動登録の基準 (ocr/trust.json)", False,
                     "校正されていません: スキャンの値はすべて要確認になります",
                     "python benchmarks/calibrate_ocr.py --crops で校正してください", optional=True)
    return Check("OCR 自動登録の基準 (ocr/trust.json)", True,
                 f"自動登録できる項目の種類: {'、'.join(KIND_LABELS.get(k, k) for k in trusted)} "
                 "(基準の一覧: kakari doctor --trust)")


def _tesseract_binding() -> Check:
    from ocr import tesseract

    try:
        tesseract.check()
        return Check("Tesseract (第二の読み取り・向き判定)", True, tesseract.version())
    except KakariError as e:
        return Check("Tesseract (第二の読み取り・向き判定)", False, e.message, tesseract.INSTALL_FIX)


def _packages() -> list[Check]:
    out = []
    for pkg in ("pdfplumber", "openpyxl", "pytesseract", "tesserocr", "rapidocr", "onnxruntime", "pandas", "loguru",
                "playwright", "sqlalchemy", "alembic", "filelock", "psutil", "janome"):
        try:
            out.append(Check(f"Python パッケージ {pkg}", True, md.version(pkg)))
        except md.PackageNotFoundError:
            # without tesserocr, Tesseract is driven through pytesseract and the tesseract command
            optional = pkg == "tesserocr"
            out.append(Check(f"Python パッケージ {pkg}", False, "未インストール", "pip install kakari (または make setup)",
                             optional=optional))
    return out


def _folders(cfg: KakariConfig) -> list[Check]:
    out = [_writable("作業フォルダー (home)", cfg.home)]
    for name, job in cfg.jobs.items():
        for key, folder in job.folders(cfg.home).items():
            out.append(_writable(f"ジョブ {name} の {key}", folder))
        out.append(_writable(f"ジョブ {name} の台帳フォルダー", job.ledger_path(cfg.home).parent))
    return out


def _writable(name: str, folder: Path) -> Check:
    if not folder.exists():
        parent = next((p for p in folder.parents if p.exists()), None)
        ok = parent is not None and os.access(parent, os.W_OK)
        return Check(name, ok, f"{folder} (未作成: 初回実行時に作成されます)" if ok else f"{folder} を作成できません",
                     f"{parent} に書き込み権限を付けてください")
    ok = os.access(folder, os.W_OK | os.X_OK)
    return Check(name, ok, str(folder), f"chmod u+rwx {folder} (実行ユーザーに書き込み権限を付けてください)")


def _bots(cfg: KakariConfig) -> list[Check]:
    try:
        from bots import registry

        names = registry.names()
        return [Check("ボット (様式テンプレート)", True, "、".join(names) or "(なし)")]
    except KakariError as e:
        return [Check("ボット (様式テンプレート)", False, e.message, "テンプレートの該当箇所を修正してください")]


def unknown_bots(cfg: KakariConfig) -> list[str]:
    """One Japanese line per bot name a job lists that the registry does not know (a misspelling
    found here, not at the job's first run), with the nearest registered name."""
    import difflib

    from bots import registry

    names = registry.names()
    out = []
    for job_name, job in cfg.jobs.items():
        for bot in job.bots:
            if bot in names:
                continue
            near = difflib.get_close_matches(bot, names, n=1)
            out.append(f"ジョブ {job_name}: ボット「{bot}」は登録されていません"
                       + (f" (「{near[0]}」のことですか?)" if near else f" (登録済み: {'、'.join(names) or 'なし'})"))
    return out


def _job_bots(cfg: KakariConfig) -> Check:
    try:
        problems = unknown_bots(cfg)
    except KakariError as e:
        return Check("ジョブのボット名", False, e.message, "テンプレートの該当箇所を修正してください")
    if not cfg.jobs:
        return Check("ジョブのボット名", True, "ジョブの設定はありません")
    return Check("ジョブのボット名", not problems, " / ".join(problems) or "すべて登録済みです",
                 "kakari.toml の [jobs.<名前>] の bots を kakari bots list の名前に直してください")


def _database(cfg: KakariConfig) -> Check:
    from jobs.migrate import current, head
    from jobs.store import Store

    url = cfg.database_url
    shown = url.split("@")[-1] if "@" in url else url  # never print a password
    try:
        store = Store(url)  # upgrades the schema if it is behind
        with store.engine.connect() as conn:
            revision = current(conn)
        return Check("データベース", revision == head(), f"{shown} (スキーマ {revision})", "kakari db upgrade")
    except Exception as e:  # noqa: BLE001 - report whatever the driver says
        return Check("データベース", False, f"{shown}: {e}", "KAKARI_DB_URL と接続先を確認してください")


def _browser(cfg: KakariConfig) -> list[Check]:
    """The browser web entry drives (configured, KAKARI_CHROMIUM or the platform's), and a display for the recorder."""
    from connectors.browser import find_browser, needs_display

    try:
        choice = find_browser(cfg.browser)
        out = [Check("ブラウザー (Web 転記用)", True, choice.describe(), "", optional=True)]
    except MissingDependency as e:
        out = [Check("ブラウザー (Web 転記用)", False, e.message, e.fix, optional=True)]
    if needs_display():
        xvfb = shutil.which("Xvfb")
        out.append(Check("Xvfb (操作の記録 kakari systems record 用)", xvfb is not None, xvfb or "ありません",
                         "apt-get install xvfb", optional=True))
    return out


def run_checks(cfg: KakariConfig) -> list[Check]:
    checks = [Check("Python", sys.version_info >= (3, 11), sys.version.split()[0], "Python 3.11 以上が必要です")]
    checks += _tesseract(cfg)
    checks.append(_tesseract_binding())
    checks += _ppocr(cfg)
    checks.append(_trust())
    fonts = locate.japanese_fonts()
    checks.append(Check("日本語フォント", bool(fonts), ", ".join(map(str, fonts)) or "ありません",
                        fix("apt-get install fonts-ipafont-gothic fonts-ipafont-mincho",
                            "IPA フォント (ipag.ttf, ipam.ttf) をインストールするか、[system] fonts に指定してください")))
    checks += _browser(cfg)
    checks += _packages()
    checks.append(_database(cfg))
    checks += _bots(cfg)
    checks.append(_job_bots(cfg))
    checks += _folders(cfg)
    return checks
