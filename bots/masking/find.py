"""Finding the numbers to mask on one page's lines (text layer or OCR alike).

A candidate is a run of digits along a line — with spaces, hyphens or digit boxes between them —
or a regex match after a label. Each is given to the patterns: a number whose check digit holds is
masked anywhere (個人番号), others only next to one of their labels (right of it, or below it in a
cell or a column). A 12-digit run beside 個人番号 whose check digit fails is masked all the same and
the document goes to 要確認, as does a label with no number near it, or an OCR reading in doubt.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bots.fields import corporate_number_check_digit, my_number_check_digit
from bots.masking.spec import KnownForm, MaskSpec, Pattern
from kakari.model import Box
from ocr.document import Word

SEPARATORS = frozenset(" \u3000-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff70")
MAX_SEPARATORS = 3  # "1234 - 5678": a hyphen with a space either side
LINK = 2.4  # digits whose centres are this many character heights apart or less belong together
LINK_SEPARATED = 5.0  # …or this many with a hyphen between them (1234 - 567890 in boxes)
GROUP_GAP = 0.45  # …and a gap wider than this many heights between them separates two groups
OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "〇": "0"})

CHECK_FAILED = "チェックデジットが正しくありません (墨塗りしました)"
WRONG_LENGTH = "見出しの近くの番号が{n}桁です (墨塗りしました)"
NO_NUMBER = "「{label}」の近くに番号が見つかりません"
UNSURE = "読み取りが不確かです (確信度 {conf:.2f}、墨塗りしました)"


@dataclass
class Finding:
    """One thing to mask. `value` stays in memory (verification looks for it again), never stored."""

    kind: str  # pattern name
    label: str  # 個人番号 …
    value: str
    box: Box
    confidence: float = 1.0
    problems: list[str] = field(default_factory=list)
    how: str = "content"  # content, label, zone, clerk


@dataclass
class Candidate:
    value: str  # the digits (digit runs) or the matched text (regex)
    groups: tuple[int, ...]
    words: list[Word]
    line: int
    start: int  # index of the first word in its line
    confidence: float
    words_before: list[Word] = field(default_factory=list)  # the line up to the run (nearest last)

    @property
    def box(self) -> Box:
        return union([w.box for w in self.words])


@dataclass
class LabelHit:
    pattern: Pattern
    line: int
    end: int  # index after the label's last word in its line
    box: Box
    standalone: bool = True  # not the start of a longer word (個人番号届出書): a number is due after it


def union(boxes: Sequence[Box]) -> Box:
    x0, y0 = min(b.x for b in boxes), min(b.y for b in boxes)
    return Box(boxes[0].page, x0, y0, max(b.x1 for b in boxes) - x0, max(b.y1 for b in boxes) - y0)


def _norm(ch: str, ocr: bool) -> str:
    c = unicodedata.normalize("NFKC", ch)
    return c.translate(OCR_DIGITS) if ocr else c


def digit_runs(lines: Sequence[Sequence[Word]], ocr: bool = False) -> list[Candidate]:
    """Every run of digits along each line, with how it is grouped (boxes of one digit each count
    as one group: a box is not a separator)."""
    out: list[Candidate] = []
    for li, line in enumerate(lines):
        i = 0
        while i < len(line):
            if not _norm(line[i].text, ocr).isdigit() or not _norm(line[i].text, ocr).isascii():
                i += 1
                continue
            start, words, groups, seps, last, unknown = i, [line[i]], [1], 0, i, 0
            j = i + 1
            while j < len(line):
                t = _norm(line[j].text, ocr)
                if t in SEPARATORS or not t.strip():
                    seps += 1
                    if seps > MAX_SEPARATORS:
                        break
                    j += 1
                    continue
                if ocr and not unknown and not (t.isascii() and t.isdigit()) and _misread_digit(line, j, words[-1], ocr):
                    unknown = 1  # OCR: one character the width of a digit between digits (7 read as /)
                    t = "?"
                    line = [*line[:j], Word("?", line[j].box, 0.0), *line[j + 1:]]
                if not ((t == "?" or (t.isascii() and t.isdigit()))
                        and _linked(words[-1], line[j], LINK_SEPARATED if seps else LINK)):
                    break
                if seps or _gap(words[-1], line[j]) > GROUP_GAP * _size(words[-1], line[j]):
                    groups.append(1)
                else:
                    groups[-1] += 1
                words.append(line[j])
                seps, last = 0, j
                j += 1
            digits = "".join(_norm(w.text, ocr) for w in words)
            if all(g == 1 for g in groups):
                groups = [len(groups)]  # one digit per box: written as a single number
            out.append(Candidate(digits, tuple(groups), words, li, start,
                                 min(w.confidence for w in words), list(line[max(0, start - 3):start])))
            i = last + 1
    return out


def _misread_digit(line: Sequence[Word], j: int, prev: Word, ocr: bool) -> bool:
    """A narrow character between two digits, as wide as they are: a digit OCR misread."""
    if j + 1 >= len(line) or not _norm(line[j + 1].text, ocr).isdigit():
        return False
    w = line[j]
    return len(w.text) == 1 and w.box.w <= 1.3 * max(prev.box.w, line[j + 1].box.w) and \
        abs(w.box.h - prev.box.h) <= 0.5 * prev.box.h


def _size(a: Word, b: Word) -> float:
    return max(0.8, max(a.box.h, b.box.h, a.box.w, b.box.w))


def _linked(a: Word, b: Word, limit: float) -> bool:
    d = ((a.cx - b.cx) ** 2 + (a.cy - b.cy) ** 2) ** 0.5
    return d <= limit * _size(a, b)


def _gap(a: Word, b: Word) -> float:
    """Ink gap between two neighbouring characters along their line."""
    dx = max(0.0, max(a.box.x, b.box.x) - min(a.box.x1, b.box.x1))
    dy = max(0.0, max(a.box.y, b.box.y) - min(a.box.y1, b.box.y1))
    return max(dx, dy)


def squeeze_line(line: Sequence[Word], ocr: bool = False) -> tuple[str, list[int]]:
    """A line's text without spaces (NFKC), and for each character the index of its word."""
    text, index = [], []
    for k, w in enumerate(line):
        for ch in unicodedata.normalize("NFKC", w.text):
            if not ch.isspace():
                text.append(ch)
                index.append(k)
    return "".join(text), index


def find_labels(lines: Sequence[Sequence[Word]], patterns: Sequence[Pattern], fuzzy: bool) -> list[LabelHit]:
    """Where each pattern's labels are printed. With `fuzzy` (OCR) a label may have a misread
    character, unless that text is exactly another pattern's label (被保険者番号 is not a misread
    被保険者記号)."""
    hits: list[LabelHit] = []
    for li, line in enumerate(lines):
        text, index = squeeze_line(line)
        if not text:
            continue
        exact = [(s, e) for p in patterns for label in p.labels for s, e in _occurrences(text, _squeeze(label), False)]
        for p in patterns:
            taken: list[tuple[int, int]] = []
            blocked = [span for bad in p.not_labels for span in _occurrences(text, _squeeze(bad), False)]
            for label in sorted(p.labels, key=len, reverse=True):
                word = _squeeze(label)
                for s, e in _occurrences(text, word, fuzzy):
                    if any(s < te and ts < e for ts, te in taken):
                        continue
                    if any(bs <= s and e <= be for bs, be in blocked):
                        continue
                    if text[s:e] != word and any(s < xe and xs < e for xs, xe in exact):
                        continue
                    taken.append((s, e))
                    words = line[index[s]: index[e - 1] + 1]
                    after = text[e] if e < len(text) else ""
                    hits.append(LabelHit(p, li, index[e - 1] + 1, union([w.box for w in words]),
                                         not _word_char(after)))
    return hits


def _word_char(ch: str) -> bool:
    """Kanji and katakana continue a word; kana particles (は, の), digits and punctuation do not."""
    return bool(ch) and ("\u4e00" <= ch <= "\u9fff" or "\u30a1" <= ch <= "\u30fa" or ch == "ー")


def _squeeze(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).split())


def _occurrences(text: str, word: str, fuzzy: bool) -> list[tuple[int, int]]:
    """Spans of `word` in `text`. Fuzzy (OCR): one character in four may be misread, but never the
    first or the last (法人番号 is not a misread 個人番号, nor 保険者番号 of 被保険者番号)."""
    if not word:
        return []
    found = [(m.start(), m.start() + len(word)) for m in re.finditer(re.escape(word), text)]
    if found or not fuzzy or len(word) < 4:
        return found
    allowed = len(word) // 4
    out: list[tuple[int, int]] = []
    i = 0
    while i + len(word) <= len(text):
        window = text[i: i + len(word)]
        wrong = [k for k, (a, b) in enumerate(zip(window, word)) if a != b]
        if len(wrong) <= allowed and 0 not in wrong and len(word) - 1 not in wrong:
            out.append((i, i + len(word)))
            i += len(word)
        else:
            i += 1
    return out


def label_distance(hit: LabelHit, cand: Candidate) -> float | None:
    """How far a candidate is from a label it may belong to (mm), or None when it is not beside it:
    after the label on the same line, right of it in the same band, or below it in its column."""
    p, lb, cb = hit.pattern, hit.box, cand.box
    if lb.page != cb.page:
        return None
    if hit.line == cand.line and cand.start >= hit.end:
        first = cand.words[0]
        d = _between(lb, first.box)
        return d if d <= p.reach_mm and not _named_between(hit, cand) else None
    if _led_by_words(cand):
        return None
    overlap = min(lb.y1, cb.y1) - max(lb.y, cb.y)
    if overlap >= 0.5 * min(lb.h, cb.h) and -1.0 <= cb.x - lb.x1 <= p.reach_mm:
        return max(0.0, cb.x - lb.x1)
    dy = cb.y - lb.y1
    if -1.0 <= dy <= p.below_mm and cb.x < lb.x1 + 15.0 and cb.x1 > lb.x - 15.0:
        return max(0.0, dy) + 0.25 * abs(cb.x - lb.x) + 5.0  # a cell's own line is nearer than the next row
    return None


NAMING = ("番号", "記号")  # a text ending so names the number right after it (保険者番号 0123…)


def _named_between(hit: LabelHit, cand: Candidate) -> bool:
    """Is the run right after another name of a number, between the label and it on their line
    (被保険者番号 ■■ 保険者番号 97255646: once the first number is masked, the next on the line is
    the 保険者番号's)?"""
    if not _led_by_words(cand):
        return False
    between = "".join(unicodedata.normalize("NFKC", w.text) for w in cand.words_before if w.text.strip())
    return between.endswith(NAMING) and _past_label(hit, cand)


def _past_label(hit: LabelHit, cand: Candidate) -> bool:
    """Do the words right before the run start after the label's end (they are not the label)?"""
    before = [w for w in cand.words_before if w.text.strip()]
    return bool(before) and before[0].box.x >= hit.box.x1 - 0.5 * before[0].box.w


def _led_by_words(cand: Candidate) -> bool:
    """Is the run written right after other text on its line (電話 090-…, 〒 989-…)? Then that text
    labels it, not a heading elsewhere."""
    before = [w for w in cand.words_before if w.text.strip()]
    if not before:
        return False
    prev, first = before[-1], cand.words[0]
    return _between(prev.box, first.box) <= 1.5 * max(first.box.h, first.box.w, 1.0)


def _between(a: Box, b: Box) -> float:
    dx = max(0.0, max(a.x, b.x) - min(a.x1, b.x1))
    dy = max(0.0, max(a.y, b.y) - min(a.y1, b.y1))
    return (dx * dx + dy * dy) ** 0.5


def content_match(p: Pattern, cand: Candidate) -> bool:
    """Do the digits (or the text) have this pattern's shape and check digit?"""
    if p.regex is not None:
        return re.fullmatch(p.regex, cand.value) is not None
    if len(cand.value) not in p.digits:
        return False
    if p.groups is not None and len(cand.groups) > 1 and list(cand.groups) != p.groups:
        return False
    return check_ok(p, cand.value)


def check_ok(p: Pattern, digits: str) -> bool:
    if not (digits.isascii() and digits.isdigit()):
        return p.check is None and p.regex is None
    if p.check == "my_number":
        return len(digits) == 12 and my_number_check_digit(digits[:11]) == int(digits[11])
    if p.check == "corporate_number":
        return len(digits) == 13 and corporate_number_check_digit(digits[1:]) == int(digits[0])
    return True


def regex_candidates(lines: Sequence[Sequence[Word]], hits: Sequence[LabelHit]) -> list[tuple[LabelHit, Candidate]]:
    """Regex patterns: the first match after the label on its line, else in the nearest line right
    of it or below it."""
    out: list[tuple[LabelHit, Candidate]] = []
    for hit in hits:
        p = hit.pattern
        if p.regex is None:
            continue
        rx = re.compile(p.regex)
        same = lines[hit.line][hit.end:]
        options = [(0.0, hit.line, hit.end, same)] if same else []
        for li, line in enumerate(lines):
            if li == hit.line or not line:
                continue
            probe = Candidate("", (), list(line), li, 0, 1.0)
            d = label_distance(hit, probe)
            if d is not None:
                options.append((d, li, 0, list(line)))
        for _, li, offset, words in sorted(options, key=lambda o: o[0]):
            text, index = squeeze_line(words)
            m = rx.search(text)
            if m is None or m.end() == m.start():
                continue
            picked = words[index[m.start()]: index[m.end() - 1] + 1]
            out.append((hit, Candidate(m.group(0), (len(m.group(0)),), picked, li, offset + index[m.start()],
                                       min(w.confidence for w in picked))))
            break
    return out


def find_on_page(lines: Sequence[Sequence[Word]], spec: MaskSpec, ocr: bool = False,
                 reread: object = None) -> tuple[list[Finding], list[str]]:
    """Findings on one page, and the labels (of patterns that expect a number) with no number near
    them: ``no_number(label)`` words the problem.

    `reread(candidate) -> (digits, confidence)`: a second reading of a scanned candidate (eng); its
    digits replace jpn's when only they pass the check digit, else a disagreement is a doubt."""
    patterns = list(spec.patterns.values())
    hits = find_labels(lines, patterns, fuzzy=ocr)
    cands = [c for c in digit_runs(lines, ocr) if len(c.value) >= 4]
    if ocr and reread is not None:
        cands = [_second_reading(c, spec, reread) for c in cands]
    findings: list[Finding] = []
    answered: set[int] = set()  # label hits that got their number
    left: list[Candidate] = []
    for cand in cands:  # 1. a check digit that holds names the kind wherever the number is
        p = next((p for p in patterns if p.check and p.anywhere and content_match(p, cand)), None)
        if p is None:
            left.append(cand)
            continue
        near = [(d, h) for h in hits if h.pattern is p and (d := label_distance(h, cand)) is not None]
        if near:
            answered.add(id(min(near, key=lambda dh: dh[0])[1]))
        if p.enabled:  # 法人番号 is recognised, and left alone
            findings.append(_finding(p, cand, "content", spec, ocr))
    # 2. each label takes its nearest number of its pattern's shape; 3. failing that, its nearest
    # number of about that length, masked and flagged (a check digit that fails, a digit too many)
    for shaped in (True, False):
        pairs = sorted(((d, i, k) for i, h in enumerate(hits) if h.pattern.digits
                        for k, c in enumerate(left) if (d := label_distance(h, c)) is not None
                        and (content_match(h.pattern, c) if shaped else _about(h.pattern, c))),
                       key=lambda t: t[0])
        taken: set[int] = set()
        for _, i, k in pairs:
            hit, cand = hits[i], left[k]
            more = hit.pattern.check and len(cand.value) in hit.pattern.digits and _in_column(hit, cand)
            if k in taken or (id(hit) in answered and not more):
                continue  # a 個人番号 heading labels every 12-digit row of its column; other labels one number
            answered.add(id(hit))
            taken.add(k)
            if not hit.pattern.enabled:
                continue
            f = _finding(hit.pattern, cand, "label", spec, ocr)
            if not shaped:
                f.problems.append(CHECK_FAILED if len(cand.value) in hit.pattern.digits
                                  else WRONG_LENGTH.format(n=len(cand.value)))
            findings.append(f)
        left = [c for k, c in enumerate(left) if k not in taken]
    if ocr:  # 3. a scanned run of a checked number's length whose reading is in doubt
        for cand in left:
            p = next((p for p in spec.masked() if p.check and p.anywhere and len(cand.value) in p.digits), None)
            if p is not None and cand.confidence < spec.min_confidence:
                f = _finding(p, cand, "content", spec, ocr)
                f.problems.append(UNSURE.format(conf=cand.confidence))
                findings.append(f)
    for hit, cand in regex_candidates(lines, hits):
        answered.add(id(hit))
        if hit.pattern.enabled:
            findings.append(_finding(hit.pattern, cand, "label", spec, ocr))
    lonely: list[str] = []
    for hit in hits:
        p = hit.pattern
        if p.expect_number and p.enabled and hit.standalone and id(hit) not in answered and p.label not in lonely:
            lonely.append(p.label)
    return findings, lonely


def labelled_otherwise(f: Finding, lines: Sequence[Sequence[Word]], spec: MaskSpec) -> bool:
    """Is a doubtful finding (a number of about a label's length below it, one beside a label read
    under the confidence floor, or a run of a checked number's length read in doubt) read in
    another reading of the page as a run written right after other words on its line (電話 090-…),
    not after one of its pattern's labels? That reading saw what labels it: it is not this number."""
    doubtful = bool(f.problems) or (f.how == "label" and f.confidence < spec.min_confidence)
    if f.how not in ("label", "content") or not doubtful or not f.value:
        return False
    hits = [h for h in find_labels(lines, list(spec.patterns.values()), fuzzy=True) if h.pattern.name == f.kind]
    for cand in digit_runs(lines, ocr=True):
        if overlap(cand.box, f.box) < 0.5 or along(cand.box, f.box) < 0.5 or not _led_by_words(cand) \
                or not _after_a_word(cand):
            continue  # a fragment of the line (digits of a misread) is no other reading of the number
        if not any(h.line == cand.line and cand.start >= h.end for h in hits):
            return True
    return False


def along(part: Box, whole: Box) -> float:
    """How much of `whole`'s length (its longer side) `part` spans."""
    if whole.w >= whole.h:
        return max(0.0, min(part.x1, whole.x1) - max(part.x, whole.x)) / max(1e-9, whole.w)
    return max(0.0, min(part.y1, whole.y1) - max(part.y, whole.y)) / max(1e-9, whole.h)


def _after_a_word(cand: Candidate) -> bool:
    """Is the text right before the run a word (電話, 〒), not digits of a cell beside it (a date)?"""
    before = [w for w in cand.words_before if w.text.strip()]
    ch = unicodedata.normalize("NFKC", before[-1].text)[-1:] if before else ""
    return bool(ch) and ch.isalpha()


def overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    w = min(a.x1, b.x1) - max(a.x, b.x)
    h = min(a.y1, b.y1) - max(a.y, b.y)
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max(1e-9, min(a.w * a.h, b.w * b.h))


def no_number(label: str) -> str:
    return NO_NUMBER.format(label=label)


def _second_reading(cand: Candidate, spec: MaskSpec, reread: object) -> Candidate:
    """jpn's digits against eng's: the same digits are surer; a check digit that holds in one
    reading only settles it; otherwise the two disagree and the reading is in doubt."""
    digits, conf = reread(cand)  # type: ignore[operator]
    if 2 * len(digits) < len(cand.value):  # eng sees no digits there, or missed most of them:
        return replace(cand, confidence=min(cand.confidence, 0.79))  # the reading stands, unconfirmed
    if digits == cand.value:
        return replace(cand, confidence=max(cand.confidence, conf))
    checked = [p for p in spec.patterns.values() if p.check]
    ok_eng = any(len(digits) in p.digits and check_ok(p, digits) for p in checked)
    ok_jpn = any(len(cand.value) in p.digits and check_ok(p, cand.value) for p in checked)
    if ok_jpn and not ok_eng:
        return cand
    if ok_eng and not ok_jpn:
        groups = cand.groups if sum(cand.groups) == len(digits) else (len(digits),)
        return replace(cand, value=digits, groups=groups, confidence=max(cand.confidence, conf))
    # neither holds: eng is the better reader of digits, but the reading is in doubt
    groups = cand.groups if sum(cand.groups) == len(digits) else (len(digits),)
    return replace(cand, value=digits, groups=groups, confidence=min(cand.confidence, conf, 0.5))


def _in_column(hit: LabelHit, cand: Candidate) -> bool:
    """Is the run under its label (a column's heading) rather than after it on its line?"""
    lb, cb = hit.box, cand.box
    return hit.line != cand.line and cb.y >= lb.y1 - 1.0 and min(lb.y1, cb.y1) - max(lb.y, cb.y) < 0.5 * min(lb.h, cb.h)


def _about(p: Pattern, cand: Candidate) -> bool:
    """Digits of about the pattern's length (two more or fewer): what a label's number may be when
    mistyped or misread."""
    return bool(p.digits) and p.regex is None and min(p.digits) - 2 <= len(cand.value) <= max(p.digits) + 2


def _finding(p: Pattern, cand: Candidate, how: str, spec: MaskSpec, ocr: bool) -> Finding:
    return Finding(p.name, p.label, cand.value, cand.box.grown(spec.margin_mm), cand.confidence, [], how)


def form_zones(lines: Sequence[Sequence[Word]], page: int, spec: MaskSpec, fuzzy: bool) -> list[Finding]:
    """Zones of a known form printed on this page, moved with the form's anchor label when found."""
    text = "".join(squeeze_line(line)[0] for line in lines)
    out: list[Finding] = []
    for form in spec.forms.values():
        if not all(_occurrences(text, _squeeze(k), fuzzy) for k in form.keywords):
            continue
        dx, dy = _anchor_shift(lines, form, fuzzy)
        for z in form.zones:
            if z.page != page:
                continue
            p = spec.patterns[z.kind]
            out.append(Finding(p.name, p.label, "", Box(page, z.x + dx, z.y + dy, z.w, z.h).grown(spec.margin_mm),
                               1.0, [], "zone"))
    return out


def _anchor_shift(lines: Sequence[Sequence[Word]], form: KnownForm, fuzzy: bool) -> tuple[float, float]:
    if form.anchor is None:
        return 0.0, 0.0
    word = _squeeze(form.anchor.text)
    best: tuple[float, float] | None = None
    for line in lines:
        text, index = squeeze_line(line)
        for s, e in _occurrences(text, word, fuzzy):
            b = union([w.box for w in line[index[s]: index[e - 1] + 1]])
            shift = (b.x - form.anchor.x, b.y - form.anchor.y)
            if best is None or abs(shift[0]) + abs(shift[1]) < abs(best[0]) + abs(best[1]):
                best = shift
    return best or (0.0, 0.0)
