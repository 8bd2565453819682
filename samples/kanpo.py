"""Synthetic 官報-like pages: notices of the fictional みどり町 set in vertical columns (縦書き, right
to left, two tiers), with dates and numbers, as a gazette PDF prints them — and variants whose text
layer lies about its digits, the way real gazette PDFs do.

    python -m samples.kanpo --out DIR [--count 3] [--seed 42]

Writes DIR/kanpo_NNNN_<variant>.pdf + .json for each variant:
- ``honest``: every glyph maps to its character (ToUnicode right);
- ``wrong``: the digits' font maps its glyphs to the characters a WinAnsi decoder makes of their codes
  (令和７年 comes out as 令和›年, 1 as ™ …), as in a real gazette whose digit font was embedded
  without a proper map;
- ``missing``: the digits' font has no ToUnicode map at all (extractors give (cid:N) or nothing useful).
The ground truth JSON holds the page's dates as written (``dates``: 令和7年4月1日 with ASCII digits),
the header's date, the variant and the page text in reading order. The lying variants need pypdf
(a test dependency) to rewrite the map.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samples.fonts import font as catalogue_font
from samples.layout import PAGE_H, PAGE_W, PT

VARIANTS = ("honest", "wrong", "missing")
BODY_PT = 10.0
HEADER_PT = 11.0
DIGITS = "0123456789０１２３４５６７８９"
# what a WinAnsi decoder makes of codes 0x95–0x9F (0x9D has no character): the real gazette's
# 「平成™—年›月™œ日」
GARBAGE = dict(zip("0123456789", "•–—˜™š›œžŸ"))
ROTATED = set("ー－—―‐～（）「」『』【】〔〕［］｛｝()-")  # drawn turned a quarter, as vertical forms
CORNER = set("、。，．")  # sit in the upper right of their cell
SMALL = set("ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ")
MAYORS = ["緑川　一郎", "若葉　直樹", "桜井　恵子", "森本　誠"]
TITLES = [
    "みどり町子ども医療費助成条例施行規則の一部を改正する規則",
    "みどり町手数料条例施行規則の一部を改正する規則",
    "みどり町食品衛生法施行細則",
    "みどり町住民票の写し等の交付に関する規則",
]
ITEMS = ["みどり町立図書館の指定管理者の指定", "町道緑ヶ丘線の道路の区域の変更", "みどり町営住宅の入居者の募集",
         "飲食店営業許可の取消し", "みどり町地域防災計画の修正"]


@dataclass
class Page:
    """What one gazette page says: header and paragraphs (a paragraph starts a new column)."""

    header: str
    header_date: str
    paragraphs: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)  # as written, digits made ASCII


def _fw(n: int) -> str:
    return unicodedata.normalize("NFKC", str(n)).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _date(rng: random.Random, page: Page, year: int | None = None) -> str:
    y = year or rng.randint(2, 7)
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    page.dates.append(f"令和{y}年{m}月{d}日")
    return f"令和{_fw(y)}年{_fw(m)}月{_fw(d)}日"


def compose(rng: random.Random) -> Page:
    year = rng.randint(5, 7)
    issued = Page("", "")
    written = _date(rng, issued, year)
    issued.header_date = issued.dates[0]
    issue = rng.randint(100, 9999)
    weekday = rng.choice("月火水木金")
    issued.header = f"官報　　{written}　{weekday}曜日　　第{_fw(issue)}号"
    mayor = rng.choice(MAYORS)
    for _ in range(rng.randint(2, 3)):
        no = rng.randint(1, 99)
        title = rng.choice(TITLES)
        issued.paragraphs += [
            f"○みどり町告示第{_fw(no)}号",
            f"{title}を次のように定める。",
            f"{_date(rng, issued, year)}　　みどり町長　{mayor}",
            f"附　則　この規則は、{_date(rng, issued, year)}から施行する。",
        ]
    for _ in range(rng.randint(1, 2)):
        item = rng.choice(ITEMS)
        start = _date(rng, issued, year)
        issued.paragraphs += [
            "○公告",
            f"{item}について、地方自治法第{_fw(rng.randint(100, 299))}条の規定により、次のとおり公告する。",
            f"一　期間　{start}から{_date(rng, issued, year)}まで",
            f"二　場所　みどり町役場本庁舎{_fw(rng.randint(1, 4))}階　第{_fw(rng.randint(1, 12))}会議室",
            f"{_date(rng, issued, year)}　　みどり町長　{mayor}",
        ]
    return issued


# =============================================================================================
# Drawing
# =============================================================================================
_registered: set[str] = set()


def _fonts() -> tuple[str, str]:
    """(body font, digit font): IPA Mincho, and its digits as a font of their own (as gazette PDFs
    embed them), so that the digits have their own map from glyphs to characters."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if not _registered:
        pdfmetrics.registerFont(TTFont("KanpoBody", str(catalogue_font("ipa-mincho").path)))
        pdfmetrics.registerFont(TTFont("KanpoDigits", str(_digit_font())))
        _registered.update({"KanpoBody", "KanpoDigits"})
    return "KanpoBody", "KanpoDigits"


def _digit_font() -> Path:
    """IPA Mincho's digits alone, renamed KanpoDigits (cached beside the converted fonts)."""
    import os

    from fontTools.ttLib import TTFont

    from samples.fonts import cache_dir, subset

    source = catalogue_font("ipa-mincho").path
    st = source.stat()
    out = cache_dir() / f"kanpo-digits-{st.st_size}-{int(st.st_mtime)}.ttf"
    if out.is_file():
        return out
    font = TTFont(str(source), recalcTimestamp=False)
    subset(font, [ord(ch) for ch in DIGITS + " "])
    for record in font["name"].names:
        if record.nameID in (1, 4, 6, 16):
            record.string = "KanpoDigits"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    font.save(str(tmp))
    os.replace(tmp, out)
    return out


def render(page: Page, path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    body, digits = _fonts()
    c = Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    c.setCreator("kakari samples.kanpo")
    c.setTitle("官報 (synthetic sample)")

    def at(x: float, y: float) -> tuple[float, float]:
        return x / PT, (PAGE_H - y) / PT

    # the header runs across the top, horizontally
    x = 15.0
    for ch in page.header:
        c.setFont(digits if ch in DIGITS else body, HEADER_PT)
        c.drawString(*at(x, 20.0), ch)
        x += HEADER_PT * PT
    c.setLineWidth(1.0)
    c.line(*at(15.0, 24.0), *at(PAGE_W - 15.0, 24.0))
    tiers = [(30.0, 158.0), (166.0, 284.0)]
    c.setLineWidth(0.4)
    c.line(*at(15.0, 162.0), *at(PAGE_W - 15.0, 162.0))
    size = BODY_PT * PT  # mm per character cell
    pitch = size * 1.55  # column to column
    tier, col_x = 0, PAGE_W - 15.0 - size
    for para in page.paragraphs:
        y = tiers[tier][0]
        first = True
        for ch in para:
            if not first and y + size > tiers[tier][1]:
                col_x, y = col_x - pitch, tiers[tier][0]
            if col_x < 15.0:
                tier, col_x = tier + 1, PAGE_W - 15.0 - size
                if tier >= len(tiers):
                    raise ValueError("the notices do not fit the page")
                y = tiers[tier][0]
            first = False
            _cell(c, at, ch, col_x, y, size, digits if ch in DIGITS else body)
            y += size
        col_x -= pitch
        if col_x < 15.0 and tier + 1 < len(tiers):
            tier, col_x = tier + 1, PAGE_W - 15.0 - size
    c.showPage()
    c.save()


def _cell(c: Any, at: Any, ch: str, x: float, y: float, size: float, font: str) -> None:
    """One character in its cell (x, y: the cell's top-left corner, mm)."""
    c.setFont(font, BODY_PT)
    if ch in ROTATED:  # turned clockwise about the cell's centre
        c.saveState()
        c.translate(*at(x + size / 2, y + size / 2))
        c.rotate(-90)
        c.drawCentredString(0, -0.35 * size / PT, ch)
        c.restoreState()
    elif ch in CORNER:
        c.drawString(*at(x + 0.55 * size, y + 0.45 * size), ch)
    elif ch in SMALL:
        c.drawString(*at(x + 0.1 * size, y + 0.8 * size), ch)
    else:
        c.drawString(*at(x, y + 0.88 * size), ch)


# =============================================================================================
# Lying text layers
# =============================================================================================
def lie(path: Path, variant: str) -> None:
    """Rewrite the ToUnicode map of the digits' font in place: wrong (WinAnsi garbage) or missing."""
    try:
        from pypdf import PdfReader, PdfWriter
    except ImportError as e:  # a test dependency: pip install -e ".[test]"
        raise RuntimeError("pypdf is needed to write a lying text layer (pip install pypdf)") from e

    writer = PdfWriter(clone_from=PdfReader(path))
    changed = 0
    for page in writer.pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.get_object().values():
            font = ref.get_object()
            if "/ToUnicode" not in font or "KanpoDigits" not in str(font.get("/BaseFont", "")):
                continue
            if variant == "missing":
                del font["/ToUnicode"]
            else:
                cmap = font["/ToUnicode"].get_object()
                mapping = _bfchars(cmap.get_data().decode("latin-1"))
                lies = {code: GARBAGE.get(unicodedata.normalize("NFKC", ch), ch) for code, ch in mapping.items()}
                cmap.set_data(_cmap_text(lies).encode("ascii"))
            changed += 1
    if not changed:
        raise RuntimeError(f"{path.name}: the digits' font (KanpoDigits) is not on the page")
    with path.open("wb") as fh:
        writer.write(fh)


def _bfchars(text: str) -> dict[int, str]:
    """code → character of a ToUnicode CMap's bfchar and bfrange entries."""
    out: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for code, uni in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(code, 16)] = bytes.fromhex(uni).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, uni in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = ord(bytes.fromhex(uni).decode("utf-16-be"))
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(first + i)
    return out


def _cmap_text(mapping: dict[int, str]) -> str:
    lines = [f"<{code:02X}> <{ord(ch):04X}>" for code, ch in sorted(mapping.items())]
    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
        "1 begincodespacerange", "<00> <FF>", "endcodespacerange",
        f"{len(lines)} beginbfchar", *lines, "endbfchar",
        "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ]) + "\n"


# =============================================================================================
# Files
# =============================================================================================
def write(out: Path, count: int = 3, seed: int = 42, variants: tuple[str, ...] = VARIANTS) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(1, count + 1):
        page = compose(random.Random(f"{seed}/kanpo/{i}"))
        for variant in variants:
            pdf = out / f"kanpo_{i:04d}_{variant}.pdf"
            render(page, pdf)
            if variant != "honest":
                lie(pdf, variant)
            truth = {"kind": "kanpo", "variant": variant, "writing": "vertical", "header_date": page.header_date,
                     "dates": page.dates, "text": "\n".join([page.header, *page.paragraphs])}
            pdf.with_suffix(".json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n",
                                                encoding="utf-8")
            written.append(pdf)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.kanpo", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args(argv)
    try:
        paths = write(args.out, args.count, args.seed, tuple(v for v in args.variants.split(",") if v))
    except (RuntimeError, ValueError) as e:
        print(e, file=sys.stderr)
        return 1
    print(f"{len(paths)} gazette pages written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
