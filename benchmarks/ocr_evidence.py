"""Evidence records: for every scanned text field, what each engine read, how sure it was, whether
the validator accepted it, and the truth. The calibration (``calibrate_ocr.py``) fits the trust
policy's thresholds on them; the benchmark (``ocr_scan.py``) replays the policy on held-out fonts.

Records come from whole documents (``from_document``: a scanned form read by kakari, with its
ground-truth JSON) or from zone crops drawn here in any font (``crop_corpus``: each field value of
the synthetic samples drawn in a font at a resolution with a degradation, as it reaches the reader
after registration), which needs no page generator and covers many fonts quickly.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMS = ("child_medical", "restaurant_permit")

# fonts of this machine for the crop corpus: (name, file, kind, held out). Held-out fonts are never
# used to fit anything (they stand for the fonts of a town nobody here has seen).
CROP_FONTS: tuple[tuple[str, str, str, bool], ...] = (
    ("ipa-gothic", "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", "printed", False),
    ("ipa-mincho", "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf", "printed", False),
    ("ipaex-gothic", "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf", "printed", False),
    ("noto-sans", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "printed", False),
    ("noto-serif", "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "printed", False),
    ("vl-gothic", "/usr/share/fonts/truetype/vlgothic/VL-Gothic-Regular.ttf", "printed", False),
    ("takao-gothic", "/usr/share/fonts/truetype/takao-gothic/TakaoGothic.ttf", "printed", False),
    ("takao-mincho", "/usr/share/fonts/truetype/takao-mincho/TakaoMincho.ttf", "printed", False),
    ("sawarabi-gothic", "/usr/share/fonts/truetype/sawarabi-gothic/sawarabi-gothic-medium.ttf", "printed", False),
    ("sawarabi-mincho", "/usr/share/fonts/truetype/sawarabi-mincho/sawarabi-mincho-medium.ttf", "printed", True),
    ("mplus-1", "/usr/share/fonts/opentype/mplus/Mplus1-Regular.otf", "printed", True),
    ("klee-one", "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf", "handwriting", False),
    ("kiloji", "/usr/share/fonts/truetype/kiloji/kiloji.ttf", "handwriting", False),
    ("seto", "/usr/share/fonts/truetype/seto/setofont.ttf", "handwriting", True),
)
DEGRADATIONS = ("clean", "blur", "noise", "jpeg")


@dataclass
class Record:
    """One scanned text field's evidence."""

    source: str  # document path or crop id
    font: str
    font_kind: str  # printed | handwriting
    held_out: bool
    dpi: int
    degradation: str
    form: str
    field: str
    field_type: str
    kind: str  # the trust policy's kind
    handwritten: bool
    truth: Any
    neural: str
    neural_conf: float
    second: str
    second_conf: float
    variants: list[tuple[str, str, float]] = field(default_factory=list)  # (read, best, ratio)
    empty: bool = False

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str)


def load_records(path: Path) -> list[Record]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            d["variants"] = [tuple(v) for v in d.get("variants", [])]
            out.append(Record(**d))
    return out


def evidence_fields(ev: Any) -> dict[str, Any]:
    """The parts of a ZoneEvidence a record keeps (Tesseract and the variant check always asked)."""
    second = ev.second()
    return {"neural": ev.text, "neural_conf": round(ev.neural_conf, 5), "second": second.text,
            "second_conf": round(second.raw, 4), "empty": ev.empty,
            "variants": [(c.read, c.best, round(min(c.ratio, 1e6), 3)) for c in ev.variants()]}


# =============================================================================================
# Zone crops drawn in a font
# =============================================================================================
def draw_value(text: str, font_path: str, dpi: int, rng: random.Random, degradation: str,
               size_pt: float = 11.0) -> np.ndarray:
    """`text` printed at `size_pt` in a font, scanned at `dpi` with a degradation, resampled to
    300 dpi as registration does: a grey zone crop."""
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    px = max(8, round(size_pt / 72 * dpi))
    font = ImageFont.truetype(font_path, px)
    w = int(font.getlength(text)) + 4 * px
    im = Image.new("L", (w, px * 3), 255)
    ImageDraw.Draw(im).text((2 * px, px), text, fill=0, font=font)
    a = np.asarray(im, dtype=np.float32)
    if degradation == "blur":
        a = cv2.GaussianBlur(a, (0, 0), rng.uniform(0.6, 1.2))
    if degradation in ("noise", "jpeg"):
        a = a + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(4, 10), a.shape)
    a = np.clip(a, 0, 255).astype(np.uint8)
    if degradation == "jpeg":
        ok, buf = cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(50, 75)])
        a = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    f = 300.0 / dpi
    return cv2.resize(a, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR) if f != 1 else a


def crop_corpus(count: int, seed: int, dpis: tuple[int, ...], fonts: tuple[tuple[str, str, str, bool], ...]
                = CROP_FONTS) -> list[Record]:
    """Every text field of `count` samples per form, drawn in each font × dpi × a degradation."""
    from pathlib import Path as P

    import bots
    from bots.fields import field_type
    from ocr.ppocr import recogniser
    from ocr.reader import ScanReader
    from ocr.tesseract import find_tessdata
    from ocr.trust import policy_kind
    from ocr.zones import clean_crop
    from samples.generate import make_sample, plan

    rec = recogniser()
    tessdata = find_tessdata()
    out: list[Record] = []
    for name, path, kind, held in fonts:
        if not P(path).is_file():
            continue
        for form in FORMS:
            bot = bots.registry.get(form)
            for i, defect in enumerate(plan(form, count, seed), start=1):
                if defect:
                    continue
                sample = make_sample(form, i, seed, defect)
                rng = random.Random(f"{seed}/{name}/{form}/{i}")
                for fname, written in sample.written.items():
                    spec = bot.template.fields.get(fname)
                    if spec is None or not written or spec.box is None and spec.anchor is None:
                        continue
                    ft = field_type(spec.type)
                    if ft.reads_mark:
                        continue
                    dpi = rng.choice(dpis)
                    deg = rng.choice(DEGRADATIONS)
                    gray = draw_value(written, path, dpi, rng, deg)
                    reader = ScanReader(np.full((8, 8), 255, np.uint8), 300, rec, tessdata)
                    clean = clean_crop(gray, None)
                    if clean.image is None:
                        continue
                    lines, parts = reader._parts(clean.image, ft.read_kind)
                    reads = rec.read(parts)
                    from ocr.reader import ZoneEvidence

                    text = " ".join(r.text.strip() for r in reads if r.text.strip())
                    confs = tuple(c for r in reads for ch, c in zip(r.text, r.confs) if ch.strip())
                    ev = ZoneEvidence(ft.read_kind, text, confs, clean.image, tessdata, lines, clean.ink_mm2)
                    out.append(Record(f"{form}/{i}/{fname}", name, kind, held, dpi, deg, form, fname, spec.type,
                                      policy_kind(spec.type, spec.ocr.get("kind")), kind == "handwriting",
                                      sample.truth.get(fname), **evidence_fields(ev)))
    return out
