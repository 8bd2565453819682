"""Routes of the sample back-office system, its in-memory sessions and its switchable faults."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from samples.backoffice.faults import BUSY_HTML, FaultMiddleware, FaultState, add_admin_routes
from samples.backoffice.forms import (
    BUSINESS_TYPES,
    ERAS,
    PREFECTURES,
    QUALIFICATIONS,
    validate_page1,
    validate_page2,
)
from samples.backoffice.store import BackofficeDB, Duplicate

TITLE = "みどり町 総合衛生システム"
COOKIE = "SOGOEISEI_SESSION"


@dataclass
class Session:
    user: str
    last_seen: float
    draft: dict[str, Any] = field(default_factory=dict)


@dataclass
class Settings:
    db_path: Path
    users: dict[str, str]
    session_seconds: float = 1200.0
    admin_token: str = ""


class State(FaultState):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.session_seconds = settings.session_seconds
        self.db = BackofficeDB(settings.db_path)
        self.sessions: dict[str, Session] = {}

    def session(self, request: Request) -> Session | None:
        sid = request.cookies.get(COOKIE, "")
        with self.lock:
            s = self.sessions.get(sid)
            if s is None:
                return None
            if time.monotonic() - s.last_seen > self.session_seconds:
                del self.sessions[sid]
                return None
            s.last_seen = time.monotonic()
            return s


def create_app(settings: Settings) -> Any:
    """The ASGI app (FastAPI wrapped in the fault middleware)."""
    state = State(settings)
    app = FastAPI(title=TITLE, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.backoffice = state
    templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
    templates.env.globals.update(TITLE=TITLE, ERAS=list(ERAS), PREFECTURES=PREFECTURES,
                                 BUSINESS_TYPES=BUSINESS_TYPES, QUALIFICATIONS=QUALIFICATIONS)

    def page(request: Request, name: str, s: Session | None, status: int = 200, **ctx: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"user": s.user if s else None, **ctx}, status_code=status)

    def to_login(request: Request) -> RedirectResponse:
        expired = "?expired=1" if request.cookies.get(COOKIE) else ""
        resp = RedirectResponse(f"/login{expired}", status_code=303)
        resp.delete_cookie(COOKIE)
        return resp

    # -- login / menu / logout ------------------------------------------------------------------
    @app.get("/", response_model=None)
    def root(request: Request) -> Response:
        return RedirectResponse("/menu" if state.session(request) else "/login", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, expired: int = 0) -> HTMLResponse:
        return page(request, "login.html", None, expired=bool(expired))

    @app.post("/login", response_model=None)
    async def login(request: Request) -> Response:
        form = await request.form()
        user, password = str(form.get("user_id", "")), str(form.get("password", ""))
        expected = settings.users.get(user)
        if expected is None or not secrets.compare_digest(expected, password):
            return page(request, "login.html", None, status=200, error=True)
        sid = secrets.token_urlsafe(24)
        with state.lock:
            state.sessions[sid] = Session(user, time.monotonic())
        resp = RedirectResponse("/menu", status_code=303)
        resp.set_cookie(COOKIE, sid, httponly=True, samesite="lax")
        return resp

    @app.get("/logout", response_model=None)
    def logout(request: Request) -> Response:
        with state.lock:
            state.sessions.pop(request.cookies.get(COOKIE, ""), None)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE)
        return resp

    @app.get("/menu", response_model=None)
    def menu(request: Request) -> Response:
        s = state.session(request)
        return page(request, "menu.html", s) if s else to_login(request)

    # -- entry: 申請者 → 営業所・施設 → 確認 → 登録 ---------------------------------------------------
    @app.get("/eisei/permit/new", response_model=None)
    def new(request: Request) -> Response:
        s = state.session(request)
        if not s:
            return to_login(request)
        s.draft = {}
        return page(request, "page1.html", s, values={}, errors={})

    @app.post("/eisei/permit/new/1", response_model=None)
    async def page1(request: Request) -> Response:
        s = state.session(request)
        if not s:
            return to_login(request)
        form = {k: str(v) for k, v in (await request.form()).items()}
        cleaned, errors = validate_page1(form)
        if errors:
            return page(request, "page1.html", s, values=form, errors=errors)
        s.draft["page1"], s.draft["form1"] = cleaned, form
        return RedirectResponse("/eisei/permit/new/2", status_code=303)

    @app.get("/eisei/permit/new/2", response_model=None)
    def page2_form(request: Request) -> Response:
        s = state.session(request)
        if not s:
            return to_login(request)
        if "page1" not in s.draft:
            return RedirectResponse("/eisei/permit/new", status_code=303)
        return page(request, "page2.html", s, values=s.draft.get("form2", {}), errors={})

    @app.post("/eisei/permit/new/2", response_model=None)
    async def page2(request: Request) -> Response:
        s = state.session(request)
        if not s:
            return to_login(request)
        if "page1" not in s.draft:
            return RedirectResponse("/eisei/permit/new", status_code=303)
        form = {k: str(v) for k, v in (await request.form()).items()}
        cleaned, errors = validate_page2(form)
        if errors:
            return page(request, "page2.html", s, values=form, errors=errors)
        s.draft["page2"], s.draft["form2"] = cleaned, form
        return RedirectResponse("/eisei/permit/new/confirm", status_code=303)

    @app.get("/eisei/permit/new/confirm", response_model=None)
    def confirm(request: Request) -> Response:
        s = state.session(request)
        if not s:
            return to_login(request)
        if "page2" not in s.draft:
            return RedirectResponse("/eisei/permit/new", status_code=303)
        return page(request, "confirm.html", s, app_=s.draft["page1"] | s.draft["page2"])

    @app.post("/eisei/permit/new/register", response_model=None)
    def register(request: Request) -> Response:
        s = state.session(request)
        if not s:
            return to_login(request)
        if "page2" not in s.draft:
            return page(request, "flow_error.html", s)
        values = s.draft["page1"] | s.draft["page2"]
        try:
            receipt = state.db.register(values, s.user, state.faults.duplicate_check)
        except Duplicate as d:
            return page(request, "confirm.html", s, app_=values, duplicate=d.receipt_no)
        s.draft = {}
        if state.answer_lost():
            return HTMLResponse(BUSY_HTML, status_code=503)
        return RedirectResponse(f"/eisei/permit/done/{receipt}", status_code=303)

    @app.get("/eisei/permit/done/{receipt}", response_model=None)
    def done(request: Request, receipt: str) -> Response:
        s = state.session(request)
        if not s:
            return to_login(request)
        row = state.db.get(receipt)
        if row is None:
            return page(request, "flow_error.html", s, status=404)
        return page(request, "done.html", s, app_=row)

    # -- search ------------------------------------------------------------------------------------
    @app.get("/eisei/permit/search", response_model=None)
    def search(request: Request, kakari_ref: str = "", name: str = "") -> Response:
        s = state.session(request)
        if not s:
            return to_login(request)
        searched = bool(kakari_ref or name)
        rows = state.db.search(kakari_ref.strip(), name.strip()) if searched else []
        return page(request, "search.html", s, rows=rows, searched=searched, q_ref=kakari_ref, q_name=name)

    add_admin_routes(app, state, settings.admin_token)
    return FaultMiddleware(app, state)  # type: ignore[return-value]
