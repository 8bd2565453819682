"""The web app (FastAPI, server-rendered): login, the 要確認 queue and review page for clerks, the
savings dashboard for managers. Sessions are signed cookies (HttpOnly, SameSite=Strict); every form
carries the session's CSRF token; a clerk only ever sees the documents of their own 原課."""
from __future__ import annotations

import io
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from jobs.outbox import Flusher
from jobs.store import Store
from kakari.config import KakariConfig
from kakari.model import Status
from web import masking, review, rows
from web.accounts import User, authenticate, get_user

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


def _secret(home: Path) -> str:
    """A signing key kept in the home (0600), made once: sessions survive a restart."""
    path = home / "web-secret"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def create_app(config: KakariConfig, https_only: bool = False, flush_interval: float = 5.0) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        flusher = Flusher(config, flush_interval).start()  # decisions reach the ledger without the request waiting
        yield
        flusher.stop()

    app = FastAPI(title="kakari", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.add_middleware(SessionMiddleware, secret_key=_secret(config.home), session_cookie="kakari_session",
                       same_site="strict", https_only=https_only, max_age=8 * 3600)
    store = Store(config.database_url)

    def current(request: Request) -> User:
        name = request.session.get("user")
        user = get_user(store, name) if name else None
        if user is None:
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

    @app.exception_handler(HTTPException)
    async def errors(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 303:
            return RedirectResponse(exc.headers["Location"], status_code=303)
        return page(request, "error.html", exc.status_code, message=exc.detail, code=exc.status_code)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return page(request, "login.html")

    @app.post("/login")
    def login(request: Request, username: str = Form(...), password: str = Form(...),
              csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        user = authenticate(store, username, password)
        if user is None:
            return page(request, "login.html", 401, error="利用者名またはパスワードが違います")
        request.session.clear()
        request.session.update(user=user.username, csrf=secrets.token_urlsafe(32))  # a new session id
        return RedirectResponse("/review" if user.role == "clerk" else "/dashboard", status_code=303)

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/")
    def home(request: Request) -> Response:
        user = current(request)
        return RedirectResponse("/review" if user.role == "clerk" else "/dashboard", status_code=303)

    @app.get("/review", response_class=HTMLResponse)
    def queue(request: Request) -> Response:
        user = current(request)
        return page(request, "queue.html", user=user, items=review.queue(config, user))

    def _load(user: User, job: str, doc_id: str) -> tuple[dict[str, Any], Any]:
        try:
            return review.load(config, user, job, doc_id)
        except review.Forbidden as e:
            raise HTTPException(403, str(e)) from None
        except review.Gone as e:
            raise HTTPException(404, str(e)) from None

    @app.get("/review/{job}/{doc_id}", response_class=HTMLResponse)
    def review_page(request: Request, job: str, doc_id: str) -> Response:
        user = current(request)
        row, rec = _load(user, job, doc_id)
        if masking.handles(rec):  # a masked copy is reviewed box by box on its own screen
            return RedirectResponse(f"/masking/{job}/{doc_id}", status_code=303)
        return page(request, _review_template(rec), user=user, row=row, rec=rec, job=job,
                    fields=review.ordered_fields(rec), options=_options(rec), idle=review.IDLE_CAP_SECONDS)

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
    def page_image(request: Request, job: str, doc_id: str) -> Response:
        user = current(request)
        row, _ = _load(user, job, doc_id)
        return Response(_render(Path(row["stored_path"] or ""), config, None), media_type="image/png",
                        headers={"Cache-Control": "private, no-store"})

    @app.get("/review/{job}/{doc_id}/crop/{name}.png")
    def crop_image(request: Request, job: str, doc_id: str, name: str) -> Response:
        user = current(request)
        row, rec = _load(user, job, doc_id)
        f = rec.fields.get(name)
        if f is None or f.box is None:
            raise HTTPException(404, "この項目には枠がありません")
        return Response(_render(Path(row["stored_path"] or ""), config, f.box), media_type="image/png",
                        headers={"Cache-Control": "private, no-store"})

    @app.post("/review/{job}/{doc_id}")
    async def decide(request: Request, job: str, doc_id: str) -> Response:
        user = current(request)
        form = await request.form()
        check_csrf(request, str(form.get("csrf_token", "")))
        row, rec = _load(user, job, doc_id)
        active = float(form.get("active_seconds") or 0)
        try:
            if form.get("action") == "reject":
                reason = str(form.get("reason") or "").strip()
                if not reason:
                    return page(request, _review_template(rec), 400, user=user, row=row, rec=rec, job=job,
                                fields=review.ordered_fields(rec), options=_options(rec), idle=review.IDLE_CAP_SECONDS,
                                error="差し戻しの理由を入力してください")
                review.decide(config, user, job, doc_id, rec, Status.ERROR, active, reason)
            else:
                values = {k[2:]: str(v) for k, v in form.items() if k.startswith("f_")}
                rec = review.apply_corrections(rec, values)
                if rec.problems:
                    return page(request, _review_template(rec), 422, user=user, row=row, rec=rec, job=job,
                                fields=review.ordered_fields(rec), options=_options(rec), idle=review.IDLE_CAP_SECONDS,
                                error="直していただきたい項目があります")
                review.decide(config, user, job, doc_id, rec, Status.CONFIRMED, active)
        except review.Gone as e:
            raise HTTPException(409, str(e)) from None
        return RedirectResponse("/review", status_code=303)

    masking.mount(app, config, current, check_csrf, page, _RENDER_LOCK)

    @app.get("/dashboard", response_class=HTMLResponse)
    def dashboard(request: Request, dept: str = "", month: str = "") -> Response:
        user = current(request)
        if user.role == "clerk":
            raise HTTPException(403, "ダッシュボードは管理職・管理者のみ見られます")
        from kpi.charts import charts, html_table, png_b64
        from kpi.metrics import fiscal_year_of, period_bounds
        from kpi.table import gather, visible

        today = date.today()
        month = month or today.strftime("%Y-%m")
        views = []
        for period in (period_bounds(month=month), period_bounds(fiscal_year=fiscal_year_of(today))):
            data = gather(config, period)
            table = data.department_table(dept) if dept and dept in data.departments() else data.table
            views.append({"title": period.label, "headline": data.headline(), "table": html_table(visible(table)),
                          "charts": [png_b64(f) for f in charts(data)], "departments": data.departments()})
        runs = Store(config.database_url).runs_for(limit=15)
        return page(request, "dashboard.html", user=user, views=views, dept=dept, month=month, runs=runs,
                    departments=views[1]["departments"])

    def admin_only(request: Request) -> User:
        user = current(request)
        if user.role != "admin":
            raise HTTPException(403, "管理者のみの画面です")
        return user

    def admin_page(request: Request, user: User, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        from sqlalchemy import select

        from web.accounts import users

        with store.engine.connect() as conn:
            accounts = conn.execute(select(users.c.username, users.c.role, users.c.section)
                                    .order_by(users.c.username)).mappings().all()
        jobs = [{"name": n, "department": j.department or "", "schedule": j.schedule or "手動 / 監視",
                 "last": (store.runs_for(n, limit=1) or [None])[0], "pending": store.pending_count(n)}
                for n, j in config.jobs.items()]
        return page(request, "admin.html", status_code, user=user, accounts=accounts, jobs=jobs, **ctx)

    @app.get("/admin", response_class=HTMLResponse)
    def admin(request: Request) -> Response:
        return admin_page(request, admin_only(request))

    @app.post("/admin/users")
    def admin_add_user(request: Request, username: str = Form(...), password: str = Form(...),
                       role: str = Form(...), section: str = Form(""), csrf_token: str = Form("")) -> Response:
        user = admin_only(request)
        check_csrf(request, csrf_token)
        from kakari.errors import ConfigError
        from web.accounts import add_user

        try:
            add_user(store, username.strip(), password, role, section.strip() or None)
        except ConfigError as e:
            return admin_page(request, user, 400, error=e.message)
        return admin_page(request, user, message=f"利用者「{username.strip()}」を追加しました")

    @app.get("/reports/{month}.{fmt}")
    def report_file(request: Request, month: str, fmt: str) -> Response:
        user = current(request)
        if user.role == "clerk":
            raise HTTPException(403, "報告は管理職・管理者のみ取り出せます")
        if fmt not in ("xlsx", "pdf", "csv"):
            raise HTTPException(404, "xlsx・pdf・csv のいずれかです")
        import tempfile

        from kpi.metrics import period_bounds
        from kpi.report import render
        from kpi.table import gather

        period = period_bounds(month=month)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(render(gather(config, period), period, fmt, Path(tmp) / f"report.{fmt}"))
            body = out.read_bytes()
        types = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}
        name = f"削減効果報告_{month}.{fmt}"
        from urllib.parse import quote

        return Response(body, media_type=types[fmt],
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})

    return app


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


_RENDER_LOCK = threading.Lock()  # pdfium is not thread-safe, and FastAPI runs these in a thread pool


def _render(path: Path, config: KakariConfig, box: Any, dpi: int = 110) -> bytes:
    """Page 1 (or the zone `box` with a 2 mm margin) of the stored file as PNG."""
    if not path.is_file():
        raise HTTPException(404, "文書のファイルが見つかりません")
    key = None if box is None else (box.x, box.y, box.w, box.h)
    with _RENDER_LOCK:
        return _render_cached(str(path), path.stat().st_mtime_ns, key, dpi, config.limits.max_pixels,
                              config.limits.max_pages)


@lru_cache(maxsize=128)  # a clerk's page is drawn once, not on every visit (keyed by the file's mtime)
def _render_cached(path: str, mtime_ns: int, box: tuple[float, float, float, float] | None, dpi: int,
                   max_pixels: int, max_pages: int) -> bytes:
    from kakari.config import LimitsConfig
    from ocr.inputs import sniff
    from ocr.raster import rasterise

    limits = LimitsConfig(max_pixels=max_pixels, max_pages=max_pages)
    [r] = rasterise(Path(path), sniff(Path(path), limits), [1], dpi if box is None else 200, max_pixels, max_pages)
    image = r.image
    if box is not None:
        s = r.dpi / 25.4
        x, y, w, h = box
        image = image.crop((max(0, int((x - 2) * s)), max(0, int((y - 2) * s)), int((x + w + 2) * s),
                            int((y + h + 2) * s)))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
