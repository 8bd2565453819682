"""Fit when a フリガナ line is written in half-width katakana (ｺﾊﾞﾔｼ) and how much to widen it for PP-OCR
(``ocr.reader.HALF_PITCH`` and ``HALF_STRETCH``).

    python benchmarks/fit_halfwidth.py [--values 24] [--seed 42] [--no-write]

PP-OCR reads half-width katakana badly (ｺﾊﾞﾔｼ as コバゼ, ｱｵｲ as 了オイ): its model has seen them
rarely, each glyph half as wide as it is tall. Widened to about full-width proportions it reads them
as the katakana they are. Which lines are half-width is told by the first reading: the ink's width per
character read, over the ink's height (``char_pitch``): about 1 for full-width kana, about half that
for half-width. Corpus: the samples' surname and given-name フリガナ, drawn in full-width katakana,
hiragana and half-width katakana, in every printed and handwriting-style font of this machine that is
not held out (held-out fonts are only measured), at 200 and 300 dpi with a degradation each, cleaned
and split as the reader does. Fitted: the stretch (of a grid) that reads most half-width lines exactly,
then the pitch threshold (of a grid) with the most lines read exactly when lines below it are
widened, among those that widen no line written full-width (katakana or hiragana, which read as
before): the middle of the best range.
"""
from __future__ import annotations

import argparse
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STRETCHES = (1.5, 1.75, 2.0)
PITCHES = tuple(round(0.05 * k, 2) for k in range(8, 25))  # 0.40 … 1.20


def values(count: int, seed: int) -> list[str]:
    from samples.generate import GIVEN_NAMES, SURNAMES

    rng = random.Random(seed)
    surnames = rng.sample(SURNAMES, min(count, len(SURNAMES)))
    return [f"{kana}\u3000{rng.choice(GIVEN_NAMES)[1]}" for _, kana in surnames]


def main(argv: list[str] | None = None) -> int:
    from benchmarks.ocr_evidence import CROP_FONTS, DEGRADATIONS, covers, draw_value
    from ocr.normalise import canonical, kana_lookalikes
    from ocr.ppocr import LineText, recogniser
    from ocr.reader import char_pitch, keep_sound_marks, widened
    from ocr.zones import clean_crop, space_cuts, split_at
    from samples.generate import halfwidth_kana, hiragana

    ap = argparse.ArgumentParser()
    ap.add_argument("--values", type=int, default=24)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--show", action="store_true", help="print each half-width line read wrong under the fit")
    args = ap.parse_args(argv)
    rec = recogniser()

    def read(parts: list[np.ndarray], stretch: float, first: list[LineText] | None = None) -> list[str]:
        """Each part's reading widened by `stretch`, keeping the first reading's sound marks (as the reader)."""
        wide = [widened(p, stretch) for p in parts]
        return [keep_sound_marks(r, f).text for r, f in zip(rec.read(wide), first or [])]

    # rows: (font, held out, written as, pitch of each part, reading per stretch (1.0 first), truth)
    rows = []
    for name, path, _kind, held in CROP_FONTS:
        for v in values(args.values, args.seed):
            for form, written in (("full", v), ("hiragana", hiragana(v)), ("half", halfwidth_kana(v))):
                if not covers(path, written):
                    continue
                rng = random.Random(f"{args.seed}/{name}/{written}")
                dpi, deg = rng.choice((200, 300)), rng.choice(DEGRADATIONS)
                img = clean_crop(draw_value(written, path, dpi, rng, deg), None).image
                if img is None:
                    continue
                parts = split_at(img, space_cuts(img, "kana")) or [img]
                first_read = rec.read(parts)
                first = [r.text for r in first_read]
                pitches = [char_pitch(list(zip(parts, first)))] * len(parts)
                readings = {1.0: first, **{s: read(parts, s, first_read) for s in STRETCHES}}
                rows.append((name, held, form, pitches, readings, v))

    def exact(parts: list[str], truth: str) -> bool:
        return canonical(kana_lookalikes(" ".join(parts)), "kana") == canonical(truth, "kana")

    def score(rows_: list, pitch: float, stretch: float) -> int:
        n = 0
        for _f, _h, _w, pitches, readings, truth in rows_:
            parts = [readings[stretch][i] if p < pitch else readings[1.0][i] for i, p in enumerate(pitches)]
            n += exact(parts, truth)
        return n

    fit = [r for r in rows if not r[1]]
    half = [r for r in fit if r[2] == "half"]
    by_stretch = {s: sum(exact(r[4][s], r[5]) for r in half) for s in STRETCHES}
    stretch = max(STRETCHES, key=lambda s: (by_stretch[s], -abs(s - 2.0)))
    by_pitch = {p: score(fit, p, stretch) for p in PITCHES}
    # a line written full-width (katakana or hiragana) must read as it did: only thresholds below
    # every such line's pitch qualify; of those, the best score, the middle of its widest run
    full_min = min(p for r in fit if r[2] != "half" for p in r[3])
    allowed = [p for p in PITCHES if p <= full_min]
    best = max(by_pitch[p] for p in allowed)
    top = [p for p in allowed if by_pitch[p] == best]
    runs, cur = [], [top[0]]
    for p in top[1:]:
        if round(p - cur[-1], 2) <= 0.051:
            cur.append(p)
        else:
            runs.append(cur)
            cur = [p]
    runs.append(cur)
    run = max(runs, key=len)
    pitch = run[len(run) // 2]

    lines = [f"Corpus: {args.values} フリガナ values (samples' surnames and given names, seed {args.seed}) drawn "
             f"full-width, in hiragana and half-width in {len({r[0] for r in rows})} fonts of this machine "
             f"(200/300 dpi, a degradation each); fitted on the {len(fit)} lines in fonts not held out.", "",
             "Pitch (ink width per character of the first reading, over the ink height) by how the line was written:", "",
             "| written | lines | pitch min | median | max |", "|---|---:|---:|---:|---:|"]
    for form in ("full", "hiragana", "half"):
        ps = [p for r in fit if r[2] == form for p in r[3]]
        if ps:
            lines.append(f"| {form} | {sum(r[2] == form for r in fit)} | {min(ps):.2f} | {np.median(ps):.2f} | {max(ps):.2f} |")
    lines += ["", "Half-width lines read exactly (fonts not held out), by stretch: "
              + ", ".join(f"×{s}: {by_stretch[s]}/{len(half)}" for s in STRETCHES)
              + f"; unstretched {sum(exact(r[4][1.0], r[5]) for r in half)}/{len(half)}.", "",
              f"Lines read exactly (all {len(fit)} fitted lines) with parts below the pitch widened ×{stretch}:", "",
              "| pitch below | exact |", "|---:|---:|"]
    lines += [f"| {p:.2f} | {by_pitch[p]} |" for p in PITCHES]
    lines += ["", f"Fitted: HALF_STRETCH = {stretch}, HALF_PITCH = {pitch:.2f} (middle of {run[0]:.2f}–{run[-1]:.2f}; "
              f"the narrowest full-width line has pitch {full_min:.2f})."]
    per: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        key = (r[0] + (" (held out)" if r[1] else ""), r[2])
        per[key][0] += 1
        per[key][1] += exact(r[4][1.0], r[5])
        per[key][2] += score([r], pitch, stretch)
    lines += ["", "Per font and writing, lines read exactly: before (never widened) → after (fitted rule):", "",
              "| font | written | lines | before | after |", "|---|---|---:|---:|---:|"]
    lines += [f"| {f} | {w} | {n} | {b} | {a} |" for (f, w), (n, b, a) in sorted(per.items())]
    if args.show:
        for r in rows:
            parts = [r[4][stretch][i] if p < pitch else r[4][1.0][i] for i, p in enumerate(r[3])]
            if r[2] == "half" and not exact(parts, r[5]):
                print("wrong:", r[0], r[5], "→", kana_lookalikes(" ".join(parts)), [round(p, 2) for p in r[3]], file=sys.stderr)
    body = "\n".join([*lines, "", f"Command: `python benchmarks/fit_halfwidth.py --values {args.values} --seed {args.seed}`"])
    print(body)
    if not args.no_write:
        from benchmarks.results import write_section

        write_section("Half-width フリガナ (fitted)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
