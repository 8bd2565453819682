"""How often ``ocr.seal`` finds a seal (印) that printed black over a name, and how often it takes
writing for one: name cells drawn in several fonts, with seals of 8 to 18 mm turned two ways and
stamped from clear of the name to over its last character, and without a seal at 11, 16 and 20 pt
(7 mm characters, round ones among them: 〇, の, ろ); each clean at 300 dpi and as a fax (200 × 100
dpi, 1 bit, read back at 300).

    python benchmarks/seal_rings.py [--fonts ipa-gothic,noto-serif,...] [--no-write]
"""
from __future__ import annotations

import argparse
import itertools
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from samples.fonts import font

DOTS_PER_MM = 300 / 25.4

SIZES_MM = (8.0, 10.0, 12.0, 15.0, 18.0)
OVER_MM = (-1.0, 0.5, 1.5, 3.0, 4.5)  # how far the seal's left rim lies into the last character (< 0: clear)
TURNS = (0.0, 25.0)
NAMES = ("伊藤　直美", "林　恵", "佐々木　はるか", "山田　翔太", "小野　〇〇", "森　のぞみ", "高橋　ろく")
FONTS = "ipa-gothic,ipa-mincho,noto-sans,noto-serif,sawarabi-gothic,klee-one,hachi-maru-pop,yomogi"


def name_zone(name: str, font_name: str, seal_mm: float | None, over_mm: float = 1.5, pt: float = 11.0,
              turn: float = 20.0) -> np.ndarray:
    """A 70 × 9 mm name cell at 300 dpi with `name` written in it and, if `seal_mm`, a black seal
    carved with the surname's first character stamped `over_mm` into the name's last character."""
    w, h = round(70 * DOTS_PER_MM), round(9 * DOTS_PER_MM)
    page = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(page)
    origin = (round(3 * DOTS_PER_MM), h // 2)
    face = ImageFont.truetype(str(font(font_name).path), round(pt / 72 * 300))
    draw.text(origin, name, fill=0, font=face, anchor="lm")
    end = draw.textbbox(origin, name, font=face, anchor="lm")[2]
    if seal_mm is not None:
        d = round(seal_mm * DOTS_PER_MM)
        seal = Image.new("L", (d, d), 0)
        sd = ImageDraw.Draw(seal)
        rim = round(0.6 * DOTS_PER_MM)
        sd.ellipse((rim // 2, rim // 2, d - rim // 2 - 1, d - rim // 2 - 1), outline=255, width=rim)
        sd.text((d / 2, d / 2), name[0], fill=255, font=ImageFont.truetype(str(font("ipa-mincho").path), d // 2),
                anchor="mm")
        page.paste(0, (end - round(over_mm * DOTS_PER_MM), h // 2 - d // 2), seal.rotate(turn, resample=Image.BILINEAR))
    return np.asarray(page)


def as_fax(gray: np.ndarray) -> np.ndarray:
    """The cell sent at 200 × 100 dpi, 1 bit, and read back at 300 dpi."""
    h, w = gray.shape
    small = cv2.resize(gray, (round(w * 200 / 300), round(h * 100 / 300)), interpolation=cv2.INTER_AREA)
    return cv2.resize(np.where(small < 145, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)


def main() -> None:
    from benchmarks.results import write_section
    from ocr.seal import has_seal
    from ocr.zones import clean_crop

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fonts", default=FONTS)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    found: Counter[tuple[str, float, bool]] = Counter()
    for font_name, name, fax in itertools.product(args.fonts.split(","), NAMES, (False, True)):
        for size, over, turn in itertools.product(SIZES_MM, OVER_MM, TURNS):
            gray = name_zone(name, font_name, size, over, turn=turn)
            found[("seal", size, fax, has_seal(clean_crop(as_fax(gray) if fax else gray, None).image, 300.0))] += 1
        for pt in (11.0, 16.0, 20.0):
            gray = name_zone(name, font_name, None, pt=pt)
            found[("none", pt, fax, has_seal(clean_crop(as_fax(gray) if fax else gray, None).image, 300.0))] += 1

    def share(what: str, size: float, fax: bool) -> str:
        yes, n = found[(what, size, fax, True)], found[(what, size, fax, True)] + found[(what, size, fax, False)]
        return f"{yes} of {n}"

    lines = [f"Name cells in {args.fonts.replace(',', ', ')}; names {'、'.join(NAMES)}.", "",
             "| seal | found, 300 dpi | found, fax |", "|---|---:|---:|"]
    lines += [f"| {s:.0f} mm | {share('seal', s, False)} | {share('seal', s, True)} |" for s in SIZES_MM]
    lines += ["", "| no seal, written at | taken for a seal, 300 dpi | fax |", "|---|---:|---:|"]
    lines += [f"| {pt:.0f} pt | {share('none', pt, False)} | {share('none', pt, True)} |" for pt in (11.0, 16.0, 20.0)]
    body = "\n".join([*lines, "", "Command: `python benchmarks/seal_rings.py`"])
    print(body)
    if not args.no_write:
        write_section("Seals that print black over a name (found)", body)


if __name__ == "__main__":
    main()
