"""The scan engine: pages rasterised, zones read by PP-OCR (``ocr.ppocr``) with Tesseract
(``ocr.tesseract``) as the second opinion and for the page's orientation, weighed by the trust
policy (``ocr.trust``) when a bot reads its fields (``ocr.reader.ScanReader``)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ocr.engine import OcrEngine
from ocr.ppocr import check as ppocr_check, recogniser

if TYPE_CHECKING:
    from kakari.config import KakariConfig
    from ocr.document import Page


class PPOcrEngine(OcrEngine):
    """Scanned pages → Pages whose zones PP-OCR reads, with Tesseract as the second opinion and for
    the page's orientation; reading happens when a bot asks for its zones."""

    name: ClassVar[str] = "ppocr"

    @classmethod
    def check(cls) -> None:
        from ocr.tesseract import check as tesseract_check

        ppocr_check()
        tesseract_check()

    def read_pages(self, path: Path, kind: str, page_numbers: list[int] | None,
                   cfg: KakariConfig) -> list[Page]:
        from PIL import Image

        from ocr.document import Page
        from ocr.glyphs import use_fonts
        from ocr.preprocess import to_gray
        from ocr.raster import iter_rasters
        from ocr.reader import ScanReader
        from ocr.tesseract import check as tesseract_check

        tessdata = tesseract_check(cfg.ocr.tessdata)
        rec = recogniser(cfg.ocr)
        use_fonts(cfg.ocr.drawing_fonts)
        pages: list[Page] = []
        for r in iter_rasters(path, kind, page_numbers, cfg.ocr.dpi, cfg.limits.max_pixels, cfg.limits.max_pages):
            gray = to_gray(r.image)
            r.image = None  # type: ignore[assignment]  # the colour page is no longer needed
            reader = ScanReader(gray, r.dpi, rec, tessdata, r.scan_dpi, r.bilevel)
            pages.append(Page(r.number, gray.shape[1] / r.dpi * 25.4, gray.shape[0] / r.dpi * 25.4,
                              source="scan", image=Image.fromarray(gray), reader=reader))
        return pages
