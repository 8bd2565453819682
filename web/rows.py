"""Rows of online applications' exports on the review screen: instead of a page image, the row as
the applicant typed it (the export's columns) and the files attached to it, served from the folder
or ZIP archived beside the export."""
from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from connectors.exportsource import member_name
from kakari.model import Record

INLINE = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
          ".gif": "image/gif", ".tif": "image/tiff", ".tiff": "image/tiff", ".txt": "text/plain; charset=utf-8"}


class Missing(Exception):
    """The attachment is not where the record says (moved or deleted by a person)."""


def is_row(rec: Record) -> bool:
    return bool(rec.meta.get("export"))


def attachments(rec: Record) -> list[dict[str, Any]]:
    return list(rec.meta.get("attachments") or [])


def attachment(rec: Record, export_path: str, n: int, limit: int) -> tuple[bytes, str, str]:
    """(bytes, media type, file name) of the row's n-th attachment (0-based)."""
    items = attachments(rec)
    if not 0 <= n < len(items) or not items[n].get("member"):
        raise Missing("この添付ファイルはありません")
    item = items[n]
    container = _container(Path(item.get("container") or ""), Path(export_path))
    member = str(item["member"])
    if container.is_file():
        with zipfile.ZipFile(container) as zf:
            names = {member_name(i): i for i in zf.infolist()}
            info = names.get(member)
            if info is None:
                raise Missing(f"{container.name} に {member} がありません")
            with zf.open(info) as f:
                data = f.read(limit + 1)
    else:
        path = (container / member).resolve()
        if not path.is_relative_to(container.resolve()) or not path.is_file():
            raise Missing(f"{container.name} に {member} がありません")
        with path.open("rb") as f:
            data = f.read(limit + 1)
    if len(data) > limit:
        raise Missing("添付ファイルが大きすぎます")
    name = PurePosixPath(member).name
    return data, INLINE.get(PurePosixPath(name).suffix.lower(), "application/octet-stream"), name


def _container(recorded: Path, export_path: Path) -> Path:
    """Where the attachments are: as recorded, else beside the export as it was archived."""
    if str(recorded) not in ("", ".") and recorded.exists():
        return recorded
    if export_path.suffix.lower() == ".zip" and export_path.is_file():
        return export_path  # the table and its attachments in one archive
    for candidate in (export_path.with_suffix(".zip"), export_path.with_suffix("")):
        if candidate.exists():
            return candidate
    raise Missing("添付ファイルのフォルダー (ZIP) が見つかりません")

