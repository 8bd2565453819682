"""Scanned inputs to page images: every mode a scanner or a phone produces, multi-page TIFF,
image-only PDF, and limits checked before decoding (bombs, page counts)."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kakari.errors import CorruptDocument, TooLarge
from ocr.raster import rasterise

BIG = 120_000_000


def page(mode: str, size: tuple[int, int] = (420, 594)) -> Image.Image:
    """A small A-series page with a black bar, in the given mode."""
    base = Image.new("L", size, 255)
    arr = np.asarray(base).copy()
    arr[100:140, 50:350] = 0
    im = Image.fromarray(arr)
    if mode == "I;16":
        return Image.fromarray(arr.astype(np.uint16) * 257)  # 16-bit grey, as some scanners save
    return im.convert(mode)


@pytest.mark.parametrize("mode, fmt", [("1", "PNG"), ("L", "PNG"), ("P", "PNG"), ("RGB", "JPEG"), ("RGBA", "PNG"),
                                       ("LA", "PNG"), ("CMYK", "JPEG"), ("CMYK", "TIFF"), ("I;16", "PNG"),
                                       ("I;16", "TIFF")])
def test_every_mode_becomes_grey_or_rgb_with_ink_kept(tmp_path: Path, mode: str, fmt: str) -> None:
    path = tmp_path / f"scan.{fmt.lower()}"
    page(mode).save(path, fmt, dpi=(50, 50))
    kind = {"PNG": "png", "JPEG": "jpeg", "TIFF": "tiff"}[fmt]
    [r] = rasterise(path, kind, None, 300, BIG, 10)
    assert r.image.mode in ("L", "RGB"), mode
    grey = np.asarray(r.image.convert("L"))
    assert grey[120, 200] < 80 and grey[300, 200] > 200, mode  # the bar stays ink, the paper stays paper
    assert r.dpi == pytest.approx(50, abs=1)


def test_alpha_is_flattened_onto_white(tmp_path: Path) -> None:
    im = Image.new("RGBA", (200, 200), (0, 0, 0, 0))  # fully transparent black = paper for a person
    im.save(tmp_path / "a.png")
    [r] = rasterise(tmp_path / "a.png", "png", None, 300, BIG, 10)
    assert np.asarray(r.image.convert("L")).min() > 200


def test_multipage_tiff_and_page_selection(tmp_path: Path) -> None:
    frames = [page("L") for _ in range(3)]
    frames[0].save(tmp_path / "m.tif", save_all=True, append_images=frames[1:], dpi=(200, 200))
    assert [r.number for r in rasterise(tmp_path / "m.tif", "tiff", None, 300, BIG, 10)] == [1, 2, 3]
    assert [r.number for r in rasterise(tmp_path / "m.tif", "tiff", [2], 300, BIG, 10)] == [2]
    with pytest.raises(TooLarge, match="ページ"):
        rasterise(tmp_path / "m.tif", "tiff", None, 300, BIG, 2)


def test_image_pdf_is_rendered_at_the_asked_dpi(tmp_path: Path) -> None:
    page("L", (827, 1169)).save(tmp_path / "s.pdf", "PDF", resolution=100)  # A4 at 100 dpi
    [r] = rasterise(tmp_path / "s.pdf", "pdf", None, 200, BIG, 10)
    assert r.dpi == 200 and r.image.size == pytest.approx((1654, 2338), abs=2)
    with pytest.raises(TooLarge, match="画素"):
        rasterise(tmp_path / "s.pdf", "pdf", None, 600, 10_000_000, 10)  # 600 dpi A4 is 35 M pixels


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size and holds a tiny (compressed) body: a decompression bomb."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height", [(30_000, 30_000), (200_000, 200_000)])
def test_decompression_bombs_are_refused_before_decoding(tmp_path: Path, width: int, height: int) -> None:
    (tmp_path / "bomb.png").write_bytes(_png_header_only(width, height))
    with pytest.raises(TooLarge, match="画素"):
        rasterise(tmp_path / "bomb.png", "png", None, 300, BIG, 10)


def test_truncated_image_is_a_clear_error(tmp_path: Path) -> None:
    buf = io.BytesIO()
    page("RGB").save(buf, "JPEG")
    (tmp_path / "t.jpg").write_bytes(buf.getvalue()[:200])
    with pytest.raises(CorruptDocument, match="壊れて"):
        rasterise(tmp_path / "t.jpg", "jpeg", None, 300, BIG, 10)


@pytest.mark.parametrize("dpi", [(200, 100), (204, 98)])
def test_a_fax_with_tall_dots_keeps_the_shape_of_its_page(tmp_path: Path, dpi: tuple[int, int]) -> None:
    """A fax's "standard" resolution has dots twice as tall as wide: the page is stretched back to A4
    portrait at the finer resolution, ink where it was."""
    w, h = round(210 / 25.4 * dpi[0]), round(297 / 25.4 * dpi[1])
    arr = np.full((h, w), 255, np.uint8)
    y0 = round(100 / 25.4 * dpi[1])  # a bar 100 mm from the top, 2 mm tall
    arr[y0 : y0 + round(2 / 25.4 * dpi[1]), 100:600] = 0
    Image.fromarray(arr).convert("1").save(tmp_path / "fax.tif", "TIFF", compression="group3", dpi=dpi)
    [r] = rasterise(tmp_path / "fax.tif", "tiff", None, 300, BIG, 10)
    assert r.dpi == pytest.approx(max(dpi))
    assert r.width_mm == pytest.approx(210, abs=1) and r.height_mm == pytest.approx(297, abs=1)
    grey = np.asarray(r.image)
    row = round(101 / 25.4 * r.dpi)
    assert grey[row, 300] < 80 and grey[round(110 / 25.4 * r.dpi), 300] > 200


def _a4(dpi_x: int, dpi_y: int) -> np.ndarray:
    """An A4 page at dpi_x × dpi_y with a black bar and a grey one (toner, a light pencil)."""
    arr = np.full((round(297 / 25.4 * dpi_y), round(210 / 25.4 * dpi_x)), 255, np.uint8)
    arr[100:140, 50:350] = 0
    arr[200:240, 50:350] = 128
    return arr


@pytest.mark.parametrize("how", ["scanner-200dpi", "grey-300dpi", "fax", "bw-300dpi"])
def test_a_scan_inside_a_pdf_keeps_the_resolution_and_bits_it_was_scanned_with(tmp_path: Path, how: str) -> None:
    """A PDF page is rendered at the asked dpi, but the policy judges the scan it holds: a 200 dpi
    scanner page, a fax (200×100 dpi, black and white stored as grey with two levels), a scanner's
    白黒 mode (stored 1-bit)."""
    from samples.scanlike import ScanParams, save

    fax = how == "fax"
    dpi_x, dpi_y = (200, 100) if fax else ((300, 300) if "300" in how else (200, 200))
    arr = _a4(dpi_x, dpi_y)
    path = tmp_path / "scan.pdf"
    if how == "bw-300dpi":
        Image.fromarray(arr).convert("1").save(path, "PDF", resolution=dpi_x)  # Pillow stores mode "1" 1-bit
    else:  # as samples.scanlike's MFP and fax server write them (reportlab: JPEG, or lossless grey)
        save(np.where(arr < 160, 0, 255).astype(np.uint8) if fax else arr, path,
             ScanParams(dpi=dpi_x, rotation=0, dx_mm=0, dy_mm=0, scale=1, turns=0, colour=False, seal=False,
                        faint=1, light=1, blur=0, noise=0, fmt="pdf", quality=80, dpi_tag=True,
                        dpi_y=dpi_y if fax else 0, bits=1 if fax else 8, lossless=how == "grey-300dpi"))
    [r] = rasterise(path, "pdf", None, 300, BIG, 10)
    assert r.dpi == 300 and r.image.size == pytest.approx((2480, 3508), abs=3)  # rendered as asked
    assert r.scan_dpi == pytest.approx(300 if "300" in how else 200, abs=0.5)
    assert r.bilevel == (how in ("fax", "bw-300dpi"))


def test_a_pdf_drawn_as_text_is_as_fine_as_it_is_rendered(tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(str(tmp_path / "typed.pdf"), pagesize=(595, 842))
    c.drawString(72, 720, "Application 2025")
    c.rect(60, 700, 300, 40)
    c.showPage()
    c.save()
    [r] = rasterise(tmp_path / "typed.pdf", "pdf", None, 300, BIG, 10)
    assert (r.dpi, r.scan_dpi, r.bilevel) == (300, 300, False)


@pytest.mark.parametrize("mode, bilevel", [("1", True), ("L", False)])
def test_an_image_file_scanned_in_black_and_white_is_told_from_a_grey_one(tmp_path: Path, mode: str,
                                                                       bilevel: bool) -> None:
    arr = _a4(200, 200)
    Image.fromarray(arr).convert(mode).save(tmp_path / "p.tif", "TIFF", dpi=(200, 200))
    [r] = rasterise(tmp_path / "p.tif", "tiff", None, 300, BIG, 10)
    assert (r.scan_dpi, r.bilevel) == (200, bilevel)
    # black-and-white dots saved as an 8-bit grey file are still black and white
    Image.fromarray(np.where(arr < 160, 0, 255).astype(np.uint8)).save(tmp_path / "g.png", dpi=(200, 200))
    [g] = rasterise(tmp_path / "g.png", "png", None, 300, BIG, 10)
    assert g.bilevel
