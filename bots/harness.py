"""`kakari bots test` and `kakari bots preview`: a bot against sample documents with expected JSON
(`NAME.json` next to each file: {"fields": {field: value}}), and a picture of where it reads."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kakari.config import KakariConfig
from kakari.errors import ConfigError, DocumentError

SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


@dataclass
class DocCheck:
    path: Path
    diffs: list[tuple[str, Any, Any]] = field(default_factory=list)  # (field, got, expected)
    right: int = 0
    total: int = 0
    error: str = ""
    unknown: list[str] = field(default_factory=list)  # expected fields the bot does not define


def same(got: Any, want: Any) -> bool:
    if isinstance(got, (int, float)) and isinstance(want, (int, float)) and not isinstance(got, bool):
        return abs(float(got) - float(want)) < 1e-9
    return got == want


def check_folder(bot_cls: type, folder: Path, config: KakariConfig) -> list[DocCheck]:
    from ocr import read_document

    if not folder.is_dir():
        raise ConfigError(f"フォルダー {folder} が見つかりません")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.with_suffix(".json").is_file())
    if not files:
        raise ConfigError(f"{folder} に試験用の文書 (文書と同じ名前の .json 付き) がありません")
    out = []
    for path in files:
        expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8")).get("fields", {})
        check = DocCheck(path)
        try:
            rec = bot_cls().read(read_document(path, config, doc_id=path.stem))
        except DocumentError as e:
            check.error, check.total = e.message, len(expected)
            out.append(check)
            continue
        for name, want in expected.items():
            if name not in rec.fields:
                check.unknown.append(name)
                continue
            got = rec.fields[name].value
            check.total += 1
            if same(got, want):
                check.right += 1
            else:
                check.diffs.append((name, got, want))
        out.append(check)
    return out


def preview(bot_cls: type, file: Path, config: KakariConfig, out: Path, dpi: int = 100) -> Path:
    """PNG of page 1 with every zone drawn and the value read (red: a problem or low confidence)."""
    from PIL import ImageDraw, ImageFont

    from ocr import read_document
    from ocr.inputs import sniff
    from ocr.raster import rasterise

    if not file.is_file():
        raise ConfigError(f"文書 {file} が見つかりません")
    doc = read_document(file, config, doc_id=file.stem)
    rec = bot_cls().read(doc)
    [page] = rasterise(file, sniff(file, config.limits), [1], dpi, config.limits.max_pixels, config.limits.max_pages)
    image = page.image.convert("RGB")
    s = page.dpi / 25.4
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", max(10, int(2.8 * s)))
    for name, f in rec.fields.items():
        zones = [f.box] if f.box is not None else []
        spec = bot_cls.template.fields.get(name)
        if spec is not None and spec.options:
            zones = [o.to_box() for o in spec.options.values()]
        bad = bool(f.problems) or f.confidence < rec.min_confidence
        colour = (220, 30, 30) if bad else (30, 110, 220)
        for b in zones:
            if b.page != 1:
                continue
            draw.rectangle((b.x * s, b.y * s, (b.x + b.w) * s, (b.y + b.h) * s), outline=colour, width=2)
        if zones:
            b = zones[0]
            draw.text((b.x * s + 2, max(0, b.y * s - 3.2 * s)), f"{name}: {f.display()}"[:60], fill=colour, font=font)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)
    return out
