"""The blank a scanned-only form's bot registers its scans to: the straightened scan as an image
PDF page, with the labels OCR read placed on it as invisible text. Registration works on the
image; the invisible text tells classification where the form prints its keywords and which
printed characters are not an applicant's (the same as a blank made from a word processor)."""
from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from bots.blankform.sheet import Run

if TYPE_CHECKING:
    import numpy as np

MM_PER_PT = 25.4 / 72
TEXT_FONT = "HeiseiKakuGo-W5"  # a CID font every PDF reader knows: nothing to embed, never drawn


def write_reference(gray: np.ndarray, dpi: float, runs: list[Run], out: Path) -> Path:
    """An A4-or-whatever-size PDF of the page image, with each run as invisible text at its place."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas

    if TEXT_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(TEXT_FONT))
    h_px, w_px = gray.shape[:2]
    w_pt, h_pt = w_px / dpi * 72, h_px / dpi * 72
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, "JPEG", quality=92)  # embedded as it is (DCT), as scanners do
    buf.seek(0)
    c = Canvas(str(out), pagesize=(w_pt, h_pt), invariant=1, pageCompression=1)
    c.setCreator("kakari bots new")
    c.drawImage(ImageReader(buf), 0, 0, w_pt, h_pt)
    for r in runs:
        if not r.text:
            continue
        size = max(2.0, r.box.h / MM_PER_PT)
        step = r.box.w / len(r.text)
        t = c.beginText()
        t.setTextRenderMode(3)  # invisible: the image shows the print, the text only says what it is
        t.setFont(TEXT_FONT, size)
        t.setHorizScale(100.0 * min(1.0, step / (size * MM_PER_PT)))  # each character its share of the run
        for i, ch in enumerate(r.text):
            x = (r.box.x0 + i * step) / MM_PER_PT
            y = h_pt - r.box.y1 / MM_PER_PT + 0.12 * size
            t.setTextOrigin(x, y)
            t.textOut(ch)
        c.drawText(t)
    c.showPage()
    c.save()
    return out
