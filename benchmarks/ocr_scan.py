"""Scanned forms in many fonts: kakari (PP-OCR + Tesseract under the trust policy) against plain
full-page ``tesseract -l jpn``, on the same pages, in one run; the policy calibrated without each
font and measured on it.

    python benchmarks/ocr_scan.py [--count 4] [--fonts a,b,…] [--dpi 200,300] [--fax] [--workers 2]
                                  [--crops 12] [--no-write]

1. Documents: ``count`` filled forms per bot and font (values printed in that font by
   ``samples.generate``; fonts it cannot draw with are skipped), scanned at each dpi (and as a fax
   with ``--fax``). kakari reads them in ``workers`` processes (``read_document → classify →
   bot.read``); plain Tesseract reads the same page images in as many processes (its words put into
   the template's zones by position). Pages per minute compare the two, wall clock, same run.
2. Evidence: after the timed read, every text field's evidence is recorded (Tesseract and the
   variant check asked everywhere), and, with ``--crops``, the crop corpus of
   ``benchmarks/ocr_evidence.py`` adds every field value drawn in each font of this machine.
3. Leave one font out: for each font, the policy is fitted (``calibrate_ocr.fit``) on the other
   fonts' records (held-out fonts never used), then replayed on this font's: field exact-match (the
   value offered or registered), registered_wrong (wrong values registered in a document that needs
   no review), unflagged_wrong (wrong values without a doubt mark in a document sent to 要確認),
   clean documents sent to 要確認. Handwriting-style fonts: fields offered exactly right, and the
   precision of what is registered.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ["OMP_THREAD_LIMIT"] = "1"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ocr_evidence import FORMS, Record, documents, evidence_fields, replay_document  # noqa: E402
from benchmarks.results import write_section  # noqa: E402

TITLE = "Scanned forms (OCR)"
POLICY_PROBLEMS = ("2つのOCRの読みが一致しません", "読み取りの確信度が低い", "異体字", "手書き欄")


# =============================================================================================
# One document through kakari (runs in a worker process)
# =============================================================================================
@dataclass
class FieldResult:
    name: str
    kind: str  # read kind, or "mark"
    got: Any
    want: Any
    problems: list[str]
    auto: bool  # registered without a person as the run decided (production policy)
    other: bool  # a problem that is not the OCR policy's (validator, cross-field, marks)

    @property
    def ok(self) -> bool:
        return self.got == self.want and type(self.got) is type(self.want)


@dataclass
class DocResult:
    path: str
    form: str
    font: str
    font_kind: str
    held_out: bool
    dpi: int
    profile: str
    defect: str | None
    bot: str | None
    status: str
    seconds: float
    fields: list[FieldResult]
    records: list[dict[str, Any]] = field(default_factory=list)
    rss_mb: float = 0.0
    evidence_s: float = 0.0  # recording the full evidence after the read (not production work)


def run_kakari(path: str) -> DocResult:
    import bots
    from bots.fields import field_type
    from kakari.config import KakariConfig
    from kakari.errors import DocumentError
    from ocr import read_document

    truth = json.loads(Path(path).with_suffix(".json").read_text(encoding="utf-8"))
    meta = truth.get("bench", {})
    t0 = time.perf_counter()
    bot_name, status, results, doc, rec = None, "エラー", [], None, None
    try:
        doc = read_document(Path(path), KakariConfig(), doc_id=Path(path).stem)
        bot_cls, _ = bots.classify(doc, [bots.registry.get(f) for f in FORMS])
        rec = bot_cls().read(doc)
        bot_name, status = bot_cls.name, str(rec.status)
    except DocumentError as e:
        results = [FieldResult(n, "?", None, v, [e.message], False, True) for n, v in truth["fields"].items()]
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    records: list[dict[str, Any]] = []
    if rec is not None and doc is not None:
        bot = bots.registry.get(bot_name)
        trace = {box: ev for page in doc.pages for box, _k, ev in getattr(page.reader, "trace", [])}
        for name, f in rec.fields.items():
            spec = bot.template.fields[name]
            ft = field_type(spec.type)
            other = any(not p.startswith(POLICY_PROBLEMS) for p in f.problems)
            auto = not f.problems and f.confidence >= rec.min_confidence
            results.append(FieldResult(name, "mark" if ft.reads_mark else ft.read_kind, f.value,
                                       truth["fields"].get(name), list(f.problems), auto, other))
            ev = trace.get(f.box)
            if ev is not None and not ft.reads_mark:
                from ocr.trust import policy_kind

                records.append(Record(path, meta.get("font", "?"), meta.get("font_kind", "printed"),
                                      meta.get("held_out", False), ev.dpi, meta.get("profile", "scanner"),
                                      truth["form"], name, spec.type, policy_kind(spec.type, spec.ocr.get("kind")),
                                      # values drawn in a handwriting-style font count as a
                                      # handwritten field, as a town marks a form residents fill in
                                      spec.handwritten or meta.get("font_kind") == "handwriting",
                                      truth["fields"].get(name), **evidence_fields(ev),
                                      bilevel=ev.bilevel).__dict__)
    return DocResult(path, truth["form"], meta.get("font", "?"), meta.get("font_kind", "printed"),
                     meta.get("held_out", False), truth["scan"]["dpi"], meta.get("profile", "scanner"),
                     truth["defect"], bot_name, status, seconds, results, records, rss,
                     time.perf_counter() - t0 - seconds)


# =============================================================================================
# One page through plain tesseract (runs in a worker process)
# =============================================================================================
def page_image(path: Path, tmp: Path) -> Path:
    """The file tesseract's CLI can open: PDFs rendered to PNG at their scan resolution (untimed)."""
    if path.suffix.lower() != ".pdf":
        return path
    import pypdfium2 as pdfium

    truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    dpi = truth["scan"]["dpi"]
    pdf = pdfium.PdfDocument(str(path))
    out = tmp / (path.parent.name + "_" + path.stem + f"_{dpi}.png")
    pdf[0].render(scale=dpi / 72).to_pil().save(out, dpi=(dpi, dpi))
    pdf.close()
    return out


def run_plain(args: tuple[str, str]) -> tuple[str, float, str, float]:
    """(path, seconds, tsv, peak MB of the tesseract process)."""
    path, image = args
    t0 = time.perf_counter()
    proc = subprocess.Popen(["tesseract", image, "-", "-l", "jpn", "--psm", "3", "tsv"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)  # reap it ourselves: wait4 also gives its peak memory
    proc.returncode = os.waitstatus_to_exitcode(status)
    return path, time.perf_counter() - t0, out.decode("utf-8", "replace"), usage.ru_maxrss / 1024


ROUNDS = 4  # kakari and plain Tesseract take turns on these many slices of the pages


def timed_alternately(scans: list[Path], images: dict[str, str], workers: int
                      ) -> tuple[list[DocResult], list[tuple[str, float, str, float]], float, float]:
    """Both readers on the same pages, taking turns slice by slice (kakari's worker pool kept
    throughout), so that load from other processes on a shared machine falls on both alike.
    Returns kakari's results, plain Tesseract's, and each one's wall clock; the evidence kakari
    records after each read (for the fit, not production work) is taken off its wall clock."""
    paths = [str(p) for p in scans]
    docs: list[DocResult] = []
    plain: list[tuple[str, float, str, float]] = []
    kakari_wall = plain_wall = 0.0
    step = max(1, -(-len(paths) // ROUNDS))
    with ProcessPoolExecutor(workers) as pool, ProcessPoolExecutor(workers) as plain_pool:
        for i in range(0, len(paths), step):
            part = paths[i:i + step]
            t0 = time.perf_counter()
            got = list(pool.map(run_kakari, part, chunksize=1))
            kakari_wall += time.perf_counter() - t0 - sum(d.evidence_s for d in got) / workers
            docs += got
            if images:
                t0 = time.perf_counter()
                plain += plain_pool.map(run_plain, [(p, images[p]) for p in part], chunksize=1)
                plain_wall += time.perf_counter() - t0
    return docs, plain, kakari_wall, plain_wall


def plain_fields(path: str, tsv: str) -> list[FieldResult]:
    """Words of the full-page OCR assigned to the template's zones by position (page mm = px/dpi)."""
    import bots
    from bots.fields import field_type, parse_value
    from kakari.model import Box
    from ocr.document import Word, join_chars

    truth = json.loads(Path(path).with_suffix(".json").read_text(encoding="utf-8"))
    bot = bots.registry.get(truth["form"])
    s = 25.4 / truth["scan"]["dpi"]
    words: list[Word] = []
    for line in tsv.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 12 or not cols[11].strip():
            continue
        x, y, w, h = (int(c) for c in cols[6:10])
        words.append(Word(cols[11], Box(1, x * s, y * s, w * s, h * s), max(0.0, float(cols[10])) / 100))
    results = []
    for name, spec in bot.template.fields.items():
        ft = field_type(spec.type)
        want = truth["fields"].get(name)
        if ft.reads_mark:
            results.append(FieldResult(name, "mark", False if spec.type == "checkbox" else None, want, [], False, True))
            continue
        box = spec.box.to_box() if spec.box is not None else _blank_zone(truth["form"], spec)
        raw = join_chars([w for w in words if box and box.contains_point(w.cx, w.cy)], space_gap=1.0) if box else ""
        value, problems = parse_value(raw.replace("\n", " "), spec)
        results.append(FieldResult(name, ft.read_kind, value, want, problems, False, bool(problems)))
    return results


def _blank_zone(form: str, spec: Any) -> Any:
    from kakari.config import LimitsConfig
    from ocr.document import find_in_chars
    from ocr.textlayer import read_textlayer

    if spec.anchor is None:
        return None
    page = read_textlayer(ROOT / "bots" / f"{form}.blank.pdf", "blank", LimitsConfig())[0]
    label = find_in_chars(page.chars, spec.anchor.text, 1)
    return spec.anchor.zone(label) if label else None


# =============================================================================================
# The corpus: documents per font (samples.corpus)
# =============================================================================================
def make_documents(tmp: Path, fonts: str, count: int, seed: int, dpis: tuple[int, ...], fax: bool,
                   jobs: int) -> list[Path]:
    """Scan-like pages of `count` forms per bot and font (``samples.corpus``); each truth JSON gets a
    "bench" entry (font, kind, held out, profile)."""
    from samples.corpus import build, choose_fonts

    profiles = ["scanner"] + (["fax"] if fax else [])
    index = build(tmp, choose_fonts(fonts), profiles, dpis, FORMS, count, seed, jobs)
    scans: list[Path] = []
    for entry in index["sets"]:
        if entry["profile"] not in profiles:
            continue
        for doc in entry["documents"]:
            path = tmp / entry["dir"] / doc["file"]
            truth_path = tmp / entry["dir"] / doc["truth"]
            truth = json.loads(truth_path.read_text(encoding="utf-8"))
            truth["bench"] = {"font": entry["font"], "font_kind": entry["kind"], "held_out": entry["held_out"],
                              "profile": entry["profile"]}
            truth_path.write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
            scans.append(path)
    return scans


# =============================================================================================
# Leave one font out
# =============================================================================================
def lofo(records: list[Record]) -> dict[str, Any]:
    """Per font: the policy fitted without it (and without held-out fonts), as a Policy."""
    from benchmarks.calibrate_ocr import fit
    from ocr.trust import from_dict

    out = {}
    for font in sorted({r.font for r in records}):
        train = [r for r in records if r.font != font and not r.held_out]
        out[font] = from_dict({**fit(train), "corpus": f"all but {font}"})
    return out


@dataclass
class Tally:
    docs: int = 0
    clean_docs: int = 0
    clean_review: int = 0
    review: int = 0
    fields: int = 0
    exact: int = 0
    registered_wrong: int = 0
    unflagged_wrong: int = 0
    auto: int = 0
    auto_wrong: int = 0

    def add_doc(self, fields: list[tuple[bool, bool, bool]], clean: bool) -> None:
        """fields: (right, registered by the policy, flagged otherwise) of each field."""
        review = any(not reg or other for _, reg, other in fields)
        self.docs += 1
        self.review += review
        self.clean_docs += clean
        self.clean_review += clean and review
        for right, reg, other in fields:
            self.fields += 1
            self.exact += right
            auto = reg and not other
            self.auto += auto
            self.auto_wrong += auto and not right
            if auto and not right:
                if review:
                    self.unflagged_wrong += 1
                else:
                    self.registered_wrong += 1


def replay_docs(docs: list[DocResult], policies: dict[str, Any]) -> dict[tuple[str, str, int], Tally]:
    """(font, profile, dpi) → tallies of the documents with each font's left-out policy."""
    out: dict[tuple[str, str, int], Tally] = defaultdict(Tally)
    for d in docs:
        policy = policies.get(d.font)
        recs = {r["field"]: Record(**{**r, "variants": [tuple(v) for v in r["variants"]]}) for r in d.records}
        fields = []
        replayed = replay_document(recs, policy, {f.name for f in d.fields if f.other})[0] if policy is not None else {}
        for f in d.fields:
            if f.name not in replayed:
                fields.append((f.ok, True, f.other or f.kind == "?"))
                continue
            reg, _text, _value, ok = replayed[f.name]
            fields.append((ok, reg, f.other))
        out[(d.font, d.profile, d.dpi)].add_doc(fields, d.defect is None)
    return out


REASONS = ("engines disagree", "low confidence", "variant kanji", "handwritten", "validator", "bot/marks")


def reason_of(d: Any, other: bool) -> str | None:
    """Why a field is in doubt (None: registered), from the policy's decision and the bot's problems."""
    from ocr import trust

    if other:
        return "bot/marks"
    if d is None or d.registered:
        return None
    p = d.problem or ""
    if p == trust.DISAGREE:
        return "engines disagree"
    if p == trust.VARIANT:
        return "variant kanji"
    if p in (trust.HANDWRITTEN, trust.NO_EVIDENCE):
        return "handwritten"
    return "validator" if not p else "low confidence"


def review_reasons(docs: list[DocResult], policies: dict[str, Any], profile: str = "scanner",
                   font_kind: str = "printed") -> tuple[dict[str, Counter[str]], dict[str, Counter[str]], int, int,
                                                       Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """Clean documents of `profile` in fonts of `font_kind`, each font under its left-out policy: per
    field kind, how many fields were registered or in doubt for each reason (``REASONS``), and per
    kind × reason, in how many documents that field was the only one in doubt. Also (clean
    documents, those to 要確認), and the same two counts per (form:field, reason)."""
    from benchmarks.ocr_evidence import decision

    per_kind: dict[str, Counter[str]] = defaultdict(Counter)
    sole: dict[str, Counter[str]] = defaultdict(Counter)
    per_field: Counter[tuple[str, str]] = Counter()
    sole_field: Counter[tuple[str, str]] = Counter()
    n_docs = n_review = 0
    for d in docs:
        if d.defect is not None or d.profile != profile or d.font not in policies or d.font_kind != font_kind:
            continue
        recs = {r["field"]: Record(**{**r, "variants": [tuple(v) for v in r["variants"]]}) for r in d.records}
        settled = replay_document(recs, policies[d.font], {f.name for f in d.fields if f.other})[1]
        doubts = []
        for f in d.fields:
            r = recs.get(f.name)
            kind = r.kind if r is not None else f.kind
            why = None if f.name in settled else reason_of(decision(r, policies[d.font]) if r is not None else None,
                                                           f.other or f.kind == "?")
            per_kind[kind][why or "registered"] += 1
            if why:
                doubts.append((kind, why, f"{d.form}:{f.name}"))
                per_field[(f"{d.form}:{f.name}", why)] += 1
        n_docs += 1
        n_review += bool(doubts)
        if len(doubts) == 1:
            sole[doubts[0][0]][doubts[0][1]] += 1
            sole_field[(doubts[0][2], doubts[0][1])] += 1
    return per_kind, sole, n_docs, n_review, per_field, sole_field


def replay_crops(records: list[Record], policies: dict[str, Any]) -> dict[tuple[str, str], Tally]:
    """(font, degradation) → field tallies of the crop corpus (each field counted alone, checked with
    the other fields of its sample as the bot checks a name with its フリガナ)."""
    out: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for recs in documents(records):
        replayed, _ = replay_document(recs, policies[next(iter(recs.values())).font])
        for name, r in recs.items():
            reg, _t, _v, ok = replayed[name]
            t = out[(r.font, r.degradation)]
            t.fields += 1
            t.exact += ok
            t.auto += reg
            t.auto_wrong += reg and not ok
    return out


# =============================================================================================
# Main
# =============================================================================================
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=4, help="forms per bot and font (each scanned at every dpi)")
    ap.add_argument("--fonts", default="all", help="all, printed, handwriting, or names (samples.fonts)")
    ap.add_argument("--dpi", default="200,300")
    ap.add_argument("--fax", action="store_true", help="also the fax profile (200×100 dpi, 1 bit)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--crops", type=int, default=0, help="crop corpus: samples per form (0: none)")
    ap.add_argument("--crop-records", type=Path, help="crop corpus records already made (calibrate_ocr.py --save-records)")
    ap.add_argument("--no-write", action="store_true", help="print only, do not touch RESULTS.md")
    ap.add_argument("--dump", type=Path, help="write the evidence records (JSON lines) here, and each document's "
                    "fields (status, problems) beside it (.docs.json)")
    ap.add_argument("--no-plain", action="store_true", help="skip plain full-page tesseract (no speed ratio)")
    ap.add_argument("--replay", type=Path, help="no reading: the policy refitted and replayed on a --dump of an "
                    "earlier run (same command otherwise; speed figures are not measured)")
    args = ap.parse_args()
    dpis = tuple(int(d) for d in args.dpi.split(","))
    if args.replay:
        print(report_replayed(args))
        return

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        t0 = time.perf_counter()
        scans = make_documents(tmp, args.fonts, args.count, args.seed, dpis, args.fax, args.workers)
        gen_s = time.perf_counter() - t0
        images = {} if args.no_plain else {str(p): str(page_image(p, tmp)) for p in scans}

        docs, plain, kakari_wall, plain_wall = timed_alternately(scans, images, args.workers)
        plain_rss = max((r for *_, r in plain), default=0.0)
        plain_by_path = {p: plain_fields(p, tsv) for p, _, tsv, _ in plain}

    records = [Record(**{**r, "variants": [tuple(v) for v in r["variants"]]}) for d in docs for r in d.records]
    crops: list[Record] = []
    if args.crops:
        from benchmarks.ocr_evidence import crop_corpus

        crops = crop_corpus(args.crops, args.seed + 1, dpis)
    elif args.crop_records:
        from benchmarks.ocr_evidence import load_records

        crops = load_records(args.crop_records)
    if args.dump:
        args.dump.write_text("\n".join(r.as_json() for r in records + crops) + "\n", encoding="utf-8")
        args.dump.with_suffix(".docs.json").write_text(json.dumps(
            [{**d.__dict__, "records": [], "fields": [f.__dict__ for f in d.fields]} for d in docs],
            ensure_ascii=False, default=str), encoding="utf-8")
    policies = lofo(records + crops)
    body = report(docs, plain_by_path, records, crops, policies, kakari_wall, plain_wall, plain_rss, args, gen_s)
    print(body)
    if not args.no_write:
        write_section(TITLE, body)


def report_replayed(args: argparse.Namespace) -> str:
    """The figures of a dumped run under the policy code and fit as they are now."""
    from benchmarks.ocr_evidence import load_records

    records_all = load_records(args.replay)
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records_all:
        by_source[r.source].append(r.__dict__)
    docs = []
    for d in json.loads(args.replay.with_suffix(".docs.json").read_text(encoding="utf-8")):
        d["fields"] = [FieldResult(**f) for f in d["fields"]]
        d["records"] = by_source.get(d["path"], [])
        docs.append(DocResult(**d))
    paths = {d.path for d in docs}
    records = [r for r in records_all if r.source in paths]
    crops = [r for r in records_all if r.source not in paths]
    if args.crop_records:
        crops += load_records(args.crop_records)
    policies = lofo(records + crops)
    return report(docs, {}, records, crops, policies, 1.0, 1.0, 0.0, args, 0.0)


def _pct(a: int, b: int) -> str:
    return f"{a / b:.1%}" if b else "—"


def report(docs: list[DocResult], plain: dict[str, list[FieldResult]], records: list[Record], crops: list[Record],
           policies: dict[str, Any], kakari_wall: float, plain_wall: float, plain_rss: float,
           args: argparse.Namespace, gen_s: float) -> str:
    pages = len(docs)
    by = replay_docs(docs, policies)
    lines = [
        f"{pages} scan-like pages: {args.count} forms × {len(FORMS)} bots per font, values printed in the font, "
        f"scanned at {args.dpi} dpi{' and as a fax (200×100 dpi, 1 bit)' if args.fax else ''} (rotation ±3°, "
        "offsets ≤ 5 mm, noise, blur, JPEG, faint toner, red seals, ~1 in 10 upside down). Each font's figures use "
        "the policy fitted **without that font** (leave one font out; held-out fonts are never fitted on). "
        f"kakari and plain Tesseract on {args.workers} worker processes, OMP_THREAD_LIMIT=1, seed {args.seed}.",
        "",
        "| font | scan | dpi | docs | field exact | registered_wrong | unflagged_wrong | clean docs → 要確認 "
        "| plain tesseract exact |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (font, profile, dpi), t in sorted(by.items()):
        kind = next((d.font_kind for d in docs if d.font == font), "printed")
        held = (" (handwriting)" if kind == "handwriting" else "") + (
            " (held out)" if any(d.held_out for d in docs if d.font == font) else "")
        pf = [f for d in docs if (d.font, d.profile, d.dpi) == (font, profile, dpi) for f in plain.get(d.path, [])]
        lines.append(f"| {font}{held} | {profile} | {dpi} | {t.docs} | **{_pct(t.exact, t.fields)}** "
                     f"| **{t.registered_wrong}** | {t.unflagged_wrong} | {_pct(t.clean_review, t.clean_docs)} "
                     f"| {_pct(sum(f.ok for f in pf), len(pf))} |")
    tot = Tally()
    for t in by.values():
        for k in tot.__dict__:
            setattr(tot, k, getattr(tot, k) + getattr(t, k))
    kakari_ppm, plain_ppm = pages / kakari_wall * 60, pages / max(plain_wall, 1e-9) * 60
    read_s = sum(d.seconds for d in docs) / max(1, pages)
    speed = [
        f"- Speed, wall clock, same run, {args.workers} processes, the two taking turns on {ROUNDS} slices of the pages: kakari **{kakari_ppm:.0f} pages/min** vs plain "
        f"full-page tesseract **{plain_ppm:.0f} pages/min** (**{kakari_ppm / plain_ppm:.2f}×**; the time spent "
        f"recording every field's full evidence for the fit, after each read, is taken off kakari's wall clock). "
        f"Mean per page in one worker (read, register, classify, every zone): {read_s:.2f} s.",
        f"- Peak memory: kakari worker process {max(d.rss_mb for d in docs):.0f} MiB (PP-OCR det+rec, Tesseract "
        f"jpn+eng+osd); plain tesseract process {plain_rss:.0f} MiB.",
        f"- Corpus generation (not timed above): {gen_s:.0f} s.",
    ] if plain else []
    lines += [
        "",
        f"- All documents: field exact {_pct(tot.exact, tot.fields)}; registered automatically "
        f"{tot.auto} fields, {tot.auto_wrong} wrong ({_pct(tot.auto - tot.auto_wrong, tot.auto)} right); "
        f"registered_wrong {tot.registered_wrong}, unflagged_wrong {tot.unflagged_wrong}; "
        f"clean documents to 要確認 {_pct(tot.clean_review, tot.clean_docs)}.",
        *speed,
    ]
    per_kind, sole, n_clean, n_review, per_field, sole_field = review_reasons(docs, policies)
    if n_clean:
        lines += ["", f"Why clean scanner documents in printed fonts go to 要確認 ({n_review} of {n_clean}; a document "
                  "goes when any field does; handwriting-style fonts always do): fields per kind by the reason they "
                  "are in doubt, each font under its left-out policy (in brackets: documents where that field was "
                  "the only one in doubt).", "",
                  "| kind | fields | registered | " + " | ".join(REASONS) + " |",
                  "|---|---:|---:|" + "---:|" * len(REASONS)]
        for kind, c in sorted(per_kind.items()):
            n = sum(c.values())
            cells = [f"{c[w]} ({sole[kind][w]})" if c[w] else "" for w in REASONS]
            lines.append(f"| {kind} | {n} | {_pct(c['registered'], n)} | " + " | ".join(cells) + " |")
        top = ", ".join(f"{field} {why} {n} ({sole_field[(field, why)]})" for (field, why), n in per_field.most_common(8))
        lines += ["", f"Top fields × reasons (fields, in brackets documents where it was the only doubt): {top}."]
    if crops:
        cb = replay_crops(crops, policies)
        lines += ["", f"Crop corpus ({len(crops)} field values drawn in each font at {args.dpi} dpi, one "
                  "degradation each: clean, blur, noise, JPEG; leave one font out):", "",
                  "| font | kind | fields | exact (offered) | registered | registered wrong |", "|---|---|---:|---:|---:|---:|"]
        per_font: dict[str, Tally] = defaultdict(Tally)
        kinds: dict[str, str] = {}
        for (font, _deg), t in cb.items():
            pf = per_font[font]
            pf.fields += t.fields
            pf.exact += t.exact
            pf.auto += t.auto
            pf.auto_wrong += t.auto_wrong
        for r in crops:
            kinds[r.font] = r.font_kind + (" (held out)" if r.held_out else "")
        for font, t in sorted(per_font.items()):
            lines.append(f"| {font} | {kinds[font]} | {t.fields} | {_pct(t.exact, t.fields)} | "
                         f"{_pct(t.auto, t.fields)} | **{t.auto_wrong}** |")
    lines += ["", f"Command: `python benchmarks/ocr_scan.py --count {args.count} --fonts {args.fonts} --dpi {args.dpi}"
              f"{' --fax' if args.fax else ''} --workers {args.workers}{f' --crops {args.crops}' if args.crops else ''}"
              f"{f' --crop-records {args.crop_records.name}' if args.crop_records else ''}"
              f"{' --no-plain' if not plain else ''}`"]
    if args.crop_records:
        # a crop's id starts with the seed its corpus was drawn with; the name corpora hold no form sample
        forms = sorted({int(seed) for seed, _f, i, *_ in (r.source.split("/") for r in crops) if int(i) > 0})
        names = sorted({int(r.source.split("/")[0]) for r in crops} - set(forms))
        lines.append(f"({args.crop_records.name}: the records of `python benchmarks/calibrate_ocr.py --crops "
                     f"--count 20 --dpi 200,300 --save-records …`, seeds {', '.join(map(str, forms))}"
                     + (f", and of `--crops --count 0 --given 8 …` (names only), seeds {', '.join(map(str, names))}"
                        if names else "") + ", one file after the other.)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
