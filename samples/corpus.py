"""A corpus that is not one font: the sample forms in every font found, as text-layer PDFs and as
scanned or faxed images, with ground truth and a machine-readable index for benchmarks.

    python -m samples.corpus --out DIR [--count 10] [--seed 42] [--fonts all|printed|handwriting|NAME,…]
                             [--profiles clean,scanner,fax] [--dpi 200,300] [--forms …] [--jobs 2]
    python -m samples.corpus --demo --out DIR      # the dozen scans ``make demo`` drops into its inboxes

Layout (every document has its ground truth ``<stem>.json`` beside it, as ``samples.generate`` and
``samples.scanlike`` write it, with ``fonts`` and ``scan`` entries)::

    DIR/corpus.json                                   the index (below)
    DIR/<font>/text/<form>/<form>_NNNN.pdf            text-layer PDFs, values in <font>
    DIR/<font>/<profile>-<dpi>dpi/<form>/<form>_NNNN.<pdf|tif|png|jpg>   clean-300dpi, scanner-200dpi …
    DIR/<font>/fax/<form>/<form>_NNNN.<tif|pdf>       200×100 dpi, 1-bit

``corpus.json``: ``fonts`` (name, family, file, kind printed|handwriting, held_out, source),
``held_out`` (fonts never to be used for calibration: measure on them, or leave one font out of
the rest), and ``sets``: one per font × profile × dpi with ``dir``, ``font``, ``kind``, ``held_out``,
``profile`` (text, clean, scanner, fax), ``dpi``, ``dpi_y``, ``fonts_used`` (the set's value font and,
if a template marks fields handwritten, the font they are drawn in) and ``documents`` (file, truth, form,
expected_status), paths relative to ``dir``. Every font gets the same documents (same seed): what
differs between two sets is the font and the damage. Printed-font sets draw the template-handwritten
fields in the first handwriting-style font that is not held out; handwriting-style sets draw all
values by hand. Deterministic: the same seed and fonts give the same bytes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samples import fonts
from samples.generate import Typefaces, generate
from samples.scanlike import FAX_DPI, PROFILES, scan_one

FORMS3 = ("child_medical", "restaurant_permit", "juminhyo_request")
INDEX = "corpus.json"
VERSION = 1


@dataclass(frozen=True)
class SetSpec:
    font: fonts.Font
    profile: str  # text, clean, scanner, fax
    dpi: int | None

    @property
    def dir(self) -> str:
        if self.profile == "text":
            return f"{self.font.name}/text"
        if self.profile == "fax":
            return f"{self.font.name}/fax"
        return f"{self.font.name}/{self.profile}-{self.dpi}dpi"


def choose_fonts(which: str) -> list[fonts.Font]:
    """all | printed | handwriting | comma-separated names of samples.fonts or font files."""
    from samples.generate import font_arg

    if which in ("all", "printed", "handwriting"):
        found = fonts.available(None if which == "all" else which)  # type: ignore[arg-type]
        if which != "printed":
            for s in fonts.CATALOGUE:
                if s.kind == "handwriting" and fonts.locate(s) is None:
                    print(f"手書き風フォント {s.family} がないため飛ばします: {fonts.install_hint(s)}", file=sys.stderr)
        return found
    return [font_arg(name.strip()) for name in which.split(",") if name.strip()]


def hand_font_for(chosen: Iterable[fonts.Font]) -> fonts.Font | None:
    """The handwriting-style font of template-handwritten fields on printed-font sets."""
    for f in [*chosen, *fonts.available("handwriting", held_out=False)]:
        if f.kind == "handwriting" and not f.held_out:
            return f
    return None


def build(out: Path, chosen: list[fonts.Font], profiles: Iterable[str] = PROFILES,
          dpis: Iterable[int] = (200, 300), forms: Iterable[str] = FORMS3, count: int = 10, seed: int = 42,
          jobs: int = 1) -> dict[str, Any]:
    """Write the corpus under OUT and its index; returns the index."""
    out = Path(out)
    profiles, dpis, forms = list(profiles), list(dpis), list(forms)
    unknown = [p for p in profiles if p not in PROFILES]
    if unknown:
        raise ValueError(f"unknown scan profile(s) {', '.join(unknown)}; known: {', '.join(PROFILES)}")
    if not chosen:
        raise ValueError("no font to build the corpus in")
    hand = hand_font_for(chosen)
    texts: list[tuple[Path, int, int, list[str], Typefaces]] = []
    for font in chosen:
        faces = Typefaces(value=font, hand=font if font.kind == "handwriting" else hand)
        texts.append((out / SetSpec(font, "text", None).dir, count, seed, forms, faces))
    _run(_generate, texts, jobs)
    sets = [SetSpec(f, "text", None) for f in chosen]
    scans: list[tuple[Path, Path, int, int, str]] = []
    for font in chosen:
        text_dir = out / SetSpec(font, "text", None).dir
        for profile in profiles:
            for dpi in [FAX_DPI[0]] if profile == "fax" else dpis:
                spec = SetSpec(font, profile, dpi)
                sets.append(spec)
                for form in forms:
                    for pdf in sorted((text_dir / form).glob(f"{form}_*.pdf")):
                        scans.append((pdf, out / spec.dir / form, seed, dpi, profile))
    _run(_scan, scans, jobs)
    index = _index(out, chosen, sets, hand, forms, count, seed)
    (out / INDEX).write_text(json.dumps(index, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return index


def _generate(args: tuple[Path, int, int, list[str], Typefaces]) -> None:
    generate(*args)


def _scan(args: tuple[Path, Path, int, int, str]) -> None:
    scan_one(*args)


def _run(fn: Any, tasks: list[Any], jobs: int) -> None:
    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            fn(t)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for _ in pool.map(fn, tasks, chunksize=4):
            pass


def _index(out: Path, chosen: list[fonts.Font], sets: list[SetSpec], hand: fonts.Font | None,
           forms: list[str], count: int, seed: int) -> dict[str, Any]:
    def font_entry(f: fonts.Font) -> dict[str, Any]:
        return {"name": f.name, "family": f.spec.family if f.spec else f.path.stem, "file": f.path.name,
                "kind": f.kind, "held_out": f.held_out, "source": f.spec.source if f.spec else "file"}

    from samples.generate import handwritten_fields

    if not any(handwritten_fields(form) for form in forms):
        hand = None  # no template marks a field handwritten: printed sets use their own font only
    listed = {f.name: f for f in chosen}
    if hand is not None:
        listed.setdefault(hand.name, hand)
    entries = []
    for s in sets:
        folder = out / s.dir
        docs = []
        for form in forms:
            for truth in sorted((folder / form).glob(f"{form}_*.json")):
                t = json.loads(truth.read_text(encoding="utf-8"))
                file = next(p for p in truth.parent.glob(truth.stem + ".*") if p.suffix != ".json")
                docs.append({"file": f"{form}/{file.name}", "truth": f"{form}/{truth.name}", "form": form,
                             "expected_status": t["expected_status"]})
        used = [s.font.name] + ([hand.name] if hand is not None and s.font.kind == "printed" else [])
        entries.append({
            "dir": s.dir, "font": s.font.name, "kind": s.font.kind, "held_out": s.font.held_out,
            "profile": s.profile, "dpi": s.dpi,
            "dpi_y": FAX_DPI[1] if s.profile == "fax" else s.dpi,
            "fonts_used": used, "documents": docs,
        })
    return {
        "version": VERSION, "seed": seed, "count": count, "forms": forms,
        "layout": "<font>/<text|profile-NNNdpi|fax>/<form>/<form>_NNNN.<ext>, ground truth <form>_NNNN.json beside",
        "fonts": [font_entry(f) for f in listed.values()],
        "held_out": [f.name for f in listed.values() if f.held_out],
        "hand_font": hand.name if hand else None,
        "sets": entries,
    }


# =============================================================================================
# The demo's scans
# =============================================================================================
# (font, profile, dpi, form, document number): a dozen pages in several printed and handwriting-style
# fonts, scanned and faxed, so a first run shows OCR and 要確認 beside the text-layer PDFs
DEMO: tuple[tuple[str, str, int, str, int], ...] = (
    ("noto-sans", "scanner", 300, "child_medical", 1),
    ("noto-serif", "scanner", 300, "child_medical", 2),
    ("vl-gothic", "clean", 300, "child_medical", 3),
    ("takao-mincho", "scanner", 200, "child_medical", 4),
    ("klee-one", "scanner", 300, "child_medical", 5),
    ("ipaex-gothic", "fax", 200, "child_medical", 6),
    ("noto-sans", "clean", 300, "restaurant_permit", 1),
    ("sawarabi-gothic", "scanner", 300, "restaurant_permit", 2),
    ("ipaex-mincho", "scanner", 200, "restaurant_permit", 3),
    ("hachi-maru-pop", "scanner", 300, "restaurant_permit", 4),
    ("yomogi", "clean", 300, "restaurant_permit", 5),
    ("vl-gothic", "fax", 200, "restaurant_permit", 6),
)
DEMO_SEED = 4242  # other people than the text-layer samples (seed 42)


def build_demo(out: Path, seed: int = DEMO_SEED) -> list[Path]:
    """The demo's scans under OUT/<form>/; fonts not installed are skipped with a message."""
    out = Path(out)
    written: list[Path] = []
    for name, profile, dpi, form, number in DEMO:
        try:
            font = fonts.font(name)
        except FileNotFoundError as e:
            print(f"デモのスキャン見本を飛ばします: {e}", file=sys.stderr)
            continue
        hand = font if font.kind == "handwriting" else hand_font_for([])
        src = out / "src" / name
        generate(src, number, seed, [form], Typefaces(value=font, hand=hand))
        pdf = src / form / f"{form}_{number:04d}.pdf"
        scan = scan_one(pdf, out / form, seed, dpi, profile)
        final = scan.with_name(f"{form}_{name}_{profile}{scan.suffix}")  # its name says what it is
        scan.replace(final)
        scan.with_suffix(".json").replace(final.with_suffix(".json"))
        written.append(final)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.corpus", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--count", type=int, default=10, help="documents per form and font")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--fonts", default="all", help="all, printed, handwriting, or names/files, comma-separated")
    ap.add_argument("--profiles", default=",".join(PROFILES), help="clean, scanner, fax (comma-separated)")
    ap.add_argument("--dpi", default="200,300", help="resolutions of clean and scanner sets")
    ap.add_argument("--forms", default=",".join(FORMS3))
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    ap.add_argument("--demo", action="store_true", help="only the dozen scans of make demo")
    args = ap.parse_args(argv)
    if args.demo:
        paths = build_demo(args.out)
        print(f"{len(paths)} demo scans written to {args.out}")
        return 0
    try:
        chosen = choose_fonts(args.fonts)
        index = build(args.out, chosen, [p for p in args.profiles.split(",") if p],
                      [int(d) for d in args.dpi.split(",") if d], [f for f in args.forms.split(",") if f],
                      args.count, args.seed, args.jobs)
    except (ValueError, FileNotFoundError) as e:
        print(e, file=sys.stderr)
        return 1
    docs = sum(len(s["documents"]) for s in index["sets"])
    print(f"{docs} documents in {len(index['sets'])} sets ({len(chosen)} fonts) written to {args.out}; "
          f"index {args.out / INDEX}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
