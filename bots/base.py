"""Bot and FormBot: what a bot author subclasses. A FormBot is one .py plus the .toml beside it.

    class RestaurantPermit(FormBot):          # bots/restaurant_permit.py + restaurant_permit.toml
        def validate(self, rec: Record) -> Record:
            rec = super().validate(rec)
            ...                                # cross-field rules, Japanese problems
            return rec

The template is loaded and checked when the class is defined (so a broken template stops the
registry walk with a TemplateError naming the file and key, before any document is touched).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from bots.fields import field_type, normalise_text, parse_value
from bots.reading import Printed, part_kind, printed_on, read_mark, read_part, read_zone, scanned
from bots.template import FieldSpec, FormTemplate, load_template
from kakari.bot import Bot, module_file
from kakari.config import RunContext
from kakari.errors import ConfigError, TemplateError, Unrecognised
from kakari.model import LOW_CONFIDENCE, Box, Field, Record
from kakari.registry import Registry
from ocr.document import Document, Reading
from ocr.trust import (
    DISAGREE,
    DOUBT,
    NO_EVIDENCE as HANDWRITTEN,
    Policy,
    load as trust_policy,
    offered,
    policy_kind,
    registered_confidence,
)

REQUIRED_EMPTY = "必須項目が空です"
NOT_LISTED = "町名の一覧にない住所です: 原本で確認してください"
# what may follow a listed place in an address: 丁目・番地・番・号 numbers (1-2-3, 二丁目19番地20, 123番地),
# then, after a space, a building
_ADDRESS_NUMBER = re.compile(r"[0-9〇一二三四五六七八九十]+(?:(?:丁目|番地の|番地|番|号|の|-)[0-9〇一二三四五六七八九十]*)*(?: .+)?")
_SMALL_KE = str.maketrans("ヶヵ", "ケカ")
_TOWN_NAME = re.compile(r"[\u3041-\u30ff\u3400-\u9fff]+?(?=[0-9〇一二三四五六七八九十])")
NEAR_TIE = 0.05  # two forms scoring within this of each other cannot be told apart
LAYOUT_MARGIN = 0.15  # scans: forms whose layout correlates this much worse than the best one are not read
_EPS = 1e-9


# built-in bots are found by walking this package, others by entry points and kakari.toml's bots_dir
registry: Registry[Bot] = Registry("kakari.bots", Bot, "bots")


class FormBot(Bot):
    """Reads one kind of paper form, described by ``<module stem>.toml`` next to the module."""

    abstract = True
    takes_documents = True
    template: ClassVar[FormTemplate]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if cls.__dict__.get("abstract", False):
            super().__init_subclass__(**kwargs)
            return
        if "template" not in cls.__dict__:
            file = module_file(cls)
            if file is None:
                raise TemplateError(f"ボット {cls.__qualname__} のファイルが分からないため様式テンプレートを探せません")
            toml = file.with_suffix(".toml")
            if not toml.is_file():
                raise TemplateError(f"ボット {cls.__qualname__} の様式テンプレート {toml} がありません "
                                    f"({file.name} と同じフォルダーに {toml.name} を置いてください)")
            cls.template = load_template(toml)
            if "name" not in cls.__dict__:
                cls.name = file.stem
        for key in ("task", "manual_minutes", "review_minutes"):
            if key not in cls.__dict__:
                setattr(cls, key, getattr(cls.template, key))
        super().__init_subclass__(**kwargs)

    def run(self, ctx: RunContext) -> Iterator[Record]:
        raise NotImplementedError("様式ボットは run ではなく read(doc) で使います")

    # -- classification ---------------------------------------------------------------------
    def score(self, doc: Document) -> float:
        """found keywords ÷ all keywords over the document text (whitespace removed); 0 if any
        exclude word is found. Scanned documents: see ``align_scan``."""
        scan = self.align_scan(doc)
        if scan is not None:
            return scan
        text = _squeeze(doc.text)
        match = self.template.match
        if any(_squeeze(word) in text for word in match.exclude):
            return 0.0
        found = sum(1 for word in match.keywords if _squeeze(word) in text)
        return found / len(match.keywords)

    def align_scan(self, doc: Document) -> float | None:
        """Scanned pages (no text layer): align them to this form's blank reference and return how
        sure OCR is that the document is this form (keywords confirmed where the blank prints
        them, 0..1). None for text-layer documents or a template without a reference."""
        reference = self._scan_reference(doc)
        if reference is None:
            return None
        from ocr.zones import align_to_form

        return align_to_form(doc, reference, self.template.match.keywords)

    def layout_match(self, doc: Document) -> float | None:
        """Scanned pages: how well their printed layout matches this form's blank at a glance (0..1;
        cheap). None for text-layer documents or a template without a reference."""
        reference = self._scan_reference(doc)
        if reference is None:
            return None
        from ocr.zones import layout_match

        return layout_match(doc, reference)

    def _scan_reference(self, doc: Document) -> Path | None:
        """The blank form scanned pages are aligned to; None for text-layer documents or without one."""
        if not any(p.source == "scan" for p in doc.pages):
            return None
        return self.template.reference_path()

    # -- reading ------------------------------------------------------------------------------
    def extract(self, doc: Document) -> Record:
        """Every template field → Field (value, raw, confidence, problems, box)."""
        self.align_scan(doc)  # scanned pages: zones are read through this form's registration
        doc.prefetch(_text_zones(doc, self.template))  # scanned pages: every zone in one recognition batch
        rec = Record(doc_id=doc.doc_id, bot=self.name, min_confidence=self.template.min_confidence)
        scanned: dict[str, Any] = {}  # scanned fields' evidence, for the checks of names and their フリガナ
        for name, spec in self.template.fields.items():
            rec.fields[name], evidence = self._read_field(doc, spec)
            if evidence is not None:
                scanned[name] = evidence
        for name, spec in self.template.fields.items():
            if spec.reading_of and name in scanned:
                named = str(spec.reading_of)
                check_reading(rec.fields[name], rec.fields[named], lambda ev=scanned[name]: ev.second().text, spec)
                if named in scanned:
                    settle_name(rec.fields[named], rec.fields[name], scanned[named], self.template.fields[named])
                    settle_kana(rec.fields[name], rec.fields[named], scanned[name], spec)
                    check_space(rec.fields[named], rec.fields[name], self.template.fields[named])
        from ocr.zones import page_frames

        rec.meta["frames"] = page_frames(doc)  # the review screen shows scanned pages through the same alignment
        return rec

    def extract_field(self, doc: Document, spec: FieldSpec) -> Field:
        return self._read_field(doc, spec)[0]

    def _read_field(self, doc: Document, spec: FieldSpec) -> tuple[Field, Any]:
        """The field, and the scanned zone's evidence (``ocr.reader.ZoneEvidence``; None for text)."""
        field = Field(name=spec.name, label=spec.label, personal=spec.personal)
        located = _locate(doc, spec, printed_on(self.template, spec))
        if isinstance(located, str):  # a problem: the anchor label is missing
            field.confidence = 0.0
            field.problems.append(located)
            return field, None
        reading, field.box = located
        field.raw, field.confidence = reading.text, reading.confidence
        if reading.evidence is not None:  # a scanned zone: the trust policy decides (ocr.trust)
            kind = policy_kind(spec.type, spec.ocr.get("kind"))
            decision = trust_policy().decide(kind, reading.evidence, spec.handwritten,
                                             lambda text: not check_scanned(text, spec)[1])
            field.confidence = decision.confidence
            field.raw, field.value, problems = offer_scanned(decision.text, spec)
            field.problems.extend(problems)
            if decision.problem and decision.problem not in field.problems:
                field.problems.append(decision.problem)
        else:
            field.value, problems = parse_checked(field.raw, spec)
            field.problems.extend(problems)
            if spec.handwritten:  # typed into a text layer, or read without evidence to weigh
                field.problems.append(HANDWRITTEN)
        if spec.min_confidence is not None and field.confidence < spec.min_confidence and not field.problems:
            field.problems.append(LOW_CONFIDENCE.format(field.confidence))
        return field, reading.evidence

    def validate(self, rec: Record) -> Record:
        """Cross-field rules; subclasses call super().validate(rec) and add problems to fields.
        Here: a table row with anything written in it (or one of its first ``min_rows``) needs its
        required columns."""
        for table, spec in self.template.tables.items():
            for i in range(1, spec.rows + 1):
                cells = {col: rec.fields.get(spec.cell_name(table, i, col)) for col in spec.columns}
                written = any(f is not None and not _is_empty(f.value) for f in cells.values())
                if not (written or i <= spec.min_rows):
                    continue
                for col, f in cells.items():
                    if f is not None and spec.columns[col].required and _is_empty(f.value):
                        rec.flag(f.name, REQUIRED_EMPTY)
        return rec

    def read(self, doc: Document) -> Record:
        """The document's Record, each doubted field's reasons in its ``problems``."""
        return self.validate(self.extract(doc)).record_reasons()


class DocumentBot(Bot):
    """Makes a new file of each claimed document (a masked copy) instead of reading it into fields.

    ``transform`` writes the new file to `staged` (in processing/) and returns the document's Record;
    ``rec.meta["release"]`` says whether the file may leave. The runner commits the Record, then
    moves the staged file to the job's output folder, then the original to archive/ (or review/,
    errors/): a crash at any point leaves something the next run finishes, never a second copy.
    """

    abstract = True
    takes_documents = True
    # private memory its reader process needs at least (MB; 0: the config's limit is enough), for
    # bots whose engines need more than reading a form's zones; measured by benchmarks/run_reader_memory.py
    reader_memory_mb: ClassVar[int] = 0

    def transform(self, path: Path, doc_id: str, ctx: RunContext, staged: Path) -> Record:
        raise NotImplementedError(f"{type(self).__name__}.transform が実装されていません")

    def run(self, ctx: RunContext) -> Iterator[Record]:
        raise NotImplementedError("文書を変換するボットは run ではなく transform で使います")


def check_reading(kana: Field, name: Field, second: Callable[[], str], spec: FieldSpec) -> None:
    """A scanned フリガナ that differs from its name's usual reading only by voicing marks goes to the
    clerk, offered with the marks Tesseract read (`second`, asked only then) where they are the
    reading's (``bots.readings``)."""
    from bots.readings import VOICING, squeezed, usual_reading, voicing_only, with_marks

    reading = usual_reading(str(name.value or name.raw or ""))
    read = squeezed(kana.raw)
    if reading is None or not voicing_only(read, reading):
        return
    _doubt(kana, with_marks(kana.raw, reading) if squeezed(second()) == reading else kana.raw, VOICING, spec)


def check_space(name: Field, kana: Field, spec: FieldSpec) -> None:
    """A scanned name read as one word beside a フリガナ of two goes to the clerk, offered split where
    the フリガナ splits it (``bots.readings.lost_space``)."""
    from bots.readings import UNSPACED, lost_space

    split = lost_space(name.raw, kana.raw)
    if split is not None:
        _doubt(name, split, UNSPACED, spec)


def _doubt(f: Field, text: str, problem: str, spec: FieldSpec) -> None:
    """A scanned field sent to the clerk with `problem`, offered as `text`."""
    if text != f.raw:
        _, _, before = offer_scanned(f.raw, spec)
        f.raw, f.value, after = offer_scanned(text, spec)
        f.problems = [p for p in f.problems if p not in before] + after
    f.confidence = min(f.confidence, DOUBT)
    if problem not in f.problems:
        f.problems.append(problem)


def settle_name(name: Field, kana: Field, ev: Any, spec: FieldSpec, policy: Policy | None = None) -> None:
    """A printed name held up only by the engines' disagreement is registered with PP-OCR's reading
    when its registered フリガナ sides with it (``bots.readings.settles_name``), on pages where the
    trust policy (the calibrated one unless given) lets the フリガナ settle it."""
    from bots.readings import settles_name

    policy = policy or trust_policy()
    _settle(name, kana, ev, spec, "name", policy.settles_by_reading,
            lambda read, other: settles_name(read, other, kana.raw))


def settle_kana(kana: Field, name: Field, ev: Any, spec: FieldSpec, policy: Policy | None = None) -> None:
    """A printed フリガナ held up only by the engines' disagreement is registered with PP-OCR's reading
    when the registered name beside it sides with it (``bots.readings.settles_kana``), on pages where
    the trust policy (the calibrated one unless given) lets the name settle it."""
    from bots.readings import settles_kana

    policy = policy or trust_policy()
    _settle(kana, name, ev, spec, "kana", policy.settles_by_name,
            lambda read, other: settles_kana(read, other, str(name.value or name.raw or "")))


def _settle(f: Field, beside: Field, ev: Any, spec: FieldSpec, kind: str, allowed: Callable[[float, bool], bool],
            sides: Callable[[str, str], bool]) -> None:
    """`f` (of policy `kind`), doubted only for the engines' disagreement, registered with PP-OCR's
    reading when the registered field `beside` it `sides` with that reading against Tesseract's, on
    pages whose scan class the policy has `allowed`."""
    if (f.problems != [DISAGREE] or beside.problems or spec.handwritten
            or policy_kind(spec.type, spec.ocr.get("kind")) != kind or not allowed(ev.dpi, ev.bilevel)):
        return
    if sides(f.raw, offered(kind, ev.second().text)):
        f.problems = []
        f.confidence = registered_confidence(ev.neural_conf)


def _squeeze(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def parse_checked(raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
    """A field's text → (value, problems): its type's parsing and the required check. What the bot
    does with a reading and the review screen with a clerk's correction."""
    value, problems = parse_value(raw, spec)
    if spec.required and _is_empty(value) and not problems:  # written but unreadable is not empty
        problems = [*problems, REQUIRED_EMPTY]
    return value, problems


def check_scanned(raw: str, spec: FieldSpec) -> tuple[Any, list[str]]:
    """``parse_checked`` for a value read from a scan, and the template's value list: an address
    field with ``ocr.places`` (the town's 町名; "若葉県あおば市*": any 町名 of a neighbouring
    municipality) is accepted only when it starts with one of them and the rest is 丁目・番地・号
    numbers (a misread place name looks like a real one, which no engine's confidence or agreement
    rules out)."""
    value, problems = parse_checked(raw, spec)
    places = spec.ocr.get("places")
    if places and isinstance(value, str) and not problems and _listed(value, places) is None:
        problems = [*problems, NOT_LISTED]
    return value, problems


def offer_scanned(raw: str, spec: FieldSpec) -> tuple[str, Any, list[str]]:
    """(text, value, problems) offered for a value read from a scan: ``check_scanned``, a listed
    place written as the list writes it, and an address one character away from exactly one listed
    place offered with that place (still to 要確認 with its problem: the list suggests, the clerk
    confirms)."""
    value, problems = check_scanned(raw, spec)
    places = spec.ocr.get("places")
    if places and not problems and isinstance(value, str):
        spelled = _listed(value, places)
        if spelled is not None and spelled != value:
            return spelled, *check_scanned(spelled, spec)
    if NOT_LISTED in problems and isinstance(value, str):
        near = {fixed for place in spec.ocr.get("places", ()) if (fixed := _one_off(value, place)) is not None}
        if len(near) == 1:
            text = near.pop()
            fixed_value, fixed_problems = check_scanned(text, spec)
            return text, fixed_value, [*fixed_problems, NOT_LISTED]
    return raw, value, problems


def _one_off(value: str, place: str) -> str | None:
    """`value` with its start replaced by `place` when the two differ in one character (one replaced,
    missing or read in addition: みとり町, みり町, みどり)町) and the result is listed; else None."""
    place = normalise_text(place)
    wild = place.endswith("*")
    head = place[:-1] if wild else place
    key = head.translate(_SMALL_KE)
    for size in (len(head), len(head) - 1, len(head) + 1):  # replaced, missing, in addition
        start = value[:size].translate(_SMALL_KE)
        if len(start) != size or start == key or not _one_edit(start, key):
            continue
        found = _listed(head + value[size:], [place])
        if found is not None:
            return found
    return None


def _one_edit(a: str, b: str) -> bool:
    """Do `a` and `b` differ by exactly one character replaced, left out or added?"""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = sorted((a, b), key=len)
    return len(long_) - len(short) == 1 and any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _listed(value: str, places: Sequence[str]) -> str | None:
    """`value` with its place written as the list writes it (緑ケ丘 → 緑ヶ丘: the same place written
    both ways), or None when it starts with no listed place or its numbers do not parse."""
    text = value.translate(_SMALL_KE)
    for place in places:
        place = normalise_text(place)
        key = place.translate(_SMALL_KE)
        if key.endswith("*"):  # a municipality: any 町名 of it (kanji and kana, no digits) may follow
            head = key[:-1]
            rest = text[len(head):] if text.startswith(head) else ""
            m = _TOWN_NAME.match(rest)
            if m and _ADDRESS_NUMBER.fullmatch(rest[m.end():]):
                return place[:-1] + value[len(head):]
        elif text.startswith(key) and _ADDRESS_NUMBER.fullmatch(text[len(key):]):
            return place + value[len(key):]
    return None


def _is_empty(value: Any) -> bool:
    # a required checkbox (同意欄) must be ticked
    return value is None or value == "" or value is False


def _locate(doc: Document, spec: FieldSpec, printed: Printed) -> tuple[Reading, Box | None] | str:
    """(reading, zone) for a field, or a problem message when a label is missing."""
    ftype = field_type(spec.type)
    if spec.static is not None:
        return Reading(spec.static, 1.0), None
    if spec.regex is not None:
        m = re.search(spec.regex, doc.text)
        if m is None:
            return Reading("", 1.0), None
        return Reading((m.group(1) if m.re.groups else m.group(0)) or "", 1.0), None
    if spec.options is not None:
        marked: list[str] = []
        confidence = 1.0
        for option, zone in spec.options.items():
            reading = read_mark(doc, zone.to_box(), printed)
            confidence = min(confidence, reading.confidence)
            if reading.text:
                marked.append(option)
        boxes = [z.to_box() for z in spec.options.values()]
        return Reading("\n".join(marked), confidence), _union(boxes)
    if spec.parts is not None:
        boxes = [p.to_box() for p in spec.parts]
        if spec.handwritten and any(scanned(doc, b) for b in boxes):
            return Reading("", 0.0), _union(boxes)  # handwriting in character boxes: a person reads it
        readings = [read_part(doc, b, part_kind(spec, i, b), printed) for i, b in enumerate(boxes)]
        return Reading(spec.joined([r.text for r in readings]), min(r.confidence for r in readings)), _union(boxes)
    if spec.anchor is not None:
        label = doc.find(spec.anchor.text, page=spec.anchor.page)
        if label is None:
            return f"ラベル「{spec.anchor.text}」が見つかりません"
        box = spec.anchor.zone(label)
    else:
        assert spec.box is not None
        box = spec.box.to_box()
    reading = read_mark(doc, box, printed) if ftype.reads_mark else read_zone(doc, box, ftype.read_kind, printed)
    return reading, box


def _text_zones(doc: Document, template: FormTemplate) -> list[tuple[Box, Any]]:
    """(zone, read kind) of every field read as text (anchored zones where their label is found)."""
    out = []
    for spec in template.fields.values():
        ftype = field_type(spec.type)
        if ftype.reads_mark or (spec.box is None and spec.anchor is None):
            continue
        if spec.box is not None:
            out.append((spec.box.to_box(), ftype.read_kind))
            continue
        assert spec.anchor is not None
        label = doc.find(spec.anchor.text, page=spec.anchor.page)
        if label is not None:
            out.append((spec.anchor.zone(label), ftype.read_kind))
    return out


def _union(boxes: list[Box]) -> Box | None:
    """The smallest box around all option zones on the first option's page (for previews/review)."""
    if not boxes:
        return None
    same = [b for b in boxes if b.page == boxes[0].page]
    x0, y0 = min(b.x for b in same), min(b.y for b in same)
    return Box(boxes[0].page, x0, y0, max(b.x1 for b in same) - x0, max(b.y1 for b in same) - y0)


# =============================================================================================
# Classification
# =============================================================================================
def classify(doc: Document, bots: Sequence[type[FormBot] | str]) -> tuple[type[FormBot], float]:
    """The bot whose form this is, with its score. `bots` are FormBot classes or registered names.

    The best score at or above its bot's min_score wins; priority breaks exact ties. Unrecognised if
    none qualifies, or if two qualify within 0.05 of each other with the same priority.
    """
    candidates = _resolve(bots)
    if not candidates:
        raise Unrecognised("どの様式にも該当しません (候補の様式がありません)")
    scored = [(bot, bot().score(doc)) for bot in _likely_layouts(doc, candidates)]
    eligible = [(b, s) for b, s in scored if s > 0 and s + _EPS >= b.template.match.min_score]
    if not eligible:
        best, score = max(scored, key=lambda bs: bs[1])
        raise Unrecognised(f"どの様式にも該当しません (最高: {best.template.title} {score:.2f})")
    eligible.sort(key=lambda bs: (round(bs[1], 9), bs[0].template.match.priority), reverse=True)
    top, top_score = eligible[0]
    for other, other_score in eligible[1:]:
        if other is top:
            continue
        close = top_score - other_score <= NEAR_TIE + _EPS
        if close and other.template.match.priority == top.template.match.priority:
            raise Unrecognised(f"複数の様式に該当し区別できません: {top.template.title} ({top_score:.2f}) と "
                               f"{other.template.title} ({other_score:.2f})")
    return top, top_score


def _likely_layouts(doc: Document, candidates: list[type[FormBot]]) -> list[type[FormBot]]:
    """Scanned documents: the forms whose layout matches at a glance nearly as well as the best
    one's. The others (another form of the same style correlates ≈ 0.4–0.55 where the right one has
    ≈ 0.7–0.9) are not this form: they are spared the fine registration and the keyword OCR."""
    layouts = [(bot, bot().layout_match(doc)) for bot in candidates]
    known = [s for _, s in layouts if s is not None]
    if not known:
        return candidates
    best = max(known)
    return [bot for bot, s in layouts if s is None or s >= best - LAYOUT_MARGIN]


def _resolve(bots: Sequence[type[FormBot] | str]) -> list[type[FormBot]]:
    out: list[type[FormBot]] = []
    for bot in bots:
        if isinstance(bot, str):
            found = registry.get(bot)
            if not (isinstance(found, type) and issubclass(found, FormBot)):
                raise ConfigError(f"ボット「{bot}」は様式ボットではないため様式の判定に使えません")
            bot = found
        out.append(bot)
    return out
