"""The zone editor's pages and JSON calls (see web/editor/__init__.py)."""
from __future__ import annotations

import io
import json
import threading
import tomllib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from kakari.config import KakariConfig
from kakari.errors import ConfigError, KakariError
from web.editor import library
from web.security import template_globals

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=[str(HERE / "templates"), str(HERE.parent / "templates")],
                            context_processors=[template_globals])  # the CSP nonce of base.html's style
PAGE_DPI = 100  # page images: A4 at 827 × 1169 px
TYPE_NAMES = {  # shown in the type menu, in the words clerks and IT staff use
    "text": "文字", "name": "氏名", "kana": "フリガナ (カタカナ)", "wareki_date": "日付 (和暦)",
    "postal_code": "郵便番号", "phone": "電話番号", "digits": "番号 (数字)", "amount": "数量・金額",
    "my_number": "個人番号", "corporate_number": "法人番号", "choice": "選択肢", "checkbox": "チェック欄",
}


def router(config: KakariConfig, *, admin: Callable[..., Any], csrf: Callable[..., str],
           check_csrf: Callable[..., None], render_lock: threading.Lock | None = None) -> APIRouter:
    r = APIRouter()
    cache = library.DocumentCache()
    images: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()

    def png(path: Path, template: Path | None) -> bytes:
        """A page image (cached per file version): the blank itself, or a sample in the template's frame."""
        key = (str(path), path.stat().st_mtime_ns, str(template or ""))
        body = images.get(key)
        if body is None:
            with lock:
                body = _png(path, template, PAGE_DPI, config)
            images[key] = body
            while len(images) > 32:
                images.popitem(last=False)
        return body
    lock = render_lock or threading.Lock()  # pdfium: one page at a time, shared with the review screen
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kakari-editor")  # one OCR engine

    def page(request: Request, template: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, template, {"csrf": csrf(request), **ctx}, status_code=status_code)

    def json_csrf(request: Request) -> None:
        check_csrf(request, request.headers.get("X-CSRF-Token", ""))

    def editable(name: str) -> library.EditableBot:
        try:
            return library.bot(config, name)
        except ConfigError as e:
            raise HTTPException(404, e.message) from None

    def run(fn: Callable[[], Any]) -> Any:
        return worker.submit(fn).result()

    # -- the list of bots, and a new bot from a blank -----------------------------------------
    @r.get("/editor", response_class=HTMLResponse)
    def index(request: Request) -> Response:
        user = admin(request)
        return page(request, "editor_list.html", user=user, bots=list(library.bots(config).values()),
                    folder=library.new_bots_folder(config), registered=bool(config.bots_dir))

    @r.post("/editor/new")
    async def new(request: Request) -> Response:
        user = admin(request)
        form = await request.form()
        check_csrf(request, str(form.get("csrf_token", "")))
        name = str(form.get("name") or "").strip()
        blank = form.get("blank")
        try:
            minutes = float(form.get("minutes") or 5.0)
        except ValueError:
            minutes = -1.0
        error = ""
        if not hasattr(blank, "read") or not getattr(blank, "filename", ""):
            error = "白紙の様式のファイルを選んでください"
        elif minutes < 0:
            error = "手入力の分数は 0 以上の数で入力してください"
        if not error:
            data = await blank.read()  # type: ignore[union-attr]
            try:
                made = run(lambda: _scaffold(config, name, Path(blank.filename).name, data, minutes))  # type: ignore[union-attr]
            except KakariError as e:
                error = e.message
        if error:
            return page(request, "editor_list.html", 400, user=user, bots=list(library.bots(config).values()),
                        folder=library.new_bots_folder(config), registered=bool(config.bots_dir), error=error,
                        wanted=name)
        _reload_bots()
        note = f"{len(made.detection.fields)}項目の枠を見つけました" + (
            f" (確かめてください: {len(made.detection.uncertain)}項目)" if made.detection.uncertain else "")
        request.session["editor_note"] = note
        return RedirectResponse(f"/editor/{name}", status_code=303)

    # -- one bot ------------------------------------------------------------------------------
    @r.get("/editor/{name}", response_class=HTMLResponse)
    def edit(request: Request, name: str, sample: str = "") -> Response:
        from bots.fields import FIELD_TYPES
        from bots.template import load_template
        from bots.template_edit import zones

        user = admin(request)
        b = editable(name)
        try:
            model = zones(b.template)
            template = load_template(b.template)
        except KakariError as e:
            return page(request, "error.html", 422, user=user, code=422, message=e.message)
        ref = template.reference_path()
        size = _page_size(ref) if ref is not None else (210.0, 297.0)
        boot = {"bot": name, "model": model, "samples": [{"id": s.id, "title": s.title}
                                                          for s in library.samples(config, name)],
                "sample": sample, "page": {"w": size[0], "h": size[1]}, "blank": ref is not None,
                "writable": b.writable, "reason": b.reason,
                "types": [{"name": t, "title": TYPE_NAMES.get(t, t)} for t in FIELD_TYPES],
                "note": request.session.pop("editor_note", "")}
        # inside <script>: "<" escaped, so no label can close the element
        data = json.dumps(boot, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return page(request, "editor.html", user=user, bot=b, boot=data)

    @r.get("/editor/{name}/blank.png")
    def blank_png(request: Request, name: str) -> Response:
        from bots.template import load_template

        admin(request)
        ref = load_template(editable(name).template).reference_path()
        if ref is None or not ref.is_file():
            raise HTTPException(404, "この様式には白紙 (blank.pdf) がありません")
        return Response(run(lambda: png(ref, None)), media_type="image/png",
                        headers={"Cache-Control": "private, no-store"})

    @r.get("/editor/{name}/samples/{sample_id}.png")
    def sample_png(request: Request, name: str, sample_id: str) -> Response:
        admin(request)
        b = editable(name)
        s = _sample(name, sample_id)

        return Response(run(lambda: png(s.path, b.template)), media_type="image/png",
                        headers={"Cache-Control": "private, no-store"})

    @r.post("/editor/{name}/samples")
    async def upload(request: Request, name: str) -> Response:
        admin(request)
        form = await request.form()
        check_csrf(request, str(form.get("csrf_token", "")))
        editable(name)
        f = form.get("file")
        if not hasattr(f, "read"):
            raise HTTPException(400, "ファイルを選んでください")
        data = await f.read()  # type: ignore[union-attr]
        try:
            s = library.add_sample(config, name, getattr(f, "filename", "") or "sample", data)
        except KakariError as e:
            raise HTTPException(400, f"見本を読み込めません: {e.message}") from None
        return RedirectResponse(f"/editor/{name}?sample={s.id}", status_code=303)

    def _sample(name: str, sample_id: str) -> library.Sample:
        try:
            return library.sample(config, name, sample_id)
        except ConfigError as e:
            raise HTTPException(404, e.message) from None

    @r.post("/editor/{name}/read")
    async def read(request: Request, name: str) -> Response:
        admin(request)
        json_csrf(request)
        body = await request.json()
        b = editable(name)
        s = _sample(name, str(body.get("sample") or ""))
        names = body.get("names")
        try:
            readings = run(lambda: _read(config, cache, lock, b.template, body.get("model") or {}, s.path, names))
        except KakariError as e:
            return JSONResponse({"error": e.message}, status_code=422)
        return JSONResponse({"fields": readings})

    @r.post("/editor/{name}/save")
    async def save(request: Request, name: str) -> Response:
        from bots.template_edit import save as save_template

        admin(request)
        json_csrf(request)
        body = await request.json()
        b = editable(name)
        if not b.writable:
            return JSONResponse({"error": b.reason}, status_code=403)
        try:
            backup = save_template(b.template, body.get("model") or {})
        except KakariError as e:
            return JSONResponse({"error": e.message}, status_code=422)
        _reload_bots()
        return JSONResponse({"ok": True, "backup": backup.name,
                             "message": f"保存しました ({b.template.name}、前の版は {backup.name})"})

    @r.get("/editor/static/{file}")
    def static(file: str) -> Response:
        path = HERE / "static" / file
        if file not in ("editor.js", "editor.css") or not path.is_file():
            raise HTTPException(404, "ありません")
        kind = "text/javascript" if file.endswith(".js") else "text/css"
        return Response(path.read_bytes(), media_type=f"{kind}; charset=utf-8")

    return r


def _scaffold(config: KakariConfig, name: str, filename: str, data: bytes, minutes: float) -> Any:
    """`bots new` on an uploaded blank, into the editor's folder."""
    import tempfile

    from bots.scaffold import scaffold

    folder = library.new_bots_folder(config)
    if not library.BOT_NAME.fullmatch(name):
        raise ConfigError(f"ボット名「{name}」は英小文字・数字・下線で、英字から始めてください (例: juminhyo_request)")
    if name in library.bots(config):
        raise ConfigError(f"ボット「{name}」は既にあります。別の名前にするか、一覧から開いてください")
    if len(data) > config.limits.max_bytes:
        raise ConfigError("ファイルが大きすぎます")
    with tempfile.TemporaryDirectory() as tmp:
        blank = Path(tmp) / (Path(filename).name or "blank.pdf")
        blank.write_bytes(data)
        return scaffold(name, blank, folder, minutes, config=config)


def _reload_bots() -> None:
    from bots import registry

    registry.reload()


def _page_size(ref: Path) -> tuple[float, float]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(ref))
    try:
        w, h = doc[0].get_size()
    finally:
        doc.close()
    return (round(w / 72 * 25.4, 2), round(h / 72 * 25.4, 2))


def _png(path: Path, template: Path | None, dpi: int, config: KakariConfig) -> bytes:
    """A page image as PNG: the blank itself, or a sample drawn in the template's frame."""
    from bots.template import load_template
    from bots.tryout import page_image
    from ocr.inputs import sniff
    from ocr.preprocess import to_gray
    from ocr.raster import rasterise

    if template is not None:
        image = page_image(path, load_template(template), config, dpi)
    else:
        [r] = rasterise(path, sniff(path, config.limits), [1], dpi, config.limits.max_pixels, config.limits.max_pages)
        from PIL import Image

        image = Image.fromarray(to_gray(r.image))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _read(config: KakariConfig, cache: library.DocumentCache, lock: threading.Lock, template_path: Path,
          model: dict[str, Any], sample: Path, names: list[str] | None) -> dict[str, Any]:
    """Every (or the named) field of the unsaved model, read from the sample."""
    from pydantic import ValidationError

    from bots.template import format_template_error
    from bots.template_edit import render
    from bots.tryout import draft_bot, read_fields, template_from

    text = render(template_path, model)
    try:
        template = template_from(tomllib.loads(text), template_path)
    except ValidationError as e:
        raise ConfigError(format_template_error(template_path.name, e)) from None
    with lock:
        doc = cache.document(sample, config)
    fields = read_fields(draft_bot(template), doc, names)
    out = {}
    for n, f in fields.items():
        out[n] = {"value": f.display(), "raw": f.raw, "confidence": round(f.confidence, 2), "problems": f.problems,
                  "doubt": bool(f.problems) or f.confidence < template.min_confidence}
    return out
