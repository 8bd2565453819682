"""ocr: files in, Documents out (mm, top-left origin). ``read_document`` is the only entry point.

PDF pages are read from their text layer; pages whose layer is too thin or garbled, and image files,
go to the scan engine (see ``ocr.engine``). Heavy modules load on first use, not on import.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ocr.document import Document

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

    from ocr.textlayer import needs_scan, read_textlayer

    pages = read_textlayer(path, doc_id, cfg.limits)
    thin = [p.number for p in pages if needs_scan(p, cfg.ocr.min_chars_per_page, MIN_TEXT_QUALITY)]
    if not thin:
        return Document(doc_id, path, pages, engine="textlayer")
    engine = scan_engine(cfg)
    scanned = {p.number: p for p in engine.read_pages(path, "pdf", thin, cfg)}
    missing = [n for n in thin if n not in scanned]
    if missing:  # an engine bug, not the document's fault
        raise RuntimeError(f"OCR engine {engine.name!r} returned no page for {missing}")
    pages = [scanned.get(p.number, p) for p in pages]
    return Document(doc_id, path, pages, engine=engine.name if len(thin) == len(pages) else "mixed")
