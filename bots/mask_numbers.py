"""墨塗り: a masked copy of every document — 個人番号 and the other numbers of mask_numbers.toml
blacked out in page images, proven unreadable before it is released to the job's output folder.

A town's own variant is a subclass in its bots_dir with its own TOML beside it:

    # bots_local/midori_mask.py                       (+ midori_mask.toml: patterns, forms)
    from bots.mask_numbers import MaskNumbers

    class MidoriMask(MaskNumbers):
        pass
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from bots.base import DocumentBot
from bots.masking.spec import MaskSpec, load_spec
from kakari.bot import module_file
from kakari.config import RunContext
from kakari.errors import TemplateError
from kakari.log import register_personal
from kakari.model import Field, Record

DOCUMENT = "document"  # the field holding the document's own problems (labels without numbers, leftovers)


class MaskNumbers(DocumentBot):
    """個人番号等の墨塗り (PDF取込・マスキング)"""

    spec: ClassVar[MaskSpec]
    # PP-OCR's page detector: the least limit that held on sample scans (benchmarks/run_reader_memory.py), plus a
    # fifth for pages larger than the samples'
    reader_memory_mb = 1280
    ledger = (("pages", "ページ数"), ("boxes", "マスク箇所数"), ("by_kind", "種類別の件数"))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _configure(cls)

    def transform(self, path: Path, doc_id: str, ctx: RunContext, staged: Path) -> Record:
        from bots.masking.engine import mask_file

        result = mask_file(path, self.spec, ctx.config, staged)
        register_personal(f.value for f in result.findings if f.value)  # masked wherever a log line holds them
        return to_record(doc_id, self.name, result)


def _configure(cls: type[MaskNumbers]) -> None:
    """The TOML beside the class's module (a subclass without one keeps its parent's)."""
    file = module_file(cls)
    toml = file.with_suffix(".toml") if file else None
    if toml is not None and toml.is_file():
        cls.spec = load_spec(toml)
    elif not hasattr(cls, "spec"):
        raise TemplateError(f"ボット {cls.__qualname__} の墨塗りの定義 {toml} がありません")
    for key in ("task", "manual_minutes", "review_minutes"):
        if key not in cls.__dict__:
            setattr(cls, key, getattr(cls.spec, key))


_configure(MaskNumbers)


def to_record(doc_id: str, bot: str, result: Any) -> Record:
    """The document's Record: counts for the ledger, one field per box (kind, where, why in doubt;
    never the number itself), the pages' sizes and turns for the review screen."""
    rec = Record(doc_id=doc_id, bot=bot)
    counts = result.counts()
    rec.fields["pages"] = Field("pages", "ページ数", len(result.pages))
    rec.fields["boxes"] = Field("boxes", "マスク箇所数", len(result.findings))
    rec.fields["by_kind"] = Field("by_kind", "種類別の件数", "・".join(f"{k} {n}" for k, n in counts.items()) or "なし")
    for i, f in enumerate(result.findings, start=1):
        rec.fields[f"box_{i:03d}"] = Field(f"box_{i:03d}", f.label, f.kind, raw=f.how, confidence=f.confidence,
                                           problems=list(f.problems), box=f.box, personal=True)
    page_problems = [m for p in result.pages for m in p.problems]
    if result.leftovers:
        from bots.masking.engine import LEFTOVER

        page_problems += [LEFTOVER, *(lo.message() for lo in result.leftovers)]
    rec.fields[DOCUMENT] = Field(DOCUMENT, "文書", None, problems=list(dict.fromkeys(page_problems)))
    rec.meta.update(release=result.releasable, summary=f"{len(result.pages)}ページ・{len(result.findings)}箇所",
                    pages=[{"number": p.number, "width_mm": round(p.width_mm, 2), "height_mm": round(p.height_mm, 2),
                            "turns": p.turns, "source": p.source} for p in result.pages],
                    leftovers=[[lo.page, lo.box.x, lo.box.y, lo.box.w, lo.box.h] for lo in result.leftovers
                               if lo.box is not None])
    return rec
