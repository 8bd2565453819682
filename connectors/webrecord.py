"""`kakari systems record`: a person enters one sample record in a real browser, and a draft mapping
(connectors/systems/<name>.toml format) is written from what they did.

The browser runs headed (under a private Xvfb where there is no display) with webrecord.js in every
page: it reports each page (headings, the 受付番号 sentence, the search row holding the key) and each
input, choice, upload and click, described by label, role and accessible name. From that:
  - the login page (the one with a password input; its value is never recorded), the page after it
  - the clicks from there to the first input page → `open` steps (a tab, a menu link)
  - each page with inputs → a [[pages]] entry: a marker no other page has, the inputs by label
    (`within` their fieldset when a label repeats), and the button that left it
  - each typed value matched against the sample record: its field and the pattern that gives the text
    (`{era_initial}{era_year}.{month}.{day}`, `{year}` …); the key typed where the system keeps it
  - the page without inputs before the completion page → the confirm page and its 登録 button
  - the 受付番号 sentence → `confirmation`, `done`, and a `receipt_pattern` generalised from it
  - a search for the key afterwards → [search], its row and cells
What cannot be inferred is left as a TODO line; the draft is checked by loading it.
"""
from __future__ import annotations

import contextlib
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors.browser import BrowserChoice, display_for_headed
from connectors.webmapping import HOME_PAGE
from connectors.webvalues import TransformError, render
from kakari.log import logger
from kakari.model import Record

SCRIPT = Path(__file__).with_name("webrecord.js")
TODO = "TODO"

# patterns tried against each typed value, simplest first (a later one wins only on a better label match)
CANDIDATES = [
    "{value}", "{nfkc}", "{digits}", "{number}", "{postal}", "{postal_head}", "{postal_tail}",
    "{surname}", "{given_name}", "{prefecture}", "{municipality}", "{address_rest}", "{municipality}{address_rest}",
    "{year}", "{month}", "{day}", "{month:02}", "{day:02}", "{era}", "{era_initial}", "{era_year}",
    "{era_year_gannen}", "{era_year:02}", "{wareki}", "{iso_date}",
    "{era_initial}{era_year}.{month}.{day}", "{era_initial}{era_year:02}.{month:02}.{day:02}",
    "{era_initial}{era_year}/{month}/{day}", "{era_initial}{era_year:02}{month:02}{day:02}",
    "{era}{era_year_gannen}年{month}月{day}日", "{year}/{month:02}/{day:02}", "{year}/{month}/{day}",
    "{year}-{month:02}-{day:02}", "{year}{month:02}{day:02}", "{year}年{month}月{day}日",
]
_HINTS = {"{year}": "年", "{era_year}": "年", "{era_year:02}": "年", "{era_year_gannen}": "年", "{month}": "月",
          "{month:02}": "月", "{day}": "日", "{day:02}": "日", "{era}": "元号", "{era_initial}": "元号",
          "{surname}": "姓", "{given_name}": "名", "{postal_head}": "前", "{postal_tail}": "後"}
_RANDOM_SEGMENT = re.compile(r"(?=.*\d)(?=.*[A-Za-z])|[A-Z].*[a-z].*[A-Z]|_")


# =============================================================================================
# Recording
# =============================================================================================
@dataclass
class Visit:
    """One document the person saw, and what they did on it."""

    token: str
    page: int  # which browser tab (a popup is another)
    url: str
    info: dict[str, Any] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # element path → last fill/select/check/upload
    clicks: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0

    @property
    def inputs(self) -> list[dict[str, Any]]:
        return [e for e in self.values.values() if e["kind"] != "check" or e.get("checked")]


@dataclass
class Recording:
    visits: list[Visit] = field(default_factory=list)
    finished: float = 0.0

    def add(self, page_index: int, event: dict[str, Any]) -> None:
        visit = next((v for v in self.visits if v.token == event.get("visit")), None)
        if visit is None:
            visit = Visit(str(event.get("visit")), page_index, str(event.get("url", "")), started=time.monotonic())
            self.visits.append(visit)
        kind = event.get("kind")
        if kind == "page":
            visit.info = dict(event.get("info") or {})
        elif kind in ("fill", "select", "check", "upload"):
            target = event.get("target") or {}
            path = target.get("path", "")
            if kind == "check" and target.get("type") == "radio":  # one choice per group
                group = target.get("elName") or target.get("group") or path
                for k in [k for k, e in visit.values.items() if e["kind"] == "check"
                          and (e["target"].get("elName") or e["target"].get("group")) == group]:
                    del visit.values[k]
            if kind == "check" and not event.get("checked"):
                visit.values.pop(path, None)  # a checkbox ticked and unticked again
            else:
                visit.values[path] = dict(event)
        elif kind == "click":
            visit.clicks.append(dict(event))
        self.finished = time.monotonic()


def record(url: str, choice: BrowserChoice, key: str = "", cdp_port: int | None = None,
           on_ready: Callable[[], None] | None = None) -> Recording:
    """Open `url` in a headed browser and collect what the person does until every window is closed.
    `key` is the key the person is asked to type (the recorder finds the search row holding it);
    `cdp_port` lets another Playwright client drive the same browser (the tests act as the person)."""
    from playwright.sync_api import (
        Error as PlaywrightError,
        TimeoutError as PlaywrightTimeout,
        sync_playwright,
    )

    rec = Recording()
    pages: list[Any] = []

    def binding(source: dict[str, Any], data: dict[str, Any]) -> None:
        page = source.get("page")
        if page not in pages:
            pages.append(page)
        rec.add(pages.index(page), data)

    prelude = f"window.__kakariRecordKey = {key!r};\n" if key else ""
    opts = choice.launch_options()
    if cdp_port:
        opts["args"] = [*opts["args"], f"--remote-debugging-port={cdp_port}"]
    with tempfile.TemporaryDirectory() as profile, display_for_headed() as env, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile, headless=False, env=env, locale="ja-JP",
                                                        viewport={"width": 1280, "height": 900}, **opts)
        try:
            context.expose_binding("__kakariRecord", binding)
            context.add_init_script(prelude + SCRIPT.read_text(encoding="utf-8"))
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(url, wait_until="domcontentloaded")
            if on_ready is not None:
                on_ready()
            while context.pages:
                with contextlib.suppress(PlaywrightTimeout):
                    context.wait_for_event("page", timeout=500)
        except KeyboardInterrupt:
            logger.info("記録を終了します (Ctrl-C)")
        except PlaywrightError as e:  # the person closed the browser itself
            logger.info(f"ブラウザーが閉じられました: {str(e).splitlines()[0][:120]}")
        finally:
            with contextlib.suppress(PlaywrightError):
                context.close()
    return rec


# =============================================================================================
# Drafting
# =============================================================================================
@dataclass
class Draft:
    text: str
    todo: int  # lines a person has to finish
    notes: list[str]


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"\s+", "", text)
    return {t[i:i + 2] for i in range(len(t) - 1)} | set(t)


def _similarity(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def infer_source(value: str, context: str, sample: Record | None, key: str,
                 municipalities: list[str] | None = None) -> tuple[str, str] | None:
    """(field, pattern) of the sample record that gives the typed `value`; the best label match wins."""
    if key and value == key:
        return "@key", "{value}"
    if sample is None or not value:
        return None
    best: tuple[float, int, str, str] | None = None
    for order, (name, f) in enumerate(sample.fields.items()):
        if f.value is None or f.value == "":
            continue
        for rank, pattern in enumerate(CANDIDATES):
            try:
                text = render(pattern, f.value, lambda n: None, municipalities or []).strip()
            except (TransformError, ValueError, TypeError, KeyError):
                continue
            if text != value:
                continue
            hint = _HINTS.get(pattern)
            score = _similarity(context, f.label or name) + (0.5 if hint and hint in context else 0.0)
            score -= rank * 0.001  # ties go to the simpler pattern
            cand = (score, -order, name, pattern)
            if best is None or cand > best:
                best = cand
    return (best[2], best[3]) if best else None


def _target(d: dict[str, Any]) -> dict[str, Any] | None:
    """The most stable way to name an input: its label (in its fieldset if needed), else a stable id."""
    label = d.get("label") or ""
    if label:
        if d.get("group") and d.get("groupLabelExactCount") == 1:  # 年・月・日 of one date, in its fieldset
            inner: dict[str, Any] = {"label": label}
            if d.get("groupLabelCount", 1) > 1:
                inner["exact"] = True
            return inner | {"within": {"role": "group", "name": d["group"]}}
        if d.get("labelExactCount") == 1:
            return {"label": label, "exact": True} if d.get("labelCount", 1) > 1 else {"label": label}
    if d.get("id") and d.get("stableId"):
        return {"css": f"#{d['id']}"}
    if d.get("elName") and not _RANDOM_SEGMENT.search(d["elName"]):
        return {"css": f"{d.get('tag', 'input')}[name=\"{d['elName']}\"]"}
    return None


def _button(d: dict[str, Any]) -> dict[str, Any]:
    role, name = d.get("role") or "button", d.get("name") or ""
    if name and d.get("nameCount", 1) == 1:
        return {"role": role, "name": name, "exact": True}
    if d.get("id") and d.get("stableId"):
        return {"css": f"#{d['id']}"}
    return {"role": role, "name": name, "exact": True, "nth": 0} if name else {"css": d.get("path", TODO)}


def _candidates(v: Visit) -> list[tuple[str, dict[str, Any]]]:
    info = v.info
    out = []
    for h in sorted(info.get("headings", []), key=lambda h: h["level"], reverse=True):  # h2 before h1
        out.append((f"h:{h['text']}", {"role": "heading", "name": h["text"], "exact": True}))
    for text in info.get("current", []):
        out.append((f"c:{text}", {"text": text, "exact": True}))
    for i in info.get("ids", []):
        out.append((f"id:{i}", {"css": f"#{i}"}))
    return out


def _markers(visits: list[Visit]) -> dict[int, dict[str, Any]]:
    """A marker per visit that no other screen shows (the same screen seen twice may share it)."""
    screens: dict[str, set[str]] = {}
    for v in visits:
        for k, _ in _candidates(v):
            screens.setdefault(k, set()).add(_shape(_path(v.url)))
    out = {}
    for i, v in enumerate(visits):
        here = _shape(_path(v.url))
        found = next((target for k, target in _candidates(v) if screens[k] == {here}), None)
        if found is not None:
            out[i] = found
    return out


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def _shape(path: str) -> str:
    """/kd/iryo/f/EOYh_qoiRIxZ/2 → /kd/iryo/f/*/2: the same screen under another flow key."""
    return "/".join("*" if len(s) >= 8 and _RANDOM_SEGMENT.search(s) else s for s in path.split("/"))


def receipt_pattern(text: str) -> str | None:
    """R8-000001 → R\\d+-\\d{6}: letters kept, a short digit run any length, a long one its length."""
    m = re.search(r"(?:受付番号|受付No\.?|受付NO|申請番号|登録番号)\s*[：:は]?\s*([A-Za-z0-9][^\s。、，,）)」]*)", text)
    if not m:
        return None
    out = []
    for part in re.findall(r"\d+|[A-Za-z]+|\D", m.group(1)):
        if part.isdigit():
            out.append(rf"\d{{{len(part)}}}" if len(part) >= 4 else r"\d+")
        else:
            out.append(part if re.fullmatch(r"[\w\-/]+", part) else re.escape(part))
    return "".join(out)


def _step(click: dict[str, Any]) -> dict[str, Any]:
    d = click["target"]
    if d.get("role") == "tab" and d.get("name"):
        return {"tab": d["name"]}
    step: dict[str, Any] = {"click": _button(d)}
    if click.get("popup"):
        step["popup"] = True
    return step


@dataclass
class _Session:
    """Which recorded visit played which part: the analysis a draft is written from."""

    visits: list[Visit]
    markers: dict[int, dict[str, Any]]
    login: int | None  # the page with the password input
    home: int  # the page shown after logging in
    entry: list[int]  # the pages with inputs, in order
    confirm: int | None  # the page without inputs between the last one and the completion page
    done: int | None  # the completion page (it names the 受付番号)
    search: int | None  # the search page, where the key alone was typed
    pattern: str | None  # receipt_pattern, generalised from the completion page

    @classmethod
    def of(cls, rec: Recording, key: str) -> _Session:
        visits = _merged([v for v in rec.visits if v.info or v.values or v.clicks])
        tabs = {visits[0].page} if visits else set()
        for i in range(1, len(visits)):  # a click that opened another tab is a popup step
            if visits[i].page not in tabs:
                tabs.add(visits[i].page)
                if visits[i - 1].clicks:
                    visits[i - 1].clicks[-1]["popup"] = True
        login = next((i for i, v in enumerate(visits) if v.info.get("password") and v.values), None)
        searching = [bool(key) and len(v.inputs) == 1 and v.inputs[0]["kind"] == "fill"
                     and v.inputs[0].get("value") == key for v in visits]
        home = login + 1 if login is not None else 0
        entry = [i for i, v in enumerate(visits) if i >= home and v.inputs and not searching[i] and i != login]
        done = next((i for i, v in enumerate(visits) if entry and i > entry[-1] and v.info.get("receipts")), None)
        confirm = None
        if entry and done is not None and done - entry[-1] == 2 and not visits[entry[-1] + 1].inputs:
            confirm = entry[-1] + 1
        pattern = None
        if done is not None:
            pattern = next((p for p in map(receipt_pattern, (r["text"] for r in visits[done].info["receipts"])) if p),
                           None)
        return cls(visits, _markers(visits), login, home, entry, confirm, done,
                   next((i for i, s in enumerate(searching) if s), None), pattern)

    def typing_minutes(self, finished: float) -> float:
        if not self.entry:
            return 0.0
        end = self.visits[self.done].started if self.done is not None else finished
        return (end - self.visits[self.entry[0]].started) / 60


class _Writer:
    """The TOML lines of a draft, and what is left for a person (TODOs, notes)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.todo = 0
        self.notes: list[str] = []

    def __call__(self, line: str = "") -> None:
        self.lines.append(line)


def draft(rec: Recording, name: str, url: str, sample: Record | None = None, key: str = "",
          bots: list[str] | None = None, key_prefix: str = "KK-", key_length: int = 12) -> Draft:
    """The mapping TOML for what was recorded."""
    session = _Session.of(rec, key)
    w = _Writer()
    _head(w, session, rec, name, url, key, bots or [], key_prefix, key_length)
    _login(w, session)
    _search(w, session)
    w("[errors]")
    w('validation = "[role=alert]"            # 確認: 入力エラーのときに出る要素か確かめてください')
    w('items = "[role=alert] li"')
    w()
    _submit(w, session)
    _pages(w, session, sample, key)
    return Draft("\n".join(w.lines) + "\n", w.todo, w.notes)


def _head(w: _Writer, session: _Session, rec: Recording, name: str, url: str, key: str, bots: list[str],
          key_prefix: str, key_length: int) -> None:
    env = re.sub(r"\W", "_", name).upper()
    w(f"# {name}: 下書き (kakari systems record が {time.strftime('%Y-%m-%d')} に記録した操作から作成)")
    w("# TODO の行を直し、「確認」の行を確かめ、kakari systems check / kakari systems test で試してから使ってください。")
    w(f"title = {_s(_system_title(session.visits) or name)}")
    w(f"base_url = {_s(f'{urlsplit(url).scheme}://{urlsplit(url).netloc}')}")
    w(f"base_url_env = {_s(f'KAKARI_{env}_URL')}")
    minutes = max(0.5, round(session.typing_minutes(rec.finished) * 2) / 2)
    w(f"typing_minutes = {minutes:g}          # 導入前: 記録中の入力にかかった分数 (実測に直してください)")
    w(f"bots = {_v(bots)}")
    w(f"key_prefix = {_s(key_prefix)}")
    w(f"key_length = {key_length}")
    key_input = next((e for i in session.entry for e in session.visits[i].inputs if key and e.get("value") == key), None)
    if key_input:
        w(f"key_column = {_s(key_input['target'].get('label') or key_input['target'].get('elName') or '?')}")
    else:
        w.notes.append("外部連携番号を入力した欄が見つかりません (記録中に表示された番号を入力しなかった)")
    if session.pattern:
        w(f"receipt_pattern = {_lit(session.pattern)}")
    else:
        w.notes.append("完了画面に受付番号が見つかりませんでした")
    w()
    w("[credentials]")
    w(f"user_env = {_s(f'KAKARI_{env}_USER')}")
    w(f"password_env = {_s(f'KAKARI_{env}_PASSWORD')}")
    w(f"file = {_s(f'credentials/{name}.toml')}")
    w()


def _login(w: _Writer, session: _Session) -> None:
    w("[login]")
    if session.login is None:
        for k in ("url", "form", "user_input", "password_input", "submit", "success", "error"):
            w(f"{k} = {_s(TODO)}")
        w.todo += 7
        w.notes.append("ログイン画面 (パスワードの欄) が記録されていません")
        w()
        return
    lv = session.visits[session.login]
    user = next((e for e in lv.inputs if not e.get("password")), None)
    pw = next((e for e in lv.inputs if e.get("password")), None)
    w(f"url = {_s(_path(lv.url))}")
    w('form = "input[type=password]"')
    w(f"user_input = {_v(_target(user['target']) if user else TODO)}")
    w(f"password_input = {_v(_target(pw['target']) if pw else TODO)}")
    w(f"submit = {_v(_button(lv.clicks[-1]['target']) if lv.clicks else TODO)}")
    w(f"success = {_v(session.markers.get(session.login + 1, TODO))}")
    w('error = "[role=alert]"                 # 確認: ログインを断られたときだけ出る要素に直してください')
    w()


def _search(w: _Writer, session: _Session) -> None:
    i, visits = session.search, session.visits
    rows = (visits[i + 1].info.get("keyRows") or []) if i is not None and i + 1 < len(visits) else []
    if i is None or not rows:
        w.notes.append("登録後に外部連携番号で検索する操作が記録されていません: [search] がないため、中断した申請は"
                       "担当者の確認待ちになります (kakari systems check の警告を参照)")
        return
    sv, row = visits[i], rows[0]
    w("[search]")
    w(f"url = {_s(_path(sv.url))}")
    w(f"input = {_v(_target(sv.inputs[0]['target']) or TODO)}")
    w(f"submit = {_v(_button(sv.clicks[-1]['target']) if sv.clicks else TODO)}")
    region = row.get("region") or {}
    if region.get("label"):
        w(f"results = {_v({'role': region.get('role') or 'region', 'name': region['label']})}")
    elif region.get("id"):
        w(f"results = {_s('#' + region['id'])}")
    else:
        w(f"results = {_s(TODO)}                  # TODO: 検索結果の画面にだけある要素 (0件のときも)")
        w.todo += 1
    scope = f"#{row['tableId']}" if row.get("tableId") else f"#{region['id']}" if region.get("id") else "table"
    w(f"row = {_s(scope + (' tbody tr' if row.get('inBody') else ' tr'))}")
    key_cell = f"td:nth-child({row['keyIndex']})"
    w(f"row_key = {_s(key_cell)}")
    pattern = session.pattern
    number = next((n + 1 for n, c in enumerate(row["cells"]) if pattern and re.fullmatch(pattern, c)), None)
    w(f"row_confirmation = {_s(f'td:nth-child({number})' if number else TODO)}")
    if not number:
        w.todo += 1
    if not row.get("exact"):
        w('match = "contains"')
    w()


_RECEIPT_WORDS = r"受付番号|受付No|受付NO|申請番号|登録番号"


def _submit(w: _Writer, session: _Session) -> None:
    visits, last = session.visits, (session.entry[-1] if session.entry else None)
    w("[submit]")
    if session.confirm is not None:
        cv = visits[session.confirm]
        w(f"marker = {_v(session.markers.get(session.confirm, TODO))}")
        w(f"button = {_v(_button(cv.clicks[-1]['target']) if cv.clicks else TODO)}")
    elif last is not None:
        w(f"button = {_v(_button(visits[last].clicks[-1]['target']) if visits[last].clicks else TODO)}")
    if session.done is None:
        w(f"done = {_s(TODO)}")
        w(f"confirmation = {_s(TODO)}")
        w.todo += 2
        return
    r = visits[session.done].info["receipts"][0]
    before = re.split(_RECEIPT_WORDS, r["text"])[0].strip(" 。、:：")  # 「登録しました」 of 「登録しました。受付番号：…」
    w(f"done = {_v({'text': before} if before else session.markers.get(session.done, TODO))}")
    word = re.search(_RECEIPT_WORDS, r["own"] or r["text"])
    w(f"confirmation = {_v({'css': '#' + r['id']} if r.get('id') else {'text': word.group(0) if word else TODO})}")


def _pages(w: _Writer, session: _Session, sample: Record | None, key: str) -> None:
    visits = session.visits
    if not session.entry:
        w.notes.append("入力した画面が記録されていません")
        return
    home = _shape(_path(visits[session.home].url)) if len(visits) > session.home else ""
    menu = max((j for j in range(session.home, session.entry[0]) if _shape(_path(visits[j].url)) == home),
               default=session.home)  # the last time the person was back at the page after login
    for n, i in enumerate(session.entry):
        v, marker = visits[i], session.markers.get(i)
        w()
        w("[[pages]]")
        w(f"name = {_s(marker['name'] if marker and marker.get('role') == 'heading' else f'画面{n + 1}')}")
        if n == 0:
            steps = [_step(c) for x in visits[menu:i] for c in x.clicks]
            if steps:
                w("open = [")
                for step in [{"goto": HOME_PAGE}, *steps]:
                    w(f"    {_v(step)},")
                w("]")
            else:
                w(f"url = {_s(_path(v.url))}")
        w(f"marker = {_v(marker or TODO)}")
        w.todo += marker is None
        w(f"next = {_v(_button(v.clicks[-1]['target']) if v.clicks else TODO)}")
        w("fields = [")
        for e in v.inputs:
            line, missing = _field(e, sample, key)
            w.todo += missing
            w(f"    {line}")
        w("]")


def _system_title(visits: list[Visit]) -> str:
    """The part every page title shares (「ログイン | みどり町 総合衛生システム」 → the system's name)."""
    titles = [re.split(r"\s[-|｜]\s|｜", v.info.get("title", "")) for v in visits if v.info.get("title")]
    if not titles:
        return ""
    common = [p.strip() for p in titles[0] if all(p in t for t in titles)]
    return max(common, key=len) if common else titles[0][-1].strip()


def _merged(visits: list[Visit]) -> list[Visit]:
    """One visit per screen shown twice in a row (sent back with a validation error, or reloaded)."""
    out: list[Visit] = []
    for v in visits:
        prev = out[-1] if out else None
        if (prev is not None and prev.page == v.page and _shape(_path(prev.url)) == _shape(_path(v.url))
                and prev.values and v.values):
            prev.values.update(v.values)
            prev.clicks, prev.info, prev.url = v.clicks or prev.clicks, v.info or prev.info, v.url
            continue
        out.append(v)
    return out


def _field(e: dict[str, Any], sample: Record | None, key: str) -> tuple[str, int]:
    """One `fields` line for a recorded input, and how many TODOs it leaves."""
    d = e["target"]
    label = d.get("label") or d.get("name") or d.get("elName") or "?"
    context = " ".join(x for x in (d.get("group"), label) if x)
    if e["kind"] == "check" and d.get("group"):
        shown_label = d["group"]  # 性別, not the option chosen
    elif d.get("group") and len(label) <= 2:
        shown_label = f"{d['group']}（{label}）"  # 生年月日（年）
    else:
        shown_label = label
    spec: dict[str, Any] = {"label": shown_label}
    missing = 0
    kind = e["kind"]
    if kind == "upload":
        spec |= {"selector": _target(d) or TODO, "source": "@document", "kind": "upload"}
    elif kind == "select":
        found = infer_source(e.get("label", ""), context, sample, key)
        spec["selector"] = _target(d) or TODO
        if found and found[1] == "{value}":
            spec |= {"source": found[0], "kind": "select"}
        else:
            spec |= {"source": TODO, "kind": "select", "choose": "value", "map": {TODO: e.get("value", "")}}
            missing += 1
    elif kind == "check":
        shown = d.get("name") or ""
        found = infer_source(shown, context, sample, key)
        if found and found[1] == "{value}" and d.get("group") and d.get("groupRoleCount", 1) == 1:
            spec |= {"selector": {"role": "radio", "name": "{value}", "exact": True,
                                  "within": {"role": "group", "name": d["group"]}}, "source": found[0]}
        elif found and found[1] == "{value}" and d.get("elName"):
            spec |= {"selector": f"input[name=\"{d['elName']}\"][value='{{value}}']", "source": found[0],
                     "map": {shown: e.get("value", "")}}
        else:
            spec |= {"selector": _target(d) or TODO, "source": TODO}
            missing += 1
        spec["kind"] = "check"
    else:
        found = infer_source(str(e.get("value", "")), context, sample, key)
        spec["selector"] = _target(d) or TODO
        if found:
            spec["source"] = found[0]
            if found[1] != "{value}":
                spec["format"] = found[1]
        else:
            spec["source"] = TODO
            missing += 1
    if spec["selector"] == TODO:
        missing += 1
    line = _v(spec) + ","
    if missing:
        line += "  # TODO: 項目名 (source) と選択肢の対応 (map) を書いてください"
    return line, missing


# -- a small TOML writer: the draft uses only strings, numbers, booleans, lists and inline tables -----
def _s(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _lit(text: str) -> str:
    return f"'{text}'" if "'" not in text and "\n" not in text else _s(text)


def _v(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _s(value)
    if isinstance(value, list):
        return "[" + ", ".join(_v(x) for x in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_v(x)}" for k, x in value.items()) + " }"
    raise TypeError(type(value).__name__)


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _s(k)
