"""Reading a sample document with a template that is not (yet) a registered bot: the zone editor's
live readings, and benchmarks of a freshly scaffolded bot. A draft bot is a FormBot subclass made
on the fly around a checked template; nothing is registered."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bots.base import FormBot
from bots.template import FormTemplate, load_template
from kakari.model import Field


def draft_bot(template: FormTemplate | Path, name: str = "draft") -> type[FormBot]:
    """A FormBot class reading with `template` (a checked template, or the path of one)."""
    if not isinstance(template, FormTemplate):
        template = load_template(Path(template))
    return type(f"Draft_{name}", (FormBot,), {"template": template, "name": name, "__module__": __name__})


def template_from(data: dict[str, Any], path: Path) -> FormTemplate:
    """A template from a parsed TOML dict, placed at `path` (its blank is found beside it)."""
    template = FormTemplate.model_validate(data)
    template._path = Path(path)
    return template


def read_fields(bot: type[FormBot], doc: Any, names: list[str] | None = None) -> dict[str, Field]:
    """The given fields (default: all) of a document read by `bot`, checked as the bot checks them."""
    reader = bot()
    reader.align_scan(doc)
    fields = {n: reader.extract_field(doc, spec) for n, spec in bot.template.fields.items()
              if names is None or n in names}
    return fields


def page_image(path: Path, template: FormTemplate, config: Any, dpi: int = 100,
               frame: dict[str, Any] | None = None) -> Any:
    """Page 1 of a document as a grey PIL image in the template's frame: a text-layer page as it is,
    a scan registered to the template's blank (so zones drawn in template mm land on the ink), or
    through `frame` (a record's ``meta["frames"]["1"]``: the alignment its fields were read through)."""
    from PIL import Image

    from ocr.inputs import sniff
    from ocr.preprocess import to_gray
    from ocr.raster import rasterise
    from ocr.register import Alignment, page_in_form

    kind = sniff(path, config.limits)
    [r] = rasterise(path, kind, [1], dpi, config.limits.max_pixels, config.limits.max_pages)
    gray = to_gray(r.image)
    frame = frame or scan_frame(path, kind, template, 1, gray, float(r.dpi), config)
    if frame is None:
        return Image.fromarray(gray)
    alignment = Alignment.from_dict(frame).at_dpi(float(r.dpi))
    return Image.fromarray(page_in_form(gray, alignment, frame["width_mm"], frame["height_mm"], dpi))


def scan_frame(path: Path, kind: str, template: FormTemplate, number: int, image: Any, dpi: float,
               config: Any) -> dict[str, Any] | None:
    """Page `number` of a scanned document (its pixels `image` at `dpi`) registered to the template's
    blank, as ``ocr.zones.page_frames`` records it; None for a text-layer page, a template without a
    blank or a page that cannot be aligned."""
    ref = template.reference_path()
    if ref is None or not _is_scan(path, kind, number, config):
        return None
    from ocr.preprocess import to_gray
    from ocr.register import load_reference, register

    ref_page = load_reference(ref).page(number)
    if ref_page is None:
        return None
    alignment = register(to_gray(image), dpi, ref_page)
    if not alignment.ok:
        return None
    return {**alignment.as_dict(), "width_mm": ref_page.width_mm, "height_mm": ref_page.height_mm}


def _is_scan(path: Path, kind: str, number: int, config: Any) -> bool:
    if kind != "pdf":
        return True
    from ocr import MIN_TEXT_QUALITY
    from ocr.textlayer import needs_scan, read_textlayer

    pages = read_textlayer(path, "page", config.limits)
    return len(pages) >= number and needs_scan(pages[number - 1], config.ocr.min_chars_per_page, MIN_TEXT_QUALITY)
