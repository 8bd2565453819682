"""What makes the sample systems behave like real ones under load, switchable by the tests: slow and
random delays, 503s before a request is handled, 503 after a commit, dropped sessions, and the
admin routes that set and report them (``/_admin/faults`` with the ``X-Admin-Token`` header)."""
from __future__ import annotations

import asyncio
import random
import re
import secrets
import threading
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

BUSY_HTML = (
    "<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>503 Service Unavailable</title></head>"
    "<body><h1>ただいま混み合っています</h1><p>アクセスが集中しているため処理できませんでした。"
    "しばらくしてから再度お試しください。</p></body></html>"
)


@dataclass
class Faults:
    """Test switches. Rates are probabilities per request (seeded, so runs repeat)."""

    slow_ms: int = 0  # delay before every request
    slow_rate: float = 1.0  # share of requests that are slowed
    delay_min_ms: int = 0  # and a delay drawn uniformly from [min, max] before every request
    delay_max_ms: int = 0
    error_rate: float = 0.0  # 503 before the request is handled
    error_after_commit_rate: float = 0.0  # 登録 commits, then answers 503 (the answer is lost)
    error_after_commit_every: int = 0  # … and on every N-th commit, whatever the rate says
    logout_every: int = 0  # drop every session on each N-th request
    session_requests: int = 0  # a session ends after this many requests (0 = only when idle)
    duplicate_check: bool = True  # refuse a second registration of one 外部連携番号 (systems that have one)
    fail_once: str = ""  # regex on "METHOD /path": the next request it matches gets a 503, once
    seed: int = 0


class FaultState:
    """The fault switches and counters; each system's own state (sessions, drafts) extends it."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)
        self.requests = 0
        self.commits = 0
        self.injected = {"503": 0, "503_after_commit": 0, "logout": 0, "slow": 0, "expired": 0, "503_targeted": 0}
        self.log: deque[str] = deque(maxlen=2000)  # "METHOD /path STATUS" of the latest requests
        self.sessions: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.session_seconds = 1200.0

    def set_faults(self, values: dict[str, Any]) -> None:
        known = {f.name for f in fields(Faults)}
        unknown = set(values) - known - {"force_logout", "session_seconds"}
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        with self.lock:
            data = asdict(self.faults) | {k: v for k, v in values.items() if k in known}
            self.faults = Faults(**data)
            if "seed" in values:
                self.rng = random.Random(int(values["seed"]))
            if values.get("force_logout"):
                self.sessions.clear()
            if "session_seconds" in values:
                self.session_seconds = float(values["session_seconds"])

    def chance(self, rate: float, counter: str = "") -> bool:
        with self.lock:
            hit = rate > 0 and self.rng.random() < rate
            if hit and counter:
                self.injected[counter] += 1
            return hit

    def answer_lost(self) -> bool:
        """After a commit: is its answer to be a 503 (the client cannot know it was registered)?"""
        with self.lock:
            self.commits += 1
            every = self.faults.error_after_commit_every
            if every and self.commits % every == 1 % every:
                self.injected["503_after_commit"] += 1
                return True
        return self.chance(self.faults.error_after_commit_rate, "503_after_commit")

    def targeted(self, request_line: str) -> bool:
        """The one request `fail_once` aims at (then the switch is off again)."""
        with self.lock:
            pattern = self.faults.fail_once
            if not pattern or not re.search(pattern, request_line):
                return False
            self.faults.fail_once = ""
            self.injected["503_targeted"] += 1
            return True

    def delay_seconds(self) -> float:
        f = self.faults
        with self.lock:
            extra = self.rng.uniform(f.delay_min_ms, f.delay_max_ms) if f.delay_max_ms else 0.0
        return extra / 1000


class FaultMiddleware:
    """Plain ASGI middleware: slow answers, 503s and dropped sessions, before the app sees the request."""

    def __init__(self, app: Any, state: FaultState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_admin"):
            await self.app(scope, receive, send)
            return
        st = self.state
        f = st.faults
        if f.slow_ms and st.chance(f.slow_rate, "slow"):
            await asyncio.sleep(f.slow_ms / 1000)
        delay = st.delay_seconds()
        if delay:
            await asyncio.sleep(delay)
        line = f"{scope['method']} {scope['path']}"
        if st.targeted(line) or st.chance(f.error_rate, "503"):
            st.log.append(f"{line} 503")
            await HTMLResponse(BUSY_HTML, status_code=503)(scope, receive, send)
            return
        st.log.append(line)
        with st.lock:
            st.requests += 1
            if f.logout_every and st.requests % f.logout_every == 0 and st.sessions:
                st.sessions.clear()
                st.injected["logout"] += 1
        await self.app(scope, receive, send)


def add_admin_routes(app: FastAPI, state: FaultState, admin_token: str) -> None:
    def _admin_ok(request: Request) -> bool:
        return bool(admin_token) and secrets.compare_digest(request.headers.get("x-admin-token", ""), admin_token)

    @app.get("/_admin/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/_admin/faults", response_model=None)
    def get_faults(request: Request) -> Response:
        if not _admin_ok(request):
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        return JSONResponse(asdict(state.faults) | {"sessions": len(state.sessions), "injected": state.injected,
                                                    "log": list(state.log)})

    @app.post("/_admin/faults", response_model=None)
    async def set_faults(request: Request) -> Response:
        if not _admin_ok(request):
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        try:
            state.set_faults(await request.json())
        except (ValueError, TypeError) as e:
            return JSONResponse({"detail": str(e)}, status_code=400)
        return JSONResponse(asdict(state.faults))
