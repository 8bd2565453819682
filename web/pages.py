"""The review screen's pictures of a document: every page as registered (the scan turned, deskewed
and shifted through the very alignment OCR read its zones through, kept in the record's
``meta["frames"]``), so zones drawn in the form's millimetres sit on the ink; and the crop of one
field's zone. Text-layer pages are already in the form's coordinates and are shown as rendered; a
scan read before alignments were kept is registered to its bot's blank when first shown. PNGs are
kept in memory per file version (derived data: nothing is written to disk)."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field as dataclass_field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kakari.config import KakariConfig
from kakari.model import Box, Record

PAGE_DPI = 110  # the page image's resolution (the zones are placed from it, in millimetres)
ZONE_DPI = 200  # a field's crop beside its input
ZONE_MARGIN_MM = 2.0  # around a field's crop, so the clerk sees what touches the zone


def page_numbers(path: Path, config: KakariConfig) -> list[int]:
    """The pages the screen shows: all of the file's, up to the configured page limit."""
    from ocr.inputs import sniff
    from ocr.raster import count_pages

    return list(range(1, min(count_pages(path, sniff(path, config.limits)), config.limits.max_pages) + 1))


def frame_of(rec: Record, number: int) -> dict[str, Any] | None:
    """The stored alignment of page `number` (None: a text-layer page, or read before frames were kept)."""
    frames = rec.meta.get("frames") or {}
    frame = frames.get(str(number)) if isinstance(frames, dict) else None
    return frame if isinstance(frame, dict) else None


def page_png(path: Path, rec: Record, number: int, config: KakariConfig) -> bytes:
    """Page `number` as registered, at PAGE_DPI."""
    return _png(_Source.of(path, rec, number, config), None, PAGE_DPI)


def zone_png(path: Path, rec: Record, box: Box, config: KakariConfig) -> bytes:
    """The zone `box` (with a margin) of its page as registered, at ZONE_DPI."""
    m = ZONE_MARGIN_MM
    zone = (max(0.0, box.x - m), max(0.0, box.y - m), box.w + 2 * m, box.h + 2 * m)
    return _png(_Source.of(path, rec, box.page, config), zone, ZONE_DPI)


@dataclass(frozen=True)
class _Source:
    """One page of one version of a stored file and how to register it (hashable: the cache's key)."""

    path: str
    mtime_ns: int
    number: int
    frame: str  # the stored alignment as JSON; "" = none stored
    bot: str  # register now to this bot's blank (a record read before alignments were kept), or ""
    limits: tuple[int, int]  # max_pixels, max_pages
    config: KakariConfig = dataclass_field(compare=False, hash=False)

    @classmethod
    def of(cls, path: Path, rec: Record, number: int, config: KakariConfig) -> _Source:
        frame = frame_of(rec, number)
        kept = isinstance(rec.meta.get("frames"), dict)
        return cls(str(path), path.stat().st_mtime_ns, number, json.dumps(frame, sort_keys=True) if frame else "",
                   "" if kept else rec.bot, (config.limits.max_pixels, config.limits.max_pages), config)


@lru_cache(maxsize=128)
def _frame_now(src: _Source) -> dict[str, Any] | None:
    """A page without a stored alignment (read before they were kept): registered now to the bot's
    blank, as OCR registers a scan; None for a text-layer page or a bot without a blank."""
    from bots import registry
    from bots.tryout import scan_frame
    from ocr.inputs import sniff
    from ocr.raster import rasterise

    try:
        template = getattr(registry.get(src.bot), "template", None)
    except Exception:  # noqa: BLE001 - a bot no longer installed: the page as it is
        return None
    if template is None:
        return None
    limits = src.config.limits
    kind = sniff(Path(src.path), limits)
    [r] = rasterise(Path(src.path), kind, [src.number], PAGE_DPI, limits.max_pixels, limits.max_pages)
    return scan_frame(Path(src.path), kind, template, src.number, r.image, r.dpi, src.config)


@lru_cache(maxsize=128)  # a clerk's page is drawn once, not on every visit (keyed by the file's mtime)
def _png(src: _Source, zone: tuple[float, float, float, float] | None, dpi: int) -> bytes:
    from PIL import Image

    from ocr.inputs import sniff
    from ocr.raster import rasterise
    from ocr.register import Alignment, crop, identity, page_in_form

    limits = src.config.limits
    kind = sniff(Path(src.path), limits)
    [r] = rasterise(Path(src.path), kind, [src.number], dpi, limits.max_pixels, limits.max_pages)
    image = np.asarray(r.image)
    stored = json.loads(src.frame) if src.frame else (_frame_now(src) if src.bot else None)
    if stored:
        alignment = Alignment.from_dict(stored).at_dpi(r.dpi)  # the raster here may be coarser than OCR's
        width_mm, height_mm = float(stored["width_mm"]), float(stored["height_mm"])
    else:
        alignment, width_mm, height_mm = identity(r.dpi), r.width_mm, r.height_mm
    if zone is None:
        out = page_in_form(image, alignment, width_mm, height_mm, dpi)
    else:
        x, y, w, h = zone
        out = crop(image, alignment, x, y, w, h, dpi)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, "PNG", compress_level=1)  # a noisy scan: ~3× faster than the default, ~10 % larger
    return buf.getvalue()
