"""ocr: files in, Documents out (mm, top-left origin). ``read_document`` is the only entry point.

PDF pages are read from their text layer; pages whose layer is too thin or garbled, lies about its
characters or holds vertical text (``ocr.layercheck``), and image files, go to the scan engine (see
``ocr.engine``); a page whose layer lies or is vertical is also read as a whole (``ocr.fullpage``),
and the document's ``notes`` say why. Heavy modules load on first use, not on import.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger

from ocr.document import Document, Page

if TYPE_CHECKING:
    from kakari.config import KakariConfig

MIN_TEXT_QUALITY = 0.8  # below this share of plausible characters a text layer is treated as broken

__all__ = ["Document", "read_document"]


def read_document(path: Path, cfg: KakariConfig, doc_id: str = "") -> Document:
    """Read a PDF, PNG, JPEG or TIFF into a Document.

    Raises DocumentError subclasses for bad files (empty, not a document, corrupt, encrypted, too
    large) and MissingDependency when pages need OCR but no scan engine is available.
    """
    from ocr.engine import scan_engine
    from ocr.inputs import sniff

    path = Path(path)
    kind = sniff(path, cfg.limits)
    if kind != "pdf":
        engine = scan_engine(cfg)
        return Document(doc_id, path, engine.read_pages(path, kind, None, cfg), engine=engine.name)

    from ocr.layercheck import scan_reason
    from ocr.textlayer import read_textlayer

    pages = read_textlayer(path, doc_id, cfg.limits)
    routes = {p.number: r for p in pages if (r := scan_reason(p, cfg.ocr.min_chars_per_page, MIN_TEXT_QUALITY))}
    if not routes:
        return Document(doc_id, path, pages, engine="textlayer")
    engine = scan_engine(cfg)
    scanned = {p.number: p for p in engine.read_pages(path, "pdf", list(routes), cfg)}
    missing = [n for n in routes if n not in scanned]
    if missing:  # an engine bug, not the document's fault
        raise RuntimeError(f"OCR engine {engine.name!r} returned no page for {missing}")
    notes = []
    for number, route in routes.items():
        if route.needs_full_text:  # a layer with text that cannot be believed: OCR the whole page
            _read_whole(scanned[number], route.vertical, cfg)
            notes.append(route.message)
            logger.info("{}: {}", doc_id or path.name, route.message)
    pages = [scanned.get(p.number, p) for p in pages]
    return Document(doc_id, path, pages, engine=engine.name if len(routes) == len(pages) else "mixed", notes=notes)


def _read_whole(page: Page, vertical: bool, cfg: KakariConfig) -> None:
    from kakari.errors import MissingDependency
    from ocr.fullpage import read_into
    from ocr.tesseract import INSTALL_FIX, find_tessdata

    tessdata = find_tessdata(cfg.ocr.tessdata)
    if tessdata is None:
        raise MissingDependency("Tesseract の日本語データ (jpn.traineddata) が見つかりません", fix=INSTALL_FIX)
    read_into(page, tessdata, vertical)
