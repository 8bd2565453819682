"""What the zone editor works on, without HTTP: the form bots it can open (and whether their
template may be written), the sample documents of a bot (files uploaded in the editor and
documents the bot has read), and documents read once and kept while a person edits."""
from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kakari.config import KakariConfig
from kakari.errors import ConfigError

BOT_NAME = re.compile(r"[a-z][a-z0-9_]*")
SAMPLE_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
RECENT_DOCUMENTS = 20


@dataclass(frozen=True)
class EditableBot:
    name: str
    title: str
    template: Path
    origin: str  # built-in, folder …, entry point …, or 未登録 (a new bot not yet in bots_dir)
    writable: bool

    @property
    def reason(self) -> str:
        """Why the template cannot be saved ("" if it can)."""
        if self.origin == "built-in":
            return "kakari に組み込みの様式は変更できません。bots new で町の様式として作ってください"
        return "" if self.writable else f"{self.template} に書き込めません"


def new_bots_folder(config: KakariConfig) -> Path:
    """Where bots made in the editor go: the first bots_dir, else <home>/bots."""
    return config.bots_dir[0] if config.bots_dir else config.home / "bots"


def bots(config: KakariConfig) -> dict[str, EditableBot]:
    """Every form bot: the registered ones and new ones in the editor's folder."""
    import os

    from bots import registry
    from bots.base import FormBot

    out: dict[str, EditableBot] = {}
    for name, entry in sorted(registry.entries().items()):
        if not (isinstance(entry.obj, type) and issubclass(entry.obj, FormBot)):
            continue
        template = entry.obj.template
        path = template.path
        if path is None:
            continue
        out[name] = EditableBot(name, template.title, path, entry.origin,
                                entry.origin != "built-in" and os.access(path, os.W_OK))
    folder = new_bots_folder(config)
    if folder.is_dir():
        for toml in sorted(folder.glob("*.toml")):
            name = toml.stem
            if name in out or not BOT_NAME.fullmatch(name) or not toml.with_suffix(".py").is_file():
                continue
            out[name] = EditableBot(name, _title(toml), toml, "未登録", os.access(toml, os.W_OK))
    return out


def _title(toml: Path) -> str:
    import tomllib

    try:
        return str(tomllib.loads(toml.read_text(encoding="utf-8")).get("title", toml.stem))
    except (OSError, ValueError):
        return toml.stem


def bot(config: KakariConfig, name: str) -> EditableBot:
    found = bots(config).get(name) if BOT_NAME.fullmatch(name or "") else None
    if found is None:
        raise ConfigError(f"様式ボット「{name}」はありません")
    return found


# =============================================================================================
# Samples
# =============================================================================================
@dataclass(frozen=True)
class Sample:
    id: str  # "u-<file name>" (uploaded) or "d-<job>-<doc_id>" (read by the bot)
    title: str
    path: Path


def samples_folder(config: KakariConfig, name: str) -> Path:
    return config.home / "editor" / name / "samples"


def samples(config: KakariConfig, name: str) -> list[Sample]:
    """Files uploaded for this bot, then the documents it read most recently (those still on disk)."""
    from sqlalchemy import select

    from jobs.store import Store, documents

    out: list[Sample] = []
    folder = samples_folder(config, name)
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if p.suffix.lower() in SAMPLE_SUFFIXES:
                out.append(Sample(f"u-{hashlib.sha256(p.name.encode()).hexdigest()[:16]}", f"見本: {p.name}", p))
    store = Store(config.database_url)
    with store.engine.connect() as conn:
        rows = conn.execute(select(documents.c.job, documents.c.doc_id, documents.c.original_name,
                                   documents.c.stored_path, documents.c.status)
                            .where(documents.c.bot == name).order_by(documents.c.id.desc())
                            .limit(RECENT_DOCUMENTS)).mappings().all()
    for r in rows:
        p = Path(r["stored_path"] or "")
        if p.is_file():
            out.append(Sample(f"d-{r['job']}-{r['doc_id']}", f"{r['status']}: {r['original_name'] or p.name}", p))
    return out


def sample(config: KakariConfig, name: str, sample_id: str) -> Sample:
    found = next((s for s in samples(config, name) if s.id == sample_id), None)
    if found is None:
        raise ConfigError("見本の文書が見つかりません")
    return found


def add_sample(config: KakariConfig, name: str, filename: str, data: bytes) -> Sample:
    """Keep an uploaded filled form as a sample of the bot; it must be a document kakari can read."""
    from connectors.folder import safe_name
    from ocr.inputs import sniff

    if len(data) > config.limits.max_bytes:
        raise ConfigError(f"ファイルが大きすぎます (上限 {config.limits.max_bytes // (1024 * 1024)} MB)")
    base = safe_name(Path(filename or "sample").name)
    if Path(base).suffix.lower() not in SAMPLE_SUFFIXES:
        raise ConfigError("見本は PDF・PNG・JPEG・TIFF のどれかにしてください")
    folder = samples_folder(config, name)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / base
    tmp = folder / f".{base}.part"
    tmp.write_bytes(data)
    try:
        sniff(tmp, config.limits)  # a broken or disguised file is refused here, with its reason
    except Exception:
        tmp.unlink()
        raise
    tmp.replace(target)
    return next(s for s in samples(config, name) if s.path == target)


# =============================================================================================
# Documents read once per edit session
# =============================================================================================
class DocumentCache:
    """A few documents kept read (and registered, for scans) while a person edits zones; one read
    at a time (pdfium and the OCR engine are not shared between threads)."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self.lock = threading.Lock()
        self._docs: OrderedDict[tuple[str, int], Any] = OrderedDict()

    def document(self, path: Path, config: KakariConfig) -> Any:
        from ocr import read_document

        key = (str(path), path.stat().st_mtime_ns)
        doc = self._docs.get(key)
        if doc is None:
            doc = read_document(path, config, doc_id=path.stem)
            self._docs[key] = doc
            while len(self._docs) > self.size:
                self._docs.popitem(last=False)
        self._docs.move_to_end(key)
        return doc
