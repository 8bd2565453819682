"""Seeded generator of documents carrying personal numbers, for the masking bot, with the truth of
where every number is.

    python -m samples.masking --out DIR [--count 60] [--scans 100] [--seed 42]

Writes DIR/text/<doc>.pdf (text-layer PDFs, A4, 1–2 pages) and DIR/scan/<doc>.<pdf|tif|png|jpg>
(scan-like copies: rotated, shifted, blurred, noisy, some fed sideways or upside down), each with
<doc>.json: {"doc", "style", "kind", "pages", "expected_status", "numbers": [...], "decoys": [...],
"people": [names written on it]}.
A number is {"kind", "label", "value", "valid", "page", "box": [x, y, w, h] (mm, top-left origin of
the upright page), "style"}; decoys are numbers that must stay (法人番号, 電話, 郵便番号, 日付, 金額 …).

Styles: typed in digit boxes (届出書), in a sentence (通知文), in a table (世帯一覧), rotated in the
margin or on a page turned by /Rotate, a picture of a card inside a text PDF, a form field holding
the number, and 基礎年金番号・被保険者番号・口座番号 next to their labels. Every number is synthetic:
11 random digits and the 番号法 check digit; a few beside a label get a wrong one on purpose.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samples import fonts
from samples.generate import GIVEN_NAMES, SURNAMES, TOWN, _register_fonts, corporate_number

PT = 25.4 / 72
PAGE_W, PAGE_H = 210.0, 297.0
ASCENT, DESCENT = 0.88, 0.12
GOTHIC, MINCHO = "IPAGothic", "IPAMincho"
STYLES = ("boxes", "sentence", "table", "rotated", "picture", "field")


def check_digit(first11: str) -> int:
    total = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(first11), start=1))
    r = total % 11
    return 0 if r <= 1 else 11 - r


def my_number(rng: random.Random, valid: bool = True) -> str:
    body = "".join(str(rng.randint(0, 9)) for _ in range(11))
    c = check_digit(body)
    if not valid:
        c = rng.choice([d for d in range(10) if d != c])
    return body + str(c)


def spaced(n: str, rng: random.Random) -> str:
    """How people write 12 digits: together, 4-4-4 with spaces or hyphens."""
    sep = rng.choice(["", " ", "-", " "])
    return n if not sep else sep.join((n[:4], n[4:8], n[8:]))


@dataclass
class Truth:
    doc: str
    style: str
    kind: str = "text"
    pages: int = 1
    numbers: list[dict[str, Any]] = field(default_factory=list)
    decoys: list[dict[str, Any]] = field(default_factory=list)
    people: list[str] = field(default_factory=list)  # the names written on it (personal, not masked)

    @property
    def expected_status(self) -> str:
        return "要確認" if any(not n["valid"] for n in self.numbers) else "自動登録"

    def as_json(self) -> dict[str, Any]:
        return {"doc": self.doc, "style": self.style, "kind": self.kind, "pages": self.pages,
                "expected_status": self.expected_status, "numbers": self.numbers, "decoys": self.decoys,
                "people": self.people}


class Sheet:
    """A reportlab canvas in millimetres from the top-left corner, recording what it draws."""

    def __init__(self, path: Path, truth: Truth) -> None:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen.canvas import Canvas

        _register_fonts()
        self.c = Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
        self.c.setAuthor(f"{TOWN} 住民課 (synthetic sample)")
        self.c.setTitle(truth.doc)
        self.c.setSubject("個人番号を含む文書 (試験用)")
        self.truth = truth
        self.page = 1

    def text(self, x: float, y: float, s: str, size: float = 10.5, font: str = GOTHIC) -> tuple[float, float]:
        """Draw `s` with its baseline at y; returns its width and the top of its box."""
        from reportlab.pdfbase import pdfmetrics

        self.c.setFont(font, size)
        self.c.drawString(x / PT, (PAGE_H - y) / PT, s)
        return pdfmetrics.stringWidth(s, font, size) * PT, y - ASCENT * size * PT

    def width(self, s: str, size: float, font: str = GOTHIC) -> float:
        from reportlab.pdfbase import pdfmetrics

        return pdfmetrics.stringWidth(s, font, size) * PT

    def rect(self, x: float, y: float, w: float, h: float, width: float = 0.6) -> None:
        self.c.setLineWidth(width)
        self.c.rect(x / PT, (PAGE_H - y - h) / PT, w / PT, h / PT, stroke=1, fill=0)

    def number(self, x: float, y: float, label: str, kind: str, value: str, shown: str, valid: bool, style: str,
               size: float = 10.5) -> float:
        """Draw a number's text at (x, baseline y) and record its box; returns the x after it."""
        w, top = self.text(x, y, shown, size)
        self.record(kind, label, value, valid, [x, top, w, (ASCENT + DESCENT) * size * PT], style)
        return x + w

    def record(self, kind: str, label: str, value: str, valid: bool, box: list[float], style: str) -> None:
        self.truth.numbers.append({"kind": kind, "label": label, "value": value, "valid": valid, "page": self.page,
                                   "box": [round(v, 2) for v in box], "style": style})

    def decoy(self, x: float, y: float, what: str, shown: str, size: float = 10.5) -> float:
        w, top = self.text(x, y, shown, size)
        self.truth.decoys.append({"kind": what, "value": shown, "page": self.page,
                                  "box": [round(x, 2), round(top, 2), round(w, 2), round((ASCENT + DESCENT) * size * PT, 2)]})
        return x + w

    def next_page(self) -> None:
        self.c.showPage()
        self.page += 1
        self.truth.pages = self.page

    def save(self) -> None:
        self.c.showPage()
        self.c.save()


def _person(s: Sheet, rng: random.Random) -> str:
    """A synthetic person's name, recorded in the document's truth."""
    name = f"{rng.choice(SURNAMES)[0]}\u3000{rng.choice(GIVEN_NAMES)[0]}"
    s.truth.people.append(name)
    return name


def _header(s: Sheet, rng: random.Random, title: str) -> None:
    s.text(20, 22, f"{TOWN}長　様", 10.5, MINCHO)
    s.text(105 - s.width(title, 16) / 2, 38, title, 16, MINCHO)
    s.text(140, 22, f"令和{rng.randint(6, 8)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日", 10.5)


def _postal_and_phone(s: Sheet, rng: random.Random, y: float) -> None:
    s.text(20, y, "〒", 10.5)
    s.decoy(25, y, "postal_code", f"989-61{rng.randint(0, 9):02d}")
    s.text(50, y, f"{TOWN}中央{rng.randint(1, 9)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号", 10.5)
    s.text(20, y + 7, "電話", 10.5)
    s.decoy(32, y + 7, "phone", f"0{rng.choice([22, 80, 90])}-{rng.randint(100, 9999)}-{rng.randint(1000, 9999)}")


def draw_boxes(s: Sheet, rng: random.Random, bad: bool) -> None:
    """個人番号届出書: the number typed one digit per box, 基礎年金番号 in 4 + 6 boxes."""
    _header(s, rng, "個人番号届出書")
    s.rect(18, 50, 174, 120, 1.0)
    s.text(22, 62, "氏名", 10.5)
    s.text(60, 62, _person(s, rng), 12, MINCHO)
    s.text(22, 76, "生年月日", 10.5)
    s.decoy(60, 76, "date", f"昭和{rng.randint(30, 63)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日")
    s.text(22, 92, "個人番号", 10.5)
    value = my_number(rng, valid=not bad)
    x0, cell = 60.0, 8.0
    for i, d in enumerate(value):
        s.rect(x0 + i * cell, 86, cell, 9)
        s.text(x0 + i * cell + 2.4, 92.5, d, 12)
    s.record("my_number", "個人番号", value, not bad, [x0 + 1.5, 87.5, 12 * cell - 3.0, 6.0], "boxes")
    s.text(22, 108, "基礎年金番号", 10.5)
    nenkin = "".join(str(rng.randint(0, 9)) for _ in range(10))
    for i, d in enumerate(nenkin):
        x = x0 + i * cell + (5.0 if i >= 4 else 0.0)
        s.rect(x, 102, cell, 9)
        s.text(x + 2.4, 108.5, d, 12)
    s.text(x0 + 4 * cell + 1.2, 108.5, "-", 12)
    s.record("kiso_nenkin", "基礎年金番号", nenkin, True, [x0 + 1.5, 103.5, 10 * cell + 5.0 - 3.0, 6.0], "boxes")
    _postal_and_phone(s, rng, 124)
    s.text(22, 150, "上記のとおり届け出ます。", 10.5, MINCHO)


def draw_sentence(s: Sheet, rng: random.Random, bad: bool) -> None:
    """通知文: numbers inside sentences, a 法人番号 in the letterhead, sometimes a second page."""
    company, corp = "株式会社みどりフーズ", corporate_number(rng)
    s.text(20, 22, f"{company}　法人番号", 9)
    s.decoy(20 + s.width(f"{company}　法人番号", 9) + 2, 22, "corporate_number", corp, 9)
    s.text(60, 40, "扶養親族等に関する申告について", 14, MINCHO)
    who = _person(s, rng)
    y = 58.0
    lines = [f"このたび、{who}様から提出のあった申告書について、下記のとおり確認しました。",
             f"受付番号は第{rng.randint(1000, 9999)}号、申告の金額は{rng.randint(10, 99)},{rng.randint(100, 999)}円です。"]
    for line in lines:
        s.text(20, y, line, 10.5, MINCHO)
        y += 8
    value = my_number(rng, valid=not bad)
    pre = "申告者の個人番号は"
    x = 20 + s.text(20, y, pre, 10.5, MINCHO)[0]
    x = s.number(x + 0.5, y, "個人番号", "my_number", value, spaced(value, rng), not bad, "sentence")
    s.text(x + 0.5, y, "です。", 10.5, MINCHO)
    y += 8
    if rng.random() < 0.6:
        second = my_number(rng)
        pre = f"また、配偶者（{_person(s, rng)}）のマイナンバー"
        x = 20 + s.text(20, y, pre, 10.5, MINCHO)[0]
        x = s.number(x + 2, y, "個人番号", "my_number", second, spaced(second, rng), True, "sentence")
        s.text(x + 0.5, y, "も確認しました。", 10.5, MINCHO)
        y += 8
    s.text(20, y, f"お問い合わせは{TOWN}役場 税務課 (電話", 10.5, MINCHO)
    s.decoy(20 + s.width(f"お問い合わせは{TOWN}役場 税務課 (電話", 10.5, MINCHO) + 1, y, "phone",
            f"0{rng.randint(220, 229)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}")
    if rng.random() < 0.4:
        s.next_page()
        s.text(20, 30, "（別紙）番号確認の記録", 12, MINCHO)
        third = my_number(rng)
        x = 20 + s.text(20, 45, "本人確認書類により", 10.5, MINCHO)[0]
        x = s.number(x + 1, 45, "個人番号", "my_number", third, third, True, "sentence")
        s.text(x + 1, 45, "を確認済み。", 10.5, MINCHO)


def draw_table(s: Sheet, rng: random.Random, bad: bool) -> None:
    """世帯一覧: a column of 個人番号, then 口座番号 and 被保険者番号 beside their labels."""
    _header(s, rng, "世帯員一覧表")
    cols = [(18, 25, "続柄"), (43, 45, "氏名"), (88, 40, "生年月日"), (128, 64, "個人番号")]
    y = 55.0
    for x, w, label in cols:
        s.rect(x, y, w, 9)
        s.text(x + 2, y + 6.3, label, 10)
    rows = rng.randint(2, 5)
    bad_row = rng.randrange(rows) if bad else -1
    for r in range(rows):
        y += 9
        for x, w, _ in cols:
            s.rect(x, y, w, 9)
        s.text(20, y + 6.3, ["世帯主", "妻", "子", "子", "母"][r], 10)
        s.text(45, y + 6.3, _person(s, rng), 10, MINCHO)
        s.decoy(90, y + 6.3, "date", f"{rng.randint(1950, 2020)}/{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}", 10)
        value = my_number(rng, valid=r != bad_row)
        s.number(130, y + 6.3, "個人番号", "my_number", value, spaced(value, rng), r != bad_row, "table", 10)
    y += 22
    s.text(20, y, "振込先　みどり信用金庫　本店　普通　口座番号", 10.5)
    account = "".join(str(rng.randint(0, 9)) for _ in range(7))
    s.number(20 + s.width("振込先　みどり信用金庫　本店　普通　口座番号", 10.5) + 3, y, "口座番号", "koza", account, account, True, "table")
    y += 10
    s.text(20, y, "国民健康保険　被保険者番号", 10.5)
    hiho = "".join(str(rng.randint(0, 9)) for _ in range(8))
    s.number(20 + s.width("国民健康保険　被保険者番号", 10.5) + 3, y, "被保険者番号", "hihokensha", hiho, hiho, True, "table")
    s.text(120, y, "保険者番号", 10.5)
    s.decoy(120 + s.width("保険者番号", 10.5) + 3, y, "insurer_number", f"{rng.randint(10000000, 99999999)}")
    _postal_and_phone(s, rng, y + 14)


def draw_rotated(s: Sheet, rng: random.Random, bad: bool) -> None:
    """A note printed sideways in the margin (受付印欄), and a body text."""
    _header(s, rng, "転入届（写）")
    s.text(20, 60, f"転入者　{_person(s, rng)}", 11, MINCHO)
    s.decoy(20, 70, "date", f"転入日　令和{rng.randint(6, 8)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日", 11)
    value = my_number(rng, valid=not bad)
    label = "個人番号確認済　"
    shown = spaced(value, rng)
    size = 10.0
    x_base, y_start = 195.0, 250.0  # text runs upwards along the right margin
    c = s.c
    c.saveState()
    c.translate(x_base / PT, (PAGE_H - y_start) / PT)
    c.rotate(90)
    c.setFont(GOTHIC, size)
    c.drawString(0, 0, label + shown)
    c.restoreState()
    lw, nw = s.width(label, size), s.width(shown, size)
    # rotated 90° counter-clockwise: the baseline is the line x = x_base, the text goes up the page
    box = [x_base - ASCENT * size * PT, y_start - lw - nw, (ASCENT + DESCENT) * size * PT, nw]
    s.record("my_number", "個人番号", value, not bad, box, "rotated")


def draw_turned_page(s: Sheet, rng: random.Random, bad: bool) -> None:
    """A landscape page stored with /Rotate 90: what the viewer shows is turned."""
    s.c.setPageRotation(90)
    # drawn in the unrotated page space; the truth is where it appears on the displayed page
    value = my_number(rng, valid=not bad)
    shown = spaced(value, rng)
    size = 11.0
    s.c.setFont(GOTHIC, size)
    x_pt, y_pt = 150.0, 500.0
    s.c.drawString(x_pt, y_pt, "個人番号：" + shown)
    pre = s.width("個人番号：", size) / PT
    w = s.width(shown, size) / PT
    # displayed page (rotated 90° clockwise): display x = y_pt, display y = x_pt (from the top)
    top_x = y_pt - DESCENT * size
    box = [top_x * PT, (x_pt + pre) * PT, (ASCENT + DESCENT) * size * PT, w * PT]
    s.record("my_number", "個人番号", value, not bad, box, "rotated")
    s.c.setFont(MINCHO, 10.5)
    for k, line in enumerate(("住民異動届の写しです。原本は市民課で保管しています。",
                              f"届出人　{_person(s, rng)}　（本人）", "写しの交付にあたり番号の確認を行いました。")):
        s.c.drawString(100.0, 450.0 - 18 * k, line)


def draw_picture(s: Sheet, rng: random.Random, bad: bool) -> None:
    """A text letter with a photocopied card pasted in as a picture: only OCR can see its number."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader

    s.text(20, 30, "本人確認書類の写し", 14, MINCHO)
    s.text(20, 44, f"申請者　{_person(s, rng)}　の個人番号カード（裏面）の写しを添付します。", 10.5, MINCHO)
    value = my_number(rng, valid=not bad)
    dpi, w_mm, h_mm = 200, 86.0, 54.0
    sx = dpi / 25.4
    card = Image.new("L", (int(w_mm * sx), int(h_mm * sx)), 235)
    draw = ImageDraw.Draw(card)
    gothic = str(fonts.font(fonts.DEFAULT_GOTHIC).path)
    font = ImageFont.truetype(gothic, int(4.2 * sx))
    small = ImageFont.truetype(gothic, int(2.8 * sx))
    draw.rectangle((0, 0, card.width - 1, card.height - 1), outline=90, width=3)
    draw.text((6 * sx, 6 * sx), "個人番号", font=small, fill=20)
    shown = " ".join((value[:4], value[4:8], value[8:]))
    draw.text((6 * sx, 14 * sx), shown, font=font, fill=10)
    bb = draw.textbbox((6 * sx, 14 * sx), shown, font=font)
    x0, y0 = 40.0, 60.0
    buf = io.BytesIO()
    card.save(buf, "PNG")
    buf.seek(0)
    s.c.drawImage(ImageReader(buf), x0 / PT, (PAGE_H - y0 - h_mm) / PT, w_mm / PT, h_mm / PT)
    s.record("my_number", "個人番号", value, not bad,
             [x0 + bb[0] / sx, y0 + bb[1] / sx, (bb[2] - bb[0]) / sx, (bb[3] - bb[1]) / sx], "picture")
    s.text(20, 130, "以上", 10.5, MINCHO)


def draw_field(s: Sheet, rng: random.Random, bad: bool) -> None:
    """A fillable PDF: the number sits in a form field, not in the page's text."""
    _header(s, rng, "個人番号利用申出書")
    s.text(22, 70, "個人番号", 10.5)
    value = my_number(rng, valid=not bad)
    x, y, w, h = 50.0, 64.0, 70.0, 9.0
    s.c.acroForm.textfield(name="my_number", value=value, x=x / PT, y=(PAGE_H - y - h) / PT, width=w / PT,
                           height=h / PT, fontName="Helvetica", fontSize=11, borderWidth=1, forceBorder=True)
    from reportlab.pdfbase import pdfmetrics

    digits_w = pdfmetrics.stringWidth(value, "Helvetica", 11) * PT
    s.record("my_number", "個人番号", value, not bad, [x + 0.7, y + 1.5, digits_w + 0.4, 3.5], "field")
    s.c.linkURL("https://example.invalid/", (20 / PT, 200 / PT, 80 / PT, 210 / PT))
    s.text(20, 100, "利用目的：児童手当の認定", 10.5, MINCHO)


DRAW = {"boxes": draw_boxes, "sentence": draw_sentence, "table": draw_table, "rotated": draw_rotated,
        "turned": draw_turned_page, "picture": draw_picture, "field": draw_field}
SCANNABLE = ("boxes", "sentence", "table", "rotated")  # single-page styles the scan-like copies come from


def add_extras(path: Path, rng: random.Random) -> None:
    """What must never reach a released file: XMP metadata, an attachment, a script that runs on open."""
    import pikepdf

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        with pdf.open_metadata() as meta:
            meta["dc:creator"] = [f"{TOWN} 住民課"]
            meta["dc:description"] = "個人番号を含む文書 (試験用)"
        pdf.attachments["memo.txt"] = pikepdf.AttachedFileSpec(pdf, f"控え {my_number(rng)}".encode(), mime_type="text/plain")
        js = pdf.make_stream(b"app.alert('kakari sample');")
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=js)
        pdf.save(path)


def make_document(path: Path, style: str, rng: random.Random, bad: bool) -> Truth:
    truth = Truth(path.stem, style)
    sheet = Sheet(path, truth)
    DRAW[style](sheet, rng, bad)
    sheet.save()
    if rng.random() < 0.25 or style == "field":
        add_extras(path, rng)
    return truth


def write(truth: Truth, path: Path) -> None:
    path.with_suffix(".json").write_text(json.dumps(truth.as_json(), ensure_ascii=False, indent=1) + "\n",
                                         encoding="utf-8")


def generate_text(out: Path, count: int, seed: int) -> list[Path]:
    """`count` text-layer documents, styles in turn, about one in eight with a failing check digit."""
    rng = random.Random(f"{seed}/masking/text")
    folder = Path(out) / "text"
    folder.mkdir(parents=True, exist_ok=True)
    styles = list(DRAW)
    paths = []
    for i in range(count):
        style = styles[i % len(styles)]
        path = folder / f"mask_{i + 1:04d}_{style}.pdf"
        truth = make_document(path, style, rng, bad=rng.random() < 0.12)
        write(truth, path)
        paths.append(path)
    return paths


def generate_scans(out: Path, count: int, seed: int) -> list[Path]:
    """`count` scan-like copies of single-page documents (damage as samples.scanlike draws it)."""
    import numpy as np

    from samples.scanlike import EXT, draw_params, geometry, render_page, save, tone

    rng = random.Random(f"{seed}/masking/scan")
    source = Path(out) / "scan-source"
    folder = Path(out) / "scan"
    source.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        style = SCANNABLE[i % len(SCANNABLE)]
        pdf = source / f"scan_{i + 1:04d}_{style}.pdf"
        truth = make_document(pdf, style, rng, bad=rng.random() < 0.1)
        if truth.pages != 1:
            continue
        p = draw_params(rng, rng.choice([200, 300]))
        img = tone(geometry(render_page(pdf, p.dpi, p.colour), p), p, rng)
        if p.turns:
            img = np.ascontiguousarray(np.rot90(img, -p.turns))
        path = folder / (pdf.stem + EXT[p.fmt])
        save(img, path, p)
        truth.kind = "scan"
        truth.numbers = [_moved(n, p) for n in truth.numbers]
        truth.decoys = [_moved(n, p) for n in truth.decoys]
        scan = {"dpi": p.dpi, "rotation": p.rotation, "dx_mm": p.dx_mm, "dy_mm": p.dy_mm, "scale": p.scale,
                "turns": p.turns, "format": p.fmt, "blur": p.blur, "noise": p.noise, "faint": p.faint}
        data = truth.as_json() | {"scan": scan}
        path.with_suffix(".json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _moved(n: dict[str, Any], p: Any) -> dict[str, Any]:
    """A box as the scanner's rotation, scale and shift moved it (mm of the upright scan)."""
    import cv2
    import numpy as np

    m = cv2.getRotationMatrix2D((PAGE_W / 2, PAGE_H / 2), p.rotation, p.scale)
    m[0, 2] += p.dx_mm
    m[1, 2] += p.dy_mm
    x, y, w, h = n["box"]
    corners = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]]) @ m.T
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    return n | {"box": [round(float(x0), 2), round(float(y0), 2), round(float(x1 - x0), 2), round(float(y1 - y0), 2)]}


def generate(out: Path, count: int = 60, scans: int = 100, seed: int = 42) -> list[Path]:
    return generate_text(out, count, seed) + generate_scans(out, scans, seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.masking", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--count", type=int, default=60, help="text-layer documents")
    ap.add_argument("--scans", type=int, default=100, help="scan-like documents")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    paths = generate(args.out, args.count, args.scans, args.seed)
    pages = sum(json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))["pages"] for p in paths)
    print(f"{len(paths)} documents ({pages} pages) written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
