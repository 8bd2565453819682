"""The masking review (墨塗りの確認): a 要確認 document of a masking bot shown page by page with the
proposed boxes; the clerk accepts, drags a box onto the page or removes one. Accepting masks the
original again with exactly those boxes, verifies the result (what the clerk removed is not looked
for there), records the decision with every box in the document's history in the same transaction
as the status, then releases the file to the job's output folder.

Mounted on the app by ``mount``; uses the app's session, CSRF check and section rule."""
from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bots import registry
from bots.mask_numbers import DOCUMENT, MaskNumbers
from jobs import artifacts
from kakari.config import KakariConfig, RunContext
from kakari.errors import DocumentError
from kakari.log import register_personal
from kakari.model import Box, Field, Record, Status
from web import review
from web.accounts import User

PAGE_DPI = 100  # the page images a clerk draws on
MAX_BOXES = 400  # per document: a form post with more is refused, not processed


def handles(rec: Record) -> bool:
    """Is this document a masking bot's (its review is this screen, not the field form)?"""
    try:
        bot = registry.get(rec.bot)
    except Exception:  # noqa: BLE001 - an unknown bot is simply not ours
        return False
    return isinstance(bot, type) and issubclass(bot, MaskNumbers)


def proposals(rec: Record) -> list[dict[str, Any]]:
    """The boxes proposed for the clerk, in mm of the released (upright) pages: what the bot found,
    and where verification could still read a number."""
    out = []
    for name, f in rec.fields.items():
        if f.box is not None and name.startswith("box_"):
            out.append({"id": name, "page": f.box.page, "x": f.box.x, "y": f.box.y, "w": f.box.w, "h": f.box.h,
                        "label": f.label, "how": f.raw or "content", "problems": f.problems})
    for i, (page, x, y, w, h) in enumerate(rec.meta.get("leftovers") or [], start=1):
        out.append({"id": f"leftover_{i:03d}", "page": page, "x": x, "y": y, "w": w, "h": h,
                    "label": "検証で読み取れた箇所", "how": "leftover", "problems": ["墨塗り後も読み取れました"]})
    return out


def parse_boxes(raw: str, pages: list[dict[str, Any]]) -> list[Box]:
    """The boxes posted by the page (JSON [{page, x, y, w, h}]), checked against the pages' sizes."""
    try:
        data = json.loads(raw or "[]")
    except json.JSONDecodeError:
        raise ValueError("枠の情報が読めません。画面を開き直してください") from None
    if not isinstance(data, list) or len(data) > MAX_BOXES:
        raise ValueError("枠の情報が正しくありません")
    sizes = {int(p["number"]): (float(p["width_mm"]), float(p["height_mm"])) for p in pages}
    out = []
    for item in data:
        try:
            page, x, y, w, h = int(item["page"]), *(float(item[k]) for k in ("x", "y", "w", "h"))
        except (KeyError, TypeError, ValueError):
            raise ValueError("枠の情報が正しくありません") from None
        if page not in sizes or w <= 0 or h <= 0:
            raise ValueError("枠の位置が正しくありません")
        pw, ph = sizes[page]
        x0, y0 = max(0.0, x), max(0.0, y)
        x1, y1 = min(pw, x + w), min(ph, y + h)
        if x1 <= x0 or y1 <= y0:
            raise ValueError("ページの外に枠があります")
        out.append(Box(page, round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)))
    return out


def _not_an_accept(action: object, reason: str, boxes: object) -> str:
    """Why a post that is not a 差し戻し is not an acceptance either ('' if it is one). Only the
    page's script fills in the boxes: without them (the script did not run, e.g. Enter pressed in
    the reason box of a page whose script was blocked) accepting would release an unmasked copy,
    and a typed reason means the clerk meant to send the document back."""
    if action != "accept":
        return "操作が正しくありません。画面を開き直してください"
    if reason:
        return ("差し戻しの理由が入力されています。差し戻す場合は「差し戻す」を押してください"
                "（この枠で確定する場合は理由を消してください）")
    if not isinstance(boxes, str) or not boxes.strip():
        return ("枠の情報が送られていません (画面のスクリプトが動いていない可能性があります)。"
                "ブラウザで JavaScript を有効にして、画面を開き直してください")
    return ""


def accept(config: KakariConfig, user: User, job: str, doc_id: str, rec: Record, row: dict[str, Any],
           boxes: list[Box], removed: list[Box], active_seconds: float) -> list[str]:
    """Mask the original with the clerk's boxes, verify, record, release. Returns what verification
    could still read (nothing recorded or released then), else []."""
    from bots.masking.engine import mask_file

    bot_cls = registry.get(rec.bot)
    job_cfg = config.job(job)
    ctx = RunContext(config)
    staged = artifacts.staged_path(job_cfg, ctx, doc_id)
    by_page: dict[int, list[Box]] = {}
    for b in boxes:
        by_page.setdefault(b.page, []).append(b)
    try:
        result = mask_file(Path(row["stored_path"] or ""), bot_cls.spec, config, staged, boxes=by_page, kept=removed)
    except DocumentError as e:
        return [e.message]
    register_personal(f.value for f in result.findings if f.value)
    if result.leftovers:
        staged.unlink(missing_ok=True)
        return [lo.message() for lo in result.leftovers]
    proposed = {(f.box.page, round(f.box.x, 2), round(f.box.y, 2)): f for f in rec.fields.values() if f.box}
    rec.fields = {k: v for k, v in rec.fields.items() if not k.startswith("box_") and k != DOCUMENT}
    for i, b in enumerate(boxes, start=1):
        old = proposed.get((b.page, round(b.x, 2), round(b.y, 2)))
        label = old.label if old is not None else "手動で追加"
        rec.fields[f"box_{i:03d}"] = Field(f"box_{i:03d}", label, old.value if old else "clerk",
                                           raw=old.raw if old else "clerk", box=b, personal=True)
    counts: dict[str, int] = {}
    for f in rec.fields.values():
        if f.name.startswith("box_"):
            counts[f.label] = counts.get(f.label, 0) + 1
    rec.fields["boxes"].value = len(boxes)
    rec.fields["by_kind"].value = "・".join(f"{k} {n}" for k, n in counts.items()) or "なし"
    from connectors.folder import free_name

    rec.meta.update(release=True, leftovers=[], output_path=str(free_name(
        job_cfg.output_folder(config.home), artifacts.output_name(row["original_name"] or ""), doc_id)))
    added = sum(1 for f in rec.fields.values() if f.name.startswith("box_") and f.raw == "clerk")
    note = (f"墨塗り {len(boxes)}箇所 (追加 {added}・削除 {len(removed)}): "
            + " ".join(f"p{b.page}[{b.x:.1f},{b.y:.1f},{b.w:.1f},{b.h:.1f}]" for b in boxes)
            + ("" if not removed else " 削除: " + " ".join(f"p{b.page}[{b.x:.1f},{b.y:.1f},{b.w:.1f},{b.h:.1f}]"
                                                            for b in removed)))
    review.decide(config, user, job, doc_id, rec, Status.CONFIRMED, active_seconds, note=note)
    artifacts.release(job_cfg, ctx, doc_id, rec.meta, Status.CONFIRMED.value)
    return []


def mount(app: FastAPI, config: KakariConfig, current: Callable[[Request], User],
          check_csrf: Callable[[Request, str], None], page: Callable[..., HTMLResponse],
          render_lock: threading.Lock) -> None:
    """The masking review's routes, behind the app's login, CSRF check and section rule."""

    def load(user: User, job: str, doc_id: str) -> tuple[dict[str, Any], Record]:
        try:
            row, rec = review.load(config, user, job, doc_id)
        except review.Forbidden as e:
            raise HTTPException(403, str(e)) from None
        except review.Gone as e:
            raise HTTPException(404, str(e)) from None
        if not handles(rec):
            raise HTTPException(404, "墨塗りの文書ではありません")
        return row, rec

    def screen(request: Request, user: User, row: dict[str, Any], rec: Record, job: str, status_code: int = 200,
               error: str = "", found: list[str] | None = None, reason: str = "") -> HTMLResponse:
        return page(request, "masking.html", status_code, user=user, row=row, rec=rec, job=job,
                    pages=rec.meta.get("pages") or [], boxes=proposals(rec), error=error, found=found or [],
                    problems=rec.problems, idle=review.IDLE_CAP_SECONDS, done=row["status"] != Status.REVIEW.value,
                    reason=reason)

    @app.get("/masking/{job}/{doc_id}", response_class=HTMLResponse)
    def masking_page(request: Request, job: str, doc_id: str) -> Response:
        user = current(request)
        row, rec = load(user, job, doc_id)
        return screen(request, user, row, rec, job)

    @app.get("/masking/{job}/{doc_id}/page/{number}.png")
    def masking_image(request: Request, job: str, doc_id: str, number: int) -> Response:
        from bots.masking.engine import page_image

        user = current(request)
        row, rec = load(user, job, doc_id)
        pages = {int(p["number"]): p for p in rec.meta.get("pages") or []}
        path = Path(row["stored_path"] or "")
        if number not in pages or not path.is_file():
            raise HTTPException(404, "ページが見つかりません")
        with render_lock:
            image = page_image(path, number, int(pages[number]["turns"]), PAGE_DPI, config)
        buf = io.BytesIO()
        image.save(buf, "PNG")
        return Response(buf.getvalue(), media_type="image/png", headers={"Cache-Control": "private, no-store"})

    @app.post("/masking/{job}/{doc_id}")
    async def masking_decide(request: Request, job: str, doc_id: str) -> Response:
        user = current(request)
        form = await request.form()
        check_csrf(request, str(form.get("csrf_token", "")))
        row, rec = load(user, job, doc_id)
        if row["status"] != Status.REVIEW.value:
            raise HTTPException(409, f"この文書は既に「{row['status']}」です")
        try:
            active = review.active_seconds(form.get("active_seconds"))
        except ValueError as e:
            raise HTTPException(400, str(e)) from None
        reason = str(form.get("reason") or "").strip()
        action = form.get("action")
        try:
            if action == "reject":
                if not reason:
                    return screen(request, user, row, rec, job, 400, error="差し戻しの理由を入力してください")
                review.decide(config, user, job, doc_id, rec, Status.ERROR, active, reason)
                return RedirectResponse("/review", status_code=303)
            if refusal := _not_an_accept(action, reason, form.get("boxes")):
                return screen(request, user, row, rec, job, 400, error=refusal, reason=reason)
            pages = rec.meta.get("pages") or []
            try:
                boxes = parse_boxes(str(form.get("boxes") or "[]"), pages)
                removed = parse_boxes(str(form.get("removed") or "[]"), pages)
            except ValueError as e:
                return screen(request, user, row, rec, job, 400, error=str(e))
            with render_lock:
                found = accept(config, user, job, doc_id, rec, row, boxes, removed, active)
        except review.Gone as e:
            raise HTTPException(409, str(e)) from None
        if found:
            return screen(request, user, row, rec, job, 422, found=found,
                          error="墨塗りした後も番号が読み取れる箇所があります。枠を足してから確定してください")
        return RedirectResponse("/review", status_code=303)
