"""One browser tab of a back-office system, as the web sink sees it: find an element by its Target, go to a
page, click, run steps, wait for the page that should come next, type a value and read it back.

Every wait is an explicit Playwright wait bounded by the mapping's timeouts. A navigation still in
flight is given `navigation_seconds`; once the server has answered, the expected element gets
`element_seconds` to appear, after which the page is taken to have changed (PageChanged: never
typed around). A 5xx answer or the login page shown in place of the expected one is a Retry.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError, TimeoutError as PlaywrightTimeout

from connectors.webmapping import HOME_PAGE, FieldSpec, Step, SystemMapping, Target
from kakari.errors import TransientError

POLL_MS = 200  # one short wait, then the navigation state is looked at again


class PageChanged(TransientError):
    """An expected page or input is missing: the system's screens changed. Parked, never typed around."""


class Retry(Exception):
    """Timeout, 5xx, logout or a crashed browser: worth another attempt."""

    def __init__(self, message: str, *, timeout: bool = False, relogin: bool = False, restart: bool = False,
                 step: bool = False) -> None:
        super().__init__(message)
        self.message, self.timeout, self.relogin, self.restart = message, timeout, relogin, restart
        self.step = step  # the failed step can be redone on its own (an idempotent GET, a 5xx on a form page)


class Rejected(Exception):
    """This record cannot be entered as it is (the system's validation, or a value it cannot take)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Navigations:
    """Document requests of one tab, kept from Playwright's events: is one in flight, how did the last end."""

    pending: set[Any] = field(default_factory=set)
    status: int | None = None  # of the last document answer since `reset`
    method: str = "GET"  # of the request that produced the document shown
    answered: float = 0.0  # monotonic time of the last answer

    def attach(self, page: Any) -> None:
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def reset(self) -> None:
        self.status = None

    def _request(self, request: Any) -> None:
        if request.is_navigation_request():
            self.pending.add(request)

    def _response(self, response: Any) -> None:
        request = response.request
        if request in self.pending:
            self.pending.discard(request)
            self.status, self.method, self.answered = response.status, request.method, time.monotonic()

    def _failed(self, request: Any) -> None:
        if request in self.pending:
            self.pending.discard(request)
            self.answered = time.monotonic()


class Screen:
    """The tab the sink types in. `where` arguments name the page in messages (画面「…」)."""

    def __init__(self, page: Any, system: SystemMapping) -> None:
        self.system = system
        self.main = page
        self.page = page
        self.scope: Any = page  # the page, or the iframe chosen by a `frame` step (a FrameLocator)
        self.frame: Any = None  # that iframe's Frame, whose own navigations a submit waits for
        self.nav = Navigations()
        self.nav.attach(page)
        self.home_url: str | None = None  # the page shown right after logging in
        self.nav_ms = system.timeouts.navigation_seconds * 1000
        self.elem_ms = system.timeouts.element_seconds * 1000

    # -- finding ---------------------------------------------------------------------------------
    def locate(self, t: Target, base: Any = None) -> Any:
        base = self.scope if base is None else base
        if t.frame is not None:
            base = base.frame_locator(t.frame)
        if t.within is not None:
            base = self.locate(t.within, base)
        if t.css is not None:
            loc = base.locator(t.css)
        elif t.label is not None:
            loc = base.get_by_label(t.label, exact=t.exact)
        elif t.role is not None:
            loc = base.get_by_role(t.role, name=t.name, exact=t.exact) if t.name is not None else base.get_by_role(t.role)
        elif t.text is not None:
            loc = base.get_by_text(t.text, exact=t.exact)
        elif t.placeholder is not None:
            loc = base.get_by_placeholder(t.placeholder, exact=t.exact)
        elif t.title is not None:
            loc = base.get_by_title(t.title, exact=t.exact)
        elif t.alt is not None:
            loc = base.get_by_alt_text(t.alt, exact=t.exact)
        else:
            loc = base.get_by_test_id(t.test_id)
        return loc.nth(t.nth) if t.nth is not None else loc

    def find(self, t: Target, where: str, label: str, state: str = "attached") -> Any:
        """The one element for `t`; PageChanged (naming it and the page) if absent or ambiguous."""
        loc = self.locate(t)
        self._wait_for(loc, where, f"「{label}」の要素（{t.describe()}）", state)
        n = loc.count()
        if n != 1:
            raise PageChanged(f"画面「{where}」で「{label}」の{t.describe()}に一致する要素が{n}個あります。"
                              "どの欄か決められないため、入力を中止しました")
        return loc

    def _wait_for(self, loc: Any, where: str, what: str, state: str = "attached") -> None:
        start = time.monotonic()
        while True:
            self._server_trouble(where)
            try:
                loc.first.wait_for(state=state, timeout=POLL_MS)
                return
            except PlaywrightTimeout:
                pass
            self._server_trouble(where)
            now = time.monotonic()
            if self.nav.pending:
                if (now - start) * 1000 > self.nav_ms:
                    raise Retry(f"画面「{where}」が{self.nav_ms / 1000:.0f}秒以内に表示されませんでした", timeout=True,
                                step=True)
            elif (now - max(start, self.nav.answered)) * 1000 > self.elem_ms:
                if self._on_login_page():
                    raise Retry(f"画面「{where}」の代わりにログイン画面が表示されました（セッション切れ）", relogin=True)
                raise PageChanged(f"画面「{where}」で{what}が見つかりません。画面の構成が変わった可能性があるため、"
                                  f"入力を中止しました（表示中の画面: 「{self.title()}」 {self.path()}）")

    def _server_trouble(self, where: str) -> None:
        if self.nav.status is not None and self.nav.status >= 500:
            status, self.nav.status = self.nav.status, None
            raise Retry(f"画面「{where}」でシステムが応答できませんでした（HTTP {status}）", step=True)

    def _on_login_page(self) -> bool:
        try:
            return self.locate(self.system.login.form, self.page).count() > 0
        except PlaywrightError:
            return False

    # -- arriving --------------------------------------------------------------------------------
    def arrive(self, marker: Target, where: str, extra: dict[str, Target | None] | None = None,
               login_page_ok: bool = False) -> str:
        """Which page is shown: "expected", a key of `extra`, or raise (5xx, logged out, validation)."""
        candidates: dict[str, Target] = {"expected": marker}
        candidates.update({k: v for k, v in (extra or {}).items() if v is not None})
        if not login_page_ok:
            candidates["login"] = self.system.login.form
        candidates["validation"] = self.system.errors.validation
        locs = {k: self.locate(t, self.page if k == "login" else None) for k, t in candidates.items()}
        union = None
        for loc in locs.values():
            union = loc if union is None else union.or_(loc)
        try:
            self._wait_for(union, where, f"目印（{marker.describe()}）")
        except PageChanged:
            status = self.nav.status
            raise PageChanged(f"画面「{where}」が表示されるはずですが、目印（{marker.describe()}）が見つかりません"
                              f"（表示中の画面: 「{self.title()}」 {self.path()}"
                              + (f"、HTTP {status}" if status else "") + "）。"
                              "画面の構成が変わった可能性があるため、入力を中止しました") from None
        for kind, loc in locs.items():
            if loc.count() == 0:
                continue
            if kind == "login":
                raise Retry(f"画面「{where}」の代わりにログイン画面が表示されました（セッション切れ）", relogin=True)
            if kind == "validation":
                items = [t.strip() for t in self.locate(self.system.errors.items).all_inner_texts() if t.strip()]
                raise Rejected("システムが入力内容を受け付けませんでした: " + ("／".join(items) or "（理由の表示なし）"))
            return kind
        raise PageChanged(f"画面「{where}」を判別できません（{marker.describe()}）")

    def goto(self, path: str, marker: Target, where: str, login_page_ok: bool = False) -> str:
        self._load(path, where)
        return self.arrive(marker, where, login_page_ok=login_page_ok)

    def _load(self, path: str, where: str) -> None:
        """Open a path under base_url (or a full address) in the tab; the iframe chosen before is left."""
        url = path if "://" in path else self.system.url + path
        self.scope, self.frame = self.page, None
        self.nav.reset()
        try:
            resp = self.page.goto(url, timeout=self.nav_ms, wait_until="domcontentloaded")
        except PlaywrightTimeout:
            raise Retry(f"画面「{where}」が{self.nav_ms / 1000:.0f}秒以内に表示されませんでした", timeout=True,
                        step=True) from None
        if resp is not None:
            self.nav.status, self.nav.method = resp.status, resp.request.method

    def submit(self, button: Target, where: str, marker: Target, next_name: str,
               extra: dict[str, Target | None] | None = None, login_page_ok: bool = False) -> str:
        """Click a button that sends a form and wait for the page it leads to."""
        loc = self.find(button, where, "ボタン", state="visible")
        self.nav.reset()
        try:  # a form inside an iframe navigates the iframe, not the page
            with (self.frame or self.page).expect_navigation(timeout=self.nav_ms, wait_until="domcontentloaded") as nav:
                loc.click(timeout=self.elem_ms, no_wait_after=True)
            resp = nav.value
        except PlaywrightTimeout:
            raise Retry(f"画面「{where}」のボタンを押した後、次の画面「{next_name}」が"
                        f"{self.nav_ms / 1000:.0f}秒以内に表示されませんでした", timeout=True) from None
        if resp is not None:
            self.nav.status, self.nav.method = resp.status, resp.request.method
        if self.frame is None:
            self.scope = self.page
        return self.arrive(marker, next_name, extra, login_page_ok)

    # -- steps -----------------------------------------------------------------------------------
    def run_steps(self, steps: list[Step], where: str) -> None:
        for step in steps:
            if step.goto is not None:
                self._goto_step(step.goto, where)
            elif step.click is not None:
                loc = self.find(step.click, where, "クリックする要素", state="visible")
                self.nav.reset()
                if step.popup:
                    with self.page.context.expect_page(timeout=self.nav_ms) as info:
                        loc.click(timeout=self.elem_ms, no_wait_after=True)
                    self._switch(info.value)
                else:
                    loc.click(timeout=self.elem_ms, no_wait_after=True)
            elif step.wait is not None:
                self.find(step.wait, where, "待つ要素", state="visible")
            elif step.wait_gone is not None:
                self._wait_for(self.locate(step.wait_gone), where, f"消えるはずの要素（{step.wait_gone.describe()}）",
                               state="hidden")
            elif step.tab is not None:
                tab = Target(role="tab", name=step.tab, exact=True)
                loc = self.find(tab, where, f"タブ「{step.tab}」", state="visible")
                loc.click(timeout=self.elem_ms, no_wait_after=True)
                if loc.get_attribute("aria-selected") is not None:
                    self._wait_for(loc.and_(self.scope.locator("[aria-selected=true]")), where,
                                   f"選択されたタブ「{step.tab}」")
            elif step.frame is not None:
                self._choose_frame(step.frame, where)

    def _choose_frame(self, selector: str, where: str) -> None:
        if selector == "":
            self.scope, self.frame = self.page, None
            return
        self.scope, self.frame = self.page, None  # a frame is named from the page, not from another frame
        holder = self.find(Target(css=selector), where, "フレーム")
        frame = holder.element_handle(timeout=self.elem_ms).content_frame()
        if frame is None:
            raise PageChanged(f"画面「{where}」の {selector} はフレーム (iframe) ではありません")
        frame.wait_for_load_state("domcontentloaded", timeout=self.nav_ms)
        self.scope, self.frame = self.page.frame_locator(selector), frame

    def _goto_step(self, path: str, where: str) -> None:
        if path == HOME_PAGE:
            if self.home_url is None:
                raise Retry("ログイン後の画面がまだ分からないため、ログインからやり直します", relogin=True)
            path = self.home_url
        self._load(path, where)
        self._server_trouble(where)
        if self._on_login_page():
            raise Retry(f"画面「{where}」の代わりにログイン画面が表示されました（セッション切れ）", relogin=True)

    def _switch(self, page: Any) -> None:
        page.wait_for_load_state("domcontentloaded", timeout=self.nav_ms)
        self.page = self.scope = page
        self.frame = None
        self.nav = Navigations()
        self.nav.attach(page)

    def back_to_main(self) -> None:
        """Close windows opened by `popup` steps; the next record starts in the first tab."""
        if self.page is not self.main:
            for p in list(self.main.context.pages):
                if p is not self.main:
                    p.close()
            self.page = self.main
            self.nav = Navigations()
            self.nav.attach(self.main)
        self.scope, self.frame = self.page, None

    # -- inputs ----------------------------------------------------------------------------------
    def put(self, where: str, spec: FieldSpec, value: str) -> None:
        target = spec.selector.with_value(value) if spec.kind in ("check", "select", "fill") else spec.selector
        loc = self.find(target, where, spec.label)
        try:
            loc.wait_for(state="visible" if spec.kind != "upload" else "attached", timeout=self.elem_ms)
        except PlaywrightTimeout:  # e.g. shown only after a radio button
            raise PageChanged(f"画面「{where}」の「{spec.label}」（{target.describe()}）が表示されません。"
                              "画面の構成が変わった可能性があるため、入力を中止しました") from None
        tag, kind = loc.evaluate("e => [e.tagName, (e.type || '').toLowerCase()]")
        expected = {"fill": ("INPUT", "TEXTAREA"), "select": ("SELECT",), "check": ("INPUT",),
                    "upload": ("INPUT",)}[spec.kind]
        bad_input = spec.kind == "fill" and kind in ("radio", "checkbox", "submit", "button", "hidden", "file")
        if (tag not in expected or bad_input or (spec.kind == "check" and kind not in ("radio", "checkbox"))
                or (spec.kind == "upload" and kind != "file")):
            raise PageChanged(f"画面「{where}」の「{spec.label}」（{target.describe()}）が想定した種類の入力欄"
                              f"ではありません（{tag.lower()} {kind}）。誤った欄への入力を避けるため中止しました")
        try:
            ok, problem = self._enter(loc, where, spec, value, target)
        except PlaywrightTimeout:
            raise Retry(f"画面「{where}」の「{spec.label}」への入力が時間内に終わりませんでした", timeout=True) from None
        if not ok:
            raise Rejected(f"画面「{where}」の「{spec.label}」: {problem}")

    def _enter(self, loc: Any, where: str, spec: FieldSpec, value: str, target: Target) -> tuple[bool, str]:
        if spec.kind == "fill":
            loc.fill(value, timeout=self.elem_ms)
            return loc.input_value(timeout=self.elem_ms) == value, "入力した値が画面で変わりました（文字数制限・入力規則）"
        if spec.kind == "select":
            if spec.choose == "value":
                if not loc.evaluate("(e, v) => [...e.options].some(o => o.value === v)", value):
                    raise Rejected(f"画面「{where}」の「{spec.label}」（{target.describe()}）にコード「{value}」の選択肢がありません")
                loc.select_option(value=value, timeout=self.elem_ms)
                return loc.input_value(timeout=self.elem_ms) == value, "選択した値が画面に反映されませんでした"
            if not loc.evaluate("(e, v) => [...e.options].some(o => o.label === v || o.text === v)", value):
                raise Rejected(f"画面「{where}」の「{spec.label}」（{target.describe()}）に該当する選択肢がありません")
            loc.select_option(label=value, timeout=self.elem_ms)
            chosen = loc.evaluate("e => e.selectedIndex >= 0 ? e.options[e.selectedIndex].label : null")
            return chosen == value, "選択した値が画面に反映されませんでした"
        if spec.kind == "upload":
            loc.set_input_files(value, timeout=self.elem_ms)
            return loc.evaluate("e => e.files.length") == 1, "ファイルを添付できませんでした"
        loc.check(timeout=self.elem_ms)
        return loc.is_checked(), "選択が画面に反映されませんでした"

    def text(self, t: Target, where: str, label: str, base: Any = None) -> str:
        loc = self.locate(t, base) if base is not None else self.find(t, where, label)
        text = " ".join(loc.inner_text(timeout=self.elem_ms).split())
        if not text:
            raise PageChanged(f"画面「{where}」の{label}（{t.describe()}）が空です")
        return text

    def receipt(self, t: Target, where: str, base: Any = None) -> str:
        """The 受付番号 in the element, cut out by the mapping's receipt_pattern."""
        text = self.text(t, where, "受付番号", base)
        number = self.system.receipt(text)
        if number is None:
            raise PageChanged(f"画面「{where}」の{t.describe()}に受付番号の形（receipt_pattern "
                              f"{self.system.receipt_pattern}）が見つかりません。表示の形が変わった可能性があります")
        return number

    # -- where are we ----------------------------------------------------------------------------
    def title(self) -> str:
        try:
            return str(self.page.title())
        except Exception:  # noqa: BLE001 - only for a message
            return "?"

    def path(self) -> str:
        try:
            url = str(self.page.url)
            return url[len(self.system.url):] if url.startswith(self.system.url) else url
        except Exception:  # noqa: BLE001
            return "?"

    def reopenable(self) -> str | None:
        """The address of the page shown, if it came from a plain GET (safe to load again); a page inside
        an iframe is not reopened on its own (the record starts over)."""
        return str(self.page.url) if self.nav.method == "GET" and self.frame is None else None

    def snapshot(self, base: Path) -> bool:
        """Screenshot + HTML of the tab at `base`.png/.html."""
        self.page.screenshot(path=str(base.with_suffix(".png")), full_page=True, timeout=10_000)
        base.with_suffix(".html").write_text(self.page.content(), encoding="utf-8")
        return True
