"""Fit the trust policy's thresholds (ocr/trust.json) on a labelled corpus of evidence records.

    python benchmarks/calibrate_ocr.py --crops [--count 12] [--dpi 200,300] [--out ocr/trust.json]
    python benchmarks/calibrate_ocr.py --records FILE.jsonl [--out …]
    python benchmarks/calibrate_ocr.py --dispute-from FILE.jsonl   # only dispute_ratios, the rest kept

For each field kind, separately for printed and handwritten values, and only on readings the
field's validator accepts and the bot does not doubt beside their フリガナ (a name that lost its
space, ``bots.readings.lost_space``): the others go to 要確認 whatever the engines say.

- ``alone`` (only the kinds of ``ocr.trust.ALONE_KINDS``, for handwriting ``HAND_ALONE_KINDS``): the lowest PP-OCR confidence above which
  every reading was right (strictly above the most confident wrong one), kept only if at least
  ``SUPPORT`` readings are above it;
- ``agree`` / ``second``: the same among readings Tesseract agreed with after normalisation, for the
  Tesseract confidence (from a small grid) that lets the most right readings through;
- ``variant_ratios``: per scan class and pair (高/髙, 崎/﨑 …), printed names only: above the largest
  ratio by which the ink ever preferred the form the engines read where the truth held another (髙
  judged 高), so that no such name is registered; where the engines never read a variant as another
  form, at least 1 (the form read must win on its ink), provided the variants were drawn at least
  ``SUPPORT`` times;
- ``variant_registers``: per scan class and pair, printed names, above the largest ratio by which the
  ink ever preferred a variant the truth did not have (so that a 﨑 the ink shows may be registered),
  with at least ``SUPPORT`` variants drawn and registered above it (a 惠 never drawn is never registered).
- ``dispute_ratios``: per scan class and dispute group (``ocr.dispute.group``: kanji against kanji,
  a voicing mark only, other characters), printed names, フリガナ, addresses and text the engines read
  differently in a character or two: above the largest ink preference for PP-OCR's characters (the
  least clear of the disputed places) among such readings that were wrong, so that none is
  registered; a right reading also counts as the wrong one with the engines swapped (the ink's
  preference for Tesseract's characters). Each only where the data holds such wrong judgements, at
  least ``SUPPORT`` right ones above it, and the threshold holds across fonts (fitted without each
  font, it still covers that font's wrong ones); otherwise never.
- ``reading_settles``: the scan classes in which a printed name the engines read differently may be
  registered with PP-OCR's reading because its registered フリガナ sides with it
  (``bots.readings.settles_name``): a rule with no threshold, so, as ``alone`` where nothing was
  wrong, only where every such name of the corpus was right and at least ``SUPPORT`` were settled.
  ``name_settles``: the same for a printed フリガナ registered with PP-OCR's reading because the
  registered name beside it sides with it (``bots.readings.settles_kana``).
  Names and フリガナ are paired by the document (page, or crop corpus sample) they were read from.

Grey pages scanned below ``ocr.trust.COARSE_BELOW_DPI`` (200 dpi) get thresholds of their own
(``coarse_rules``), and so do pages scanned in black and white (``bilevel_rules``: faxes), each
fitted on such records only (``ocr.trust.scan_class``).

Fonts marked held out are left out of the fit. The file records what the fit was made on.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ocr_evidence import CROP_FONTS, Record, _spec, crop_corpus, load_records  # noqa: E402
from ocr.normalise import unsettled_lookalike  # noqa: E402
from ocr.trust import ALONE_KINDS, HAND_ALONE_KINDS  # noqa: E402

TARGET = 0.999
SUPPORT = 60  # readings above a threshold, at least, for it to be trusted at all
SECOND_GRID = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
EPS = 1e-4


def right(r: Record, text: str) -> bool:
    """Does `text` parse to the record's truth (the field's own parser)?"""
    value, _ = parsed(r, text)
    return value == r.truth and type(value) is type(r.truth)


def parsed(r: Record, text: str) -> tuple[Any, list[str]]:
    """The field's own parser, required check and value list on `text` (as the bot reads a scan)."""
    from bots.base import check_scanned

    return check_scanned(text, _spec(r))


def offered(r: Record) -> str:
    from ocr.trust import offered

    return offered(r.kind, r.neural)


def agrees(r: Record) -> bool:
    from ocr.tesseract import KINDS
    from ocr.trust import agree_on

    read_kind = _read_kind(r)
    return read_kind in KINDS and agree_on(r.kind, read_kind, offered(r), r.second)


def _read_kind(r: Record) -> str:
    from bots.fields import field_type

    return field_type(r.field_type).read_kind


def variant_ok(r: Record, ratios: dict[str, float]) -> bool:
    """Names only (the policy judges variants in names): every variant character settled, each by the
    ratio of its pair (`ratios`: common form → ratio); never in a handwritten name."""
    from ocr.variants import base_form

    if r.kind != "name" or not r.variants:
        return True
    return not r.handwritten and all(best == read and rt >= ratios.get(base_form(read), float("inf"))
                                     for read, best, rt in r.variants)


def variant_threshold(trials: list[tuple[str, float, bool]]) -> float | None:
    """(font, how many times the ink prefers a form over its rival, whether the truth is that form)
    → the preference above which the form is trusted, or None (never). Above every trial whose truth
    is the other form (the wrong variant drawn: 髙 ink scored for 高) by 5 % (and at least 1), with at least
    ``SUPPORT`` right ones above; and only if that holds across fonts: for each font, the threshold
    fitted on the other fonts alone is above its wrong trials too. No wrong trial: nothing to fit on."""
    def above(rows: list[tuple[str, float, bool]]) -> float | None:
        wrong = [c for _f, c, ok in rows if not ok]
        return round(max(wrong) * 1.05 + EPS, 3) if wrong else None

    t = above(trials)
    if t is None:
        return None
    t = max(t, 1.0)  # the form must win on its ink in any case
    if sum(ok for _f, c, ok in trials if c >= t) < SUPPORT:
        return None
    for font in sorted({f for f, _c, ok in trials if not ok}):
        t_other = above([p for p in trials if p[0] != font])
        if t_other is None or any(c >= max(t_other, 1.0) for f, c, ok in trials if f == font and not ok):
            return None  # a font the others did not foresee: the ink test does not generalise
    return t


def _preference(form: str, best: str, ratio: float) -> float:
    """How many times the ink prefers `form` over its rival (below 1: the rival won)."""
    return ratio if best == form else 1.0 / max(ratio, 1e-6)


def fit_variant_ratios(records: list[Record], scans: str = "fine") -> dict[str, float | None]:
    """Printed names on pages of one scan class: per pair (its common form: 高, 崎 …), how clearly the
    ink must prefer the form both engines read over each other form for the name to be accepted
    (``variant_threshold`` on every such character, wrong where the truth holds another form; None:
    never, such a name is offered to the clerk). A pair whose variants the engines always read as
    drawn has no wrong trial: it is accepted where the ink prefers the form read (1). Either way only
    once the pair's variants were drawn at least ``SUPPORT`` times: a confusion never tried stays never."""
    from ocr.trust import scan_class
    from ocr.variants import VARIANTS, base_form

    trials: dict[str, list[tuple[str, float, bool]]] = {b: [] for b in VARIANTS}
    drawn: Counter[str] = Counter()  # trials whose truth holds a variant of the pair, however read
    for r in records:
        truth = str(r.truth or "")
        if r.kind != "name" or r.handwritten or scan_class(r.dpi, r.bilevel) != scans or not truth:
            continue
        for read, best, ratio in r.variants:
            if read in offered(r) and ratio > 0:  # (0: the ink gave no judgement, and the name goes to the clerk)
                base = base_form(read)
                trials[base].append((r.font, _preference(read, best, ratio), read in truth))
                drawn[base] += any(v in truth for v in VARIANTS[base])
    out: dict[str, float | None] = {}
    for base, rows in trials.items():
        t = variant_threshold(rows)
        if t is None and all(ok for *_x, ok in rows):
            t = 1.0 if sum(c >= 1.0 for _f, c, _ok in rows) >= SUPPORT else None
        out[base] = t if drawn[base] >= SUPPORT else None  # a confusion never tried is not ruled out
    return out


def fit_alone(pairs: list[tuple[float, bool]]) -> float | None:
    wrong = [c for c, ok in pairs if not ok]
    t = (max(wrong) + EPS) if wrong else min((c for c, _ in pairs), default=1.0)
    above = [ok for c, ok in pairs if c >= t]
    if len(above) < SUPPORT:
        return None
    return round(min(t, 1.0), 5)


def fit_agree(rows: list[tuple[float, float, bool]]) -> tuple[float | None, float]:
    """(PP-OCR threshold, Tesseract threshold) among agreeing readings letting the most right ones through."""
    best: tuple[int, float | None, float] = (0, None, 1.01)
    for s in SECOND_GRID:
        pairs = [(n, ok) for n, sc, ok in rows if sc >= s]
        t = fit_alone(pairs)
        if t is None:
            continue
        n_ok = sum(1 for n, ok in pairs if n >= t)
        if n_ok > best[0]:
            best = (n_ok, t, s)
    return best[1], best[2]


def fit_variant_register(records: list[Record], scans: str = "fine", pair: str = "") -> float | None:
    """Printed names on pages of one scan class (``ocr.trust.scan_class``): how clearly the ink
    must prefer a variant over the common form both engines read for the variant to be registered
    (``variant_threshold`` on every variant character, wrong where the truth holds the common form;
    None: never); `pair` (a common form: 恵, 高 …): on that pair's characters alone."""
    from ocr.trust import scan_class
    from ocr.variants import base_form

    trials = []
    for r in records:
        truth = str(r.truth or "")
        if r.kind != "name" or r.handwritten or scan_class(r.dpi, r.bilevel) != scans or not truth:
            continue
        for read, best, ratio in r.variants:
            if ratio <= 0 or (pair and base_form(read) != pair):  # (0: the ink gave no judgement)
                continue
            if best != read:
                trials.append((r.font, ratio, best in truth))
            elif read in truth:  # the common form's ink: how near the variant came
                trials.append((r.font, 1.0 / max(ratio, 1e-6), False))
    return variant_threshold(trials)


def fit_dispute_ratio(records: list[Record], policy: Any, group: str = "kanji", scans: str = "fine") -> float | None:
    """Printed fields of ``DISPUTE_KINDS`` on pages of one scan class where the engines disagree in a
    character or two, in disputes of one `group` (``ocr.dispute.group``): how clearly the ink must
    prefer PP-OCR's characters for its reading to be registered (``variant_threshold`` on the least
    clear disputed place of each reading `policy` would register were the ink on PP-OCR's side, and
    not without the ink; wrong where what it registers is; None: never).

    Each right reading also stands for the wrong one it was disputed with: the ink compares the two
    candidates the same way whichever engine read which, so had PP-OCR read Tesseract's characters
    the ink would have preferred them by the inverse ratio; those are wrong trials too (as
    ``fit_variant_register`` counts how near the variant came on the common form's ink)."""
    from dataclasses import replace

    from benchmarks.ocr_evidence import decision
    from ocr.dispute import DisputeCheck, group as group_of
    from ocr.trust import DISPUTE_KINDS, scan_class

    shut = no_disputes(policy)
    open_ = replace(shut, dispute_ratios={scans: {group: 0.0}})
    trials = []
    for r in records:
        if r.kind not in DISPUTE_KINDS or r.handwritten or scan_class(r.dpi, r.bilevel) != scans or not r.disputes:
            continue
        checks = [DisputeCheck(*d) for d in r.disputes]
        if group_of(checks) != group or any(c.drawn_alike for c in checks):
            continue  # another ratio's, or never the ink's to settle
        sided = replace(r, disputes=[(i, neural, second, neural, 1e6) for i, neural, second, _b, _r in r.disputes])
        d = decision(sided, open_)  # as if the ink sided with PP-OCR
        if not d.registered or decision(r, shut).registered:
            continue  # to the clerk whatever the ink says (validator, variant, confidence), or not disputed
        prefs = [_preference(neural, best, ratio) for _i, neural, _s, best, ratio in r.disputes]
        ok = right(r, d.text)
        trials.append((r.font, min(prefs), ok))
        if ok and all(ratio > 0 for *_c, ratio in r.disputes):  # (0: the ink gave no judgement)
            # Tesseract's characters were the wrong ones: how near the ink came to preferring them
            trials.append((r.font, min(1.0 / p for p in prefs), False))
    return variant_threshold(trials)


def no_disputes(policy: Any) -> Any:
    """`policy` with no disagreement ever settled by the ink."""
    from dataclasses import replace

    return replace(policy, dispute_ratio=float("inf"), dispute_marks_ratio=float("inf"), dispute_ratios={})


def fit_dispute_ratios(records: list[Record], policy: Any) -> dict[str, dict[str, float | None]]:
    """``fit_dispute_ratio`` for each scan class and dispute group."""
    from ocr.dispute import DISPUTE_GROUPS
    from ocr.trust import SCAN_CLASSES

    return {scans: {g: fit_dispute_ratio(records, policy, g, scans) for g in DISPUTE_GROUPS}
            for scans in SCAN_CLASSES}


def fit_reading_settles(records: list[Record], policy: Any, rule: str = "reading_settles"
                        ) -> tuple[list[str], dict[str, dict[str, int]]]:
    """The scan classes in which `policy`'s names may be settled by their フリガナ (`rule`
    ``reading_settles``) or フリガナ by their names (``name_settles``; see the module docstring), and
    per class how many fields the rule settled and how many of those were wrong."""
    from dataclasses import replace

    from benchmarks.ocr_evidence import documents, replay_document
    from ocr.trust import SCAN_CLASSES, scan_class

    classes = SCAN_CLASSES
    counts = {c: {"settled": 0, "wrong": 0} for c in classes}
    # every disagreement the rule would settle, the ink's included: the rule is measured on its own
    open_ = replace(no_disputes(policy), **{"reading_settles": (), "name_settles": (), rule: classes})
    for recs in documents(records):
        out, settled = replay_document(recs, open_)
        for name in settled:
            c = counts[scan_class(recs[name].dpi, recs[name].bilevel)]
            c["settled"] += 1
            c["wrong"] += not out[name][3]
    return [c for c in classes if counts[c]["wrong"] == 0 and counts[c]["settled"] >= SUPPORT], counts


def unspaced_names(records: list[Record]) -> set[int]:
    """ids of the name records the bot sends to the clerk for a space its フリガナ has and the name
    lacks (``bots.readings.lost_space``, on both as PP-OCR read them): no threshold lets them through."""
    from benchmarks.ocr_evidence import _spec, documents
    from bots.readings import lost_space

    out = set()
    for recs in documents(records):
        for r in recs.values():
            name = recs.get(str(_spec(r).reading_of))
            if name is not None and lost_space(offered(name), offered(r)) is not None:
                out.add(id(name))
    return out


def fit_rules(rows: list[Record], ratios: dict[str, float], doubted: set[int] | None = None
              ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, int]]]:
    """Thresholds per kind (printed and handwritten) from the records given (`ratios`: the variant
    ratio of each pair; `doubted`: ids of records the bot's cross-field checks send to the clerk anyway)."""
    doubted = doubted or set()
    rules: dict[str, dict[str, Any]] = {}
    counts: dict[str, dict[str, int]] = {}
    for kind in sorted({r.kind for r in rows}):
        rule: dict[str, Any] = {}
        for hand, prefix in ((False, ""), (True, "hand_")):
            mine = [r for r in rows if r.kind == kind and r.handwritten == hand]
            usable = []
            for r in mine:
                text = offered(r)
                if (parsed(r, text)[1] or not variant_ok(r, ratios) or (hand and unsettled_lookalike(text))
                        or (kind == "name" and r.sealed) or id(r) in doubted):
                    continue  # the validator, the variant check, a look-alike, a seal or the bot sends it to the clerk anyway
                usable.append((r, right(r, text)))
            alone_kinds = HAND_ALONE_KINDS if hand else ALONE_KINDS
            rule[f"{prefix}alone"] = fit_alone([(r.neural_conf, ok) for r, ok in usable]) if kind in alone_kinds else None
            agree, second = fit_agree([(r.neural_conf, r.second_conf, ok) for r, ok in usable if agrees(r)])
            rule[f"{prefix}agree"], rule[f"{prefix}second"] = agree, second
            counts[f"{kind}{'/hand' if hand else ''}"] = {"readings": len(mine), "validated": len(usable),
                                                          "wrong": sum(not ok for _, ok in usable)}
        rules[kind] = rule
    return rules, counts


def fit(records: Iterable[Record]) -> dict[str, Any]:
    """The policy's thresholds from the records given: grey pages at COARSE_BELOW_DPI or finer
    (``rules``), coarser ones (``coarse_rules``) and black-and-white ones (``bilevel_rules``),
    and the variant ratios, each fitted apart."""
    from ocr.trust import BILEVEL, COARSE, FINE, from_dict, scan_class

    rows = [r for r in records if not r.empty]
    result: dict[str, Any] = {"variant_ratio": None, "variant_ratios": {}, "variant_registers": {}}
    counts: dict[str, dict[str, int]] = {}
    doubted = unspaced_names(rows)
    for scans, prefix, suffix in ((FINE, "", ""), (COARSE, "coarse_", " (coarse)"),
                                  (BILEVEL, "bilevel_", " (black and white)")):
        ratios = fit_variant_ratios(rows, scans)
        result["variant_ratios"][scans] = ratios
        result[f"{prefix}rules"], mine = fit_rules(
            [r for r in rows if scan_class(r.dpi, r.bilevel) == scans],
            {b: v for b, v in ratios.items() if v is not None}, doubted)
        result["variant_registers"][scans] = {b: fit_variant_register(rows, scans, b) for b in ratios}
        counts.update({f"{k}{suffix}": v for k, v in mine.items()})
    result["dispute_ratio"] = result["dispute_marks_ratio"] = None
    result["dispute_ratios"] = fit_dispute_ratios(rows, from_dict(result))
    result["reading_settles"], result["reading_settled"] = fit_reading_settles(rows, from_dict(result))
    result["name_settles"], result["name_settled"] = fit_reading_settles(rows, from_dict(result), "name_settles")
    return {**result, "disputed_readings": sum(bool(r.disputes) for r in rows), "counts": counts}


def describe(records: list[Record], how: str) -> str:
    fonts = Counter(r.font for r in records)
    return (f"{how}; {len(records)} field readings, fonts {', '.join(sorted(fonts))}; "
            f"dpi {sorted({r.dpi for r in records})}; degradations {sorted({r.degradation for r in records})}; "
            f"target: 0 wrong registered (≥ {TARGET:.1%}), ≥ {SUPPORT} readings above each threshold; "
            f"fitted {date.today().isoformat()}")


def refit_dispute(path: Path, out: Path, note: str | None) -> None:
    """``dispute_ratios`` fitted on `path`'s records under the thresholds already in `out`."""
    from ocr.trust import from_dict

    current = json.loads(out.read_text(encoding="utf-8"))
    train = [r for r in load_records(path) if not r.held_out and not r.empty]
    current.update(dispute_ratio=None, dispute_marks_ratio=None)
    current["dispute_ratios"] = fit_dispute_ratios(train, from_dict(current))
    current["disputed_readings"] = sum(bool(r.disputes) for r in train)
    current["dispute_corpus"] = describe(train, note or f"records {path.name}")
    out.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(next(line for line in from_dict(current).table().splitlines() if line.startswith("Engines disagreeing")))
    print(f"on {current['disputed_readings']} disputed readings")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=Path, help="evidence records (JSON lines) from ocr_scan.py --records")
    ap.add_argument("--crops", action="store_true", help="draw the crop corpus in this machine's fonts")
    ap.add_argument("--count", type=int, default=12, help="crop corpus: samples per form")
    ap.add_argument("--given", type=int, default=1, help="crop corpus: given names drawn with each surname")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dpi", default="200,300")
    ap.add_argument("--save-records", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "ocr" / "trust.json")
    ap.add_argument("--note", help="how the records were made (stored with the thresholds)")
    ap.add_argument("--dispute-from", type=Path, help="refit only dispute_ratios on these records (which carry the "
                    "ink's judgement of disputed characters), keeping the other thresholds of --out")
    args = ap.parse_args()
    if args.dispute_from:
        refit_dispute(args.dispute_from, args.out, args.note)
        return
    if args.records:
        records, how = load_records(args.records), args.note or f"records {args.records.name}"
    elif args.crops:
        dpis = tuple(int(d) for d in args.dpi.split(","))
        records = crop_corpus(args.count, args.seed, dpis, CROP_FONTS, args.given)
        how = (f"crop corpus of benchmarks/ocr_evidence.py (seed {args.seed}, {args.count} samples per form and "
               f"every surname with {args.given} given name(s), each value drawn in each font)")
    else:
        ap.error("--records or --crops")
    if args.save_records:
        args.save_records.write_text("\n".join(r.as_json() for r in records) + "\n", encoding="utf-8")
    train = [r for r in records if not r.held_out]
    result = fit(train)
    result = {"corpus": describe(train, how), **result}
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    from ocr.trust import from_dict

    print(from_dict(result).table())
    print(json.dumps(result["counts"], ensure_ascii=False))


if __name__ == "__main__":
    main()
