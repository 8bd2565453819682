"""The web app (FastAPI, server-rendered): login, the 要確認 queue and review page for clerks, the
savings dashboard for managers. A signed cookie (HttpOnly, SameSite=Strict) carries a server-side
session id (web/sessions.py) and the CSRF token every form sends; logins are throttled
(web/throttle.py); every response gets the security headers and Japanese error pages of
web/security.py; a clerk only ever sees the documents of their own 原課."""
from __future__ import annotations

import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from jobs.outbox import Flusher
from jobs.store import Store
from kakari.config import KakariConfig
from kakari.errors import ConfigError, DocumentError
from kakari.files import PRIVATE_FILE
from kakari.log import logger, mask_value
from kakari.model import Status
from web import masking, pages, review, rows, security, sessions, throttle
from web.accounts import User, authenticate, get_user, normalise_username

HERE = Path(__file__).parent


TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"), context_processors=[security.template_globals])


def _secret(home: Path) -> str:
    """A signing key kept in the home (0600), made once: sessions survive a restart."""
    path = home / "web-secret"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()


def client_address(request: Request) -> str:
    """The caller's address (behind a TLS proxy on this PC, uvicorn takes it from X-Forwarded-For)."""
    return request.client.host if request.client else "-"


def create_app(config: KakariConfig, https_only: bool = False, flush_interval: float = 5.0) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        flusher = Flusher(config, flush_interval).start()  # decisions reach the ledger without the request waiting
        yield
        flusher.stop()

    app = FastAPI(title="kakari", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.add_middleware(SessionMiddleware, secret_key=_secret(config.home), session_cookie="kakari_session",
                       same_site="strict", https_only=https_only,
                       max_age=int(config.web.session_hours * 3600))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    store = Store(config.database_url)

    def current(request: Request) -> User:
        """The logged-in user of a live session, else off to the login page."""
        name = sessions.user_of(store, request.session.get("sid"), config.web)
        user = get_user(store, name) if name else None  # a disabled account is no user
        if user is None:
            request.session.pop("sid", None)
            raise HTTPException(303, headers={"Location": "/login"})
        return user

    def csrf(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = request.session["csrf"] = secrets.token_urlsafe(32)
        return token

    def check_csrf(request: Request, token: str) -> None:
        if not token or not secrets.compare_digest(token, request.session.get("csrf", "")):
            raise HTTPException(403, "CSRF トークンが正しくありません。画面を開き直してください")

    def page(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, name, {"csrf": csrf(request), **ctx}, status_code=status_code)

    def error_page(request: Request, code: int, message: str) -> Response:
        return page(request, "error.html", code, message=message, code=code)

    security.install(app, error_page, https_only)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return page(request, "login.html")

    @app.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        address = client_address(request)
        try:
            name = normalise_username(username)
        except ConfigError:
            name = ""
        wait = throttle.waiting(store, name, address)
        user = None if wait else authenticate(store, name, password)
        if user is None:
            wait = wait or throttle.failed(store, name, address, config.web)
            # masked: a password typed into the name box must not end up in the log
            logger.warning(f"web: ログインに失敗しました (利用者名「{mask_value(name) if name else ''}」, {address})")
            if wait:
                return _with_headers(page(request, "login.html", 429, error=wait.message(), username=name),
                                     {"Retry-After": str(wait.seconds)})
            return page(request, "login.html", 401, error="利用者名またはパスワードが違います", username=name)
        throttle.succeeded(store, user.username)
        sessions.purge(store, config.web)
        request.session.clear()
        sid = sessions.start(store, user.username, address)
        request.session.update(sid=sid, csrf=secrets.token_urlsafe(32))  # a new session, a new token
        logger.info(f"web: {user.username} がログインしました ({address})")
        return RedirectResponse("/review" if user.role == "clerk" else "/dashboard", status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        sessions.end(store, request.session.get("sid"))  # a saved copy of the cookie opens nothing now
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/")
    def home(request: Request) -> Response:
        user = current(request)
        return RedirectResponse("/review" if user.role == "clerk" else "/dashboard", status_code=303)

    @app.get("/review", response_class=HTMLResponse)
    def queue(request: Request) -> Response:
        user = current(request)
        return page(request, "queue.html", user=user, items=review.queue(config, user),
                    notice=review.NOTICES.get(request.query_params.get("done", ""), ""))

    def _load(user: User, job: str, doc_id: str) -> tuple[dict[str, Any], Any]:
        try:
            return review.load(config, user, job, doc_id)
        except review.Forbidden as e:
            raise HTTPException(403, str(e)) from None
        except review.Gone as e:
            raise HTTPException(404, str(e)) from None

    def review_screen(request: Request, user: User, row: dict[str, Any], rec: Any, job: str,
                      status_code: int = 200, **ctx: Any) -> HTMLResponse:
        return page(request, _review_template(rec), status_code, user=user, row=row, rec=rec, job=job,
                    fields=review.ordered_fields(rec), options=_options(rec), idle=review.IDLE_CAP_SECONDS,
                    pages=[] if rows.is_row(rec) else _page_list(Path(row["stored_path"] or ""), config),
                    **review.screen(config, job, row, rec, request.query_params.get("done", "")), **ctx)

    @app.get("/review/{job}/{doc_id}", response_class=HTMLResponse)
    def review_page(request: Request, job: str, doc_id: str) -> Response:
        user = current(request)
        row, rec = _load(user, job, doc_id)
        if masking.handles(rec):  # a masked copy is reviewed box by box on its own screen
            return RedirectResponse(f"/masking/{job}/{doc_id}", status_code=303)
        return review_screen(request, user, row, rec, job)

    @app.get("/review/{job}/{doc_id}/attachment/{n}")
    def attachment_file(request: Request, job: str, doc_id: str, n: int) -> Response:
        """A file attached to an online application (a row of an export)."""
        from urllib.parse import quote

        user = current(request)
        row, rec = _load(user, job, doc_id)
        try:
            data, media, name = rows.attachment(rec, row["stored_path"] or "", n, config.limits.max_bytes)
        except rows.Missing as e:
            raise HTTPException(404, str(e)) from None
        disposition = "inline" if media != "application/octet-stream" else "attachment"
        return Response(data, media_type=media, headers={
            "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"})

    @app.get("/review/{job}/{doc_id}/page.png")
    def first_page_image(request: Request, job: str, doc_id: str) -> Response:
        return page_image(request, job, doc_id, 1)

    @app.get("/review/{job}/{doc_id}/page/{number}.png")
    def page_image(request: Request, job: str, doc_id: str, number: int) -> Response:
        """Page `number` as registered: the scan through the alignment its fields were read through."""
        user = current(request)
        row, rec = _load(user, job, doc_id)
        path = Path(row["stored_path"] or "")
        if number not in _pictured(lambda: pages.page_numbers(path, config), path):
            raise HTTPException(404, "ページが見つかりません")
        return Response(_pictured(lambda: pages.page_png(path, rec, number, config), path),
                        media_type="image/png", headers={"Cache-Control": "private, no-store"})

    @app.get("/review/{job}/{doc_id}/crop/{name}.png")
    def crop_image(request: Request, job: str, doc_id: str, name: str) -> Response:
        user = current(request)
        row, rec = _load(user, job, doc_id)
        f = rec.fields.get(name)
        if f is None or f.box is None:
            raise HTTPException(404, "この項目には枠がありません")
        path = Path(row["stored_path"] or "")
        return Response(_pictured(lambda: pages.zone_png(path, rec, f.box, config), path),
                        media_type="image/png", headers={"Cache-Control": "private, no-store"})

    @app.post("/review/{job}/{doc_id}")
    async def decide(request: Request, job: str, doc_id: str) -> Response:
        user = current(request)
        form = await request.form()
        check_csrf(request, str(form.get("csrf_token", "")))
        row, rec = _load(user, job, doc_id)
        try:
            active = review.active_seconds(form.get("active_seconds"))
        except ValueError as e:
            raise HTTPException(400, str(e)) from None
        reason = str(form.get("reason") or "").strip()
        values = {k[2:]: str(v) for k, v in form.items() if k.startswith("f_")}
        try:
            if form.get("action") == "reject":
                if not reason:  # what the clerk typed in the fields stays on the page
                    return review_screen(request, user, row, review.apply_corrections(rec, values), job, 400,
                                         error="差し戻しの理由を入力してください", reason=reason)
                review.decide(config, user, job, doc_id, rec, Status.ERROR, active, reason)
                return RedirectResponse(review.next_url(config, user, Status.ERROR), status_code=303)
            else:
                rec = review.apply_corrections(rec, values)
                if rec.problems:  # the fields and the reason typed so far stay as typed
                    return review_screen(request, user, row, rec, job, 422,
                                         error="直していただきたい項目があります", reason=reason)
                review.decide(config, user, job, doc_id, rec, Status.CONFIRMED, active)
        except review.Gone as e:
            raise HTTPException(409, str(e)) from None
        return RedirectResponse(review.next_url(config, user, Status.CONFIRMED), status_code=303)

    masking.mount(app, config, current, check_csrf, page, _RENDER_LOCK)
    review.mount(app, config, current, page)

    def _period(month: str) -> Any:
        from kpi.metrics import ReportError, period_bounds

        try:
            return period_bounds(month=month)
        except ReportError as e:
            raise HTTPException(400, e.message) from None

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, dept: str = "", month: str = "") -> Response:
        user = current(request)
        if user.role == "clerk":
            raise HTTPException(403, "ダッシュボードは管理職・管理者のみ見られます")
        from web.dashboard import views

        chosen = _period(month or date.today().strftime("%Y-%m"))
        return page(request, "dashboard.html", user=user, **views(config, dept, f"{chosen.start:%Y-%m}"))

    def admin_only(request: Request) -> User:
        user = current(request)
        if user.role != "admin":
            raise HTTPException(403, "管理者のみの画面です")
        return user

    def admin_page(request: Request, user: User, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        from web.accounts import list_accounts

        jobs = [{"name": n, "department": j.department or "", "schedule": j.schedule or "手動 / 監視",
                 "last": (store.runs_for(n, limit=1) or [None])[0], "pending": store.pending_count(n)}
                for n, j in config.jobs.items()]
        return page(request, "admin.html", status_code, user=user, accounts=list_accounts(store), jobs=jobs,
                    **ctx)

    from web.editor import mount as mount_editor  # the zone editor (/editor), for admins

    mount_editor(app, config, admin=admin_only, csrf=csrf, check_csrf=check_csrf, render_lock=_RENDER_LOCK)

    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request) -> Response:
        return admin_page(request, admin_only(request))

    @app.post("/admin/users")
    def admin_add_user(request: Request, username: str = Form(""), password: str = Form(""),
                       role: str = Form("clerk"), section: str = Form(""),
                       csrf_token: str = Form("")) -> Response:
        user = admin_only(request)
        check_csrf(request, csrf_token)
        from web.accounts import add_user, sections_of

        try:
            added = add_user(store, username, password, role, section or None, sections=sections_of(config))
        except ConfigError as e:
            return admin_page(request, user, 400, error=e.message)
        return admin_page(request, user, message=f"利用者「{added.username}」を追加しました")

    @app.get("/reports/{month}.{fmt}")
    def report_file(request: Request, month: str, fmt: str, dept: str = "") -> Response:
        user = current(request)
        if user.role == "clerk":
            raise HTTPException(403, "報告は管理職・管理者のみ取り出せます")
        if fmt not in ("xlsx", "pdf", "csv"):
            raise HTTPException(404, "報告の形式は xlsx・pdf・csv のいずれかです")
        import tempfile

        from kpi.report import render
        from kpi.table import gather

        period = _period(month)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(render(gather(config, period, department=dept or None), period, fmt, Path(tmp) / f"report.{fmt}"))
            body = out.read_bytes()
        types = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}
        name = f"削減効果報告_{period.start:%Y-%m}" + (f"_{dept}" if dept else "") + f".{fmt}"
        from urllib.parse import quote

        return Response(body, media_type=types[fmt],
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    return app


def _with_headers(response: Response, headers: dict[str, str]) -> Response:
    response.headers.update(headers)
    return response


def _review_template(rec: Any) -> str:
    """A row of an online export is checked against the row as typed, a document against its page."""
    return "review_row.html" if rows.is_row(rec) else "review.html"


def _options(rec: Any) -> dict[str, list[str]]:
    """Choice fields → their option names; checkboxes → 有/無 (for select boxes)."""
    from bots import registry

    template = getattr(registry.get(rec.bot), "template", None)
    out: dict[str, list[str]] = {}
    if template is None:
        return out
    for name, spec in template.fields.items():
        if spec.type == "choice":
            out[name] = list((spec.options or {}).keys())
        elif spec.type == "checkbox":
            out[name] = ["有", "無"]
    return out


T = TypeVar("T")
_RENDER_LOCK = threading.Lock()  # pdfium is not thread-safe, and FastAPI runs these in a thread pool


def _page_list(path: Path, config: KakariConfig) -> list[int]:
    """The pages the review screen shows ([1] when the file is gone or unreadable: its image then
    answers with the reason)."""
    try:
        return _pictured(lambda: pages.page_numbers(path, config), path)
    except HTTPException:
        return [1]


def _pictured(draw: Callable[[], T], path: Path) -> T:
    """`draw()` (a picture of the stored file, or its page count) under the render lock; a missing or
    unreadable file is the clerk's 404 / 422, not a crash."""
    if not path.is_file():
        raise HTTPException(404, "文書のファイルが見つかりません")
    try:
        with _RENDER_LOCK:
            return draw()
    except DocumentError as e:  # a file that failed to read (an エラー document) has no picture either
        raise HTTPException(422, f"この文書は画像にできません: {e.message}") from None
