"""A row's attached files (保険証の写し, 図面 …) read as documents — the text layer, or OCR of the
whole page for images and scans — and linked to the application: one entry each in the record's
meta (where it is kept, its hash, pages, engine, the text read) and a problem for each one that is
missing or unreadable, so the row goes to 要確認 instead of being registered without it.

Each attachment is read in a warm reader process under the same time and memory limits as a
document: one that breaks a limit (a decompression bomb, a file that never ends) is refused, and
its row goes to エラー with the reason instead of taking this process down."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from connectors.exportsource import AttachmentError, Attachments
from jobs.reading import readers
from kakari.config import KakariConfig
from kakari.errors import DocumentError, MissingDependency, ReaderDied, ReadTimeout, TooLarge
from ocr import read_document
from ocr.document import Document

TEXT_KEPT = 1000  # characters of an attachment's text kept with the record (shown on the review screen)
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


@dataclass
class Read:
    """What the row's attachments came to."""

    meta: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # limits broken: the row goes to エラー
    steps: list[str] = field(default_factory=list)  # one line each for the events (no personal data beyond the name)


def read_attachments(names: list[str], box: Attachments, kept_at: Path | None, cfg: KakariConfig,
                     work: Path) -> Read:
    """Read each named attachment from `box` (the export's folder or ZIP, which ends up at `kept_at`);
    `work` is a folder for the copies the readers need. MissingDependency propagates: the machine's fault."""
    out = Read()
    for i, name in enumerate(names):
        entry: dict[str, Any] = {"name": name, "container": str(kept_at) if kept_at else ""}
        out.meta.append(entry)
        try:
            member = box.find(name)
            data = box.read(member, cfg.limits.max_bytes)
        except AttachmentError as e:
            entry["problem"] = str(e)
            out.problems.append(str(e))
            continue
        digest = hashlib.sha256(data).hexdigest()
        entry.update(member=member, sha256=digest, bytes=len(data))
        suffix = PurePosixPath(member).suffix
        copy = work / f"attachment-{i}{suffix if _SAFE_SUFFIX.match(suffix) else ''}"
        copy.write_bytes(data)
        try:
            pages, engine, text = readers.run(_read_in_reader, (copy, digest), cfg)
        except DocumentError as e:
            problem = f"添付ファイル「{name}」を読めません: {e.message}"
            entry["problem"] = problem
            out.problems.append(problem)
            if isinstance(e, (TooLarge, ReadTimeout, ReaderDied)):
                out.refused.append(problem)
            continue
        finally:
            copy.unlink(missing_ok=True)
        entry.update(pages=pages, engine=engine, chars=len(text), text=text[:TEXT_KEPT])
        out.steps.append(f"{name}: {pages}ページ ({engine})、{len(text)}文字")
    return out


def _read_in_reader(path: Path, digest: str, cfg: KakariConfig) -> tuple[int, str, str]:
    """The reader's side: the attachment's pages, engine and text."""
    doc = read_document(path, cfg, doc_id=digest)
    return len(doc.pages), doc.engine, page_text(doc, cfg)


def page_text(doc: Document, cfg: KakariConfig) -> str:
    """The document's text; pages read as images (no form describes them) are OCR'd whole first."""
    scans = [p for p in doc.pages if p.source == "scan" and not p.lines and not p.chars and p.image is not None]
    if scans:
        from ocr.fullpage import read_into
        from ocr.tesseract import INSTALL_FIX, find_tessdata

        tessdata = find_tessdata(cfg.ocr.tessdata)
        if tessdata is None:
            raise MissingDependency("Tesseract の日本語データ (jpn.traineddata) が見つかりません", fix=INSTALL_FIX)
        for page in scans:
            read_into(page, tessdata, vertical=False)
    return doc.text
