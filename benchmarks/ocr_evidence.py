"""Evidence records: for every scanned text field, what each engine read, how sure it was, whether
the validator accepted it, and the truth. The calibration (``calibrate_ocr.py``) fits the trust
policy's thresholds on them; the benchmark (``ocr_scan.py``) replays the policy on held-out fonts.

Records come from whole documents (``from_document``: a scanned form read by kakari, with its
ground-truth JSON) or from zone crops drawn here in any font (``crop_corpus``: each field value of
the synthetic samples drawn in a font at a resolution with a degradation, as it reaches the reader
after registration), which needs no page generator and covers many fonts quickly.
"""
from __future__ import annotations

import json
import random
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kakari.fonts import find_font

FORMS = ("child_medical", "restaurant_permit")

# fonts for the crop corpus: (name, file, kind, held out), found by file name in the platform's font
# folders (kakari.fonts); one that is not installed is left out. Held-out fonts are never used to fit
# anything (they stand for the fonts of a town nobody here has seen).
_CROP_FONT_FILES: tuple[tuple[str, str, str, bool], ...] = (
    ("ipa-gothic", "ipag.ttf", "printed", False),
    ("ipa-mincho", "ipam.ttf", "printed", False),
    ("ipaex-gothic", "ipaexg.ttf", "printed", False),
    ("noto-sans", "NotoSansCJK-Regular.ttc", "printed", False),
    ("noto-serif", "NotoSerifCJK-Regular.ttc", "printed", False),
    ("vl-gothic", "VL-Gothic-Regular.ttf", "printed", False),
    ("takao-gothic", "TakaoGothic.ttf", "printed", False),
    ("takao-mincho", "TakaoMincho.ttf", "printed", False),
    ("sawarabi-gothic", "sawarabi-gothic-medium.ttf", "printed", False),
    ("sawarabi-mincho", "sawarabi-mincho-medium.ttf", "printed", True),
    ("mplus-1", "Mplus1-Regular.otf", "printed", True),
    ("klee-one", "KleeOne-Regular.ttf", "handwriting", False),
    ("kiloji", "kiloji.ttf", "handwriting", False),
    ("seto", "setofont.ttf", "handwriting", True),
)
CROP_FONTS: tuple[tuple[str, str, str, bool], ...] = tuple(
    (name, str(path), kind, held) for name, file, kind, held in _CROP_FONT_FILES if (path := find_font(file)))
DEGRADATIONS = ("clean", "blur", "noise", "jpeg")


@dataclass
class Record:
    """One scanned text field's evidence."""

    source: str  # document path or crop id
    font: str
    font_kind: str  # printed | handwriting
    held_out: bool
    dpi: float  # what the reader took the page's scan resolution to be (ZoneEvidence.dpi)
    degradation: str
    form: str
    field: str
    field_type: str
    kind: str  # the trust policy's kind
    handwritten: bool
    truth: Any
    neural: str
    neural_conf: float
    second: str
    second_conf: float
    variants: list[tuple[str, str, float]] = field(default_factory=list)  # (read, best, ratio)
    # the ink's judgement where the engines differ in a character or two (absent in older records)
    disputes: list[tuple[int, str, str, str, float]] = field(default_factory=list)  # (index, neural, second, best, ratio)
    empty: bool = False
    sealed: bool = False  # a seal's rim in the zone (absent in older records)
    bilevel: bool = False  # read from a black-and-white page (ZoneEvidence.bilevel; absent in older records)

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str)


def load_records(path: Path) -> list[Record]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            d["variants"] = [tuple(v) for v in d.get("variants", [])]
            out.append(Record(**d))
    return out


def evidence_fields(ev: Any) -> dict[str, Any]:
    """The parts of a ZoneEvidence a record keeps (Tesseract and the variant check always asked)."""
    second = ev.second()
    return {"neural": ev.text, "neural_conf": round(ev.neural_conf, 5), "second": second.text,
            "second_conf": round(second.raw, 4), "empty": ev.empty, "sealed": ev.sealed,
            "variants": [(c.read, c.best, round(min(c.ratio, 1e6), 3)) for c in ev.variants()],
            "disputes": [(c.index, c.neural, c.second, c.best, round(min(c.ratio, 1e6), 3)) for c in ev.disputes()]}


# =============================================================================================
# Zone crops drawn in a font
# =============================================================================================
def draw_value(text: str, font_path: str, dpi: int, rng: random.Random, degradation: str,
               size_pt: float = 11.0) -> np.ndarray:
    """`text` printed at `size_pt` in a font, scanned at `dpi` with a degradation, resampled to
    300 dpi as registration does: a grey zone crop."""
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    px = max(8, round(size_pt / 72 * dpi))
    font = ImageFont.truetype(font_path, px)
    w = int(font.getlength(text)) + 4 * px
    im = Image.new("L", (w, px * 3), 255)
    ImageDraw.Draw(im).text((2 * px, px), text, fill=0, font=font)
    a = np.asarray(im, dtype=np.float32)
    if degradation == "blur":
        a = cv2.GaussianBlur(a, (0, 0), rng.uniform(0.6, 1.2))
    if degradation in ("noise", "jpeg"):
        a = a + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(4, 10), a.shape)
    a = np.clip(a, 0, 255).astype(np.uint8)
    if degradation == "jpeg":
        _, buf = cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(50, 75)])
        a = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    f = 300.0 / dpi
    return cv2.resize(a, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR) if f != 1 else a


def covers(font_path: str, text: str) -> bool:
    """Does the font have a glyph for every character of `text`? (A form printed on a PC falls back to
    another font for the rest; a crop drawn here would show an empty box instead.)"""
    return all(ch.isspace() or ord(ch) in _cmap(font_path) for ch in text)


_cmaps: dict[str, set[int]] = {}


def _cmap(path: str) -> set[int]:
    if path not in _cmaps:
        from fontTools.ttLib import TTFont

        font = TTFont(path, fontNumber=0, lazy=True)
        _cmaps[path] = set(font.getBestCmap() or {})
    return _cmaps[path]


def name_values(seed: int, given: int = 1) -> list[tuple[str, str, str]]:
    """(form, field, written) for every surname of the samples (variant kanji both ways) with
    `given` given names, each name followed by its フリガナ: the names a corpus of a few dozen forms
    would hold too few of."""
    from samples.generate import GIVEN_NAMES, SURNAMES

    rng = random.Random(seed)
    out = []
    for surname, kana in SURNAMES:
        for first, first_kana in (rng.sample(GIVEN_NAMES, given) if given > 1 else [rng.choice(GIVEN_NAMES)]):
            out.append(("child_medical", "guardian_name", f"{surname}\u3000{first}"))
            out.append(("child_medical", "guardian_kana", f"{kana}\u3000{first_kana}"))
    return out


def crop_corpus(count: int, seed: int, dpis: tuple[int, ...], fonts: tuple[tuple[str, str, str, bool], ...]
                = CROP_FONTS, given: int = 1) -> list[Record]:
    """Every text field of `count` samples per form, and every surname with `given` given names
    (``name_values``), drawn in each font × dpi × a degradation."""
    import bots
    from bots.base import parse_checked
    from bots.fields import field_type
    from ocr.ppocr import recogniser
    from ocr.reader import ScanReader
    from ocr.tesseract import find_tessdata
    from ocr.trust import policy_kind
    from ocr.zones import clean_crop
    from samples.generate import make_sample, plan

    rec = recogniser()
    tessdata = find_tessdata()
    reader = ScanReader(np.full((8, 8), 255, np.uint8), 300, rec, tessdata)  # reads crops as on a page
    out: list[Record] = []
    values: list[tuple[str, int, str, str, Any]] = []  # (form, index, field, written, truth)
    for form in FORMS:
        for i, defect in enumerate(plan(form, count, seed), start=1):
            if not defect:
                sample = make_sample(form, i, seed, defect)
                values += [(form, i, f, w, sample.truth.get(f)) for f, w in sample.written.items()]
    for k, (form, fname, written) in enumerate(name_values(seed, given)):
        spec = bots.registry.get(form).template.fields[fname]
        # numbered below 0, a surname's name and フリガナ share an id apart from the forms' samples
        values.append((form, -1 - k // 2, fname, written, parse_checked(written, spec)[0]))
    for name, path, kind, held in fonts:
        if not Path(path).is_file():
            continue
        for form, i, fname, written, truth in values:
            spec = bots.registry.get(form).template.fields.get(fname)
            if spec is None or not written or field_type(spec.type).reads_mark or not covers(path, written):
                continue
            read_kind = field_type(spec.type).read_kind
            rng = random.Random(f"{seed}/{name}/{form}/{i}/{fname}/{written}")
            dpi, deg = rng.choice(dpis), rng.choice(DEGRADATIONS)
            clean = clean_crop(draw_value(written, path, dpi, rng, deg), None)
            if clean.image is None:
                continue
            [ev] = reader.evidence([(clean.image, read_kind)])
            out.append(Record(f"{seed}/{form}/{i}/{fname}", name, kind, held, dpi, deg, form, fname, spec.type,
                              policy_kind(spec.type, spec.ocr.get("kind")), kind == "handwriting", truth,
                              **evidence_fields(ev)))
    return out


# =============================================================================================
# The policy replayed on records (what production would decide with given thresholds)
# =============================================================================================
@dataclass
class Replayed:
    """A record's evidence in the shape the trust policy reads (ocr.reader.ZoneEvidence's)."""

    kind: str
    text: str
    neural_conf: float
    empty: bool
    _second: Any
    _variants: list[Any]
    dpi: float = 300.0
    _disputes: list[Any] = field(default_factory=list)
    sealed: bool = False
    bilevel: bool = False

    def second(self) -> Any:
        return self._second

    def variants(self) -> list[Any]:
        return self._variants

    def disputes(self) -> list[Any]:
        return self._disputes


def evidence_of(r: Record) -> Replayed:
    """A record's evidence as the reader gave it to the trust policy and the bot."""
    from bots.fields import field_type
    from ocr.dispute import DisputeCheck
    from ocr.tesseract import ZoneText
    from ocr.variants import VariantCheck

    return Replayed(field_type(r.field_type).read_kind, r.neural, r.neural_conf, r.empty,
                    ZoneText(r.second, r.second_conf),
                    [VariantCheck(i, read, best, ratio) for i, (read, best, ratio) in
                     zip(_variant_positions(r.neural), r.variants)], r.dpi,
                    [DisputeCheck(*d) for d in r.disputes], r.sealed, r.bilevel)


def decision(r: Record, policy: Any) -> Any:
    """The policy's ``Decision`` on a record's evidence (problem None and not registered: the
    field's validator refused the reading)."""
    from bots.base import check_scanned

    spec = _spec(r)
    return policy.decide(r.kind, evidence_of(r), r.handwritten, lambda text: not check_scanned(text, spec)[1])


def replay(r: Record, policy: Any) -> tuple[bool, str, Any, bool]:
    """(registered, offered text, its parsed value, right) for a record under `policy`."""
    from bots.base import offer_scanned

    d = decision(r, policy)
    text, value, _ = offer_scanned(d.text, _spec(r))
    ok = value == r.truth and type(value) is type(r.truth)
    return d.registered, text, value, ok


def document_of(r: Record) -> tuple[str, str]:
    """(font, id) of the document a record was read from: its page, or its crop corpus sample."""
    suffix = f"/{r.field}"
    return r.font, r.source[: -len(suffix)] if r.source.endswith(suffix) else r.source


def documents(records: Iterable[Record]) -> list[dict[str, Record]]:
    """The records grouped by the document they were read from (``document_of``), field → record."""
    out: dict[tuple[str, str], dict[str, Record]] = {}
    for r in records:
        out.setdefault(document_of(r), {})[r.field] = r
    return list(out.values())


def replay_document(recs: dict[str, Record], policy: Any, flagged: Collection[str] = ()
                    ) -> tuple[dict[str, tuple[bool, str, Any, bool]], list[str]]:
    """One document's records (field → record) under `policy`, with the bot's checks of names and
    their フリガナ (``bots.base.check_reading``, ``settle_name``, ``settle_kana``, ``check_space``): field →
    (registered, offered text, value, right), and the names their フリガナ settled and the フリガナ their
    names settled. `flagged`: fields the bot doubted for reasons of its own (a flagged field settles nothing)."""
    from bots.base import check_reading, check_space, settle_kana, settle_name
    from kakari.model import Field

    def field_of(name: str) -> Field:
        """The field as the policy left it: doubted (by its decision, or by the bot) unless registered."""
        reg, text, value, _ok = out[name]
        doubts = ([] if reg else [decision(recs[name], policy).problem or "validator"]) + (
            ["bot"] if name in flagged else [])
        return Field(name, _spec(recs[name]).label, value=value, raw=text, problems=doubts)

    def result(f: Field) -> tuple[bool, str, Any, bool]:
        r = recs[f.name]
        return not f.problems, f.raw, f.value, f.value == r.truth and type(f.value) is type(r.truth)

    out = {name: replay(r, policy) for name, r in recs.items()}
    settled = []
    for name, r in recs.items():
        spec, named = _spec(r), _spec(r).reading_of
        if not named or named not in recs:
            continue
        kana, person = field_of(name), field_of(named)
        check_reading(kana, person, lambda r=r: r.second, spec)
        for f, other, ev, settle, f_spec in ((person, kana, evidence_of(recs[named]), settle_name, _spec(recs[named])),
                                             (kana, person, evidence_of(r), settle_kana, spec)):
            doubted = bool(f.problems)
            settle(f, other, ev, f_spec, policy)
            if doubted and not f.problems:
                settled.append(f.name)
        out[name] = result(kana)
        check_space(person, kana, _spec(recs[named]))
        out[named] = result(person)
    return out, settled


def _variant_positions(text: str) -> list[int]:
    from ocr.variants import candidates

    return [i for i, ch in enumerate(text) if candidates(ch)]


_specs: dict[tuple[str, str], Any] = {}


def _spec(r: Record) -> Any:
    import bots

    key = (r.form, r.field)
    if key not in _specs:
        _specs[key] = bots.registry.get(r.form).template.fields[r.field]
    return _specs[key]
