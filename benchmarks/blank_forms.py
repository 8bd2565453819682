"""`kakari bots new` on generated blank forms: field detection recall/precision, labels and types
right, the edits still needed in the zone editor, and how exactly the generated bot reads a
filled copy before and after those edits.

    python benchmarks/blank_forms.py [--seeds 42,7,11] [--fits 2] [--fit 101,102,103,104,105]

Seed 42 is the test suite's set; the others are blanks nobody looked at while writing the rules
(other fonts, sizes, positions, label words; a different half of them scanned). ``--fit SEEDS``
measures how often each detection rule is right on those seeds (never the reported ones) and
writes bots/blankform/reliability.json: the confidence `bots new` prints for each guess.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import write_section  # noqa: E402


@dataclass
class Row:
    seed: int
    style: str
    source: str
    fonts: str
    fields: int
    found: int
    extra: int
    labels: int
    types: int
    edits: int
    read_before: tuple[int, int]
    read_after: tuple[int, int]
    seconds: float


def run_blank(folder: Path, bots: Path, config: Any, seed: int, rules: dict[str, list[int]] | None = None) -> Row:
    from bots.scaffold import scaffold
    from bots.template import load_template
    from bots.template_edit import save, zones
    from kakari.errors import ConfigError
    from samples.blank_match import compare, fixed_model, load_truth, to_frame

    truth = load_truth(folder)
    blank = next(p for p in sorted(folder.glob("blank.*")) if p.suffix != ".json")
    name = f"b{seed}_{folder.name}"
    t0 = time.perf_counter()
    try:
        made = scaffold(name, blank, bots, force=True, config=config)
    except ConfigError:  # nothing found at all: every field is still to be drawn
        n = len(truth["fields"])
        total = sum(len(json.loads(p.read_text(encoding="utf-8"))["fields"]) for p in folder.glob("filled_*.json"))
        return Row(seed, folder.name, "scan" if truth.get("scan") else "text", "・".join(truth["fonts"]), n, 0, 0,
                   0, 0, 3 * n, (0, total), (0, total), time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    if made.detection.scanned is not None:
        truth = to_frame(truth, made.detection.scanned.skew)
    template = load_template(made.template)
    report = compare(template, truth)
    if rules is not None:
        _score_rules(made.detection.fields, template, report, rules)
    fills = sorted(p for p in folder.glob("filled_*.*") if p.suffix != ".json")
    before = _read(made.template, fills, report, config)
    save(made.template, fixed_model(zones(made.template), report, truth))
    after_report = compare(load_template(made.template), truth)
    after = _read(made.template, fills, after_report, config)
    return Row(seed, folder.name, "scan" if truth.get("scan") else "text", "・".join(truth["fonts"]),
               len(report.matches), sum(m.found for m in report.matches), len(report.extra),
               sum(m.found and m.label_ok for m in report.matches), sum(m.found and m.type_ok for m in report.matches),
               report.edits, before, after, seconds)


def _read(template: Path, fills: list[Path], report: Any, config: Any) -> tuple[int, int]:
    from bots.tryout import draft_bot
    from ocr import read_document

    bot = draft_bot(template)
    right = total = 0
    for fill in fills:
        values = json.loads(fill.with_suffix(".json").read_text(encoding="utf-8"))["fields"]
        rec = bot().read(read_document(fill, config, doc_id=fill.stem))
        for key, want in values.items():
            total += 1
            name = report.names.get(key)
            right += name is not None and rec.fields[name].value == want
    return right, total


def _score_rules(found: list[Any], template: Any, report: Any, rules: dict[str, list[int]]) -> None:
    """For each guess: was it a field with the right type? (the guesses in template order)"""
    plain = [n for n, s in template.fields.items() if s.row is None]
    good = {m.name for m in report.matches if m.found and m.type_ok}
    names = iter(plain)
    for f in found:
        if f.table is not None:
            name = next((t for t in template.tables if any(g.startswith(t + ".") for g in good)), None)
            rules[f.rule].append(int(name is not None))
            continue
        rules[f.rule].append(int(next(names, None) in good))


def fit(seeds: list[int], fills_dir: Path, config: Any) -> dict[str, Any]:
    from samples.blanks import generate

    rules: dict[str, list[int]] = defaultdict(list)
    for seed in seeds:
        out = fills_dir / f"fit{seed}"
        generate(out, seed=seed, fills=0)
        for folder in sorted(p for p in out.iterdir() if p.is_dir()):
            run_blank(folder, fills_dir / "bots", config, seed, rules)
    # (right + 1) / (guesses + 2): a rule seen a few times is not called certain
    return {"fitted_on": {"script": "benchmarks/blank_forms.py --fit", "seeds": seeds},
            "rules": {rule: round((sum(v) + 1) / (len(v) + 2), 3) for rule, v in sorted(rules.items())},
            "guesses": {rule: len(v) for rule, v in sorted(rules.items())}}


OWN_FORMS = ("child_medical", "restaurant_permit", "juminhyo_request")


def own_forms(work: Path, config: Any, count: int, scans: int) -> str:
    """`bots new` on kakari's own three blanks (drawn by samples/layout.py, not samples/blanks.py):
    fields found against the hand-written templates, and how exactly the scaffolded bot reads the
    generated samples and scan-like copies of them, next to the hand-written bot."""
    from bots import registry
    from bots.scaffold import scaffold
    from bots.template import load_template
    from bots.tryout import draft_bot
    from ocr import read_document
    from samples.blank_match import compare, truth_from_template
    from samples.generate import generate
    from samples.scanlike import make_scans

    generate(work / "own", count=count, seed=5, forms=list(OWN_FORMS))
    make_scans(work / "own", work / "own_scans", seed=5, dpis=(300,), limit=scans)
    lines = ["| form | fields | found | types right | text-layer samples: scaffolded / hand-written | scans: scaffolded / hand-written |",
             "|---|---:|---:|---:|---:|---:|"]
    for form in OWN_FORMS:
        hand = registry.get(form)
        made = scaffold(f"own_{form}", ROOT / "bots" / f"{form}.blank.pdf", work / "bots", force=True, config=config)
        report = compare(load_template(made.template), truth_from_template(hand.template), loose=True)
        bot = draft_bot(made.template)
        cells = []
        for folder in (work / "own" / form, work / "own_scans" / "300dpi" / form):
            got = {"new": [0, 0], "hand": [0, 0]}
            for doc_path in sorted(p for p in folder.glob(f"{form}_*.*") if p.suffix != ".json"):
                values = json.loads(doc_path.with_suffix(".json").read_text(encoding="utf-8"))["fields"]
                doc = read_document(doc_path, config, doc_id=doc_path.stem)
                new, ref = bot().read(doc), hand().read(read_document(doc_path, config, doc_id=doc_path.stem))
                for key, want in values.items():
                    name = report.names.get(key)
                    got["new"][0] += name is not None and new.fields[name].value == want
                    got["hand"][0] += key in ref.fields and ref.fields[key].value == want
                    got["new"][1] += 1
                    got["hand"][1] += 1
            cells.append(f"{got['new'][0] / max(1, got['new'][1]):.1%} / {got['hand'][0] / max(1, got['hand'][1]):.1%}"
                         f" ({got['new'][1] // max(1, len(report.matches))} docs)")
        lines.append(f"| {form} | {len(report.matches)} | {sum(m.found for m in report.matches)} | "
                     f"{sum(m.found and m.type_ok for m in report.matches)} | {cells[0]} | {cells[1]} |")
    lines += ["", "A field is found here when the scaffolded zone's centre lies in the hand-written zone and they share "
              "half of the smaller (a hand-written zone may include a printed unit, or come from an anchor). No "
              "edits: the scaffolded bots read as `bots new` wrote them."]
    return "\n".join(lines)


def table(rows: list[Row]) -> str:
    out = ["| seed | style | blank | fields | found | extra | labels right | types right | edits (≈ s) | read exact | after edits | bots new s |",
           "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r.seed} | {r.style} | {r.source} ({r.fonts}) | {r.fields} | {r.found} | {r.extra} | {r.labels} | "
                   f"{r.types} | {r.edits} (≈{r.edits * 5:.0f}) | {r.read_before[0]}/{r.read_before[1]} | "
                   f"{r.read_after[0]}/{r.read_after[1]} | {r.seconds:.1f} |")
    return "\n".join(out)


def summary(rows: list[Row], what: str) -> str:
    fields = sum(r.fields for r in rows)
    found = sum(r.found for r in rows)
    extra = sum(r.extra for r in rows)
    rb = sum(r.read_before[0] for r in rows), sum(r.read_before[1] for r in rows)
    ra = sum(r.read_after[0] for r in rows), sum(r.read_after[1] for r in rows)
    worst = min((r.read_after[0] / max(1, r.read_after[1]) for r in rows), default=0.0)
    return (f"{what}: recall **{found / max(1, fields):.1%}** ({found}/{fields}), precision **{found / max(1, found + extra):.1%}**, "
            f"labels right {sum(r.labels for r in rows)}/{found}, types right {sum(r.types for r in rows)}/{found}; "
            f"edits needed {sum(r.edits for r in rows)} over {len(rows)} blanks (max {max((r.edits for r in rows), default=0)}); "
            f"filled copies read exactly {rb[0] / max(1, rb[1]):.1%} as generated, **{ra[0] / max(1, ra[1]):.1%}** after the edits "
            f"(worst blank {worst:.1%}).")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="42,7,11")
    ap.add_argument("--fits", type=int, default=1, help="filled copies per blank")
    ap.add_argument("--fit", default="", help="seeds to fit the rules' reliability on (writes reliability.json)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    ap.add_argument("--own", type=int, default=10, help="generated samples per built-in form (0: skip them)")
    ap.add_argument("--own-scans", type=int, default=4, help="scan-like copies per built-in form")
    args = ap.parse_args()
    from kakari.config import KakariConfig
    from kakari.log import logger
    from samples.blanks import generate

    logger.remove()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = KakariConfig(home=work / "home")
        if args.fit:
            seeds = [int(s) for s in args.fit.split(",")]
            data = fit(seeds, work, config)
            target = ROOT / "bots" / "blankform" / "reliability.json"
            target.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            print(json.dumps(data, ensure_ascii=False, indent=1))
            return
        rows: list[Row] = []
        for seed in (int(s) for s in args.seeds.split(",")):
            out = work / f"s{seed}"
            generate(out, seed=seed, fills=args.fits)
            for folder in sorted(p for p in out.iterdir() if p.is_dir()):
                row = run_blank(folder, work / "bots", config, seed)
                rows.append(row)
                print(table([row]).splitlines()[-1], flush=True)
        own = own_forms(work, config, args.own, args.own_scans) if args.own else ""
        print(own)
    suite = [r for r in rows if r.seed == 42]
    held = [r for r in rows if r.seed != 42]
    lines = [table(rows), ""]
    if suite:
        lines.append(summary(suite, "Seed 42 (the test suite's blanks)"))
        lines.append("")
    if held:
        lines.append(summary(held, f"Held-out seeds {', '.join(sorted({str(r.seed) for r in held}))}"))
        lines.append("")
    if own:
        lines += ["kakari's own forms (blanks from samples/layout.py, never generated by samples/blanks.py):", "",
                  own, ""]
    lines += ["A field is found when a zone of the bot covers ≥ 90 % of its value area and the value area is ≥ 45 % "
              "of the zone (character boxes and 年月日 gaps: every part; choices: every option, with the place "
              "the mark goes inside its zone; tables: per column, same rows and pitch). Edits are what a person "
              "does in the zone editor (≈ 5 s each): draw + label + type for a missed field, one per wrong label "
              "or type, one per field to delete; \"after edits\" reads the filled copy with those edits applied "
              "through the editor's save. Scanned blanks and filled copies are OCR'd by Tesseract.",
              "", f"Command: `python benchmarks/blank_forms.py --seeds {args.seeds} --fits {args.fits} --own {args.own} "
              f"--own-scans {args.own_scans}`"]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Blank forms (bots new and the zone editor)", body)


if __name__ == "__main__":
    main()
