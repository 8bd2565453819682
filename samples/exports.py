"""Seeded generator of synthetic online applications' exports (電子申請の申請一覧), with attachments and
ground truth, for the forms of samples.generate: the same synthetic people, written as online
services export them (names split into 姓/名, 西暦 dates, the service's own words for options).

    python -m samples.exports --out DIR [--count 300] [--seed 42] [--forms child_medical,restaurant_permit]
        [--format csv|csv-utf8|csv-bom|xlsx|json] [--attachments zip|folder|none] [--start 1]

Writes DIR/<form>/<name>.<ext> (the export), its attachments beside it (<name>.zip or <name>/) and
DIR/truth/<name>.json: per row its line, 受付番号, expected status, defect and the normalised fields.
Defaults: child_medical as the 若葉県電子申請 service's Shift_JIS CSV with a ZIP (a folder per
application), restaurant_permit as the town's form tool's xlsx with a folder. About one row in ten
is deliberately wrong (a bad check digit, a missing required value, an impossible date, an unknown
option, an attachment missing from the ZIP). Rows are the same for the same seed and index, whatever
the count or start, so two exports overlap where their index ranges do (`--start`).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from samples.generate import make_sample

FORMS = ("child_medical", "restaurant_permit")
FORMATS = ("csv", "csv-utf8", "csv-bom", "xlsx", "json")
DEFAULT_FORMAT = {"child_medical": "csv", "restaurant_permit": "xlsx"}
DEFAULT_ATTACHMENTS = {"child_medical": "zip", "restaurant_permit": "folder"}
REGISTERED, REVIEW = "自動登録", "要確認"
DEFECTS = {
    "child_medical": ["missing_phone", "impossible_date", "insurer_length", "unknown_option", "missing_attachment",
                      "missing_child_kana"],
    "restaurant_permit": ["bad_corporate_number", "missing_manager", "impossible_date", "seating_without_count",
                          "missing_attachment"],
}
_PAPER_DEFECTS = {"missing_phone", "insurer_length", "missing_child_kana", "bad_corporate_number", "missing_manager",
                  "seating_without_count"}  # made by samples.generate itself


@dataclass
class Row:
    index: int
    receipt: str
    cells: dict[str, Any]
    truth: dict[str, Any]
    defect: str | None
    attachments: dict[str, bytes] = field(default_factory=dict)  # name → file (what the ZIP or folder holds)
    referenced: list[str] = field(default_factory=list)  # names the row gives (a missing one is not above)
    subfolder: str = ""  # where its files are in the ZIP

    @property
    def status(self) -> str:
        return REVIEW if self.defect else REGISTERED


def plan(form: str, count: int, seed: int, start: int = 1) -> list[str | None]:
    """Defect per row by index: one in ten (at a seed-chosen offset), cycling through the kinds."""
    offset = random.Random(f"{seed}/{form}/export-plan").randrange(10)
    kinds = DEFECTS[form]
    return [kinds[((i + offset) // 10) % len(kinds)] if (i + offset) % 10 == 0 else None
            for i in range(start, start + count)]


def receipt(form: str, seed: int, index: int) -> str:
    return f"{'KD' if form == 'child_medical' else 'LG'}{seed % 100:02d}-{index:06d}"


# =============================================================================================
# Rows, as each service writes them
# =============================================================================================
def _sent(rng: random.Random, applied: str) -> str:
    """The time the application was sent: on its day, office hours or evening."""
    d = date.fromisoformat(applied)
    return f"{d:%Y/%m/%d} {rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def _split(name: str) -> tuple[str, str]:
    sei, _, mei = name.replace(" ", "\u3000").partition("\u3000")
    return sei, mei


def _written_date(rng: random.Random, iso: str) -> str:
    d = date.fromisoformat(iso)
    return rng.choice([f"{d:%Y/%m/%d}", f"{d:%Y-%m-%d}", f"{d.year}年{d.month}月{d.day}日"])


def child_medical_row(index: int, seed: int, defect: str | None, rng: random.Random) -> Row:
    s = make_sample("child_medical", index, seed, defect if defect in _PAPER_DEFECTS else None)
    t, w = dict(s.truth), s.written
    no = receipt("child_medical", seed, index)
    address, _, building = w["address"].partition("\u3000")
    g_sei, g_mei = _split(t["guardian_name"])
    gk_sei, gk_mei = _split(w["guardian_kana"])
    c_sei, c_mei = _split(t["child_name"])
    ck_sei, ck_mei = _split(w["child_kana"]) if w["child_kana"] else ("", "")
    sex = {"男": "男性", "女": "女性"}[t["child_sex"]]
    child_birth = _written_date(rng, t["child_birth"])
    if defect == "impossible_date":
        d = date.fromisoformat(t["child_birth"])
        child_birth = f"{d.year}/02/{30 + rng.randint(0, 1)}"
        t["child_birth"] = None
    if defect == "unknown_option":
        sex, t["child_sex"] = "回答しない", None
    cells = {
        "受付番号": no, "申請日時": _sent(rng, t["applied_on"]), "処理状況": "未処理",
        "申請者氏名（姓）": g_sei, "申請者氏名（名）": g_mei,
        "申請者氏名フリガナ（セイ）": gk_sei, "申請者氏名フリガナ（メイ）": gk_mei,
        "申請者生年月日": _written_date(rng, t["guardian_birth"]),
        "郵便番号": rng.choice([t["postal_code"], t["postal_code"].replace("-", "")]),
        "住所": address, "方書": building, "電話番号": w["phone"],
        "メールアドレス": f"applicant{index:05d}@example.jp",
        "対象児童氏名（姓）": c_sei, "対象児童氏名（名）": c_mei,
        "対象児童氏名フリガナ（セイ）": ck_sei, "対象児童氏名フリガナ（メイ）": ck_mei,
        "対象児童生年月日": child_birth, "対象児童の性別": sex,
        "申請者との続柄": {"子": "子（実子・養子）"}.get(t["relationship"], t["relationship"]),
        "加入している健康保険": {"社会保険": "協会けんぽ・健康保険組合"}.get(t["insurance_type"], t["insurance_type"]),
        "保険証の記号": w["insurance_symbol"], "保険証の番号": w["insurance_number"],
        "保険者名称": w["insurer_name"], "保険者番号": w["insurer_number"],
        "他の医療費助成": "受けている" if t["other_aid"] == "有" else "受けていない",
        "添付ファイル（保険証の写し）": "",
    }
    return Row(index, no, cells, t, defect, subfolder=no)


def restaurant_permit_row(index: int, seed: int, defect: str | None, rng: random.Random) -> Row:
    s = make_sample("restaurant_permit", index, seed, defect if defect in _PAPER_DEFECTS else None)
    t, w = dict(s.truth), s.written
    no = receipt("restaurant_permit", seed, index)
    applied, sent = _written_date(rng, t["applied_on"]), _sent(rng, t["applied_on"])
    if defect == "impossible_date":  # typed into a free-text field: 30 February
        applied, t["applied_on"] = f"{date.fromisoformat(t['applied_on']).year}-02-30", None
    name = t["applicant_name"]
    if not t["corporate_number"] and rng.random() < 0.5:
        name = name.replace("\u3000", " ")  # typed with a half-width space
    cells = {
        "回答ID": no, "回答日時": sent,
        "申請日": applied, "申請者の種別": "法人" if t["corporate_number"] else "個人",
        "氏名又は名称": name, "フリガナ": w["applicant_kana"],
        "代表者氏名（法人の場合）": w["representative"], "法人番号（法人の場合）": w["corporate_number"],
        "郵便番号": t["postal_code"], "住所": w["address"], "電話番号": w["phone"],
        "営業所の名称": w["business_name"], "営業所の所在地": w["business_address"],
        "営業所の電話番号": w["business_phone"], "営業の種類": t["business_type"],
        "食品衛生責任者の氏名": w["manager_name"],
        "食品衛生責任者の資格": {"養成講習会修了": "養成講習会を修了"}.get(t["manager_qualification"],
                                                                      t["manager_qualification"]),
        "客席の有無": "あり" if t["has_seating"] else "なし",
        "客席数": w["seat_count"], "客席面積（㎡）": w["seat_area"], "申請手数料（円）": w["fee"],
        "添付書類": "",
    }
    return Row(index, no, cells, t, defect)


BUILDERS: dict[str, Callable[[int, int, str | None, random.Random], Row]] = {
    "child_medical": child_medical_row, "restaurant_permit": restaurant_permit_row}
ATTACHMENT_COLUMN = {"child_medical": "添付ファイル（保険証の写し）", "restaurant_permit": "添付書類"}


def make_row(form: str, index: int, seed: int, defect: str | None, attachment_rate: float = 0.3,
             image_rate: float = 0.25) -> Row:
    """One application; its attachments too (a text-layer PDF, sometimes an image)."""
    rng = random.Random(f"{seed}/{form}/export/{index}")
    row = BUILDERS[form](index, seed, defect, rng)
    if defect == "missing_attachment" or rng.random() < attachment_rate:
        kinds = [("保険証", "保険証の写し")] if form == "child_medical" else [("平面図", "営業所の平面図"),
                                                                             ("責任者手帳", "食品衛生責任者手帳の写し")]
        for stem, title in kinds[: 1 if form == "child_medical" else rng.randint(1, 2)]:
            image = rng.random() < image_rate
            name = f"{row.receipt}_{stem}.{'png' if image else 'pdf'}"
            row.referenced.append(name)
            lines = _attachment_lines(form, title, row)
            row.attachments[name] = _png(lines) if image else _pdf(title, lines)
        if defect == "missing_attachment":
            del row.attachments[row.referenced[-1]]
        row.cells[ATTACHMENT_COLUMN[form]] = "\n".join(row.referenced)
    return row


def _attachment_lines(form: str, title: str, row: Row) -> list[str]:
    t = row.truth
    if form == "child_medical":
        return [title, f"記号 {t['insurance_symbol'] or ''}  番号 {t['insurance_number'] or ''}",
                f"氏名 {t['guardian_name']}", f"保険者名称 {t['insurer_name'] or ''}",
                f"保険者番号 {t['insurer_number'] or ''}"]
    return [title, f"営業所 {t['business_name']}", f"所在地 {t['business_address']}", f"受付 {row.receipt}"]


_FONT: list[str] = []


def _font_path() -> str:
    if not _FONT:
        from samples.fonts import DEFAULT_GOTHIC, font

        _FONT.append(str(font(DEFAULT_GOTHIC).truetype()))
    return _FONT[0]


def _pdf(title: str, lines: list[str]) -> bytes:
    """A one-page text-layer PDF (A5 landscape), byte-identical for the same lines."""
    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    if "KakariGothic" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("KakariGothic", _font_path()))
    buf = io.BytesIO()
    w, h = landscape(A5)
    c = Canvas(buf, pagesize=(w, h), invariant=1)
    c.setTitle(title)
    y = h - 60
    for i, line in enumerate(lines):
        c.setFont("KakariGothic", 18 if i == 0 else 13)
        c.drawString(50, y, line)
        y -= 34
    c.showPage()
    c.save()
    return buf.getvalue()


def _png(lines: list[str]) -> bytes:
    """A photographed-card-like image (200 dpi, black on white) of the lines."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (1400, 900), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        size = 56 if i == 0 else 44
        draw.text((80, 80 + i * 130), line, fill=0, font=ImageFont.truetype(_font_path(), size))
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(200, 200))
    return buf.getvalue()


# =============================================================================================
# Files
# =============================================================================================
@dataclass
class Export:
    path: Path
    companion: Path | None
    truth: Path
    rows: list[Row]


def generate(out: Path, form: str, count: int = 300, seed: int = 42, start: int = 1, fmt: str | None = None,
             attachments: str | None = None, name: str | None = None, attachment_rate: float = 0.3,
             image_rate: float = 0.25) -> Export:
    """Write one export of `form` (rows start … start+count-1) with its attachments and truth."""
    fmt = fmt or DEFAULT_FORMAT[form]
    attachments = attachments or DEFAULT_ATTACHMENTS[form]
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    rows = [make_row(form, i, seed, d, attachment_rate, image_rate)
            for i, d in zip(range(start, start + count), plan(form, count, seed, start))]
    stem = name or f"申請一覧_{form}_{seed}_{start:06d}-{start + count - 1:06d}"
    folder = out / form
    folder.mkdir(parents=True, exist_ok=True)
    ext = {"csv": "csv", "csv-utf8": "csv", "csv-bom": "csv", "xlsx": "xlsx", "json": "json"}[fmt]
    path = folder / f"{stem}.{ext}"
    header = list(rows[0].cells) if rows else []
    lines = _write(path, fmt, header, [r.cells for r in rows])
    companion = _write_attachments(folder, stem, attachments, rows)
    truth = out / "truth" / f"{stem}.json"
    truth.parent.mkdir(parents=True, exist_ok=True)
    unit = "件目" if fmt == "json" else "行目"
    truth.write_text(json.dumps({
        "form": form, "format": fmt, "export": path.name, "companion": companion.name if companion else None,
        "rows": [{"line": line, "unit": unit, "receipt": r.receipt, "expected_status": r.status, "defect": r.defect,
                  "fields": r.truth, "attachments": r.referenced,
                  "missing": [n for n in r.referenced if n not in r.attachments]}
                 for r, line in zip(rows, lines)],
    }, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return Export(path, companion, truth, rows)


def _write(path: Path, fmt: str, header: list[str], records: list[dict[str, Any]]) -> list[int]:
    """Write the table; returns the line (CSV), row (xlsx) or item (JSON) each record starts at."""
    if fmt == "json":
        path.write_text(json.dumps({"applications": records}, ensure_ascii=False, indent=1), encoding="utf-8")
        return list(range(1, len(records) + 1))
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "申請一覧"
        ws.append(header)
        for rec in records:
            ws.append([_number(rec[h]) for h in header])
        wb.save(path)
        return list(range(2, len(records) + 2))
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")  # as Excel writes it
    writer.writerow(header)
    starts, line = [], 2
    for rec in records:
        starts.append(line)
        values = [rec[h] for h in header]
        writer.writerow(values)
        line += 1 + sum(str(v).count("\n") for v in values)
    encoding = {"csv": "cp932", "csv-utf8": "utf-8", "csv-bom": "utf-8-sig"}[fmt]
    path.write_bytes(buf.getvalue().encode(encoding))
    return starts


def _number(value: Any) -> Any:
    """Counts and amounts as numbers in a workbook (as a form tool writes them), the rest as text."""
    if isinstance(value, str) and value.replace(",", "").isdigit() and not value.startswith("0") and len(value) < 7:
        return int(value.replace(",", ""))
    return value


def _write_attachments(folder: Path, stem: str, how: str, rows: list[Row]) -> Path | None:
    files = [(r, n, data) for r in rows for n, data in r.attachments.items()]
    if how == "none" or not any(r.referenced for r in rows):
        return None
    if how == "zip":
        target = folder / f"{stem}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for r, n, data in files:
                info = zipfile.ZipInfo(f"{r.subfolder}/{n}" if r.subfolder else n, date_time=(2025, 10, 1, 9, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)
        return target
    target = folder / stem
    for r, n, data in files:
        dest = target / r.subfolder / n if r.subfolder else target / n
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    target.mkdir(exist_ok=True)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.exports", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--start", type=int, default=1, help="index of the first row (overlapping exports)")
    ap.add_argument("--forms", default=",".join(FORMS))
    ap.add_argument("--format", choices=FORMATS, default=None, help="default: each service's own")
    ap.add_argument("--attachments", choices=("zip", "folder", "none"), default=None)
    args = ap.parse_args(argv)
    for form in [f for f in args.forms.split(",") if f]:
        if form not in BUILDERS:
            ap.error(f"unknown form {form!r} (one of {', '.join(BUILDERS)})")
        e = generate(args.out, form, args.count, args.seed, args.start, args.format, args.attachments)
        bad = sum(r.defect is not None for r in e.rows)
        print(f"{e.path}: {len(e.rows)}件 (要確認になるはずの行 {bad}件)" + (f" + {e.companion.name}" if e.companion else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
