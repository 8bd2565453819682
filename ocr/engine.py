"""The plug point for engines that read scanned pages (PP-OCR with Tesseract's second opinion).

An engine is a subclass of ``OcrEngine`` with a ``name``, in any module of the ``ocr`` package (found
by walking it) or in another package registered under the entry-point group ``kakari.engines``.
Engine modules must import their optional dependencies (tesserocr, cv2 …) inside ``check`` and
``read_pages``, never at module level, so walking the package never fails on a machine without them.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from kakari.errors import MissingDependency
from kakari.registry import Registry

if TYPE_CHECKING:
    from kakari.config import KakariConfig
    from ocr.document import Page
    from ocr.inputs import Kind

SCAN_ENGINE = "ppocr"  # the engine read_document asks for scanned pages


class OcrEngine(ABC):
    """Reads scanned pages (image-only PDF pages, PNG, JPEG, TIFF) into Pages in millimetres."""

    name: ClassVar[str]

    @classmethod  # noqa: B027 - optional: an engine with nothing to check keeps this one
    def check(cls) -> None:
        """Raise MissingDependency(message, fix=...) if this engine cannot run on this machine."""

    @abstractmethod
    def read_pages(
        self, path: Path, kind: Kind, page_numbers: list[int] | None, cfg: KakariConfig
    ) -> list[Page]:
        """Read the given pages (numbered from 1; None = every page/frame) of a file of `kind`.

        Returns one Page per requested page, in order, with source="scan", ``image`` (the
        preprocessed PIL image) and ``reader`` (a ZoneReader) set; sizes in mm. Enforces
        cfg.limits.max_pages / max_pixels for what it rasterises (TooLarge).
        """


engines: Registry[OcrEngine] = Registry("kakari.engines", OcrEngine, "ocr")


def scan_engine(cfg: KakariConfig) -> OcrEngine:
    """The engine for scanned pages, checked and ready; MissingDependency if there is none."""
    entries = engines.entries()
    entry = entries.get(SCAN_ENGINE)
    if entry is None:
        raise MissingDependency(
            "スキャン画像を読み取る OCR エンジンがありません",
            fix=(
                "PP-OCR エンジン (ocr/ppocr.py) を含む kakari を pip install -e . で入れ、"
                "apt-get install tesseract-ocr tesseract-ocr-jpn で Tesseract 日本語データを入れてください"
            ),
        )
    entry.obj.check()
    return entry.obj()
