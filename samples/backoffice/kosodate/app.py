"""Routes of the 子育て支援総合システム: sign-in, portal, the entry flow behind a flow key, search."""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile

from samples.backoffice.faults import BUSY_HTML, FaultMiddleware, Faults, FaultState, add_admin_routes
from samples.backoffice.kosodate.forms import (
    INSURANCE,
    OTHER_AID,
    RELATIONSHIPS,
    SEXES,
    validate_applicant,
    validate_child,
)
from samples.backoffice.kosodate.store import KosodateDB

TITLE = "みどり町 子育て支援総合システム"
COOKIE = "KSD_SID"
BASE = "/kd/iryo"
# how the system behaves when nobody switches its faults: slow, sometimes busy, short sessions
REALISTIC = Faults(delay_min_ms=500, delay_max_ms=1500, error_rate=0.05, session_requests=25, seed=0)


@dataclass
class Flow:
    """One entry in progress, known only by its key in the URL (and only in the session that began it)."""

    form1: dict[str, str] = field(default_factory=dict)
    page1: dict[str, Any] | None = None
    form2: dict[str, str] = field(default_factory=dict)
    page2: dict[str, Any] | None = None
    kana: dict[str, str] = field(default_factory=dict)  # page → the フリガナ input's name on its last load
    receipt: str | None = None


@dataclass
class KSession:
    user: str
    last_seen: float
    requests: int = 0
    flows: dict[str, Flow] = field(default_factory=dict)


@dataclass
class Settings:
    db_path: Path
    users: dict[str, str]
    session_seconds: float = 1800.0
    admin_token: str = ""
    faults: Faults = field(default_factory=lambda: Faults(**vars(REALISTIC)))


class State(FaultState):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.faults)
        self.settings = settings
        self.session_seconds = settings.session_seconds
        self.db = KosodateDB(settings.db_path)
        self.sessions: dict[str, KSession] = {}

    def session(self, request: Request) -> KSession | None:
        """The caller's session, counted; None once it is idle too long or has made too many requests."""
        sid = request.cookies.get(COOKIE, "")
        with self.lock:
            s = self.sessions.get(sid)
            if s is None:
                return None
            s.requests += 1
            limit = self.faults.session_requests
            if time.monotonic() - s.last_seen > self.session_seconds or (limit and s.requests > limit):
                del self.sessions[sid]
                self.injected["expired"] += 1
                return None
            s.last_seen = time.monotonic()
            return s


class _Answer(Exception):
    """Raised by a route to answer at once (the sign-in page, the expired-flow page)."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def _token() -> str:
    return secrets.token_hex(5)


def create_app(settings: Settings) -> Any:
    """The ASGI app (FastAPI wrapped in the fault middleware)."""
    state = State(settings)
    app = FastAPI(title=TITLE, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.backoffice = state
    templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
    templates.env.globals.update(TITLE=TITLE, BASE=BASE, RELATIONSHIPS=RELATIONSHIPS, INSURANCE=INSURANCE,
                                 SEXES=SEXES, OTHER_AID=OTHER_AID)

    def page(request: Request, name: str, s: KSession | None, status: int = 200, **ctx: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"user": s.user if s else None, **ctx}, status_code=status)

    def to_signin(request: Request) -> RedirectResponse:
        resp = RedirectResponse("/auth/signin" + ("?timeout=1" if request.cookies.get(COOKIE) else ""), 302)
        resp.delete_cookie(COOKIE)
        return resp

    @app.exception_handler(_Answer)
    async def answer(request: Request, exc: _Answer) -> Response:
        return exc.response

    def signed_in(request: Request) -> KSession:
        s = state.session(request)
        if s is None:
            raise _Answer(to_signin(request))
        return s

    def flow_of(request: Request, key: str) -> tuple[KSession, Flow]:
        """The caller's entry in progress; an unknown, another session's or a finished one shows the error page."""
        s = signed_in(request)
        flow = s.flows.get(key)
        if flow is None or flow.receipt is not None:
            raise _Answer(page(request, "expired.html", s))
        return s, flow

    # -- sign-in / portal ------------------------------------------------------------------------
    @app.get("/", response_model=None)
    def root(request: Request) -> Response:
        return RedirectResponse("/portal" if state.session(request) else "/auth/signin", 302)

    @app.get("/auth/signin", response_class=HTMLResponse)
    def signin_form(request: Request, timeout: int = 0) -> HTMLResponse:
        return page(request, "signin.html", None, timeout=bool(timeout))

    @app.post("/auth/signin", response_model=None)
    async def signin(request: Request) -> Response:
        form = await request.form()
        user, password = str(form.get("staff_code", "")), str(form.get("passphrase", ""))
        expected = settings.users.get(user)
        if expected is None or not secrets.compare_digest(expected, password):
            return page(request, "signin.html", None, error=True)
        sid = secrets.token_urlsafe(24)
        with state.lock:
            state.sessions[sid] = KSession(user, time.monotonic())
        resp = RedirectResponse("/portal", 302)
        resp.set_cookie(COOKIE, sid, httponly=True, samesite="lax")
        return resp

    @app.get("/auth/signout", response_model=None)
    def signout(request: Request) -> Response:
        with state.lock:
            state.sessions.pop(request.cookies.get(COOKIE, ""), None)
        resp = RedirectResponse("/auth/signin", 302)
        resp.delete_cookie(COOKIE)
        return resp

    @app.get("/portal", response_model=None)
    def portal(request: Request) -> Response:
        return page(request, "portal.html", signed_in(request))

    # -- entry: begin → 1 申請者 → 2 対象児童・保険 → 3 確認 → commit → done ----------------------------
    @app.get(f"{BASE}/begin", response_model=None)
    def begin(request: Request) -> Response:
        s = signed_in(request)
        key = secrets.token_urlsafe(9)
        s.flows[key] = Flow()
        return RedirectResponse(f"{BASE}/f/{key}/1", 302)

    def applicant_page(request: Request, s: KSession, key: str, flow: Flow, errors: dict[str, str],
                       saved: bool = False) -> HTMLResponse:
        flow.kana["1"] = "k_" + _token()  # the フリガナ input gets a new id and name on every load
        return page(request, "applicant.html", s, key=key, values=flow.form1, errors=errors,
                    kana_id="fld" + _token(), kana_name=flow.kana["1"], saved=saved)

    @app.get(f"{BASE}/f/{{key}}/1", response_model=None)
    def applicant(request: Request, key: str) -> Response:
        s, flow = flow_of(request, key)
        return applicant_page(request, s, key, flow, {})

    @app.post(f"{BASE}/f/{{key}}/1", response_model=None)
    async def applicant_post(request: Request, key: str) -> Response:
        s, flow = flow_of(request, key)
        form = {k: str(v) for k, v in (await request.form()).items()}
        cleaned, errors = validate_applicant(form, flow.kana.get("1", ""))
        flow.form1 = form | {"g_kana": form.get(flow.kana.get("1", ""), "")}
        if form.get("act") == "save":
            return applicant_page(request, s, key, flow, {}, saved=True)
        if errors:
            return applicant_page(request, s, key, flow, errors)
        flow.page1 = cleaned
        return RedirectResponse(f"{BASE}/f/{key}/2", 303)

    def child_page(request: Request, s: KSession, key: str, flow: Flow, errors: dict[str, str]) -> HTMLResponse:
        flow.kana["2"] = "k_" + _token()
        return page(request, "child.html", s, key=key, values=flow.form2, errors=errors,
                    kana_id="fld" + _token(), kana_name=flow.kana["2"])

    @app.get(f"{BASE}/f/{{key}}/2", response_model=None)
    def child(request: Request, key: str) -> Response:
        s, flow = flow_of(request, key)
        if flow.page1 is None:
            return RedirectResponse(f"{BASE}/f/{key}/1", 302)
        return child_page(request, s, key, flow, {})

    @app.post(f"{BASE}/f/{{key}}/2", response_model=None)
    async def child_post(request: Request, key: str) -> Response:
        s, flow = flow_of(request, key)
        if flow.page1 is None:
            return RedirectResponse(f"{BASE}/f/{key}/1", 302)
        raw = await request.form()
        upload = raw.get("scan")
        attached = None
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read()
            attached = (upload.filename, len(data), hashlib.sha256(data).hexdigest())
        form = {k: str(v) for k, v in raw.items() if not isinstance(v, UploadFile)}
        cleaned, errors = validate_child(form, flow.kana.get("2", ""), attached)
        flow.form2 = form | {"c_kana": form.get(flow.kana.get("2", ""), "")}
        if errors:
            return child_page(request, s, key, flow, errors)
        flow.page2 = cleaned
        return RedirectResponse(f"{BASE}/f/{key}/3", 303)

    @app.get(f"{BASE}/f/{{key}}/3", response_model=None)
    def check(request: Request, key: str) -> Response:
        s, flow = flow_of(request, key)
        if flow.page1 is None or flow.page2 is None:
            return RedirectResponse(f"{BASE}/f/{key}/1", 302)
        return page(request, "check.html", s, key=key, v=flow.page1 | flow.page2)

    @app.post(f"{BASE}/f/{{key}}/commit", response_model=None)
    def commit(request: Request, key: str) -> Response:
        s, flow = flow_of(request, key)
        if flow.page1 is None or flow.page2 is None:
            return page(request, "expired.html", s)
        flow.receipt = state.db.register(flow.page1 | flow.page2, s.user)
        if state.answer_lost():
            return HTMLResponse(BUSY_HTML, status_code=503)
        return RedirectResponse(f"{BASE}/f/{key}/done", 303)

    @app.get(f"{BASE}/f/{{key}}/done", response_model=None)
    def done(request: Request, key: str) -> Response:
        s = signed_in(request)
        flow = s.flows.get(key)
        if flow is None or flow.receipt is None:
            return page(request, "expired.html", s)
        return page(request, "done.html", s, receipt=flow.receipt)

    # -- search ------------------------------------------------------------------------------------
    @app.get(f"{BASE}/find", response_model=None)
    def find(request: Request, seiri: str = "", child: str = "") -> Response:
        s = signed_in(request)
        searched = bool(seiri or child)
        rows = state.db.find(seiri.strip(), child.strip()) if searched else []
        return page(request, "find.html", s, rows=rows, searched=searched, q_seiri=seiri, q_child=child)

    add_admin_routes(app, state, settings.admin_token)
    return FaultMiddleware(app, state)  # type: ignore[return-value]
