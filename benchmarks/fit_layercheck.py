"""Fit and measure the check that a text layer lies (ocr/layercheck.py), on pages made here.

    python benchmarks/fit_layercheck.py [--count 4] [--seed 42] [--no-write]

Honest pages: the sample forms (three forms, ``--count`` each) with their values in every catalogue
font found, their blank forms, honest gazette pages (vertical text, samples.kanpo) and "edge" pages
whose Japanese text carries a lone ™/©/®/é in a font of its own. Lying pages: gazette pages whose
digits' font has a wrong or no ToUnicode map (samples.kanpo), plus such pages with a single date.

Prints, and writes to benchmarks/RESULTS.md: per font of each page, the characters that do not fit
(ocr.layercheck.misfits_by_font); the two thresholds fitted in the middle of the gap between the
honest maximum and the lying minimum (misfit count, then misfit share at that count); how every page
is routed with the thresholds in ocr/layercheck.py (an honest text-layer form sent to OCR is a
misroute); and the check's cost per page against reading the layer alone (ratio, same run).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kakari.config import KakariConfig  # noqa: E402
from ocr import layercheck  # noqa: E402
from ocr.textlayer import read_textlayer  # noqa: E402

FORMS3 = ["child_medical", "restaurant_permit", "juminhyo_request"]


@dataclass
class Measured:
    name: str
    group: str  # forms, blank, kanpo, edge
    honest: bool
    worst_count: int  # misfits of the font with the most of them
    worst_share: float  # its share of that font's characters
    vertical: bool
    routed: str | None  # scan_reason with the thresholds in ocr/layercheck.py


def edge_pages(out: Path) -> list[Path]:
    """Honest Japanese text with one foreign sign each, drawn in a font of its own (Helvetica)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    from samples.fonts import font

    pdfmetrics.registerFont(TTFont("EdgeGothic", str(font("ipa-gothic").path)))
    lines = [("株式会社みどりフーズ「みどり", "™", "」の商品案内"), ("みどり町", "©", "二〇二五年　みどり町役場"),
             ("登録商標", "®", "みどりカード"), ("カフェ・ド・ミドリ（Caf", "é", " Midori）の営業案内")]
    paths = []
    for i, (before, sign, after) in enumerate(lines, start=1):
        path = out / f"edge_{i}.pdf"
        c = Canvas(str(path), pagesize=A4, invariant=1)
        y = 780.0
        for _ in range(12):  # a page of ordinary text around the sign
            c.setFont("EdgeGothic", 11)
            c.drawString(60, y, "次のとおり、みどり町の事業についてお知らせします。")
            y -= 20
        c.setFont("EdgeGothic", 11)
        c.drawString(60, y, before)
        x = 60 + pdfmetrics.stringWidth(before, "EdgeGothic", 11)
        c.setFont("Helvetica", 11)
        c.drawString(x, y, sign)
        x += pdfmetrics.stringWidth(sign, "Helvetica", 11)
        c.setFont("EdgeGothic", 11)
        c.drawString(x, y, after)
        c.showPage()
        c.save()
        paths.append(path)
    return paths


def corpus(tmp: Path, count: int, seed: int) -> list[tuple[Path, str, bool]]:
    from samples import fonts, kanpo
    from samples.generate import Typefaces, generate

    pages: list[tuple[Path, str, bool]] = []
    for f in fonts.available():
        generate(tmp / "forms" / f.name, count, seed, FORMS3, Typefaces(value=f))
        for pdf in sorted((tmp / "forms" / f.name).rglob("*.pdf")):
            pages.append((pdf, "blank" if pdf.name == "blank.pdf" else "forms", True))
    for pdf in kanpo.write(tmp / "kanpo", max(2, count), seed):
        pages.append((pdf, "kanpo", pdf.stem.endswith("honest")))
    single = tmp / "kanpo-single"
    single.mkdir()
    for i in (1, 2):  # only the header's date and issue number are digits
        page = kanpo.compose(random.Random(f"{seed}/single/{i}"))
        page.paragraphs = page.paragraphs[1:2]
        for variant in ("wrong", "missing"):
            out = single / f"kanpo_single_{i}_{variant}.pdf"
            kanpo.render(page, out)
            kanpo.lie(out, variant)
            pages.append((out, "kanpo", False))
    for pdf in edge_pages(tmp):
        pages.append((pdf, "edge", True))
    return pages


def measure(pages: list[tuple[Path, str, bool]]) -> tuple[list[Measured], float]:
    cfg = KakariConfig()
    out: list[Measured] = []
    read_s = check_s = 0.0
    for pdf, group, honest in pages:
        t0 = time.perf_counter()
        layer = read_textlayer(pdf, pdf.stem, cfg.limits)
        t1 = time.perf_counter()
        routed = [layercheck.scan_reason(p, cfg.ocr.min_chars_per_page, 0.8) for p in layer]
        t2 = time.perf_counter()
        read_s, check_s = read_s + t1 - t0, check_s + t2 - t1
        page = layer[0]
        stats = layercheck.misfits_by_font(page.chars).values()
        worst = max(stats, key=lambda s: (s[1], s[1] / max(1, s[0])), default=(0, 0, ""))
        out.append(Measured(pdf.name, group, honest, worst[1], worst[1] / max(1, worst[0]),
                            layercheck.is_vertical(page, cfg.ocr.min_chars_per_page), next((r for r in routed if r), None)))
    return out, check_s / read_s if read_s else 0.0


def fit(measured: list[Measured]) -> dict[str, float]:
    """Thresholds in the middle of the gap between honest pages and lying ones."""
    lying = [m for m in measured if not m.honest]
    honest = [m for m in measured if m.honest]
    honest_count = max((m.worst_count for m in honest), default=0)
    lying_count = min(m.worst_count for m in lying)
    count = math.ceil((honest_count + lying_count) / 2) if lying_count > honest_count else float("nan")
    honest_share = max((m.worst_share for m in honest if m.worst_count >= count), default=0.0)
    lying_share = min(m.worst_share for m in lying)
    share = round((honest_share + lying_share) / 2, 2)
    return {"honest_max_count": honest_count, "lying_min_count": lying_count, "min_chars": count,
            "honest_max_share": round(honest_share, 3), "lying_min_share": round(lying_share, 3), "share": share}


def report(measured: list[Measured], fitted: dict[str, float], ratio: float, count: int) -> str:
    groups: dict[tuple[str, bool], list[Measured]] = {}
    for m in measured:
        groups.setdefault((m.group, m.honest), []).append(m)
    rows = ["| pages | honest | n | most misfits in one font | its share | vertical | read as image |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for (group, honest), ms in sorted(groups.items()):
        rows.append(f"| {group} | {'yes' if honest else 'lying'} | {len(ms)} | {max(m.worst_count for m in ms)} | "
                    f"{max(m.worst_share for m in ms):.2f} | {sum(m.vertical for m in ms)} | {sum(bool(m.routed) for m in ms)} |")
    misrouted = [m.name for m in measured if m.group in ("forms", "blank", "edge") and m.routed]
    missed = [m.name for m in measured if not m.honest and not m.routed]
    return "\n".join([
        f"`python benchmarks/fit_layercheck.py --count {count}`: sample forms in every catalogue font found, "
        "gazette pages (samples.kanpo), edge pages (a lone ™ © ® é in a font of its own).", "",
        *rows, "",
        f"Fitted (middle of the gap): misfits per font ≥ {fitted['min_chars']} (honest max {fitted['honest_max_count']}, "
        f"lying min {fitted['lying_min_count']}), share ≥ {fitted['share']} (honest max {fitted['honest_max_share']}, "
        f"lying min {fitted['lying_min_share']}). In ocr/layercheck.py: LIE_MIN_CHARS = {layercheck.LIE_MIN_CHARS}, "
        f"LIE_SHARE = {layercheck.LIE_SHARE}.",
        f"Honest text-layer pages sent to OCR: {len(misrouted)} of "
        f"{sum(1 for m in measured if m.group in ('forms', 'blank', 'edge'))}{' (' + ', '.join(misrouted[:5]) + ')' if misrouted else ''}; "
        f"lying pages kept as text: {len(missed)} of {sum(1 for m in measured if not m.honest)}.",
        f"Cost of the checks: {ratio:.2f}× the time pdfplumber takes to read the same layers.",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=4, help="documents per form and font")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    ap.add_argument("--json", type=Path, help="also write the fitted figures here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        measured, ratio = measure(corpus(Path(tmp), args.count, args.seed))
    fitted = fit(measured)
    text = report(measured, fitted, ratio, args.count)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(fitted, indent=2) + "\n", encoding="utf-8")
    if not args.no_write:
        from benchmarks.results import write_section

        write_section("Text layers that lie (ocr/layercheck.py)", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
