"""The trust policy: when a value read from a scan is registered without a clerk's look.

One table, one row per field kind (``RULES``). A value is registered automatically only when its
field's validator accepts it (formats, check digits, 和暦, value lists, the bot's cross-field rules)
and, on top of that, the OCR evidence its row asks for holds:

- **alone** (dates, postal codes, phone numbers, numbers, amounts only: ``ALONE_KINDS``): PP-OCR's
  weakest character is at least this probable;
- **agree**: PP-OCR's weakest character is at least this probable, *and* Tesseract reads the same
  value after normalisation (``ocr.normalise.canonical``) with at least its ``second`` confidence;
- names: every character with a variant form (髙/高, 﨑/崎 …, ``ocr.variants``) is the form the
  engines read on its own ink by at least the ratio calibrated for its pair and scan class
  (``variant_ratios``; never in a handwritten name); where the ink prefers a variant the engines read
  as the common form (山﨑 drawn, 山崎 read), the variant is offered, and registered only on a printed
  page when it beats every other form by the ratio calibrated for its pair and scan class
  (``variant_registers``; ``variant_register`` and its coarse and bilevel kin where a calibration has
  none per pair) and the engines agree on the rest;
- a disagreement in a character or two of a printed name, フリガナ, address or other text (細 read
  where 紬 is drawn, ``ocr.dispute``): PP-OCR's reading is registered, under its ``agree`` threshold,
  when each disputed character's own ink prefers it over Tesseract's by the ratio calibrated for the
  page's scan class and the dispute's group (``dispute_ratios``: kanji against kanji, a voicing mark
  す/ず, or other characters; ``dispute_ratio`` and ``dispute_marks_ratio`` on fine pages where a
  calibration has none per group; never between one shape written in two scripts, 三/ミ or り/リ);
- a printed name the engines read differently, on a page of a scan class in ``reading_settles``:
  the bot registers PP-OCR's reading when the フリガナ registered beside it is one of its readings
  and not one of Tesseract's (山崎細 or 山崎 紬 beside ヤマザキ ツムギ: ``bots.readings.settles_name``), a
  cross-field check the calibration enables only where it was never wrong; and the other way, on a
  page of a scan class in ``name_settles``, a printed フリガナ the engines read differently in more than
  a voicing mark, when PP-OCR's reading is one of the registered name's readings and Tesseract's is not
  (ワタナベ タカシ or ワタナべベタカシ beside 渡辺 隆: ``bots.readings.settles_kana``);
- pages scanned below ``COARSE_BELOW_DPI`` (200 dpi) have a table of their own (``coarse``), and so
  have pages scanned in black and white (``bilevel``: faxes, a scanner's 白黒 mode; ``scan_class``).

Handwritten fields have their own thresholds (``hand_agree``; never one engine alone:
``HAND_ALONE_KINDS`` is empty). A threshold of None
means the evidence never suffices for that kind: the value is offered, pre-filled, to the clerk.
Every number is fitted by ``benchmarks/calibrate_ocr.py`` on a labelled corpus so that what is
registered was right on it (0 errors, target ≥ 99.9 %), and stored with a description of that
corpus in ``trust.json`` beside this module. Anything else goes to 要確認 with a reason.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kakari.model import LOW_CONFIDENCE
from ocr.dispute import DISPUTE_GROUPS, MARKS, group
from ocr.normalise import (
    canonical,
    fix_lookalikes,
    has_lookalike,
    kana_lookalikes,
    take_script,
    unsettled_lookalike,
)
from ocr.variants import VARIANTS, base_form

if TYPE_CHECKING:
    from ocr.reader import ZoneEvidence

CALIBRATION = Path(__file__).with_name("trust.json")

# field type (bots.fields) → the policy's kind; a template may say otherwise (ocr = { kind = "address" })
KIND_OF_TYPE = {
    "text": "text", "name": "name", "kana": "kana", "wareki_date": "date", "postal_code": "postal",
    "phone": "phone", "digits": "number", "my_number": "number", "corporate_number": "number",
    "amount": "amount", "checkbox": "mark", "choice": "mark",
}
# what the field's validator checks, per kind (the bots' field types and validate(); shown in the table)
VALIDATORS = {
    "text": "none beyond required (free text)",
    "address": "the template's 町名 list (ocr.places), then 丁目・番地・号 numbers",
    "name": "none beyond required; variant kanji judged on their ink",
    "kana": "katakana only (NOT_KATAKANA)",
    "date": "和暦 parses: era, year within the era, real month and day; bot: order of dates",
    "postal": "7 digits",
    "phone": "10 digits (fixed) or 11 (070/080/090/050)",
    "number": "digits only, length; check digit (個人番号, 法人番号); bot: length by insurance type",
    "amount": "a number; thousands separators in place",
    "mark": "ink added over the blank form (ocr.marks), one option per choice",
}
KINDS = tuple(VALIDATORS)
# kinds whose validator checks the value's form closely enough that PP-OCR may be trusted alone; in
# names, kana, text and addresses its confident errors (穂 read 穗, 凛 read 凜, a dropped 一, ェ read エ)
# pass every validator, so there a value needs both engines to agree
ALONE_KINDS = ("date", "postal", "phone", "number", "amount")
# handwriting: a single engine's confident misreads of hand-drawn digits keep the format (a 3 for an 8
# is still a phone number), so a handwritten value always needs both engines to agree
HAND_ALONE_KINDS: tuple[str, ...] = ()

# kinds whose disagreements in a character or two the ink may settle (ocr.dispute): both candidates
# can be drawn where the character stands (one shape in two scripts, 三/ミ or り/リ, is never settled)
DISPUTE_KINDS = ("name", "kana", "text", "address")
# kinds whose look-alikes in two scripts (り/リ, 三/ミ, 一/ー) take the script Tesseract read them in
SCRIPT_KINDS = ("name", "text", "address")
DISAGREE = "2つのOCRの読みが一致しません"
UNSURE = LOW_CONFIDENCE
VARIANT = "異体字 (髙・﨑 など) の可能性があります: 原本で確認してください"
SEAL = "印影が氏名に重なっています: 原本で確認してください"
HANDWRITTEN = "手書き欄: 読み取った値を確認してください"
NO_EVIDENCE = "手書き欄のため目視確認が必要です"
# pages scanned below the usual 300 dpi lose strokes and dakuten that both engines then misread alike,
# and black-and-white ones (faxes) lose more, with every grey edge the engines' confidence reads:
# each has thresholds of its own (``Policy.coarse``, ``Policy.bilevel``), fitted on such pages alone
COARSE_BELOW_DPI = 300.0
FINE, COARSE, BILEVEL = "fine", "coarse", "bilevel"
SCAN_CLASSES = (FINE, COARSE, BILEVEL)
CONFIDENT = 0.85  # confidence shown for a registered value (the templates' min_confidence is 0.80)
DOUBT = 0.79  # the most a value sent to the clerk shows


@dataclass(frozen=True)
class Rule:
    """One row of the table (None: that evidence never suffices for this kind)."""

    kind: str
    alone: float | None = None
    agree: float | None = None
    second: float = 1.01
    hand_alone: float | None = None
    hand_agree: float | None = None
    hand_second: float = 1.01


@dataclass(frozen=True)
class Decision:
    text: str  # the reading to parse and offer (look-alikes fixed, a variant offered)
    registered: bool
    problem: str | None  # why not, for the clerk (None when registered or the validator said it)
    confidence: float


@dataclass(frozen=True)
class Policy:
    rules: dict[str, Rule]  # grey pages scanned at COARSE_BELOW_DPI or finer
    variant_ratio: float  # the form read beats each other form on its ink by at least this (every pair, class)
    corpus: str  # what the thresholds were fitted on
    coarse: dict[str, Rule] = field(default_factory=dict)  # grey pages scanned below COARSE_BELOW_DPI
    # printed names on fine pages: the variant the ink prefers (both engines read the common form)
    # beats every other form by at least this
    variant_register: float = float("inf")
    # the same on pages scanned below COARSE_BELOW_DPI, fitted on such pages
    coarse_variant_register: float = float("inf")
    # printed fields of DISPUTE_KINDS on fine pages the engines read differently in a character or
    # two: the ink prefers PP-OCR's character at each disputed place by at least this
    dispute_ratio: float = float("inf")
    # the same where the disputed characters differ only by a voicing mark (す/ず): the mark is small
    # beside the whole character, so its ink is judged against a ratio of its own
    dispute_marks_ratio: float = float("inf")
    bilevel: dict[str, Rule] = field(default_factory=dict)  # pages scanned in black and white
    bilevel_variant_register: float = float("inf")  # variant_register on such pages
    # scan classes in which a printed name's disagreement is settled by its registered フリガナ
    reading_settles: tuple[str, ...] = ()
    # per scan class and common form (高, 崎 …): variant_ratio fitted for that pair on such pages alone
    variant_ratios: dict[str, dict[str, float]] = field(default_factory=dict)
    # per scan class and common form: variant_register (and its coarse, bilevel kin) for that pair alone
    variant_registers: dict[str, dict[str, float]] = field(default_factory=dict)
    # per scan class and dispute group (ocr.dispute.group): dispute_ratio fitted on such pages and disputes alone
    dispute_ratios: dict[str, dict[str, float]] = field(default_factory=dict)
    # scan classes in which a printed フリガナ's disagreement is settled by its registered name's reading
    name_settles: tuple[str, ...] = ()

    def rule(self, kind: str, dpi: float = COARSE_BELOW_DPI, bilevel: bool = False) -> Rule:
        table = {FINE: self.rules, COARSE: self.coarse, BILEVEL: self.bilevel}[scan_class(dpi, bilevel)]
        return table.get(kind) or Rule(kind)

    def register_ratio(self, dpi: float, bilevel: bool, char: str = "") -> float:
        """``variant_register`` of a page's scan class, that of `char`'s pair where it was fitted apart."""
        cls = scan_class(dpi, bilevel)
        fallback = {FINE: self.variant_register, COARSE: self.coarse_variant_register,
                    BILEVEL: self.bilevel_variant_register}[cls]
        return self.variant_registers.get(cls, {}).get(base_form(char), fallback)

    def accept_ratio(self, char: str, dpi: float, bilevel: bool) -> float:
        """How clearly the ink must prefer `char` (read in a printed name) over its other forms."""
        return self.variant_ratios.get(scan_class(dpi, bilevel), {}).get(base_form(char), self.variant_ratio)

    def dispute_ratio_of(self, group: str, dpi: float, bilevel: bool) -> float:
        """How clearly the ink must prefer PP-OCR's characters in a dispute of `group` on such a page
        (a calibration without ratios per group trusts the ink on fine pages only)."""
        cls = scan_class(dpi, bilevel)
        fallback = float("inf") if cls != FINE else self.dispute_marks_ratio if group == MARKS else self.dispute_ratio
        return self.dispute_ratios.get(cls, {}).get(group, fallback)

    def decide(self, kind: str, ev: ZoneEvidence, handwritten: bool, valid: Callable[[str], bool]) -> Decision:
        """The policy applied to one zone's evidence; `valid` runs the field's validator on a text."""
        n = ev.neural_conf
        if ev.empty:  # no ink left after cleaning (dust below the limit is dropped): nothing written
            return Decision("", True, None, 1.0)
        said = text = offered(kind, ev.text)  # said: what the engines are asked to agree on
        if kind == "name" and ev.sealed:  # its ink may be read as the name's, by both engines alike
            return Decision(text, False, SEAL, min(DOUBT, n))
        unsettled = unsettled_lookalike(text)
        if kind in SCRIPT_KINDS and has_lookalike(text):
            # 三一ト or ミート: offered in the script Tesseract read; the engines are still compared on what
            # PP-OCR read, so this offers the value right but never registers it on its own
            text = take_script(text, offered(kind, ev.second().text))
        if kind == "name":
            for c in ev.variants():
                if c.best != c.read:  # the ink prefers another form (山崎 read, 﨑 drawn)
                    text = text[: c.index] + c.best + text[c.index + 1:]
                    if handwritten or c.ratio < self.register_ratio(ev.dpi, ev.bilevel, c.read):
                        return Decision(text, False, VARIANT, min(DOUBT, n))
                elif handwritten or c.ratio < self.accept_ratio(c.read, ev.dpi, ev.bilevel):
                    return Decision(text, False, VARIANT, min(DOUBT, n))
        if not valid(text):
            return Decision(text, False, None, min(DOUBT, n))
        if handwritten and unsettled:  # みどリフーズ: both engines may share the hand's doubt
            return Decision(text, False, HANDWRITTEN, min(DOUBT, n))
        r = self.rule(kind, ev.dpi, ev.bilevel)
        alone, agree, second = (r.hand_alone, r.hand_agree, r.hand_second) if handwritten else (
            r.alone, r.agree, r.second)
        if alone is not None and n >= alone and kind in (HAND_ALONE_KINDS if handwritten else ALONE_KINDS):
            return Decision(text, True, None, registered_confidence(n))
        if agree is not None and n >= agree:
            s = ev.second()
            if agree_on(kind, ev.kind, said, s.text) and s.raw >= second:
                return Decision(text, True, None, registered_confidence(n))
            if not handwritten and self.settled_by_ink(kind, ev):
                return Decision(text, True, None, registered_confidence(n))
            return Decision(text, False, HANDWRITTEN if handwritten else DISAGREE, min(DOUBT, n))
        # floored, so a value just below its threshold never shows as 1.00
        return Decision(text, False, HANDWRITTEN if handwritten else UNSURE.format(math.floor(n * 100) / 100),
                        min(DOUBT, n))

    def settles_by_reading(self, dpi: float, bilevel: bool) -> bool:
        """May a registered フリガナ settle a disagreement in its name on such a page?"""
        return scan_class(dpi, bilevel) in self.reading_settles

    def settles_by_name(self, dpi: float, bilevel: bool) -> bool:
        """May a registered name settle a disagreement in its フリガナ on such a page?"""
        return scan_class(dpi, bilevel) in self.name_settles

    def settled_by_ink(self, kind: str, ev: ZoneEvidence) -> bool:
        """A printed disagreement the ink settles for PP-OCR at every disputed character."""
        if kind not in DISPUTE_KINDS or all(math.isinf(self.dispute_ratio_of(g, ev.dpi, ev.bilevel))
                                            for g in DISPUTE_GROUPS):
            return False  # (before the ink is asked: judging it draws every candidate)
        checks = ev.disputes()
        if not checks or any(c.drawn_alike or c.best != c.neural for c in checks):
            return False
        return min(c.ratio for c in checks) >= self.dispute_ratio_of(group(checks), ev.dpi, ev.bilevel)

    def table(self) -> str:
        """The policy as a Markdown table (README, ``kakari doctor``)."""
        def t(v: float | None) -> str:
            return "never" if v is None else f"{v:.3f}"

        def both(a: float | None, sec: float) -> str:
            return "never" if a is None else f"{a:.3f} ({sec:.2f})"

        lines = [f"| kind | validator | alone: PP-OCR ≥ | agree: PP-OCR ≥ (Tesseract ≥) | handwritten agree "
                 f"(Tesseract ≥) | below {COARSE_BELOW_DPI:.0f} dpi: alone | agree | handwritten agree | "
                 "black and white (fax): alone | agree | handwritten agree |",
                 "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for kind in KINDS:
            cells = [f"{t(r.alone)} | {both(r.agree, r.second)} | {both(r.hand_agree, r.hand_second)}"
                     for r in (self.rule(kind), self.rule(kind, 0.0), self.rule(kind, bilevel=True))]
            lines.append(f"| {kind} | {VALIDATORS[kind]} | {' | '.join(cells)} |")
        def ratio(v: float) -> str:
            return "never" if math.isinf(v) else f"×{v:.3f}"

        page = {FINE: (COARSE_BELOW_DPI, False), COARSE: (0.0, False), BILEVEL: (COARSE_BELOW_DPI, True)}  # (dpi, bilevel)

        def pairs(ratio_of: Callable[[str, float, bool], float], cls: str) -> str:
            dpi, bilevel = page[cls]
            ok = [f"{b} {ratio(v)}" for b in VARIANTS if not math.isinf(v := ratio_of(b, dpi, bilevel))]
            return ", ".join(ok) or "none"

        def accepted(cls: str) -> str:
            return pairs(self.accept_ratio, cls)

        def registered(cls: str) -> str:
            return pairs(lambda b, dpi, bilevel: self.register_ratio(dpi, bilevel, b), cls)

        lines.append(f"\nVariant kanji in names: the form both engines read is accepted (printed) when its ink "
                     f"beats each other form by the ratio of its pair, every other pair goes to the clerk: "
                     f"{accepted(FINE)} ({accepted(COARSE)} below {COARSE_BELOW_DPI:.0f} dpi, "
                     f"{accepted(BILEVEL)} in black and white); a variant the ink prefers while both engines read the "
                     f"common form is registered (printed) when it beats every other form by the ratio of its pair: "
                     f"{registered(FINE)} ({registered(COARSE)} below {COARSE_BELOW_DPI:.0f} dpi, "
                     f"{registered(BILEVEL)} in black and white).")
        def disputes(cls: str) -> str:
            dpi, bilevel = page[cls]
            return ", ".join(f"{g} {ratio(self.dispute_ratio_of(g, dpi, bilevel))}" for g in DISPUTE_GROUPS)

        lines.append(f"Engines disagreeing in a character or two ({', '.join(DISPUTE_KINDS)}, printed): PP-OCR's "
                     f"reading is registered when each disputed character's ink prefers it by the ratio of the "
                     f"dispute's group (kanji against kanji; other characters; a voicing mark, す/ず): "
                     f"{COARSE_BELOW_DPI:.0f} dpi or finer {disputes(FINE)}; below {COARSE_BELOW_DPI:.0f} dpi "
                     f"{disputes(COARSE)}; black and white {disputes(BILEVEL)}.")
        settles = ", ".join(self.reading_settles) or "never"
        by_name = ", ".join(self.name_settles) or "never"
        lines.append(f"A printed name the engines read differently is registered with PP-OCR's reading when the "
                     f"registered フリガナ is one of that reading's readings and not one of Tesseract's: {settles}; a printed "
                     f"フリガナ the engines read differently (in more than a voicing mark), when PP-OCR's reading is one of "
                     f"the registered name's readings and Tesseract's is not: {by_name}. Fitted on: {self.corpus}")
        return "\n".join(lines)


def scan_class(dpi: float, bilevel: bool = False) -> str:
    """Which table a page's readings are judged by: black and white (whatever its resolution), else
    by the resolution it was scanned at."""
    if bilevel:
        return BILEVEL
    return FINE if dpi >= COARSE_BELOW_DPI else COARSE


def offered(kind: str, text: str) -> str:
    """The reading offered for a field of policy `kind`: look-alikes settled by their neighbours in
    words (names, addresses, text), kanji drawn like katakana read as katakana in a フリガナ,
    untouched where the validator reads every character."""
    if kind == "kana":
        return kana_lookalikes(text)
    return fix_lookalikes(text) if kind in ("text", "address", "name") else text


def agree_on(kind: str, read_kind: str, text: str, second: str) -> bool:
    """Does Tesseract's `second` reading say the same as the offered `text` (read as `read_kind`)?"""
    return canonical(offered(kind, second), read_kind) == canonical(text, read_kind)


def registered_confidence(n: float) -> float:
    """The confidence shown for a registered value whose PP-OCR confidence is `n`."""
    return round(CONFIDENT + (1.0 - CONFIDENT) * max(0.0, min(1.0, n)), 4)


def policy_kind(field_type: str, hint: str | None = None) -> str:
    """The policy's kind for a field: the template's ``ocr.kind`` if given, else by its type."""
    if hint:
        if hint not in VALIDATORS:
            raise ValueError(f"unknown OCR field kind {hint!r}; known: {', '.join(KINDS)}")
        return hint
    return KIND_OF_TYPE.get(field_type, "text")


def from_dict(data: dict[str, Any]) -> Policy:
    def table(rows: dict[str, Any]) -> dict[str, Rule]:
        return {kind: Rule(kind, **{k: row[k] for k in Rule.__dataclass_fields__ if k in row and k != "kind"})
                for kind, row in rows.items()}

    rules = table(data.get("rules", {}))
    coarse = table(data["coarse_rules"]) if "coarse_rules" in data else rules
    # a calibration without a black-and-white table judges such pages as coarse ones
    bilevel = table(data["bilevel_rules"]) if "bilevel_rules" in data else coarse
    def num(v: Any) -> float:
        return float("inf") if v is None else float(v)

    corpus = str(data.get("corpus", "")) + (f"; dispute_ratio on: {data['dispute_corpus']}"
                                            if data.get("dispute_corpus") else "")
    return Policy(rules, num(data.get("variant_ratio")), corpus, coarse,
                  num(data.get("variant_register")), num(data.get("coarse_variant_register")),
                  num(data.get("dispute_ratio")), num(data.get("dispute_marks_ratio")), bilevel,
                  num(data.get("bilevel_variant_register", data.get("coarse_variant_register"))),
                  tuple(data.get("reading_settles") or ()),
                  *({cls: {b: num(v) for b, v in pairs.items()} for cls, pairs in (data.get(key) or {}).items()}
                    for key in ("variant_ratios", "variant_registers", "dispute_ratios")),
                  tuple(data.get("name_settles") or ()))


@lru_cache(maxsize=4)
def load(path: Path = CALIBRATION) -> Policy:
    """The calibrated policy. Without a calibration file nothing scanned is registered automatically."""
    if not path.is_file():
        return Policy({}, float("inf"), "(not calibrated: every scanned value goes to 要確認)", {})
    return from_dict(json.loads(path.read_text(encoding="utf-8")))
