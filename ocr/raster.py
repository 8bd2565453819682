"""Scanned input → page images: PDF pages rendered with pypdfium2, TIFF/PNG/JPEG frames with Pillow.

Every page comes out as an 8-bit "L" (grey) or "RGB" image with its resolution. Colour is kept on
purpose: a red seal (印) is removed later by colour dropout, which a grey image can no longer do.
Pixel and page limits are checked *before* anything is decoded, so a hostile or broken file cannot
exhaust memory (Pillow's own decompression-bomb guard is replaced by ours, from cfg.limits).
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from kakari.errors import CorruptDocument, EncryptedDocument, TooLarge

MM_PER_INCH = 25.4
A4_LONG_MM = 297.0
MIN_DPI, MAX_DPI = 70.0, 1200.0  # outside this a file's resolution tag is junk, not a measurement


@dataclass
class Raster:
    """One page image, numbered from 1, with the resolution it was rendered or scanned at."""

    number: int
    image: Image.Image  # mode "L" or "RGB"
    dpi: float
    # the resolution the paper was scanned at, where it differs from `dpi` (a scan inside a PDF,
    # rendered at `dpi`); 0: `dpi` itself
    source_dpi: float = 0.0
    bilevel: bool = False  # scanned in black and white (a fax, a scanner's 白黒 mode): no grey left

    @property
    def scan_dpi(self) -> float:
        """What the page's detail is worth: the scan's own resolution, whatever it was rendered at."""
        return self.source_dpi or self.dpi

    @property
    def width_mm(self) -> float:
        return self.image.width / self.dpi * MM_PER_INCH

    @property
    def height_mm(self) -> float:
        return self.image.height / self.dpi * MM_PER_INCH


def rasterise(path: Path, kind: str, page_numbers: list[int] | None, dpi: int, max_pixels: int,
              max_pages: int) -> list[Raster]:
    """The requested pages (from 1; None = all) of a PDF/TIFF/PNG/JPEG as Rasters, in order."""
    return list(iter_rasters(path, kind, page_numbers, dpi, max_pixels, max_pages))


def iter_rasters(path: Path, kind: str, page_numbers: list[int] | None, dpi: int, max_pixels: int,
                 max_pages: int) -> Iterator[Raster]:
    """Like ``rasterise``, one page at a time (a 300 dpi A4 page is ~9 MB grey, 26 MB colour)."""
    if kind == "pdf":
        yield from _pdf_pages(Path(path), page_numbers, dpi, max_pixels, max_pages)
    else:
        yield from _image_pages(Path(path), page_numbers, max_pixels, max_pages)


def count_pages(path: Path, kind: str) -> int:
    """How many pages a PDF (or frames a TIFF) has, decoding nothing; CorruptDocument if unreadable."""
    if kind == "pdf":
        import pypdfium2 as pdfium

        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as e:
            raise CorruptDocument(f"PDF を開けません (壊れている可能性があります): {e}") from e
        try:
            return len(pdf)
        finally:
            pdf.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as im:
                return int(getattr(im, "n_frames", 1))
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
            raise CorruptDocument(f"画像を開けません (壊れている可能性があります): {e}") from e


# -- PDF ------------------------------------------------------------------------------------------
def _pdf_pages(path: Path, numbers: list[int] | None, dpi: int, max_pixels: int,
               max_pages: int) -> Iterator[Raster]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        text = str(e).lower()
        if "password" in text or "security" in text:
            raise EncryptedDocument("パスワードで保護された PDF です。保護を外してから入れてください") from e
        raise CorruptDocument(f"PDF を開けません (壊れている可能性があります): {e}") from e
    try:
        count = len(pdf)
        if count == 0:
            raise CorruptDocument("PDF にページがありません")
        pdf.init_forms()  # form fields are drawn with what was typed into them (may_draw_forms below)
        wanted = _check_numbers(numbers, count, max_pages)
        scale = dpi / 72.0
        for n in wanted:
            page = pdf[n - 1]
            try:
                w_pt, h_pt = page.get_size()
                pixels = (w_pt * scale) * (h_pt * scale)
                if pixels > max_pixels:
                    raise TooLarge(_too_many_pixels(n, pixels, max_pixels))
                source = scanned_image(page, max_pixels)
                bitmap = page.render(scale=scale, may_draw_forms=True)
                image = bitmap.to_pil()
                bitmap.close()
            except pdfium.PdfiumError as e:
                raise CorruptDocument(f"PDF の {n} ページ目を画像にできません: {e}") from e
            finally:
                page.close()
            yield Raster(n, normalise_mode(image), float(dpi), *source)
    finally:
        pdf.close()


def scanned_image(page: Any, max_pixels: int) -> tuple[float, bool]:
    """(resolution, black and white) of the scan a PDF page holds: its largest image when that
    covers at least half the page (MFPs and fax servers embed one), else (0, False): a page drawn
    as text and vectors is as fine as it is rendered. A fax's 200×100 dpi counts as its finer 200,
    as for image files (``square_pixels``); black and white is a 1-bit image or one that holds two
    grey levels only (a JPEG never does). An image whose description pdfium cannot read is taken as
    not a scan: the page is still rendered and read."""
    import pypdfium2 as pdfium

    try:
        return _scanned_image(page, max_pixels)
    except pdfium.PdfiumError:
        return 0.0, False


def _scanned_image(page: Any, max_pixels: int) -> tuple[float, bool]:
    import pypdfium2.raw as pdfium_c

    w_pt, h_pt = page.get_size()
    best, area = None, 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
        left, bottom, right, top = obj.get_bounds()
        a = max(0.0, right - left) * max(0.0, top - bottom)
        if a > area:
            best, area = obj, a
    if best is None or area < 0.5 * w_pt * h_pt:
        return 0.0, False
    meta = best.get_metadata()
    dpi = round(max(float(meta.horizontal_dpi), float(meta.vertical_dpi)), 1)  # pdfium's float matrix
    if not MIN_DPI <= dpi <= MAX_DPI:
        return 0.0, False
    if meta.bits_per_pixel == 1:
        return dpi, True
    px_w, px_h = best.get_px_size()
    if meta.bits_per_pixel != 8 or px_w * px_h > max_pixels or "DCTDecode" in best.get_filters():
        return dpi, False
    return dpi, two_levels(best.get_bitmap(render=False).to_numpy())


def two_levels(grey: Any) -> bool:
    """Does an 8-bit image hold two grey levels at most (black-and-white dots stored as grey)?"""
    import numpy as np

    return bool(np.count_nonzero(np.bincount(np.asarray(grey, np.uint8).ravel(), minlength=256)) <= 2)


# -- TIFF / PNG / JPEG ----------------------------------------------------------------------------
def _image_pages(path: Path, numbers: list[int] | None, max_pixels: int,
                 max_pages: int) -> Iterator[Raster]:
    with warnings.catch_warnings():
        # our limit replaces Pillow's; its DecompressionBombWarning would only be noise
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(path)  # lazy: reads the header, decodes nothing
        except Image.DecompressionBombError as e:
            raise TooLarge(f"画像の画素数が多すぎます (上限 {max_pixels:,} 画素)") from e
        except (OSError, SyntaxError, ValueError) as e:
            raise CorruptDocument(f"画像を開けません (壊れている可能性があります): {e}") from e
        with im:
            count = getattr(im, "n_frames", 1)
            wanted = _check_numbers(numbers, count, max_pages)
            for n in wanted:
                try:
                    im.seek(n - 1)
                    pixels = im.width * im.height
                    if pixels > max_pixels:
                        raise TooLarge(_too_many_pixels(n, pixels, max_pixels))
                    frame = im.copy()  # decodes this frame only
                    bilevel = frame.mode == "1" or (frame.mode == "L" and two_levels(frame))
                    frame, dpi = square_pixels(frame, image_resolution(im))
                    if frame.width * frame.height > max_pixels:  # a fax stretched to square dots
                        raise TooLarge(_too_many_pixels(n, frame.width * frame.height, max_pixels))
                    frame = ImageOps.exif_transpose(frame) if n == 1 and im.format == "JPEG" else frame
                except Image.DecompressionBombError as e:
                    raise TooLarge(f"画像の画素数が多すぎます (上限 {max_pixels:,} 画素)") from e
                except (OSError, SyntaxError, ValueError, EOFError) as e:
                    raise CorruptDocument(f"画像の {n} ページ目を読めません (壊れている可能性があります): {e}") from e
                yield Raster(n, normalise_mode(frame), dpi or inferred_dpi(frame.size), bilevel=bilevel)


def image_resolution(im: Image.Image) -> tuple[float, float] | None:
    """(horizontal, vertical) resolution tag, or None when missing or implausible. A fax is
    200×100 dpi (or 204×98): its dots are twice as tall as they are wide."""
    raw = im.info.get("dpi")
    if not raw:
        return None
    try:
        x, y = (float(v) for v in raw[:2])
    except (TypeError, ValueError):
        return None
    if not (min(x, y) >= MIN_DPI / 2 and max(x, y) <= MAX_DPI and max(x, y) >= MIN_DPI):
        return None
    return x, y


def square_pixels(frame: Image.Image, res: tuple[float, float] | None) -> tuple[Image.Image, float | None]:
    """A frame whose dots are not square (fax) stretched to the finer resolution both ways, so that
    the page keeps its shape; returns (frame, dpi), dpi None when the file has no usable tag."""
    if res is None:
        return frame, None
    x, y = res
    if abs(x - y) <= 0.02 * max(x, y):
        return frame, x
    fine = max(x, y)
    size = (round(frame.width * fine / x), round(frame.height * fine / y))
    if frame.mode == "1":  # black-and-white dots: stretch on grey so that edges stay smooth
        frame = frame.convert("L")
    return frame.resize(size, Image.Resampling.BILINEAR), fine


def inferred_dpi(size: tuple[int, int]) -> float:
    """Resolution of an untagged scan, assuming an A4 sheet (the size of nearly every 申請書)."""
    return max(size) / (A4_LONG_MM / MM_PER_INCH)


def normalise_mode(im: Image.Image) -> Image.Image:
    """Any Pillow mode → 8-bit "L" or "RGB"; transparency becomes white paper, 16-bit is scaled down."""
    mode = im.mode
    if mode in ("L", "RGB"):
        return im
    if mode == "1":
        return im.convert("L")
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        import numpy as np

        a = np.asarray(im, dtype=np.float64)
        top = float(a.max()) if a.size else 0.0
        # 16-bit scans use the whole range; 12-bit sensors and 32-bit "I" often do not
        full = 65535.0 if top > 4095 else (4095.0 if top > 255 else 255.0)
        return Image.fromarray(np.clip(a * (255.0 / full), 0, 255).astype(np.uint8), "L")
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat = Image.alpha_composite(paper, rgba).convert("RGB")
        return flat.convert("L") if mode == "LA" else flat
    if mode == "P":
        rgb = im.convert("RGB")
        return rgb
    if mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX", "RGBa"):
        return im.convert("RGB")
    return im.convert("L")


def _check_numbers(numbers: list[int] | None, count: int, max_pages: int) -> list[int]:
    if count > max_pages and numbers is None:
        raise TooLarge(f"ページ数が多すぎます ({count} ページ、上限 {max_pages} ページ)")
    wanted = list(range(1, count + 1)) if numbers is None else list(numbers)
    if len(wanted) > max_pages:
        raise TooLarge(f"ページ数が多すぎます ({len(wanted)} ページ、上限 {max_pages} ページ)")
    bad = [n for n in wanted if not 1 <= n <= count]
    if bad:
        raise ValueError(f"page numbers {bad} outside 1..{count}")
    return wanted


def _too_many_pixels(n: int, pixels: float, limit: int) -> str:
    return f"{n} ページ目の画素数が多すぎます ({pixels:,.0f} 画素、上限 {limit:,} 画素)。解像度を下げてスキャンしてください"
