"""Masked pages out: each page becomes an image with the boxes burnt into its pixels, written into a
brand-new PDF (pikepdf) that holds nothing else — no text, fonts, document info, XMP metadata,
annotations, form fields, attachments or JavaScript can come along, because nothing of the
original file is copied: only the pixels, after the boxes are painted."""
from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from kakari.model import Box

MM_PER_INCH = 25.4
PT_PER_MM = 72 / 25.4
JPEG_QUALITY = 85


@dataclass
class PageImage:
    """One output page: its picture (upright) and its size on paper."""

    image: Image.Image  # "L" or "RGB"
    width_mm: float
    height_mm: float

    @property
    def dpi(self) -> float:
        return self.image.width / self.width_mm * MM_PER_INCH


def burn(page: PageImage, boxes: Sequence[Box]) -> PageImage:
    """The page with every box painted solid black (boxes in mm of this page)."""
    im = page.image.copy()
    draw = ImageDraw.Draw(im)
    s = im.width / page.width_mm
    black = 0 if im.mode == "L" else (0, 0, 0)
    for b in boxes:
        x0, y0 = max(0, int(b.x * s)), max(0, int(b.y * s))
        x1, y1 = min(im.width - 1, int(b.x1 * s + 0.999)), min(im.height - 1, int(b.y1 * s + 0.999))
        if x1 >= x0 and y1 >= y0:
            draw.rectangle((x0, y0, x1, y1), fill=black)
    return PageImage(im, page.width_mm, page.height_mm)


def plain(image: Image.Image) -> Image.Image:
    """RGB pages that are really grey are stored grey (a third of the size)."""
    if image.mode == "RGB":
        from PIL import ImageChops

        r, g, b = image.split()
        if not ImageChops.difference(r, g).getbbox() and not ImageChops.difference(g, b).getbbox():
            return r
        return image
    return image if image.mode == "L" else image.convert("RGB")


def write_pdf(pages: Iterable[PageImage], out: Path) -> Path:
    """A PDF of these page images only (taken one at a time: only one page is ever decoded), written
    beside `out` and renamed over it (never half a file)."""
    import pikepdf
    from pikepdf import Dictionary, Name

    pdf = pikepdf.new()
    for page in pages:
        im = plain(page.image)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=JPEG_QUALITY)
        xobj = pikepdf.Stream(pdf, b"")
        xobj.write(buf.getvalue(), filter=Name.DCTDecode)
        xobj.Type, xobj.Subtype = Name.XObject, Name.Image
        xobj.Width, xobj.Height, xobj.BitsPerComponent = im.width, im.height, 8
        xobj.ColorSpace = Name.DeviceGray if im.mode == "L" else Name.DeviceRGB
        w, h = page.width_mm * PT_PER_MM, page.height_mm * PT_PER_MM
        content = pdf.make_stream(f"q {w:.4f} 0 0 {h:.4f} 0 0 cm /Im0 Do Q".encode("ascii"))
        pdf.pages.append(pikepdf.Page(Dictionary(
            Type=Name.Page, MediaBox=[0, 0, round(w, 4), round(h, 4)],
            Resources=Dictionary(XObject=Dictionary(Im0=xobj)), Contents=content)))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    pdf.save(tmp)
    pdf.close()
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    return out
