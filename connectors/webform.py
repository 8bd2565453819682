"""WebFormSink: types records into a web back-office system with Playwright (Chromium), exactly once.

Per record, in order (state in connectors/webstate.py, screens in connectors/systems/<name>.toml):
  1. confirmed already → skip;  rejected earlier → leave for a person
  2. log in if needed; search the system for the record's key (外部連携番号) → found: confirmed
  3. compute every value first (a value that cannot be shown rejects the record before any typing)
  4. fill each page, checking each input exists once, is visible and reads back what was typed
  5. commit state "submitted", click 登録, read the 受付番号 → confirmed
Timeouts, 5xx answers and logouts are retried (re-login, search again, backoff); after the last
attempt a TransientError parks the batch. A missing selector stops at once (PageChanged): the page
changed, and typing on would put values in the wrong inputs. Every failure leaves a screenshot and
an HTML snapshot in <home>/web_failures/<doc_id>_<ts>.png/.html. Values and credentials are never logged.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from playwright.sync_api import Error as PlaywrightError, TimeoutError as PlaywrightTimeout, sync_playwright

from connectors.base import Sink, WriteResult
from connectors.webmapping import (
    Credentials,
    FieldSpec,
    PageSpec,
    SystemMapping,
    TransformError,
    load_credentials,
    value_for,
)
from connectors.webstate import CONFIRMED, REJECTED, SUBMITTED, Submission, WebState, new_owner
from kakari.config import RunContext
from kakari.errors import ConfigError, MissingDependency, PageTimeout, SystemUnavailable, TransientError
from kakari.locate import browser_launch
from kakari.log import logger
from kakari.model import Record, Status

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
T = TypeVar("T")
ELIGIBLE = (Status.REGISTERED.value, Status.CONFIRMED.value)  # 要確認 waits for a person; エラー never goes


class PageChanged(TransientError):
    """An expected page or input is missing: the system's screens changed. Parked, never typed around."""


class LoginFailed(ConfigError):
    """The system refused the user ID / password: retrying could lock the account, so stop."""


class _Retry(Exception):
    """Timeout, 5xx, logout or a crashed browser: worth another attempt."""

    def __init__(self, message: str, *, timeout: bool = False, relogin: bool = False, restart: bool = False,
                 step: bool = False) -> None:
        super().__init__(message)
        self.message, self.timeout, self.relogin, self.restart = message, timeout, relogin, restart
        self.step = step  # the failed step can be redone on its own (an idempotent GET, a 5xx on a form page)


class _Rejected(Exception):
    """This record cannot be entered as it is (the system's validation, or a value it cannot take)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WebHooks:
    """What the job layer does around the sink (time log, ledger write-back, events). No-ops here."""

    def confirmed(self, rec: Record, sub: Submission) -> None: ...

    def rejected(self, rec: Record, reason: str) -> None: ...

    def batch_done(self, records: list[Record]) -> None:
        """Called once per write_many, also after a failure; may raise TransientError (ledger locked)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _css_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def eligible(rec: Record) -> bool:
    status = rec.meta.get("status") or rec.status.value
    return status in ELIGIBLE and bool(rec.fields)


class WebFormSink(Sink):
    name: ClassVar[str] = "webform"

    def __init__(self, system: SystemMapping, state: WebState, home: Path, job: str = "",
                 credentials: Credentials | None = None, *, browser: Any = None, headless: bool = True,
                 executable_path: str | None = None, hooks: WebHooks | None = None) -> None:
        self.system = system
        self.state = state
        self.home = Path(home)
        self.job = job
        self.credentials = credentials or load_credentials(system.credentials, self.home, system.name)
        self.hooks = hooks or WebHooks()
        self.headless = headless
        # a Chromium-family browser: the argument, KAKARI_CHROMIUM, [system] browser, or the platform's
        given = executable_path or os.environ.get("KAKARI_CHROMIUM")
        self.launch_args = {"executable_path": given} if given else browser_launch()
        self._external_browser = browser
        self._pw: Any = None
        self._browser: Any = browser
        self._context: Any = None
        self._page: Any = None
        self._logged_in = False
        self._owner = new_owner()
        self._nav_ms = system.timeouts.navigation_seconds * 1000
        self._elem_ms = system.timeouts.element_seconds * 1000
        self.failures: list[Path] = []  # snapshots written by this sink (base paths, no suffix)

    # =========================================================================================
    # Sink interface
    # =========================================================================================
    def open(self, ctx: RunContext) -> None:
        """Nothing to do: the browser starts only when a record actually needs typing."""

    def close(self) -> None:
        self._shutdown()

    def write_many(self, records: Iterable[Record]) -> WriteResult:
        records = list(records)
        todo = [r for r in records if self.system.accepts(r) and eligible(r)]
        try:
            result = self._run(todo)
        except BaseException:
            self._finish(todo, quiet=True)
            raise
        self._finish(todo, quiet=False)
        held = len(records) - len(todo)
        if held:
            result.detail += f"、対象外 {held}件（要確認・エラー・他の様式）"
        return result

    def update(self, rec: Record) -> WriteResult:
        """A person confirmed a 要確認 record (確認済): enter it now, unless the system has it already."""
        return self.write_many([rec])

    # =========================================================================================
    # One batch, one record
    # =========================================================================================
    def _run(self, records: list[Record]) -> WriteResult:
        result = WriteResult()
        rejected = busy = 0
        for rec in records:
            outcome = self._one(rec)
            if outcome == "written":
                result.written.append(rec.doc_id)
            elif outcome == "skipped":
                result.skipped.append(rec.doc_id)
            elif outcome == "rejected":
                rejected += 1
            else:
                busy += 1
        result.detail = f"{self.system.title}: 登録 {len(result.written)}件、登録済み {len(result.skipped)}件"
        if rejected:
            result.detail += f"、受付不可 {rejected}件（担当者の確認が必要）"
        if busy:
            raise TransientError(f"{self.system.title}: {busy}件は別の処理が入力中のため、後で再試行します")
        return result

    def _finish(self, records: list[Record], quiet: bool) -> None:
        self._shutdown()
        try:
            self.hooks.batch_done(records)
        except TransientError as e:
            if not quiet:
                raise
            logger.warning(f"{self.system.title}: 後処理を次回に回します: {e.message}")

    def _one(self, rec: Record) -> str:
        sysname = self.system.name
        key = self.system.key_for(rec.doc_id)
        try:
            sub = self.state.ensure(rec.doc_id, sysname, self.job, key)
        except ValueError as e:
            logger.error(f"{self.system.title}: {e}")
            return "rejected"
        if sub.state == CONFIRMED:
            return "skipped"
        if sub.state == REJECTED:
            return "rejected"  # waits for a person (WebState.reset) rather than failing again
        if not self.state.acquire(rec.doc_id, sysname, self._owner):
            return "busy"
        try:
            sub = self.state.get(rec.doc_id, sysname) or sub
            if sub.state in (CONFIRMED, REJECTED):  # another worker finished it meanwhile
                return "skipped" if sub.state == CONFIRMED else "rejected"
            return self._attempts(rec, key)
        finally:
            self.state.release(rec.doc_id, sysname, self._owner)

    def _attempts(self, rec: Record, key: str) -> str:
        sysname, retry = self.system.name, self.system.retry
        started = _now()
        for attempt in range(1, retry.attempts + 1):
            try:
                confirmation, via = self._attempt(rec, key, started)
            except _Rejected as e:
                self._snapshot(rec.doc_id)
                self.state.mark_rejected(rec.doc_id, sysname, e.message)
                logger.warning(f"{self.system.title}: {rec.doc_id[:12]} を登録できません: {e.message}")
                self.hooks.rejected(rec, e.message)
                return "rejected"
            except LoginFailed:
                self._snapshot(rec.doc_id)
                raise
            except PageChanged as e:
                self._snapshot(rec.doc_id)
                self.state.note_error(rec.doc_id, sysname, e.message)
                logger.error(f"{self.system.title}: {e.message}")
                raise
            except _Retry as e:
                self._snapshot(rec.doc_id)
                self.state.note_error(rec.doc_id, sysname, e.message)
                logger.warning(f"{self.system.title}: {rec.doc_id[:12]} 試行 {attempt}/{retry.attempts}: {e.message}")
                if e.relogin:
                    self._logged_in = False
                if e.restart:
                    self._discard_page()
                if attempt == retry.attempts:
                    cls = PageTimeout if e.timeout else SystemUnavailable
                    raise cls(f"{self.system.title} に{retry.attempts}回試みても登録できませんでした: {e.message}") from None
                if not e.relogin:  # a logout is answered by logging in again, not by waiting
                    self._backoff(attempt)
                continue
            self.state.mark_confirmed(rec.doc_id, sysname, confirmation, via, started)
            sub = self.state.get(rec.doc_id, sysname)
            assert sub is not None
            rec.meta["confirmation"] = confirmation
            self.hooks.confirmed(rec, sub)
            return "written"
        raise AssertionError("unreachable")

    def _attempt(self, rec: Record, key: str, started: datetime) -> tuple[str, str]:
        """One try from the top: (受付番号, how it was obtained)."""
        try:
            return self._attempt_steps(rec, key, started)
        except PlaywrightTimeout:
            raise _Retry(f"画面「{self._title()}」の操作が時間内に終わりませんでした", timeout=True) from None
        except PlaywrightError as e:
            raise self._browser_trouble(e, self._title()) from None

    def _attempt_steps(self, rec: Record, key: str, started: datetime) -> tuple[str, str]:
        self._page_ready()
        if not self._logged_in:
            self._retrying(lambda n: self._login(), rec.doc_id)
        if self.system.search is not None:
            found = self._retrying(lambda n: self._search(key), rec.doc_id)
            if found:
                return found, "search"
        else:
            sub = self.state.get(rec.doc_id, self.system.name)
            if sub is not None and sub.state == SUBMITTED:
                raise _Rejected("登録ボタンを押した後に処理が中断されましたが、この連携先には検索画面の設定がないため"
                                "登録の有無を確かめられません。システムで確認してください")
        plan = self._plan(rec, key)
        pages = self.system.pages
        submit = self.system.submit
        for i, page in enumerate(pages):
            last = i + 1 == len(pages)
            target = (submit.marker, "確認") if last else (pages[i + 1].marker, pages[i + 1].name)

            def fill_page(n: int, i: int = i, page: PageSpec = page, target: tuple[str | None, str] = target) -> None:
                if i == 0 or n > 1:  # a page is reopened by its URL; without one, the record starts over
                    if page.url is None:
                        raise _Retry(f"画面「{page.name}」を開き直せないため、最初からやり直します")
                    self._goto(page.url, page.marker, page.name)
                for spec, value in plan[i]:
                    self._put(page, spec, value)
                if target[0] is not None:
                    self._click(page.next, page.name, target[0], target[1])

            self._retrying(fill_page, rec.doc_id)
        where, button = (pages[-1].name, pages[-1].next) if submit.marker is None else ("確認", submit.button)
        # durable before the irreversible click: a crash from here on resumes by searching for the key
        self.state.mark_submitted(rec.doc_id, self.system.name, started)
        arrived = self._click(button, where, submit.done, "登録完了", {"duplicate": submit.duplicate})
        if arrived == "duplicate" and submit.duplicate_confirmation:
            return self._text(submit.duplicate_confirmation, where, "既存の受付番号"), "duplicate"
        if arrived == "duplicate":
            raise _Rejected("システムが二重登録と判定しましたが、既存の受付番号を読み取る設定がありません")
        return self._text(submit.confirmation, "登録完了", "受付番号"), "entry"

    def _retrying(self, step: Callable[[int], T], doc_id: str) -> T:
        """Redo one idempotent step (open a page, search, log in, fill a form page) after a 5xx or a page
        timeout; anything else, or the last failure, goes up to the record level."""
        tries = self.system.retry.step_attempts
        for n in range(1, tries + 1):
            try:
                return step(n)
            except _Retry as e:
                if not e.step or n == tries:
                    raise
                self._snapshot(doc_id)
                logger.warning(f"{self.system.title}: {doc_id[:12]} 再試行 {n}/{tries}: {e.message}")
                self._backoff(n)
        raise AssertionError("unreachable")

    def _backoff(self, n: int) -> None:
        delays = self.system.retry.backoff_seconds
        if delays:
            time.sleep(delays[min(n - 1, len(delays) - 1)])

    def _plan(self, rec: Record, key: str) -> list[list[tuple[FieldSpec, str]]]:
        plan: list[list[tuple[FieldSpec, str]]] = []
        for page in self.system.pages:
            items = []
            for spec in page.fields:
                try:
                    value = value_for(spec, rec, key, self.system)
                except TransformError as e:
                    raise _Rejected(f"画面「{page.name}」の「{spec.label}」: {e}") from None
                if value is not None:
                    items.append((spec, value))
            plan.append(items)
        return plan

    # =========================================================================================
    # Screens
    # =========================================================================================
    def _login(self) -> None:
        login = self.system.login
        self._goto(login.url, login.form, "ログイン", login_page_ok=True)
        self._find(login.user_input, "ログイン", "利用者ID").fill(self.credentials.user, timeout=self._elem_ms)
        self._find(login.password_input, "ログイン", "パスワード").fill(self.credentials.password,
                                                                      timeout=self._elem_ms)
        arrived = self._click(login.submit, "ログイン", login.success, "ログイン後のメニュー",
                              {"login_error": login.error}, login_page_ok=True)
        if arrived == "login_error":
            raise LoginFailed(f"{self.system.title} にログインできません（利用者IDまたはパスワードが受け付けられませんでした）。"
                              f"環境変数 {self.system.credentials.user_env} / {self.system.credentials.password_env} "
                              "または資格情報ファイルを確認してください（アカウントのロックを避けるため再試行しません）")
        self._logged_in = True

    def _search(self, key: str) -> str | None:
        search = self.system.search
        assert search is not None
        self._goto(search.url, search.input, "検索")
        self._find(search.input, "検索", "検索キー").fill(key, timeout=self._elem_ms)
        self._click(search.submit, "検索", search.results, "検索結果")
        rows = self._page.locator(search.row)
        for i in range(rows.count()):
            row = rows.nth(i)
            cell = row.locator(search.row_key)
            if cell.count() == 1 and cell.inner_text(timeout=self._elem_ms).strip() == key:
                found = row.locator(search.row_confirmation)
                if found.count() != 1:
                    raise PageChanged(f"画面「検索結果」で受付番号の欄（セレクター {search.row_confirmation}）が"
                                      "見つかりません。画面の構成が変わった可能性があります")
                text = found.inner_text(timeout=self._elem_ms).strip()
                if text:
                    return text
        return None

    def _put(self, page: PageSpec, spec: FieldSpec, value: str) -> None:
        selector = spec.selector.replace("{value}", _css_string(value))
        loc = self._find(selector, page.name, spec.label)
        try:
            loc.wait_for(state="visible", timeout=self._elem_ms)  # e.g. shown only after a radio button
        except PlaywrightTimeout:
            raise PageChanged(f"画面「{page.name}」の「{spec.label}」（セレクター {selector}）が表示されません。"
                              "画面の構成が変わった可能性があるため、入力を中止しました") from None
        tag, kind = loc.evaluate("e => [e.tagName, (e.type || '').toLowerCase()]")
        expected = {"fill": ("INPUT", "TEXTAREA"), "select": ("SELECT",), "check": ("INPUT",)}[spec.kind]
        bad_input = spec.kind == "fill" and kind in ("radio", "checkbox", "submit", "button", "hidden", "file")
        if tag not in expected or bad_input or (spec.kind == "check" and kind not in ("radio", "checkbox")):
            raise PageChanged(f"画面「{page.name}」の「{spec.label}」（セレクター {selector}）が想定した種類の入力欄"
                              f"ではありません（{tag.lower()} {kind}）。誤った欄への入力を避けるため中止しました")
        try:
            if spec.kind == "fill":
                loc.fill(value, timeout=self._elem_ms)
                ok = loc.input_value(timeout=self._elem_ms) == value
                problem = "入力した値が画面で変わりました（文字数制限・入力規則）"
            elif spec.kind == "select":
                if not loc.evaluate("(e, v) => [...e.options].some(o => o.label === v || o.text === v)", value):
                    raise _Rejected(f"画面「{page.name}」の「{spec.label}」（セレクター {selector}）に該当する選択肢がありません")
                loc.select_option(label=value, timeout=self._elem_ms)
                ok = loc.evaluate("e => e.selectedIndex >= 0 ? e.options[e.selectedIndex].label : null") == value
                problem = "選択した値が画面に反映されませんでした"
            else:
                loc.check(timeout=self._elem_ms)
                ok = loc.is_checked()
                problem = "選択が画面に反映されませんでした"
        except PlaywrightTimeout:
            raise _Retry(f"画面「{page.name}」の「{spec.label}」への入力が時間内に終わりませんでした", timeout=True) from None
        if not ok:
            raise _Rejected(f"画面「{page.name}」の「{spec.label}」: {problem}")

    def _text(self, selector: str, where: str, label: str) -> str:
        text = self._find(selector, where, label).inner_text(timeout=self._elem_ms).strip()
        if not text:
            raise PageChanged(f"画面「{where}」の{label}（セレクター {selector}）が空です")
        return text

    # =========================================================================================
    # Navigation with explicit waits
    # =========================================================================================
    def _goto(self, path: str, marker: str, where: str, login_page_ok: bool = False) -> str:
        page = self._page
        try:
            resp = page.goto(self.system.url + path, timeout=self._nav_ms, wait_until="domcontentloaded")
        except PlaywrightTimeout:
            raise _Retry(f"画面「{where}」が{self._nav_ms / 1000:.0f}秒以内に表示されませんでした", timeout=True,
                         step=True) from None
        except PlaywrightError as e:
            raise self._browser_trouble(e, where) from None
        return self._arrive(resp, marker, where, {}, login_page_ok)

    def _click(self, selector: str, where: str, marker: str, next_name: str,
               extra: dict[str, str | None] | None = None, login_page_ok: bool = False) -> str:
        loc = self._find(selector, where, "ボタン")
        page = self._page
        try:
            with page.expect_navigation(timeout=self._nav_ms, wait_until="domcontentloaded") as nav:
                loc.click(timeout=self._elem_ms)
            resp = nav.value
        except PlaywrightTimeout:
            raise _Retry(f"画面「{where}」のボタンを押した後、次の画面「{next_name}」が"
                         f"{self._nav_ms / 1000:.0f}秒以内に表示されませんでした", timeout=True) from None
        except PlaywrightError as e:
            raise self._browser_trouble(e, where) from None
        return self._arrive(resp, marker, next_name, extra or {}, login_page_ok)

    def _arrive(self, resp: Any, marker: str, where: str, extra: dict[str, str | None], login_page_ok: bool) -> str:
        """Which page arrived: the expected one, one of `extra`, or raise (5xx, logged out, validation)."""
        status = resp.status if resp is not None else 200
        if status >= 500:
            raise _Retry(f"画面「{where}」でシステムが応答できませんでした（HTTP {status}）", step=True)
        candidates: dict[str, str] = {"expected": marker}
        candidates.update({k: v for k, v in extra.items() if v})
        if not login_page_ok:
            candidates["login"] = self.system.login.form
        candidates["validation"] = self.system.errors.validation
        page = self._page
        union = None
        for sel in candidates.values():
            union = page.locator(sel) if union is None else union.or_(page.locator(sel))
        try:
            union.first.wait_for(state="attached", timeout=self._elem_ms)
        except PlaywrightTimeout:
            raise PageChanged(f"画面「{where}」が表示されるはずですが、目印（セレクター {marker}）が見つかりません"
                              f"（表示中の画面: 「{self._title()}」 {self._path()}、HTTP {status}）。"
                              "画面の構成が変わった可能性があるため、入力を中止しました") from None
        for kind, sel in candidates.items():
            if page.locator(sel).count() == 0:
                continue
            if kind == "login":
                raise _Retry(f"画面「{where}」の代わりにログイン画面が表示されました（セッション切れ）", relogin=True)
            if kind == "validation":
                items = [t.strip() for t in page.locator(self.system.errors.items).all_inner_texts() if t.strip()]
                raise _Rejected("システムが入力内容を受け付けませんでした: " + ("／".join(items) or "（理由の表示なし）"))
            return kind
        raise PageChanged(f"画面「{where}」を判別できません（セレクター {marker}）")

    def _find(self, selector: str, where: str, label: str) -> Any:
        """The one element for `selector`; PageChanged (naming selector and page) if absent or ambiguous."""
        loc = self._page.locator(selector)
        try:
            loc.first.wait_for(state="attached", timeout=self._elem_ms)
        except PlaywrightTimeout:
            raise PageChanged(f"画面「{where}」で「{label}」の要素（セレクター {selector}）が見つかりません。"
                              f"画面の構成が変わった可能性があるため、入力を中止しました（{self._path()}）") from None
        n = loc.count()
        if n != 1:
            raise PageChanged(f"画面「{where}」で「{label}」のセレクター {selector} に一致する要素が{n}個あります。"
                              "どの欄か決められないため、入力を中止しました")
        return loc

    def _title(self) -> str:
        try:
            return str(self._page.title())
        except Exception:  # noqa: BLE001 - only for a message
            return "?"

    def _path(self) -> str:
        try:
            url = str(self._page.url)
            return url[len(self.system.url):] if url.startswith(self.system.url) else url
        except Exception:  # noqa: BLE001
            return "?"

    def _browser_trouble(self, e: Exception, where: str) -> _Retry:
        text = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        closed = "closed" in text.lower() or "crash" in text.lower()
        return _Retry(f"画面「{where}」でブラウザーの操作に失敗しました: {text}", restart=True,
                      timeout="ERR_CONNECTION" in text or "ERR_TIMED_OUT" in text or closed)

    # =========================================================================================
    # Browser lifecycle and failure snapshots
    # =========================================================================================
    def _page_ready(self) -> Any:
        if self._page is not None and not self._page.is_closed():
            return self._page
        if self._browser is None or not self._browser.is_connected():
            if self._external_browser is not None:
                raise _Retry("共有のブラウザーが終了しています", restart=True)
            self._launch()
        try:
            self._context = self._browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
            self._context.set_default_timeout(self._elem_ms)
            self._page = self._context.new_page()
        except PlaywrightError as e:
            raise _Retry(f"ブラウザーの画面を開けませんでした: {str(e).splitlines()[0][:200]}", restart=True) from None
        self._logged_in = False
        return self._page

    def _launch(self) -> None:
        exe = (self.launch_args or {}).get("executable_path")
        if self.launch_args is None or (exe and not Path(exe).exists()):
            raise MissingDependency(f"ブラウザー (Chromium / Edge) が見つかりません ({exe or 'なし'})",
                                    fix="Debian: apt-get install chromium / Windows: Microsoft Edge。"
                                        "kakari.toml の [system] browser で場所を指定できます")
        if self._pw is None:
            self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(**self.launch_args, headless=self.headless, args=CHROMIUM_ARGS)

    def _discard_page(self) -> None:
        try:
            if self._context is not None:
                self._context.close()
        except Exception:  # noqa: BLE001 - a crashed context cannot be closed cleanly
            pass
        self._context = self._page = None
        self._logged_in = False

    def _shutdown(self) -> None:
        self._discard_page()
        if self._external_browser is None:
            try:
                if self._browser is not None:
                    self._browser.close()
            except Exception:  # noqa: BLE001
                pass
            try:
                if self._pw is not None:
                    self._pw.stop()
            except Exception:  # noqa: BLE001
                pass
            self._browser = self._pw = None

    def _snapshot(self, doc_id: str) -> Path | None:
        """Screenshot + HTML of the current page (owner-only files; they show personal data)."""
        page = self._page
        if page is None or page.is_closed():
            return None
        folder = self.home / "web_failures"
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        base = folder / f"{doc_id}_{datetime.now().strftime('%Y%m%dT%H%M%S%f')}"
        png, html = base.with_suffix(".png"), base.with_suffix(".html")
        try:
            page.screenshot(path=str(png), full_page=True, timeout=10_000)
            html.write_text(page.content(), encoding="utf-8")
        except Exception as e:  # noqa: BLE001 - a snapshot must never hide the failure it documents
            logger.warning(f"{self.system.title}: 失敗時の画面を保存できませんでした: {type(e).__name__}")
        for p in (png, html):
            if p.exists():
                os.chmod(p, 0o600)
        self.failures.append(base)
        logger.info(f"{self.system.title}: 失敗時の画面を保存しました: {base.name}.png/.html")
        return base
