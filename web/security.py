"""What every response of kakari web gets, whichever module added the page: security headers, a
per-request CSP nonce, and Japanese error pages instead of tracebacks or English defaults.

Headers: a Content-Security-Policy without 'unsafe-inline' (scripts come from /static; an inline
<script> or <style> runs only with the request's nonce, ``{{ csp_nonce }}`` in every template),
no framing (frame-ancestors, X-Frame-Options), no MIME sniffing, no Referer leaving the page, and
``Cache-Control: no-store`` on everything but /static (pages and images hold personal data; a
shared PC's browser must not keep them). Behind TLS (``--https-only``) also Strict-Transport-Security.

Errors: an HTTPException keeps its status with its (Japanese) detail; a route nobody defined, a
method not allowed and a malformed form get a Japanese page; anything unhandled is logged (masked)
with an incident number and the clerk sees a Japanese 500 page with that number.
"""
from __future__ import annotations

import secrets
import traceback
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kakari.log import logger

ErrorPage = Callable[[Request, int, str], Response]

# what a clerk reads instead of Starlette's English reason phrases
MESSAGES: dict[int, str] = {
    400: "送られた内容が正しくありません。画面を開き直して、もう一度お試しください",
    401: "ログインしてください",
    403: "この画面を見る権限がありません",
    404: "お探しのページは見つかりません。アドレスを確認してください",
    405: "この操作はこの画面ではできません",
    409: "この文書は他の人が先に処理しました",
    413: "送られたデータが大きすぎます",
    422: "入力に誤りがあります",
    429: "しばらく待ってから、もう一度お試しください",
    500: "システムの内部でエラーが起きました",
}


def template_globals(request: Request) -> dict[str, Any]:
    """What every template may use, whichever module renders it: the request's CSP nonce."""
    return {"csp_nonce": getattr(request.state, "csp_nonce", "")}


def csp(nonce: str) -> str:
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def headers_for(path: str, nonce: str, https_only: bool) -> dict[str, str]:
    out = {
        "Content-Security-Policy": csp(nonce),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if not path.startswith("/static/"):
        out["Cache-Control"] = "no-store"
        out["Pragma"] = "no-cache"
    if https_only:
        out["Strict-Transport-Security"] = "max-age=31536000"
    return out


class SecurityMiddleware:
    """Pure ASGI (so streaming responses and every route are covered): headers on every response,
    the nonce in ``request.state.csp_nonce``, and a Japanese 500 page for whatever escaped a route."""

    def __init__(self, app: ASGIApp, error_page: ErrorPage, https_only: bool = False) -> None:
        self.app = app
        self.error_page = error_page
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        extra = headers_for(scope.get("path", ""), nonce, self.https_only)
        started = False

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:  # a route's own (stricter) value wins
                        headers[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_secured)
        except Exception:
            incident = secrets.token_hex(4)
            logger.error(f"web: 内部エラー {incident} ({scope.get('method')} {scope.get('path')}): "
                         f"{traceback.format_exc()}")
            if started:
                raise
            message = f"{MESSAGES[500]} (インシデント番号 {incident})。管理者 (情報政策係) にこの番号をお伝えください"
            try:
                response = self.error_page(Request(scope, receive), 500, message)
            except Exception:  # noqa: BLE001 - even the error page failed: plain Japanese text
                response = PlainTextResponse(message, status_code=500)
            await response(scope, receive, send_secured)


def install(app: FastAPI, error_page: ErrorPage, https_only: bool = False) -> None:
    """Error handlers and the middleware, on `app`; add it after every other middleware (outermost)."""

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (301, 302, 303, 307, 308) and exc.headers and "Location" in exc.headers:
            from fastapi.responses import RedirectResponse

            return RedirectResponse(exc.headers["Location"], status_code=exc.status_code)
        detail = exc.detail
        # kakari's own details are Japanese; Starlette's and python-multipart's are English
        if not isinstance(detail, str) or not detail or detail.isascii():
            detail = MESSAGES.get(exc.status_code, MESSAGES[500 if exc.status_code >= 500 else 400])
        response = error_page(request, exc.status_code, detail)
        for name, value in (exc.headers or {}).items():
            if name.lower() != "location":
                response.headers[name] = value
        return response

    async def bad_form(request: Request, exc: RequestValidationError) -> Response:
        return error_page(request, 400, MESSAGES[400])

    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, bad_form)  # type: ignore[arg-type]
    app.add_middleware(SecurityMiddleware, error_page=error_page, https_only=https_only)
