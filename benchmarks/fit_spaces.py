"""Fit where the ink of a free-text zone has a space (``ocr.zones.TEXT_SPACE``, ``TEXT_SPACE_LONE`` and
``TEXT_SPACE_STANDS_OUT``).

    python benchmarks/fit_spaces.py [--seed 42] [--no-write]

Neither recogniser reports spaces reliably, so a text zone's spaces are found in its ink
(``ocr.zones.text_spaces``): a gap is a space when it is at least ``TEXT_SPACE`` ink heights wide, or
when it is the line's widest, at least ``TEXT_SPACE_LONE`` heights wide and ``TEXT_SPACE_STANDS_OUT``
times the next widest. Fonts whose glyphs fill their em (the
handwriting-style Hachi Maru Pop) leave a 全角スペース narrower than the line is high, but it still
stands out from the gaps between characters. No recogniser is run: each gap of a drawn line is
labelled by whether the value has a space there (its position from the font's advance widths).

Corpus: every free-text value of the samples (shop names, insurers, purposes of a request) and 60
addresses in みどり町 and the neighbouring cities (a fifth with a building after a 全角スペース), drawn in
every printed and handwriting-style font of this machine, at 200 and 300 dpi with a degradation each.
Fitted on the fonts not held out: among the rules (of a grid) that cut no line where it has no space,
the one that cuts most lines exactly at their spaces; of equal ones the middle of the widest run.
"""
from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from itertools import product
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WIDE = tuple(round(0.05 * k, 2) for k in range(16, 33))  # 0.80 … 1.60 ink heights
LONE = tuple(round(0.05 * k, 2) for k in range(8, 21))  # 0.40 … 1.00
STANDS_OUT = tuple(round(0.1 * k, 1) for k in range(12, 31))  # 1.2 … 3.0
MARGIN_PX = 3.0  # a space's centre this close to a gap's edge is still inside it (rounding, blur)
SIZE_PT = 11.0


def values(seed: int, addresses: int) -> list[str]:
    from samples.generate import INSURERS, PURPOSES, SHOPS, city_address, town_address

    rng = random.Random(seed)
    out = [v for shops in SHOPS.values() for v in shops] + [v for names in INSURERS.values() for v in names]
    out += PURPOSES
    out += [town_address(rng)[1] if k % 3 else city_address(rng)[1] for k in range(addresses)]
    return out


def gaps_of(text: str, font_path: str, dpi: int, rng: random.Random, degradation: str, level: int = 128
            ) -> tuple[list[tuple[float, float]], float, list[bool]] | None:
    """The drawn line's ink gaps (centre, width) in crop pixels, its ink height, and for each gap
    whether the value has a space there; None when the font cannot draw it or nothing is left."""
    from PIL import ImageFont

    from benchmarks.ocr_evidence import covers, draw_value
    from ocr.preprocess import ink_bbox
    from ocr.zones import clean_crop, ink_gaps, ink_height

    if not covers(font_path, text):
        return None
    drawn = draw_value(text, font_path, dpi, rng, degradation, SIZE_PT)
    img = clean_crop(drawn, None).image
    box = ink_bbox(drawn < 128)
    if img is None or box is None:
        return None
    px = max(8, round(SIZE_PT / 72 * dpi))
    font = ImageFont.truetype(font_path, px)
    f = 300.0 / dpi
    # clean_crop trims to the ink and pads 12 px: a drawn x maps to x - ink left + 12
    centres = [(2 * px + font.getlength(text[:i]) + font.getlength(ch) / 2) * f - box[0] + 12
               for i, ch in enumerate(text) if ch.isspace()]
    gaps = ink_gaps(img, level)
    height = ink_height(img)
    spaced = [any(abs(c - x) <= w / 2 + MARGIN_PX for c in centres) for x, w in gaps]
    if sum(spaced) < len(centres):  # a space the ink does not show (it fell beside the line's ink)
        return None
    return gaps, height, spaced


def cuts(gaps: list[tuple[float, float]], height: float, wide: float, lone: float, stands_out: float) -> list[bool]:
    """The rule of ``ocr.zones.text_spaces`` for text, on one line's gaps."""
    from ocr.zones import text_space_cuts

    chosen = set(text_space_cuts(gaps, height, wide, lone, stands_out))
    return [x in chosen for x, _ in gaps]


def main(argv: list[str] | None = None) -> int:
    from benchmarks.ocr_evidence import DEGRADATIONS
    from ocr import zones
    from samples.fonts import available

    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--addresses", type=int, default=60)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    def drawn(level: int) -> list:
        """(font, held out, kind, value, gaps, height, spaced) of every line, gaps of ink below `level`."""
        out = []
        for font in available():
            path = str(font.truetype())
            for v in values(args.seed, args.addresses):
                for dpi in (200, 300):
                    rng = random.Random(f"{args.seed}/{font.name}/{v}/{dpi}")
                    got = gaps_of(v, path, dpi, rng, rng.choice(DEGRADATIONS), level)
                    if got is not None:
                        out.append((font.name, font.held_out, font.kind, v, *got))
        return out

    rows, rows_before = drawn(zones.KEPT_INK), drawn(128)
    fit = [r for r in rows if not r[1]]

    grid = list(product(WIDE, LONE, STANDS_OUT))
    wide_, lone_, out_ = (np.array([r[k] for r in grid]) for k in range(3))

    def score_grid(rows_: list) -> np.ndarray:
        """Per rule of the grid: lines cut exactly at their spaces, cut where they have no space, missing one."""
        tally = np.zeros((3, len(grid)), dtype=int)
        for *_, gaps, height, spaced in rows_:
            if not gaps:
                tally[0] += 1
                continue
            rel = [w / height for _, w in gaps]
            order = sorted(range(len(rel)), key=lambda j: -rel[j])
            first = order[0]
            second = rel[order[1]] if len(rel) > 1 else 0.0
            lone = (rel[first] >= lone_) & (rel[first] >= out_ * second)
            extra = np.zeros(len(grid), dtype=bool)
            missed = np.zeros(len(grid), dtype=bool)
            for j, (r, s) in enumerate(zip(rel, spaced)):
                cut = (r >= wide_) | lone if j == first else (r >= wide_)
                extra |= cut & (not s)
                missed |= (~cut) & s
            tally[0] += ~(extra | missed)
            tally[1] += extra
            tally[2] += missed
        return tally

    def score(rows_: list, rule: tuple[float, float, float]) -> tuple[int, int, int]:
        """(lines cut exactly at their spaces, lines cut where they have no space, lines missing one)"""
        exact = extra = missed = 0
        for *_, gaps, height, spaced in rows_:
            got = cuts(gaps, height, *rule)
            exact += got == spaced
            extra += any(g and not s for g, s in zip(got, spaced))
            missed += any(s and not g for g, s in zip(got, spaced))
        return exact, extra, missed

    tally = score_grid(fit)
    scores = {rule: (int(tally[0][i]), int(tally[1][i]), int(tally[2][i])) for i, rule in enumerate(grid)}
    clean = [rule for rule in grid if scores[rule][1] == 0]
    best = max(scores[rule][0] for rule in clean)
    top = [rule for rule in clean if scores[rule][0] == best]
    # the middle of the best rules, one parameter at a time (each run of a grid is contiguous enough)
    rule = tuple(sorted({r[k] for r in top})[len({r[k] for r in top}) // 2] for k in range(3))
    if rule not in top:
        rule = min(top, key=lambda r: sum(abs(a - b) for a, b in zip(r, rule)))
    # score_grid restates text_space_cuts over the whole grid at once; the rule's own code must agree
    assert score(fit, rule) == scores[rule], (rule, score(fit, rule), scores[rule])
    before = (1.0, 9.9, 9.9)  # by hand: a gap as wide as the line is high, of ink darker than 128
    spaced_lines = sum(any(r[-1]) for r in fit)
    lines = [f"Corpus: {len(values(args.seed, args.addresses))} free-text values (the samples' shop names, "
             f"insurers and purposes, {args.addresses} addresses, seed {args.seed}) drawn in "
             f"{len({r[0] for r in rows})} fonts of this machine at 200 and 300 dpi (a degradation each): "
             f"{len(rows)} lines, {len(fit)} in fonts not held out ({spaced_lines} with a space).", "",
             "Widest gap over the ink height, by whether it is a space:", "",
             "| fonts | gaps that are spaces: min | median | gaps that are not: max | median of each line's widest |",
             "|---|---:|---:|---:|---:|"]
    for label, group in (("printed", [r for r in fit if r[2] == "printed"]),
                         ("handwriting-style", [r for r in fit if r[2] == "handwriting"])):
        sp = [w / r[5] for r in group for (_, w), s in zip(r[4], r[6]) if s]
        no = [w / r[5] for r in group for (_, w), s in zip(r[4], r[6]) if not s]
        widest = [max(w for _, w in r[4]) / r[5] for r in group if r[4]]
        if sp and no:
            lines.append(f"| {label} | {min(sp):.2f} | {np.median(sp):.2f} | {max(no):.2f} | {np.median(widest):.2f} |")
    b, a = score([r for r in rows_before if not r[1]], before), scores[rule]
    lines += ["", "| rule (wide, lone, stands out) | lines exact | lines cut without a space | lines missing a space |",
              "|---|---:|---:|---:|",
              f"| before {before} | {b[0]} | {b[1]} | {b[2]} |",
              f"| fitted {rule} | {a[0]} | {a[1]} | {a[2]} |", "",
              f"Fitted: TEXT_SPACE = {rule[0]}, TEXT_SPACE_LONE = {rule[1]}, TEXT_SPACE_STANDS_OUT = {rule[2]} "
              f"({len(top)} rules of {len(grid)} cut {best} of {len(fit)} lines exactly and none without a space).", "",
              "Per font, lines cut exactly: before → fitted (lines cut without a space after the fit):", "",
              "| font | lines | before | fitted | cut without a space |", "|---|---:|---:|---:|---:|"]
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        key = r[0] + (" (held out)" if r[1] else "")
        sa = score([r], rule)
        per[key][0] += 1
        per[key][2] += sa[0]
        per[key][3] += sa[1]
    for r in rows_before:
        per[r[0] + (" (held out)" if r[1] else "")][1] += score([r], before)[0]
    lines += [f"| {f} | {n} | {x} | {y} | {z} |" for f, (n, x, y, z) in per.items()]
    body = "\n".join([*lines, "", f"Command: `python benchmarks/fit_spaces.py --seed {args.seed} --addresses {args.addresses}`"])
    print(body)
    if not args.no_write:
        from benchmarks.results import write_section

        write_section("Spaces in free text (fitted)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
