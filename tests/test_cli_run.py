"""End to end through the real `kakari` command: inbox → ledger rows + time log → monthly report."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[1]
KAKARI = [sys.executable, "-m", "kakari.cli"]
CONFIG = ROOT / "samples" / "kakari.toml"


def kakari(*args: str, home: Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*KAKARI, *args, "--home", str(home)], cwd=ROOT, capture_output=True, text=True,
                          env=os.environ | {"COLUMNS": "200"})
    if check and proc.returncode != 0:
        raise AssertionError(proc.stdout + proc.stderr)
    return proc


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samples.generate import generate

    out = tmp_path_factory.mktemp("samples")
    generate(out, count=6, seed=11)
    return out


def broken_files(folder: Path, good_pdf: Path) -> dict[str, str]:
    """name → a word the error reason must contain."""
    from reportlab.pdfgen import canvas

    (folder / "空.pdf").write_bytes(b"")
    (folder / "メモ.pdf").write_text("これは PDF ではありません", encoding="utf-8")
    data = good_pdf.read_bytes()
    (folder / "途中まで.pdf").write_bytes(data[: len(data) // 3])
    c = canvas.Canvas(str(folder / "鍵付き.pdf"), encrypt="secret")
    c.drawString(100, 700, "locked")
    c.save()
    return {"空.pdf": "空", "メモ.pdf": "PDF", "途中まで.pdf": "", "鍵付き.pdf": "パスワード"}


def filled_inbox(samples: Path, tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    """A home whose kodomo_iryo inbox holds the sample child_medical PDFs: (home, inbox, pdfs)."""
    home = tmp_path / "home"
    inbox = home / "jobs" / "kodomo_iryo" / "inbox"
    inbox.mkdir(parents=True)
    pdfs = sorted((samples / "child_medical").glob("child_medical_*.pdf"))
    for pdf in pdfs:
        shutil.copy2(pdf, inbox / pdf.name)
    return home, inbox, pdfs


@pytest.mark.usefixtures("db_url")  # the run, the ledger and the report on SQLite and PostgreSQL
def test_run_ledger_report_and_no_duplicates(samples: Path, tmp_path: Path) -> None:
    home, inbox, pdfs = filled_inbox(samples, tmp_path)
    broken = broken_files(inbox, pdfs[0])

    proc = kakari("run", "kodomo_iryo", "--config", str(CONFIG), home=home)
    assert proc.returncode == 4, proc.stdout + proc.stderr  # documents failed, the others went through
    assert f"{len(pdfs) + len(broken)}件を処理しました" in proc.stdout

    job = home / "jobs" / "kodomo_iryo"
    for name, word in broken.items():
        assert (job / "errors" / name).exists(), name
        reason = (job / "errors" / f"{name}.error.txt").read_text(encoding="utf-8")
        assert "理由:" in reason and word in reason
    expected = {p.name: json.loads(p.with_suffix(".json").read_text(encoding="utf-8")) for p in pdfs}
    for name, truth in expected.items():
        folder = "archive" if truth["expected_status"] == "自動登録" else "review"
        assert (job / folder / name).exists(), (name, folder)
    assert list((job / "inbox").iterdir()) == [] and list((job / "processing").iterdir()) == []

    ledger = home / "ledgers" / "子ども医療費受給資格証_台帳.xlsx"
    ws = openpyxl.load_workbook(ledger)["台帳"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["文書ID", "受付日時", "元ファイル名"] and "状態" in header
    rows = [dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=2)]
    assert len(rows) == len(pdfs) + len(broken)
    by_name = {r["元ファイル名"]: r for r in rows}
    for name, truth in expected.items():
        assert by_name[name]["状態"] == truth["expected_status"]
    assert {by_name[n]["状態"] for n in broken} == {"エラー"}

    # the same files again: archived as duplicates, no second row, no second time-log record
    for pdf in pdfs:
        shutil.copy2(pdf, inbox / pdf.name)
    again = kakari("run", "kodomo_iryo", "--config", str(CONFIG), home=home, check=True)
    assert "件を処理しました" in again.stdout
    ws = openpyxl.load_workbook(ledger)["台帳"]
    assert ws.max_row - 1 == len(pdfs) + len(broken)

    month = date.today().strftime("%Y-%m")
    report = kakari("report", "--month", month, home=home, check=True)  # no config needed
    assert "子育て支援課" in report.stdout and "削減率" in report.stdout
    csv_out = tmp_path / "r.csv"
    kakari("report", "--month", month, "--format", "csv", "--out", str(csv_out), home=home, check=True)
    table = list(csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    total = next(r for r in table if r["原課"] == "合計")
    assert int(total["件数"]) == len(pdfs) + len(broken)
    assert float(total["導入前時間"]) == pytest.approx((len(pdfs) + len(broken)) * 8.0 / 60, abs=0.5)
    out = tmp_path / "r.xlsx"
    kakari("report", "--month", month, "--format", "xlsx", "--out", str(out), home=home, check=True)
    assert openpyxl.load_workbook(out).active.max_row >= 3

    hist = kakari("history", "メモ.pdf", home=home, check=True)
    events = [ln.split("  ")[3] for ln in hist.stdout.splitlines()]  # event names in Japanese, not the code's
    assert "受付" in events and "エラー" in events and "claimed" not in hist.stdout


def test_config_error_exit_code_and_message(tmp_path: Path) -> None:
    bad = tmp_path / "kakari.toml"
    bad.write_text('[jobs.a]\nbots = ["child_medical"]\nmanual_minuts = 3\n', encoding="utf-8")
    proc = kakari("run", "a", "--config", str(bad), home=tmp_path)
    assert proc.returncode == 2
    assert "manual_minuts" in proc.stderr and str(bad) in proc.stderr


def test_bots_list_and_doctor(tmp_path: Path) -> None:
    proc = kakari("bots", "list", home=tmp_path, check=True)
    assert "child_medical" in proc.stdout and "restaurant_permit" in proc.stdout
    assert "子ども医療費" in proc.stdout
    doc = kakari("doctor", home=tmp_path)
    assert "Tesseract 日本語データ (jpn): あり" in doc.stdout, doc.stdout
    # the neural recogniser: its version and each pinned model file, checked against its SHA-256
    out = "".join(doc.stdout.split())  # the console wraps long lines
    assert "PP-OCR:rapidocr" in out and "PP-OCRv6_rec_small.onnx" in out and "PP-OCRv6_det_small.onnx" in out
    assert "SHA-256一致" in out and "不一致" not in out
    # the trust policy's state: the kinds the calibration lets register without a clerk
    assert "自動登録できる項目の種類:文字、住所、氏名" in out, doc.stdout
    assert doc.returncode == 0, doc.stdout


def test_doctor_shows_the_trust_policy_it_runs(tmp_path: Path) -> None:
    from ocr import trust

    proc = kakari("doctor", "--trust", home=tmp_path, check=True)
    rows = {line.split("|")[1].strip() for line in proc.stdout.splitlines() if line.startswith("| ")}
    assert set(trust.KINDS) <= rows, proc.stdout
    assert json.loads(trust.CALIBRATION.read_text(encoding="utf-8"))["corpus"] in proc.stdout
    from jobs.doctor import KIND_LABELS

    assert set(KIND_LABELS) == set(trust.KINDS)  # doctor names every kind in a form's words


def test_no_personal_data_in_logs_or_error_files(samples: Path, tmp_path: Path) -> None:
    """A full verbose run over forms with people in them: no name, kana, address, phone, birthday
    or insurance number appears in the log file, the console or an error file."""
    home, inbox, pdfs = filled_inbox(samples, tmp_path)
    broken_files(inbox, pdfs[0])
    proc = kakari("run", "kodomo_iryo", "--config", str(CONFIG), "--verbose", home=home)
    assert proc.returncode in (0, 4), proc.stderr
    kakari("history", pdfs[0].name, home=home, check=True)

    personal = ("guardian_name", "guardian_kana", "child_name", "child_kana", "address", "phone", "guardian_birth",
                "child_birth", "insurance_symbol", "insurance_number")
    secrets_ = set()
    for pdf in pdfs:
        fields = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))["fields"]
        for key in personal:
            value = str(fields.get(key) or "")
            if len(value) >= 4:
                secrets_ |= {value, value.replace("　", " "), value.replace("-", "")}
                if key.endswith("birth"):  # as written on the form and in the ledger: 和暦 and slashes
                    y, m, d = value.split("-")
                    secrets_.add(f"{y}/{m}/{d}")
    assert len(secrets_) > 30
    logs = list((home / "logs").glob("*.log*"))
    assert logs and sum(p.stat().st_size for p in logs) > 0
    texts = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in logs}
    texts |= {p.name: p.read_text(encoding="utf-8") for p in (home / "jobs" / "kodomo_iryo" / "errors").glob("*.error.txt")}
    texts["console"] = proc.stdout + proc.stderr
    assert any("子ども医療費" in t or "kodomo_iryo" in t for t in texts.values())  # the logs do say things
    leaks = sorted({(name, s) for name, t in texts.items() for s in secrets_ if s in t})
    assert not leaks, leaks
