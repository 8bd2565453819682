"""WebFormSink: types records into a web back-office system with Playwright, exactly once.

Per record, in order (state in connectors/webstate.py, screens in connectors/systems/<name>.toml):
  1. confirmed already → skip;  rejected earlier → leave for a person
  2. log in if needed; search the system for the record's key (外部連携番号) → found: confirmed
  3. compute every value first (a value that cannot be shown rejects the record before any typing)
  4. open each page (its URL, or by clicking through `open` steps), run its steps, fill it, checking
     each input exists once, is visible and reads back what was typed
  5. commit state "submitted", click 登録, read the 受付番号 (cut out by receipt_pattern) → confirmed
Timeouts, 5xx answers and logouts are retried (re-login, search again, backoff). A page after the first
is reopened at the address it was reached at (flow keys included) when that was a plain GET, so a 503
on step 2 redoes step 2; otherwise the record starts over. After the last attempt a TransientError
parks the batch. A missing element stops at once (PageChanged): the page changed, and typing on
would put values in the wrong inputs. Every failure leaves a screenshot and an HTML snapshot in
<home>/web_failures/<doc_id>_<ts>.png/.html. Values and credentials are never logged.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from playwright.sync_api import Error as PlaywrightError, TimeoutError as PlaywrightTimeout, sync_playwright

from connectors.base import Refusal, Sink, WriteResult
from connectors.browser import display_for_headed, find_browser
from connectors.webmapping import (
    Credentials,
    FieldSpec,
    PageSpec,
    SystemMapping,
    load_credentials,
    value_for,
)
from connectors.webscreen import PageChanged, Rejected, Retry, Screen
from connectors.webstate import CONFIRMED, REJECTED, SUBMITTED, Submission, WebState, new_owner
from connectors.webvalues import TransformError
from kakari.config import RunContext
from kakari.errors import ConfigError, PageTimeout, SystemUnavailable, TransientError
from kakari.log import logger, short_id
from kakari.model import Record, Status

T = TypeVar("T")
ELIGIBLE = (Status.REGISTERED.value, Status.CONFIRMED.value)  # 要確認 waits for a person; エラー never goes
__all__ = ["DryRun", "LoginFailed", "PageChanged", "WebFormSink", "WebHooks", "eligible"]


class LoginFailed(ConfigError):
    """The system refused the user ID / password: retrying could lock the account, so stop."""


class WebHooks:
    """What the job layer does around the sink (time log, ledger write-back, events). No-ops here."""

    def confirmed(self, rec: Record, sub: Submission) -> None: ...

    def rejected(self, rec: Record, reason: str, snapshot: str = "") -> None: ...

    def batch_done(self, records: list[Record]) -> None:
        """Called once per write_many, also after a failure; may raise TransientError (ledger locked)."""


@dataclass
class DryRun:
    """What `kakari systems test` shows: each value as it would be typed, and where the run stopped."""

    typed: list[tuple[str, str, str, str]] = field(default_factory=list)  # (page, label, element, value)
    found: str | None = None  # the search found the record already: its 受付番号
    refused: str | None = None  # the system's validation refused the sample on a page before 登録
    stopped_at: str = ""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def eligible(rec: Record) -> bool:
    status = rec.meta.get("status") or rec.status.value
    return status in ELIGIBLE and bool(rec.fields)


class WebFormSink(Sink):
    name: ClassVar[str] = "webform"

    def __init__(self, system: SystemMapping, state: WebState, home: Path, job: str = "",
                 credentials: Credentials | None = None, *, browser: Any = None, headless: bool = True,
                 browser_path: str | None = None, hooks: WebHooks | None = None) -> None:
        """`browser`: a running Playwright Browser to share (tests, benchmark); otherwise one is launched
        from `browser_path` (a path or channel, see connectors/browser.py) when a record needs typing."""
        self.system = system
        self.state = state
        self.home = Path(home)
        self.job = job
        self.credentials = credentials or load_credentials(system.credentials, self.home, system.name)
        self.hooks = hooks or WebHooks()
        self.headless = headless
        self.browser_path = browser_path
        self._external_browser = browser
        self._display = ExitStack()  # a private Xvfb for a headed browser on a machine without a screen
        self._pw: Any = None
        self._browser: Any = browser
        self._context: Any = None
        self._screen: Screen | None = None
        self._logged_in = False
        self._owner = new_owner()
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

    def dry_run(self, rec: Record) -> DryRun:
        """Log in, search, fill every page and stop on the page with the 登録 button, without pressing
        it. Nothing is committed in the system and no state is kept."""
        report = DryRun()
        key = self.system.key_for(rec.doc_id)
        try:
            for attempt in range(1, self.system.retry.attempts + 1):
                report.typed.clear()
                try:
                    self._attempt(rec, key, _now(), report)
                    return report
                except Retry as e:
                    self._snapshot(rec.doc_id)
                    if attempt == self.system.retry.attempts:
                        raise SystemUnavailable(f"{self.system.title}: {e.message}") from None
                    self._after_retry(e, attempt)
                except Rejected as e:
                    self._snapshot(rec.doc_id)
                    report.refused = e.message
                    return report
        finally:
            self._shutdown()
        raise AssertionError("unreachable")

    # =========================================================================================
    # One batch, one record
    # =========================================================================================
    def _run(self, records: list[Record]) -> WriteResult:
        result = WriteResult()
        busy = 0
        for rec in records:
            outcome = self._one(rec)
            if outcome == "written":
                result.written.append(rec.doc_id)
            elif outcome == "skipped":
                result.skipped.append(rec.doc_id)
            elif isinstance(outcome, Refusal):
                result.rejected.append(outcome)
            else:
                busy += 1
        result.detail = f"{self.system.title}: 登録 {len(result.written)}件、登録済み {len(result.skipped)}件"
        if result.rejected:
            result.detail += f"、受付不可 {len(result.rejected)}件（担当者の確認が必要）"
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

    def _standing(self, doc_id: str, reason: str | None) -> Refusal:
        """A record rejected in an earlier run, with its latest failure snapshot."""
        shots = sorted((self.home / "web_failures").glob(f"{doc_id}_*.png"))
        return Refusal(doc_id, reason or "受付不可", str(shots[-1]) if shots else "")

    def _one(self, rec: Record) -> str | Refusal:
        sysname = self.system.name
        key = self.system.key_for(rec.doc_id)
        try:
            sub = self.state.ensure(rec.doc_id, sysname, self.job, key)
        except ValueError as e:
            logger.error(f"{self.system.title}: {e}")
            return Refusal(rec.doc_id, str(e))
        if sub.state == CONFIRMED:
            return "skipped"
        if sub.state == REJECTED:
            return self._standing(rec.doc_id, sub.last_error)  # waits for a person (WebState.reset)
        if not self.state.acquire(rec.doc_id, sysname, self._owner):
            return "busy"
        try:
            sub = self.state.get(rec.doc_id, sysname) or sub
            if sub.state == CONFIRMED:  # another worker finished it meanwhile
                return "skipped"
            if sub.state == REJECTED:
                return self._standing(rec.doc_id, sub.last_error)
            return self._attempts(rec, key)
        finally:
            self.state.release(rec.doc_id, sysname, self._owner)

    def _attempts(self, rec: Record, key: str) -> str | Refusal:
        sysname, retry = self.system.name, self.system.retry
        started = _now()
        for attempt in range(1, retry.attempts + 1):
            try:
                confirmation, via = self._attempt(rec, key, started)
            except Rejected as e:
                shot = self._snapshot(rec.doc_id)
                snapshot = str(shot.with_suffix(".png")) if shot else ""
                self.state.mark_rejected(rec.doc_id, sysname, e.message)
                logger.warning(f"{self.system.title}: {short_id(rec.doc_id)} を登録できません: {e.message}")
                self.hooks.rejected(rec, e.message, snapshot)
                return Refusal(rec.doc_id, e.message, snapshot)
            except LoginFailed:
                self._snapshot(rec.doc_id)
                raise
            except PageChanged as e:
                self._snapshot(rec.doc_id)
                self.state.note_error(rec.doc_id, sysname, e.message)
                logger.error(f"{self.system.title}: {e.message}")
                raise
            except Retry as e:
                self._snapshot(rec.doc_id)
                self.state.note_error(rec.doc_id, sysname, e.message)
                logger.warning(f"{self.system.title}: {short_id(rec.doc_id)} 試行 {attempt}/{retry.attempts}: {e.message}")
                if attempt == retry.attempts:
                    cls = PageTimeout if e.timeout else SystemUnavailable
                    raise cls(f"{self.system.title} に{retry.attempts}回試みても登録できませんでした: {e.message}") from None
                self._after_retry(e, attempt)
                continue
            self.state.mark_confirmed(rec.doc_id, sysname, confirmation, via, started)
            sub = self.state.get(rec.doc_id, sysname)
            assert sub is not None
            rec.meta["confirmation"] = confirmation
            self.hooks.confirmed(rec, sub)
            return "written"
        raise AssertionError("unreachable")

    def _after_retry(self, e: Retry, attempt: int) -> None:
        if e.relogin:
            self._logged_in = False
        if e.restart:
            self._discard_page()
        if not e.relogin:  # a logout is answered by logging in again, not by waiting
            self._backoff(attempt)

    def _attempt(self, rec: Record, key: str, started: datetime, dry: DryRun | None = None) -> tuple[str, str]:
        """One try from the top: (受付番号, how it was obtained)."""
        screen = None
        try:
            screen = self._page_ready()
            return self._attempt_steps(screen, rec, key, dry)
        except PlaywrightTimeout:
            where = screen.title() if screen else "?"
            raise Retry(f"画面「{where}」の操作が時間内に終わりませんでした", timeout=True) from None
        except PlaywrightError as e:
            raise self._browser_trouble(e, screen.title() if screen else "?") from None

    def _attempt_steps(self, screen: Screen, rec: Record, key: str, dry: DryRun | None) -> tuple[str, str]:
        screen.back_to_main()
        if not self._logged_in:
            self._retrying(lambda n: self._login(screen), rec.doc_id)
        if self.system.search is not None:
            found = self._retrying(lambda n: self._search(screen, key), rec.doc_id)
            if found:
                if dry is not None:
                    dry.found = found
                return found, "search"
        elif dry is None:
            sub = self.state.get(rec.doc_id, self.system.name)
            if sub is not None and sub.state == SUBMITTED:
                raise Rejected("登録ボタンを押した後に処理が中断されましたが、この連携先には検索画面の設定がないため"
                               "登録の有無を確かめられません。システムで確認してください")
        plan = self._plan(rec, key)
        self._fill_pages(screen, rec, plan, dry)
        pages, submit = self.system.pages, self.system.submit
        where, button = (pages[-1].name, pages[-1].next) if submit.marker is None else ("確認", submit.button)
        if dry is not None:
            screen.find(button, where, "登録ボタン", state="visible")  # there, but not pressed
            dry.stopped_at = where
            return "", "dry-run"
        # durable before the irreversible click: a crash from here on resumes by searching for the key
        self.state.mark_submitted(rec.doc_id, self.system.name, _now())
        arrived = screen.submit(button, where, submit.done, "登録完了", {"duplicate": submit.duplicate})
        if arrived == "duplicate" and submit.duplicate_confirmation is not None:
            return screen.receipt(submit.duplicate_confirmation, where), "duplicate"
        if arrived == "duplicate":
            raise Rejected("システムが二重登録と判定しましたが、既存の受付番号を読み取る設定がありません")
        return screen.receipt(submit.confirmation, "登録完了"), "entry"

    def _fill_pages(self, screen: Screen, rec: Record, plan: list[list[tuple[FieldSpec, str]]],
                    dry: DryRun | None) -> None:
        pages, submit = self.system.pages, self.system.submit
        reached: dict[int, str | None] = {}  # page → the address it was reached at, this attempt
        for i, page in enumerate(pages):
            last = i + 1 == len(pages)
            target = (submit.marker, "確認") if last else (pages[i + 1].marker, pages[i + 1].name)

            def fill_page(n: int, i: int = i, page: PageSpec = page, target: Any = target) -> None:
                if i == 0 or n > 1:
                    self._open(screen, i, page, reached.get(i), n)
                    reached[i] = screen.reopenable()
                screen.run_steps(page.steps, page.name)
                if dry is not None:
                    del dry.typed[sum(len(plan[j]) for j in range(i)):]  # a page redone is listed once
                for spec, value in plan[i]:
                    screen.put(page.name, spec, value)
                    if dry is not None:
                        dry.typed.append((page.name, spec.label, spec.selector.describe(), value))
                if target[0] is not None:
                    screen.submit(page.next, page.name, target[0], target[1])
                    reached[i + 1] = screen.reopenable()

            self._retrying(fill_page, rec.doc_id)

    def _open(self, screen: Screen, i: int, page: PageSpec, reached: str | None, n: int) -> None:
        """Show page i: its URL; on a retry, the address it was reached at (flow key kept); else its
        `open` steps. Without any of them the record starts over."""
        if page.url:
            screen.goto(page.url, page.marker, page.name)
            return
        if n > 1 and reached and page.resume == "auto":
            try:
                screen.goto(reached, page.marker, page.name)
                return
            except PageChanged:  # the flow ended (e.g. a new session): not this page any more
                raise Retry(f"入力途中の画面「{page.name}」を開き直せないため、最初からやり直します") from None
        if page.open:
            screen.run_steps(page.open, page.name)
            screen.arrive(page.marker, page.name)
            return
        raise Retry(f"画面「{page.name}」を開き直せないため、最初からやり直します")

    def _retrying(self, step: Callable[[int], T], doc_id: str) -> T:
        """Redo one idempotent step (open a page, search, log in, fill a form page) after a 5xx or a page
        timeout; anything else, or the last failure, goes up to the record level."""
        tries = self.system.retry.step_attempts
        for n in range(1, tries + 1):
            try:
                return step(n)
            except Retry as e:
                if not e.step or n == tries:
                    raise
                self._snapshot(doc_id)
                logger.warning(f"{self.system.title}: {short_id(doc_id)} 再試行 {n}/{tries}: {e.message}")
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
                    raise Rejected(f"画面「{page.name}」の「{spec.label}」: {e}") from None
                if value is not None:
                    items.append((spec, value))
            plan.append(items)
        return plan

    # =========================================================================================
    # Log in, search
    # =========================================================================================
    def _login(self, screen: Screen) -> None:
        login = self.system.login
        screen.goto(login.url, login.form, "ログイン", login_page_ok=True)
        screen.find(login.user_input, "ログイン", "利用者ID").fill(self.credentials.user, timeout=screen.elem_ms)
        screen.find(login.password_input, "ログイン", "パスワード").fill(self.credentials.password,
                                                                        timeout=screen.elem_ms)
        arrived = screen.submit(login.submit, "ログイン", login.success, "ログイン後のメニュー",
                                {"login_error": login.error}, login_page_ok=True)
        if arrived == "login_error":
            raise LoginFailed(f"{self.system.title} にログインできません（利用者IDまたはパスワードが受け付けられませんでした）。"
                              f"環境変数 {self.system.credentials.user_env} / {self.system.credentials.password_env} "
                              "または資格情報ファイルを確認してください（アカウントのロックを避けるため再試行しません）")
        screen.home_url = str(screen.page.url)
        self._logged_in = True

    def _search(self, screen: Screen, key: str) -> str | None:
        search = self.system.search
        assert search is not None
        if search.url:
            screen.goto(search.url, search.input, "検索")
        else:
            screen.run_steps(search.open, "検索")
            screen.arrive(search.input, "検索")
        screen.find(search.input, "検索", "検索キー").fill(key, timeout=screen.elem_ms)
        screen.submit(search.submit, "検索", search.results, "検索結果")
        rows = screen.locate(search.row)
        for i in range(rows.count()):
            row = rows.nth(i)
            cell = screen.locate(search.row_key, row)
            if cell.count() != 1:
                continue
            text = " ".join(cell.inner_text(timeout=screen.elem_ms).split())
            if text == key or (search.match == "contains" and key in text):
                found = screen.locate(search.row_confirmation, row)
                if found.count() != 1:
                    raise PageChanged(f"画面「検索結果」で受付番号の欄（{search.row_confirmation.describe()}）が"
                                      "見つかりません。画面の構成が変わった可能性があります")
                return screen.receipt(search.row_confirmation, "検索結果", base=row)
        return None

    # =========================================================================================
    # Browser lifecycle and failure snapshots
    # =========================================================================================
    def _browser_trouble(self, e: Exception, where: str) -> Retry:
        text = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        closed = "closed" in text.lower() or "crash" in text.lower()
        return Retry(f"画面「{where}」でブラウザーの操作に失敗しました: {text}", restart=True,
                     timeout="ERR_CONNECTION" in text or "ERR_TIMED_OUT" in text or closed)

    def _page_ready(self) -> Screen:
        if self._screen is not None and not self._screen.main.is_closed():
            return self._screen
        if self._browser is None or not self._browser.is_connected():
            if self._external_browser is not None:
                raise Retry("共有のブラウザーが終了しています", restart=True)
            self._launch()
        try:
            self._context = self._browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
            self._context.set_default_timeout(self.system.timeouts.element_seconds * 1000)
            self._screen = Screen(self._context.new_page(), self.system)
        except PlaywrightError as e:
            raise Retry(f"ブラウザーの画面を開けませんでした: {str(e).splitlines()[0][:200]}", restart=True) from None
        self._logged_in = False
        return self._screen

    def _launch(self) -> None:
        choice = find_browser(self.browser_path)
        env = None if self.headless else self._display.enter_context(display_for_headed())
        if self._pw is None:
            self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(headless=self.headless, env=env, **choice.launch_options())

    def _discard_page(self) -> None:
        try:
            if self._context is not None:
                self._context.close()
        except Exception:  # noqa: BLE001 - a crashed context cannot be closed cleanly
            pass
        self._context = self._screen = None
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
            self._display.close()

    def _snapshot(self, doc_id: str) -> Path | None:
        """Screenshot + HTML of the current page (owner-only files; they show personal data)."""
        screen = self._screen
        if screen is None or screen.page.is_closed():
            return None
        folder = self.home / "web_failures"
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        base = folder / f"{doc_id}_{datetime.now().strftime('%Y%m%dT%H%M%S%f')}"
        try:
            screen.snapshot(base)
        except Exception as e:  # noqa: BLE001 - a snapshot must never hide the failure it documents
            logger.warning(f"{self.system.title}: 失敗時の画面を保存できませんでした: {type(e).__name__}")
        for p in (base.with_suffix(".png"), base.with_suffix(".html")):
            if p.exists():
                os.chmod(p, 0o600)
        self.failures.append(base)
        logger.info(f"{self.system.title}: 失敗時の画面を保存しました: {base.name}.png/.html")
        return base
