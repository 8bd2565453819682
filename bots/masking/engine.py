"""One file masked and proven: read every page (text layer, OCR where there is no text or a picture),
find the numbers, burn the boxes into page images, write a clean PDF, read it again.

Pages come out upright: a scan fed sideways is turned the way its text reads, and its boxes are in
millimetres of that upright page (``PageResult.turns`` says how it was turned).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger
from PIL import Image

from bots.masking.find import (
    Candidate,
    Finding,
    find_on_page,
    form_zones,
    labelled_otherwise,
    no_number,
    overlap,
)
from bots.masking.render import PageImage, burn, write_pdf
from bots.masking.spec import MaskSpec
from bots.masking.verify import Leftover, verify
from kakari.config import KakariConfig
from kakari.model import Box

if TYPE_CHECKING:
    from ocr.raster import Raster
    from ocr.textlines import TextPage

SCAN_DPI = 300  # pages are rendered (and scans resampled) to this for OCR
LEFTOVER = "墨塗り後の検証で番号が読み取れたため、ファイルを出力していません"


@dataclass
class PageResult:
    number: int
    width_mm: float
    height_mm: float
    turns: int = 0  # clockwise quarter turns from the page as given to the page as released
    source: str = "text"  # text, scan (OCR only), mixed (text layer and OCR)
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class MaskResult:
    pages: list[PageResult]
    output: Path
    leftovers: list[Leftover] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [f for p in self.pages for f in p.findings]

    @property
    def problems(self) -> list[str]:
        out: list[str] = []
        for p in self.pages:
            for msg in [*p.problems, *(m for f in p.findings for m in f.problems)]:
                tagged = f"{p.number}ページ目: {msg}" if len(self.pages) > 1 else msg
                if tagged not in out:
                    out.append(tagged)
        if self.leftovers:
            out.append(LEFTOVER)
            out.extend(dict.fromkeys(lo.message() for lo in self.leftovers))
        return out

    @property
    def releasable(self) -> bool:
        return not self.problems

    def counts(self) -> dict[str, int]:
        """Boxes per kind (個人番号 → 3 …), in the order the kinds were first found."""
        return dict(Counter(f.label for f in self.findings))


def tessdata_for(cfg: KakariConfig) -> Path:
    from ocr.tesseract import check

    return check(cfg.ocr.tessdata)


def mask_file(path: Path, spec: MaskSpec, cfg: KakariConfig, out: Path,
              boxes: Mapping[int, Sequence[Box]] | None = None, kept: Sequence[Box] = (),
              verify_ocr: bool = True) -> MaskResult:
    """Mask `path` into `out` (a PDF of page images) and verify it.

    `boxes` (page → boxes) replaces what is found with a clerk's decision; what is found is still
    looked for in the result, except inside `kept` (areas the clerk said hold no personal number).
    """
    from ocr.inputs import sniff

    tessdata = tessdata_for(cfg)
    kind = sniff(Path(path), cfg.limits)
    results: list[PageResult] = []
    write_pdf(_masked_pages(Path(path), kind, spec, cfg, tessdata, results, boxes), out)
    values = {f.value for p in results for f in p.findings if f.value}
    leftovers = verify(out, values, tessdata, kept, ocr=verify_ocr, models_dir=cfg.ocr.models_dir, spec=spec)
    return MaskResult(results, out, leftovers)


def _masked_pages(path: Path, kind: str, spec: MaskSpec, cfg: KakariConfig, tessdata: Path,
                  results: list[PageResult], boxes: Mapping[int, Sequence[Box]] | None) -> Iterator[PageImage]:
    for page, image in read_pages(path, kind, spec, cfg, tessdata):
        results.append(page)
        chosen = boxes.get(page.number, []) if boxes is not None else [f.box for f in page.findings]
        yield burn(image, chosen)


def read_pages(path: Path, kind: str, spec: MaskSpec, cfg: KakariConfig,
               tessdata: Path) -> Iterator[tuple[PageResult, PageImage]]:
    """Each page with what was found on it, and its upright image at the output resolution."""
    from ocr.raster import iter_rasters

    if kind != "pdf":
        for r in iter_rasters(path, kind, None, SCAN_DPI, cfg.limits.max_pixels, cfg.limits.max_pages):
            yield _scanned(r, None, spec, cfg, tessdata)
        return
    from ocr.textlines import read_lines

    for tp in read_lines(path, cfg.limits):
        thin = tp.chars < cfg.ocr.min_chars_per_page
        pictured = tp.image_cover >= spec.ocr_images or tp.annotations > 0
        dpi = SCAN_DPI if thin or pictured else spec.dpi
        [r] = iter_rasters(path, kind, [tp.number], dpi, cfg.limits.max_pixels, cfg.limits.max_pages)
        if thin or pictured:
            yield _scanned(r, tp, spec, cfg, tessdata)
            continue
        result = PageResult(r.number, r.width_mm, r.height_mm)
        result.findings, lonely = find_on_page(tp.lines, spec)
        _add_zones(result, lonely, form_zones(tp.lines, r.number, spec, fuzzy=False))
        yield result, PageImage(r.image, r.width_mm, r.height_mm)


def _scanned(r: Raster, tp: TextPage | None, spec: MaskSpec, cfg: KakariConfig,
             tessdata: Path) -> tuple[PageResult, PageImage]:
    """A page read by OCR: a scan (turned upright), or a text page with pictures or form fields
    (read as displayed, its text layer too). Two engines read it (Tesseract, PP-OCR) and what
    either finds is masked: each misses digits the other reads."""
    from ocr.pagetext import read_digits, read_page
    from ocr.pplines import engine_errors, try_page_lines, upside_down
    from ocr.ppocr import recogniser
    from ocr.preprocess import to_gray

    text = tp is not None and tp.chars > 0
    result = PageResult(r.number, r.width_mm, r.height_mm, source="mixed" if text else "scan")
    lines: list = []
    lonely: list[str] | None = None
    if tp is not None and text:
        result.findings, lonely = find_on_page(tp.lines, spec)
        lines += tp.lines
    gray = to_gray(r.image)
    pt = read_page(gray, r.dpi, tessdata, turns=0 if text else None)
    rec = recogniser(cfg.ocr)
    try:
        if not text and upside_down(pt.gray, pt.dpi, rec):  # Tesseract's orientation can be fooled
            pt = read_page(gray, r.dpi, tessdata, turns=(pt.turns + 2) % 4)
    except engine_errors():
        pass  # the orientation stays Tesseract's
    read_pp = try_page_lines(pt.gray, pt.dpi, rec)
    if read_pp is None:
        logger.warning("PP-OCR がメモリの上限内で動かなかったため、{}ページ目は Tesseract だけで読みました", r.number)
    pp = read_pp or []

    def reread(cand: Candidate) -> tuple[str, float]:
        return read_digits(pt, cand.box, tessdata)

    found, ocr_lonely = find_on_page(pt.lines, spec, ocr=True, reread=reread)
    found_pp, pp_lonely = find_on_page(pp, spec, ocr=True, reread=reread)
    # a doubtful label finding one engine made of a run the other read after other words is not one
    found = [f for f in found if not labelled_otherwise(f, pp, spec)]
    found_pp = [f for f in found_pp if not labelled_otherwise(f, pt.lines, spec)]
    found = _merge(found, found_pp, sure_wins=True)
    ocr_lonely = [label for label in ocr_lonely if label in pp_lonely]
    result.findings = _merge(result.findings, _on_page(_whole_box_rows(found, pt.box_rows), r.number))
    # a label the text layer has alone may have its number in a picture or a form field: both must miss it
    lonely = ocr_lonely if lonely is None else [label for label in lonely if label in ocr_lonely]
    result.turns, result.width_mm, result.height_mm = pt.turns, pt.width_mm, pt.height_mm
    lines += pt.lines
    # PP-OCR's character boxes are placed along its line, not measured: a form Tesseract recognised
    # is placed by Tesseract's reading of its anchor
    zones = form_zones(lines, r.number, spec, fuzzy=not text) or form_zones(lines + pp, r.number, spec, fuzzy=not text)
    _add_zones(result, lonely, zones)
    image = _upright(r.image, pt.turns)
    size = (max(1, round(pt.width_mm / 25.4 * spec.dpi)), max(1, round(pt.height_mm / 25.4 * spec.dpi)))
    return result, PageImage(image.resize(size, Image.Resampling.BOX), pt.width_mm, pt.height_mm)


def page_image(path: Path, number: int, turns: int, dpi: int, cfg: KakariConfig) -> Image.Image:
    """One page of the original, turned as it was released (for the review screen)."""
    from ocr.inputs import sniff
    from ocr.raster import iter_rasters

    kind = sniff(Path(path), cfg.limits)
    [r] = iter_rasters(Path(path), kind, [number], dpi, cfg.limits.max_pixels, cfg.limits.max_pages)
    return _upright(r.image, turns)


def _upright(image: Image.Image, turns: int) -> Image.Image:
    k = turns % 4
    if not k:
        return image
    return image.transpose({1: Image.Transpose.ROTATE_270, 2: Image.Transpose.ROTATE_180,
                            3: Image.Transpose.ROTATE_90}[k])


def _add_zones(result: PageResult, lonely: list[str], zones: list[Finding]) -> None:
    """A known form's zones are masked by position; a label whose kind has a zone on the page is
    answered by it (whatever was written there is under the box)."""
    result.findings = _merge(result.findings, zones)
    zoned = {z.label for z in zones}
    result.problems = [no_number(label) for label in lonely if label not in zoned]


def _whole_box_rows(found: list[Finding], rows: Sequence[Box]) -> list[Finding]:
    """A number written in a row of printed digit boxes is masked box row and all: OCR may have
    missed a digit at either end."""
    for f in found:
        hit = [r for r in rows if overlap(r, f.box) > 0.3]  # a 4 + 6 row is two rows of boxes
        if hit:
            x0, y0 = min(f.box.x, *(r.x for r in hit)), min(f.box.y, *(r.y for r in hit))
            x1, y1 = max(f.box.x1, *(r.x1 for r in hit)), max(f.box.y1, *(r.y1 for r in hit))
            f.box = Box(f.box.page, x0, y0, x1 - x0, y1 - y0)
    return found


def _on_page(found: list[Finding], number: int) -> list[Finding]:
    for f in found:
        f.box = Box(number, f.box.x, f.box.y, f.box.w, f.box.h)
    return found


def _merge(first: list[Finding], more: list[Finding], sure_wins: bool = False) -> list[Finding]:
    """Findings of two readings of one page: a box mostly inside one already found is the same one
    (its box is widened to cover both). With `sure_wins` (two OCR engines on one page), a reading
    without doubts (its check digit holds, its length is right) replaces the other's doubtful one."""
    out = list(first)
    for f in more:
        twin = next((g for g in out if overlap(g.box, f.box) >= 0.5), None)
        if twin is None:
            out.append(f)
            continue
        x0, y0 = min(twin.box.x, f.box.x), min(twin.box.y, f.box.y)
        x1, y1 = max(twin.box.x1, f.box.x1), max(twin.box.y1, f.box.y1)
        twin.box = Box(twin.box.page, x0, y0, x1 - x0, y1 - y0)
        if not twin.value and f.value:
            twin.value, twin.kind, twin.label, twin.how = f.value, f.kind, f.label, f.how
        if sure_wins and f.value and twin.problems and not f.problems:
            twin.value, twin.kind, twin.label, twin.how = f.value, f.kind, f.label, f.how
            twin.problems, twin.confidence = [], f.confidence
            continue
        if sure_wins and twin.value and f.problems and not twin.problems:
            continue
        twin.problems = list(dict.fromkeys(twin.problems + f.problems))
        twin.confidence = min(twin.confidence, f.confidence)
    return out



