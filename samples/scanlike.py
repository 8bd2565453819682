"""Scan-like versions of the generated samples: what the office multifunction printer makes of paper.

    python -m samples.scanlike --samples DIR --out DIR [--seed 42] [--dpi 200,300] [--limit N]

For every ``<form>/<form>_NNNN.pdf`` (+ ``.json``) written by ``samples.generate`` this writes
``OUT/<dpi>dpi/<form>/<form>_NNNN.<pdf|tif|png|jpg>`` and the same ground truth JSON with a
``scan`` entry describing the damage done. Deterministic: the same seed gives the same pixels.

Damage, drawn per page from the seed: rendered at 200 or 300 dpi; rotation up to ±3°, offsets up to
5 mm, scale ±2 %; a red seal (印) stamped over the end of a name (on colour scans, and on some grey
ones, where no colour trick can remove it); faint toner; uneven lighting; blur; noise and dust;
JPEG artefacts; about one page in ten upside down and a few fed sideways. Files are an image-only
PDF (JPEG inside), a TIFF, a PNG or a JPEG, in colour or grey, with or without a resolution tag.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

MM_PER_INCH = 25.4
SEAL_FONT = "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf"
SEAL_RGB = (208, 36, 48)
# the name each form's applicant signs; the seal goes over its end
SEAL_FIELD = {"child_medical": "guardian_name", "restaurant_permit": "applicant_name"}


@dataclass
class ScanParams:
    dpi: int
    rotation: float  # degrees, counter-clockwise positive
    dx_mm: float
    dy_mm: float
    scale: float
    turns: int  # clockwise quarter turns of the finished page (2 = upside down)
    colour: bool
    seal: bool
    faint: float  # 1.0 = normal toner, lower = fainter
    light: float  # darkest corner of uneven lighting (1.0 = even)
    blur: float  # gaussian sigma in pixels
    noise: float  # gaussian sigma in grey levels
    fmt: str  # pdf, tiff, png, jpeg
    quality: int  # JPEG quality (pdf and jpeg)
    dpi_tag: bool  # resolution written into the file


def draw_params(rng: random.Random, dpi: int) -> ScanParams:
    """One page's damage: tilt, offset, scale, noise, blur and compression within what counter
    scanners and copiers produce; proportions are those of a busy counter."""
    turns = 2 if rng.random() < 0.1 else (rng.choice([1, 3]) if rng.random() < 0.03 else 0)
    fmt = rng.choices(["pdf", "tiff", "png", "jpeg"], [40, 20, 20, 20])[0]
    colour = fmt != "tiff" and rng.random() < 0.7
    seal = rng.random() < (0.3 if colour else 0.08)
    return ScanParams(
        dpi=dpi,
        rotation=round(rng.uniform(-3.0, 3.0), 3),
        dx_mm=round(rng.uniform(-5.0, 5.0), 2),
        dy_mm=round(rng.uniform(-5.0, 5.0), 2),
        scale=round(rng.uniform(0.98, 1.02), 4),
        turns=turns,
        colour=colour,
        seal=seal,
        faint=round(rng.uniform(0.45, 0.7), 2) if rng.random() < 0.2 else 1.0,
        light=round(rng.uniform(0.7, 0.85), 2) if rng.random() < 0.3 else 1.0,
        blur=round(rng.uniform(0.3, 1.0), 2) if rng.random() < 0.6 else 0.0,
        noise=round(rng.uniform(2.0, 9.0), 1),
        fmt=fmt,
        quality=rng.randint(55, 90),
        dpi_tag=fmt == "pdf" or rng.random() < 0.9,
    )


# =============================================================================================
# Damage
# =============================================================================================
def render_page(pdf: Path, dpi: int, colour: bool) -> np.ndarray:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        page = doc[0]
        image = page.render(scale=dpi / 72.0, grayscale=not colour).to_pil()
        page.close()
    finally:
        doc.close()
    return np.asarray(image.convert("RGB" if colour else "L")).copy()


def stamp_seal(img: np.ndarray, dpi: float, centre_mm: tuple[float, float], text: str,
               rng: random.Random) -> None:
    """A round red seal, ~11 mm, multiplied onto the page (ink under it shows through, as with
    real vermilion). Grey pages get the seal's grey, which no colour dropout can remove."""
    s = dpi / MM_PER_INCH
    d = int(rng.uniform(10.0, 12.0) * s)
    seal = Image.new("L", (d, d), 0)
    draw = ImageDraw.Draw(seal)
    ring = max(2, int(0.6 * s))
    draw.ellipse((ring // 2, ring // 2, d - ring // 2 - 1, d - ring // 2 - 1), outline=255, width=ring)
    font = ImageFont.truetype(SEAL_FONT, int(d * 0.55))
    draw.text((d / 2, d / 2), text, fill=255, font=font, anchor="mm")
    seal = seal.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR)
    alpha = np.asarray(seal, dtype=np.float32) / 255.0
    # uneven ink: a seal never prints solid
    texture = np.asarray(Image.effect_noise((d, d), 60).filter(_blur(1)), dtype=np.float32) / 255.0
    alpha *= np.clip(0.55 + 0.6 * texture, 0, 1)
    cx, cy = int(centre_mm[0] * s), int(centre_mm[1] * s)
    x0, y0 = cx - d // 2, cy - d // 2
    h, w = img.shape[:2]
    ax0, ay0, ax1, ay1 = max(0, -x0), max(0, -y0), min(d, w - x0), min(d, h - y0)
    if ax1 <= ax0 or ay1 <= ay0:
        return
    a = alpha[ay0:ay1, ax0:ax1]
    region = img[y0 + ay0 : y0 + ay1, x0 + ax0 : x0 + ax1].astype(np.float32)
    if img.ndim == 3:
        colour = np.array(SEAL_RGB, np.float32) / 255.0
        region *= 1 - a[..., None] * (1 - colour)
    else:
        grey = (0.299 * SEAL_RGB[0] + 0.587 * SEAL_RGB[1] + 0.114 * SEAL_RGB[2]) / 255.0
        region *= 1 - a * (1 - grey)
    img[y0 + ay0 : y0 + ay1, x0 + ax0 : x0 + ax1] = np.clip(region, 0, 255).astype(np.uint8)


def _blur(radius: float) -> Any:
    from PIL import ImageFilter

    return ImageFilter.GaussianBlur(radius)


def geometry(img: np.ndarray, p: ScanParams) -> np.ndarray:
    """Rotate about the page centre, scale, shift; the scanner's lid shows as near-white."""
    h, w = img.shape[:2]
    s = p.dpi / MM_PER_INCH
    m = cv2.getRotationMatrix2D((w / 2, h / 2), p.rotation, p.scale)
    m[0, 2] += p.dx_mm * s
    m[1, 2] += p.dy_mm * s
    border = (250, 250, 250) if img.ndim == 3 else 250
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=border)


def tone(img: np.ndarray, p: ScanParams, rng: random.Random) -> np.ndarray:
    """Faint toner, uneven light, blur, sensor noise and a little dust."""
    f = img.astype(np.float32)
    if p.faint < 1.0:
        f = 255.0 - (255.0 - f) * p.faint
    if p.light < 1.0:
        h, w = img.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle = rng.uniform(0, 2 * math.pi)
        ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
        ramp = (ramp - ramp.min()) / max(1e-6, float(ramp.max() - ramp.min()))
        gain = 1.0 - (1.0 - p.light) * ramp
        f *= gain[..., None] if f.ndim == 3 else gain
    if p.blur > 0:
        f = cv2.GaussianBlur(f, (0, 0), p.blur)
    nrng = np.random.default_rng(rng.randrange(2**32))
    f += nrng.normal(0.0, p.noise, size=f.shape[:2])[..., None] if f.ndim == 3 else \
        nrng.normal(0.0, p.noise, size=f.shape)
    dust = nrng.random(f.shape[:2]) < 0.00005
    if f.ndim == 3:
        f[dust] = 40.0
    else:
        f[dust] = 40.0
    return np.clip(f, 0, 255).astype(np.uint8)


def degrade(pdf: Path, truth: dict[str, Any], p: ScanParams, rng: random.Random) -> np.ndarray:
    img = render_page(pdf, p.dpi, p.colour)
    if p.seal:
        centre = seal_centre(truth["form"], pdf, rng)
        if centre is not None:
            surname = (truth["fields"].get(SEAL_FIELD[truth["form"]]) or "印").split("\u3000")[0]
            stamp_seal(img, p.dpi, centre, surname[:2] if len(surname) <= 2 else "印", rng)
    img = geometry(img, p)
    img = tone(img, p, rng)
    if p.turns:
        img = np.ascontiguousarray(np.rot90(img, -p.turns))
    return img


def seal_centre(form: str, pdf: Path, rng: random.Random) -> tuple[float, float] | None:
    """Just after the written name, overlapping its last character a little, as people stamp."""
    from samples.layout import layout

    slot = layout(form).slots.get(SEAL_FIELD[form])
    if slot is None:
        return None
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        mm = 25.4 / 72
        inside = [c for c in page.chars if slot.x <= c["x0"] * mm <= slot.x + slot.w
                  and slot.y <= c["top"] * mm <= slot.y + slot.h]
    end = max((c["x1"] * mm for c in inside), default=slot.x + 20.0)
    return end + rng.uniform(1.0, 3.5), slot.y + slot.h / 2 + rng.uniform(-1.0, 1.0)


# =============================================================================================
# Files
# =============================================================================================
EXT = {"pdf": ".pdf", "tiff": ".tif", "png": ".png", "jpeg": ".jpg"}


def save(img: np.ndarray, path: Path, p: ScanParams) -> None:
    im = Image.fromarray(img, "RGB" if img.ndim == 3 else "L")
    dpi = (p.dpi, p.dpi) if p.dpi_tag else None
    if p.fmt == "pdf":
        _save_pdf(im, path, p)
    elif p.fmt == "tiff":
        kw: dict[str, Any] = {"compression": "tiff_lzw"}
        if dpi:
            kw["dpi"] = dpi
        im.save(path, "TIFF", **kw)
    elif p.fmt == "png":
        im.save(path, "PNG", **({"dpi": dpi} if dpi else {}))
    else:
        im.save(path, "JPEG", quality=p.quality, **({"dpi": dpi} if dpi else {}))


def _save_pdf(im: Image.Image, path: Path, p: ScanParams) -> None:
    """An image-only PDF page the size of the sheet, the scan embedded as JPEG (as MFPs do)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=p.quality)
    buf.seek(0)
    w_pt, h_pt = im.width / p.dpi * 72, im.height / p.dpi * 72
    c = Canvas(str(path), pagesize=(w_pt, h_pt), invariant=1)
    c.setCreator("kakari samples.scanlike")
    c.drawImage(ImageReader(buf), 0, 0, w_pt, h_pt)
    c.showPage()
    c.save()


def scan_one(pdf: Path, out_dir: Path, seed: int, dpi: int) -> Path:
    """Write the scan-like version of one sample (and its ground truth); returns the image path."""
    truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    rng = random.Random(f"{seed}/{truth['form']}/{pdf.stem}/{dpi}/scan")
    p = draw_params(rng, dpi)
    img = degrade(pdf, truth, p, rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / (pdf.stem + EXT[p.fmt])
    save(img, path, p)
    truth["scan"] = asdict(p)
    truth["scan"]["source"] = pdf.name
    path.with_suffix(".json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def make_scans(samples: Path, out: Path, seed: int = 42, dpis: tuple[int, ...] = (200, 300),
               forms: tuple[str, ...] | list[str] | None = None, limit: int | None = None) -> list[Path]:
    """Scan-like copies of the samples under SAMPLES/<form>/ into OUT/<dpi>dpi/<form>/."""
    written: list[Path] = []
    folders = sorted(d for d in Path(samples).iterdir() if d.is_dir() and (forms is None or d.name in forms))
    for folder in folders:
        pdfs = sorted(p for p in folder.glob(f"{folder.name}_*.pdf") if p.with_suffix(".json").exists())
        for pdf in pdfs[:limit]:
            for dpi in dpis:
                written.append(scan_one(pdf, Path(out) / f"{dpi}dpi" / folder.name, seed, dpi))
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.scanlike", description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, required=True, help="output folder of samples.generate")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dpi", default="200,300")
    ap.add_argument("--limit", type=int, default=None, help="samples per form")
    args = ap.parse_args(argv)
    dpis = tuple(int(d) for d in args.dpi.split(",") if d.strip())
    paths = make_scans(args.samples, args.out, args.seed, dpis, limit=args.limit)
    print(f"{len(paths)} scan-like pages written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
