"""What the review screen does, without HTTP: the queue a clerk may see (and why each document is
in it), what the screen shows of a document (reasons in words, who decided and when), confirming or
rejecting a 要確認 document (recorded by jobs.decisions with the clerk's corrections; the ledger row
is rewritten by the outbox), and where the clerk goes next."""
from __future__ import annotations

import math
from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from bots import registry
from bots.base import parse_checked
from jobs.decisions import AlreadyDecided, corrections, record_decision
from jobs.events import event_name, tokyo_time
from jobs.store import Store, documents, record_from_dict
from kakari.config import KakariConfig
from kakari.model import Record, Status
from web.accounts import User
from web.pages import PAGE_DPI

IDLE_CAP_SECONDS = 120.0  # a pause longer than this between key presses counts as this long (set in the page)
MAX_MINUTES = 60.0  # one document's review never counts more than this


def active_seconds(value: Any) -> float:
    """The page's measured active seconds; anything but a finite number (the page sends nothing
    else) raises ValueError with the clerk's message."""
    try:
        seconds = float(str(value if value not in (None, "") else 0))
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise ValueError("作業時間 (active_seconds) の値が正しくありません。画面を開き直してください")
    return seconds


class Forbidden(Exception):
    pass


class Gone(Exception):
    """Someone else decided this document already."""


@dataclass
class Item:
    job: str
    doc_id: str
    original_name: str
    department: str
    received_at: Any
    problems: int
    reasons: list[str] = dataclass_field(default_factory=list)  # why a person must look: one line per field
    title: str = ""  # the job's title (or its 業務名), not its id

    @property
    def received(self) -> str:
        return tokyo_time(self.received_at, seconds=False)


def job_title(config: KakariConfig, job: str) -> str:
    j = config.jobs.get(job)
    return (j.title or j.task or job) if j is not None else job


def reasons(rec: Record, f: Any) -> list[str]:
    """Why field `f` needs a person, in words (Record.reasons: the one place the status, the queue
    and this screen read them from)."""
    return rec.reasons(f)


def confidence_class(rec: Record, f: Any) -> str:
    """The colour of a field's confidence: red needs a person, amber is near the threshold."""
    if f.problems or f.confidence < rec.min_confidence:
        return "conf-low"
    return "conf-mid" if f.confidence < min(1.0, rec.min_confidence + 0.1) else "conf-ok"


def department_of(config: KakariConfig, job: str) -> str | None:
    return config.jobs[job].department if job in config.jobs else None


def queue(config: KakariConfig, user: User) -> list[Item]:
    """要確認 documents of the jobs the user may see, oldest first."""
    store = Store(config.database_url)
    with store.engine.connect() as conn:
        rows = conn.execute(select(documents).where(documents.c.status == Status.REVIEW.value)
                            .order_by(documents.c.received_at, documents.c.id)).mappings().all()
    out = []
    for r in rows:
        dept = department_of(config, r["job"])
        if not user.may_see(dept):
            continue
        rec = record_from_dict(r["record"])
        why = [f"{f.label}: {w}" for f in rec.fields.values() for w in reasons(rec, f)]
        if not why and r["reason"]:
            why = [str(r["reason"])]
        out.append(Item(r["job"], r["doc_id"], r["original_name"] or "", dept or "", r["received_at"], len(why),
                        why, job_title(config, r["job"])))
    return out


def screen(config: KakariConfig, job: str, row: dict[str, Any], rec: Record, done: str = "") -> dict[str, Any]:
    """What the review page shows besides the fields: the job's title, who decided a document that
    is no longer 要確認 (then the page is read only), the notice of the previous decision."""
    decided = None
    if row["status"] != Status.REVIEW.value:
        decided = {"who": rec.meta.get("reviewed_by", ""), "when": tokyo_time(rec.meta.get("reviewed_at")
                                                                              or row.get("finished_at")),
                   "reason": row.get("reason") if row["status"] == Status.ERROR.value else ""}
    return {"job_title": job_title(config, job), "decided": decided, "notice": NOTICES.get(done, ""),
            "reasons": reasons, "confidence_class": confidence_class, "dpi": PAGE_DPI,
            "history": events_of(config, row["doc_id"]) if decided else []}


NOTICES = {"confirmed": "登録しました", "rejected": "差し戻しました"}


def next_url(config: KakariConfig, user: User, status: Status) -> str:
    """Where the clerk goes after a decision: the next document of their queue, else the queue, with
    the notice of what was done."""
    done = "confirmed" if status == Status.CONFIRMED else "rejected"
    items = queue(config, user)
    if not items:
        return f"/review?done={done}"
    it = items[0]
    return f"/review/{quote(it.job)}/{quote(it.doc_id)}?done={done}"


STATUSES = tuple(s.value for s in Status)
SEARCH_LIMIT = 200  # rows one search shows (newest first)


@dataclass
class Found:
    job: str
    doc_id: str
    original_name: str
    department: str
    status: str
    received: str
    title: str


def search(config: KakariConfig, user: User, q: str = "", status: str = "", department: str = "",
           received: str = "") -> list[Found]:
    """Processed documents of the user's own sections, newest first: `q` matches the 文書ID's start,
    the file name or any field's value; `received` is a 受付日 (YYYY-MM-DD, Tokyo) or its month."""
    store = Store(config.database_url)
    query = select(documents).order_by(documents.c.received_at.desc(), documents.c.id.desc())
    if status:
        query = query.where(documents.c.status == status)
    out: list[Found] = []
    needle = q.strip()
    with store.engine.connect() as conn:
        for r in conn.execute(query).mappings():
            dept = department_of(config, r["job"]) or ""
            if not user.may_see(dept or None) or (department and dept != department):
                continue
            when = tokyo_time(r["received_at"], seconds=False)
            if received and not when.startswith(received.strip()):
                continue
            if needle and not (r["doc_id"].startswith(needle) or needle in (r["original_name"] or "")
                               or any(needle in str(f.get("value") or "") or needle in str(f.get("raw") or "")
                                      for f in (r["record"] or {}).get("fields", []))):
                continue
            out.append(Found(r["job"], r["doc_id"], r["original_name"] or "", dept, r["status"], when,
                             job_title(config, r["job"])))
            if len(out) >= SEARCH_LIMIT:
                break
    return out


def events_of(config: KakariConfig, doc_id: str) -> list[dict[str, str]]:
    """The document's history as the page shows it: Tokyo time, the event's Japanese name, its detail."""
    rows = Store(config.database_url).history(doc_id_prefix=doc_id)
    return [{"when": tokyo_time(r["ts"]), "what": event_name(r["event"]), "detail": r["detail"] or ""}
            for r in rows if r["doc_id"] == doc_id]


def mount(app: Any, config: KakariConfig, current: Any, page: Any) -> None:
    """The search of processed documents (the screen's script and style are the app's /static files:
    no CDN, no inline script, so the page works offline and under a strict Content-Security-Policy)."""
    @app.get("/documents", response_class=HTMLResponse)
    def documents_search(request: Request, q: str = "", status: str = "", dept: str = "",
                         received: str = "") -> Response:
        user = current(request)
        searched = any((q, status, dept, received))
        found = search(config, user, q, status, dept, received) if searched else []
        departments = sorted({j.department for j in config.jobs.values() if j.department and user.may_see(j.department)})
        return page(request, "documents.html", user=user, found=found, searched=searched, q=q, status=status,
                    dept=dept, received=received, statuses=STATUSES, departments=departments,
                    limit=SEARCH_LIMIT)


def load(config: KakariConfig, user: User, job: str, doc_id: str) -> tuple[dict[str, Any], Record]:
    store = Store(config.database_url)
    row = store.document(doc_id, job)
    if row is None:
        raise Gone("文書が見つかりません")
    if not user.may_see(department_of(config, job)):
        raise Forbidden("この文書を見る権限がありません")
    return row, record_from_dict(row["record"])


def ordered_fields(rec: Record) -> list[Any]:
    """Fields that need attention first (problems, then low confidence), then the rest in form order."""
    fields = list(rec.fields.values())
    return sorted(fields, key=lambda f: (0 if f.problems else 1 if rec.doubts(f) else 2,
                                         fields.index(f)))


def apply_corrections(rec: Record, values: dict[str, str]) -> Record:
    """The clerk's values, parsed and checked as the bot would; problems left are shown again."""
    bot_cls = registry.get(rec.bot)
    template = getattr(bot_cls, "template", None)
    for name, field in rec.fields.items():
        if name not in values:
            continue
        raw = values[name].strip()
        field.problems = []
        field.raw = raw
        if template is not None and name in template.fields:
            field.value, field.problems = parse_checked(raw, template.fields[name])
        else:
            field.value = raw or None
        field.confidence = 1.0  # a person has read it
    return bot_cls().validate(rec) if template is not None else rec


def _minutes(active_seconds: float) -> float:
    return round(min(MAX_MINUTES, max(0.0, active_seconds) / 60.0), 2)


def decide(config: KakariConfig, user: User, job: str, doc_id: str, rec: Record, status: Status,
           active_seconds: float, reason: str = "", note: str = "") -> Path:
    """Record a person's decision (確認済 or エラー); the ledger row is rewritten by the outbox flusher.
    `note` (what a screen's decision consisted of: the boxes of a masking) goes into its event."""
    _, stored = load(config, user, job, doc_id)  # 403 for another section, Gone if deleted
    try:
        return record_decision(config, job, doc_id, rec, status, user.username, _minutes(active_seconds), reason,
                               note=note, changes=corrections(stored, rec))
    except AlreadyDecided as e:
        raise Gone(str(e)) from None
