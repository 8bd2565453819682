"""Scan-like versions of the generated samples: what an office scanner or a fax machine makes of paper.

    python -m samples.scanlike --samples DIR --out DIR [--seed 42] [--dpi 200,300] [--limit N]
                               [--profile clean|scanner|fax]

For every ``<form>/<form>_NNNN.pdf`` (+ ``.json``) written by ``samples.generate`` this writes
``OUT/<set>/<form>/<form>_NNNN.<pdf|tif|png|jpg>`` and the same ground truth JSON with a ``scan``
entry describing the damage done; ``<set>`` is ``<dpi>dpi`` for the scanner profile,
``clean-<dpi>dpi`` and ``fax`` for the others. Deterministic: the same seed gives the same pixels.

Profiles:
- ``clean``: the page rendered at the given dpi, grey, straight, stored losslessly in an image-only PDF.
- ``scanner`` (a busy counter's multifunction printer), drawn per page from the seed: rotation up to
  ±3°, offsets up to 5 mm, scale ±2 %; a red seal (印) stamped over the end of a name (on colour scans,
  and on some grey ones, where no colour trick can remove it); faint toner; uneven lighting; blur;
  noise and dust; JPEG artefacts; about one page in ten upside down and a few fed sideways. Files are
  an image-only PDF (JPEG inside), a TIFF, a PNG or a JPEG, in colour or grey, with or without a
  resolution tag.
- ``fax``: as a fax machine sends it: 200×100 dpi ("standard" resolution), 1-bit after a fixed
  threshold, skewed by the feeder, the sender's header line (TTI) on top, speckles, a dropped or
  repeated scan line now and then, sometimes a streak from dirty glass; a seal prints black. Files are
  Class F TIFFs (CCITT G3, some G4) tagged 200×100 dpi, or image-only PDFs from a fax server.
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
SEAL_RGB = (208, 36, 48)
# the name each form's applicant signs; the seal goes over its end
SEAL_FIELD = {"child_medical": "guardian_name", "restaurant_permit": "applicant_name",
              "juminhyo_request": "requester_name"}
PROFILES = ("clean", "scanner", "fax")
FAX_DPI = (200, 100)  # horizontal × vertical: a fax's "standard" resolution


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
    profile: str = "scanner"
    dpi_y: int = 0  # vertical resolution when it differs from `dpi` (fax); 0 = the same
    bits: int = 8  # 1 = black and white (fax)
    lossless: bool = False  # PDF: the page stored losslessly rather than as JPEG
    compression: str = ""  # TIFF: tiff_lzw, group3, group4
    threshold: int = 0  # fax: grey level below which a dot is black
    stretch: float = 1.0  # fax: vertical stretch of an uneven feed
    speckles: float = 0.0  # fax: share of dots flipped by line noise
    dropped_lines: int = 0  # fax: scan lines lost or repeated
    streak: bool = False  # fax: a vertical line from dirt on the glass
    header: str = ""  # fax: the sender's TTI line


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


def clean_params(dpi: int) -> ScanParams:
    """A perfect scan: straight, even, grey, lossless."""
    return ScanParams(dpi=dpi, rotation=0.0, dx_mm=0.0, dy_mm=0.0, scale=1.0, turns=0, colour=False,
                      seal=False, faint=1.0, light=1.0, blur=0.0, noise=0.0, fmt="pdf", quality=100,
                      dpi_tag=True, profile="clean", lossless=True)


def fax_params(rng: random.Random, sent: str) -> ScanParams:
    """One faxed page. `sent`: the date the sender's machine prints in its header line."""
    fmt = rng.choices(["tiff", "pdf"], [75, 25])[0]
    number = f"0{rng.randint(11, 99)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
    return ScanParams(
        dpi=FAX_DPI[0], dpi_y=FAX_DPI[1], bits=1, profile="fax",
        rotation=round(rng.uniform(-1.5, 1.5), 3),
        dx_mm=round(rng.uniform(-4.0, 4.0), 2),
        dy_mm=round(rng.uniform(-4.0, 4.0), 2),
        scale=round(rng.uniform(0.99, 1.01), 4),
        stretch=round(rng.uniform(0.985, 1.015), 4),
        turns=2 if rng.random() < 0.05 else 0,
        colour=False,
        seal=rng.random() < 0.3,
        faint=round(rng.uniform(0.6, 0.8), 2) if rng.random() < 0.15 else 1.0,
        light=1.0,
        blur=round(rng.uniform(0.3, 0.8), 2),
        noise=0.0,
        threshold=rng.randint(125, 165),
        speckles=round(rng.uniform(0.00005, 0.0004), 6),
        dropped_lines=rng.choice([0, 0, 0, 1, 2, 3]),
        streak=rng.random() < 0.1,
        header=f"{sent} {rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}  FAX {number}  P.001/001",
        fmt=fmt,
        compression=rng.choices(["group3", "group4"], [80, 20])[0] if fmt == "tiff" else "",
        quality=0,
        dpi_tag=True,
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
    font = ImageFont.truetype(str(_font("ipam.ttf")), int(d * 0.55))
    draw.text((d / 2, d / 2), text, fill=255, font=font, anchor="mm")
    seal = seal.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR)
    alpha = np.asarray(seal, dtype=np.float32) / 255.0
    # uneven ink: a seal never prints solid (noise from the seeded rng: PIL's effect_noise is not seeded)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(128.0, 60.0, (d, d))
    grain = Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8), "L")
    texture = np.asarray(grain.filter(_blur(1)), dtype=np.float32) / 255.0
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


def _font(name: str) -> Path:
    from kakari.fonts import find_font

    path = find_font(name, "ipag.ttf")
    if path is None:
        raise FileNotFoundError(f"font {name} not found: apt-get install fonts-ipafont (scripts/install-system.sh)")
    return path


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
    if p.profile == "clean":
        return img
    if p.seal:
        centre = seal_centre(truth["form"], pdf, rng)
        if centre is not None:
            surname = (truth["fields"].get(SEAL_FIELD[truth["form"]]) or "印").split("\u3000")[0]
            stamp_seal(img, p.dpi, centre, surname[:2] if len(surname) <= 2 else "印", rng)
    img = geometry(img, p)
    if p.profile == "fax":
        return fax(img, p, rng)
    img = tone(img, p, rng)
    if p.turns:
        img = np.ascontiguousarray(np.rot90(img, -p.turns))
    return img


def fax(img: np.ndarray, p: ScanParams, rng: random.Random) -> np.ndarray:
    """A skewed grey page (at p.dpi both ways) → what the receiving end gets: the header line,
    p.dpi × p.dpi_y, black and white, with line noise. Returns a bool-like uint8 image (0 or 255)."""
    f = img.astype(np.float32)
    if p.faint < 1.0:
        f = 255.0 - (255.0 - f) * p.faint
    if p.blur > 0:
        f = cv2.GaussianBlur(f, (0, 0), p.blur)
    page = Image.fromarray(np.clip(f, 0, 255).astype(np.uint8), "L")
    if p.header:  # printed by the sending machine into the image, straight, whatever the paper did
        s = p.dpi / MM_PER_INCH
        draw = ImageDraw.Draw(page)
        draw.rectangle((0, 0, page.width, int(5.5 * s)), fill=255)
        draw.text((int(8 * s), int(1.2 * s)), p.header, fill=0,
                  font=ImageFont.truetype(str(_font("ipag.ttf")), int(2.8 * s)))
    h, w = img.shape[:2]
    rows = max(1, round(h * p.dpi_y / p.dpi * p.stretch))
    small = cv2.resize(np.asarray(page), (w, rows), interpolation=cv2.INTER_AREA)
    bw = np.where(small < p.threshold, 0, 255).astype(np.uint8)
    nrng = np.random.default_rng(rng.randrange(2**32))
    flips = nrng.random(bw.shape) < p.speckles
    bw[flips] = 255 - bw[flips]
    for _ in range(p.dropped_lines):  # a line lost in transmission comes out white or repeated
        y = int(nrng.integers(1, bw.shape[0]))
        bw[y] = 255 if nrng.random() < 0.5 else bw[y - 1]
    if p.streak:
        x = int(nrng.integers(0, bw.shape[1] - 2))
        bw[:, x : x + int(nrng.integers(1, 3))] = 0
    # the page size stays A4: lines beyond it are cut, missing ones are white
    height = round(h * p.dpi_y / p.dpi)
    if bw.shape[0] >= height:
        bw = bw[:height]
    else:
        bw = np.vstack([bw, np.full((height - bw.shape[0], bw.shape[1]), 255, np.uint8)])
    if p.turns:
        bw = np.ascontiguousarray(np.rot90(bw, -p.turns))
    return bw


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
    if p.bits == 1:
        im = im.convert("1", dither=Image.Dither.NONE)
    dpi = (p.dpi, p.dpi_y or p.dpi) if p.dpi_tag else None
    if p.fmt == "pdf":
        _save_pdf(im, path, p)
    elif p.fmt == "tiff":
        kw: dict[str, Any] = {"compression": p.compression or "tiff_lzw"}
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

    if p.lossless or p.bits == 1:
        source: Any = ImageReader(im.convert("L"))
    else:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=p.quality)
        buf.seek(0)
        source = ImageReader(buf)
    w_pt, h_pt = im.width / p.dpi * 72, im.height / (p.dpi_y or p.dpi) * 72
    c = Canvas(str(path), pagesize=(w_pt, h_pt), invariant=1)
    c.setCreator("kakari samples.scanlike")
    c.drawImage(source, 0, 0, w_pt, h_pt)
    c.showPage()
    c.save()


def scan_one(pdf: Path, out_dir: Path, seed: int, dpi: int, profile: str = "scanner") -> Path:
    """Write the scan-like version of one sample (and its ground truth); returns the image path.
    The fax profile ignores `dpi` (a fax is 200×100 dpi)."""
    truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    if profile == "scanner":
        rng = random.Random(f"{seed}/{truth['form']}/{pdf.stem}/{dpi}/scan")
        p = draw_params(rng, dpi)
    elif profile == "clean":
        rng = random.Random(0)
        p = clean_params(dpi)
    elif profile == "fax":
        rng = random.Random(f"{seed}/{truth['form']}/{pdf.stem}/fax")
        sent = truth["fields"].get("applied_on") or "2025-04-01"
        p = fax_params(rng, str(sent).replace("-", "/"))
    else:
        raise ValueError(f"unknown scan profile {profile!r}; known: {', '.join(PROFILES)}")
    img = degrade(pdf, truth, p, rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / (pdf.stem + EXT[p.fmt])
    save(img, path, p)
    truth["scan"] = asdict(p)
    truth["scan"]["source"] = pdf.name
    path.with_suffix(".json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def set_name(profile: str, dpi: int) -> str:
    """The folder of one profile × resolution: 300dpi (scanner), clean-300dpi, fax."""
    return {"scanner": f"{dpi}dpi", "clean": f"clean-{dpi}dpi"}.get(profile, profile)


def make_scans(samples: Path, out: Path, seed: int = 42, dpis: tuple[int, ...] = (200, 300),
               forms: tuple[str, ...] | list[str] | None = None, limit: int | None = None,
               profile: str = "scanner") -> list[Path]:
    """Scan-like copies of the samples under SAMPLES/<form>/ into OUT/<set>/<form>/ (``set_name``)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown scan profile {profile!r}; known: {', '.join(PROFILES)}")
    written: list[Path] = []
    folders = sorted(d for d in Path(samples).iterdir() if d.is_dir() and (forms is None or d.name in forms))
    for folder in folders:
        pdfs = sorted(p for p in folder.glob(f"{folder.name}_*.pdf") if p.with_suffix(".json").exists())
        for pdf in pdfs[:limit]:
            for dpi in (FAX_DPI[0],) if profile == "fax" else dpis:
                written.append(scan_one(pdf, Path(out) / set_name(profile, dpi) / folder.name, seed, dpi, profile))
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.scanlike", description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, required=True, help="output folder of samples.generate")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dpi", default="200,300")
    ap.add_argument("--limit", type=int, default=None, help="samples per form")
    ap.add_argument("--profile", default="scanner", choices=PROFILES, help="kind of damage (see above)")
    args = ap.parse_args(argv)
    dpis = tuple(int(d) for d in args.dpi.split(",") if d.strip())
    paths = make_scans(args.samples, args.out, args.seed, dpis, limit=args.limit, profile=args.profile)
    print(f"{len(paths)} scan-like pages written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
