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

from PIL import Image

from bots.masking.find import Finding, find_on_page, form_zones
from bots.masking.render import PageImage, burn, write_pdf
from bots.masking.spec import MaskSpec
from bots.masking.verify import Leftover, verify
from kakari.config import KakariConfig
from kakari.errors import MissingDependency
from kakari.model import Box

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
    from ocr.tesseract import INSTALL_FIX, TesseractEngine, find_tessdata

    TesseractEngine.check()
    found = find_tessdata(cfg.ocr.tessdata)
    if found is None:
        raise MissingDependency("Tesseract の日本語データ (jpn.traineddata) が見つかりません", fix=INSTALL_FIX)
    return found


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
    leftovers = verify(out, values, tessdata, kept, ocr=verify_ocr)
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
    from ocr.pagetext import read_page, read_digits
    from ocr.raster import iter_rasters

    text_pages = {}
    if kind == "pdf":
        from ocr.textlines import read_lines

        text_pages = {p.number: p for p in read_lines(path, cfg.limits)}
    rasters = iter_rasters(path, kind, None, SCAN_DPI, cfg.limits.max_pixels, cfg.limits.max_pages)
    for r in rasters:
        tp = text_pages.get(r.number)
        result = PageResult(r.number, r.width_mm, r.height_mm)
        lines_for_zones = []
        if tp is not None:
            found, problems = find_on_page(tp.lines, spec)
            result.findings += found
            result.problems += problems
            lines_for_zones = list(tp.lines)
        thin = tp is None or tp.chars < cfg.ocr.min_chars_per_page
        pictured = tp is not None and (tp.image_cover >= spec.ocr_images or tp.annotations > 0)
        if thin or pictured:
            from ocr.preprocess import to_gray

            gray = to_gray(r.image)
            pt = read_page(gray, r.dpi, tessdata, turns=None if thin and not pictured else 0)
            found, problems = find_on_page(pt.lines, spec, ocr=True,
                                           reread=lambda cand, pt=pt: read_digits(pt, cand.box, tessdata))
            result.turns, result.source = pt.turns, "scan" if tp is None or not tp.lines else "mixed"
            result.width_mm, result.height_mm = pt.width_mm, pt.height_mm
            result.findings = _merge(result.findings, _on_page(found, r.number))
            result.problems = list(dict.fromkeys(result.problems + problems))
            lines_for_zones += pt.lines
        result.findings = _merge(result.findings, form_zones(lines_for_zones, r.number, spec, fuzzy=thin))
        image = _upright(r.image, result.turns)
        out_w = max(1, round(result.width_mm / 25.4 * spec.dpi))
        out_h = max(1, round(result.height_mm / 25.4 * spec.dpi))
        r.image = None  # type: ignore[assignment]  # one page in memory at a time
        yield result, PageImage(image.resize((out_w, out_h), Image.Resampling.LANCZOS), result.width_mm,
                                result.height_mm)


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


def _on_page(found: list[Finding], number: int) -> list[Finding]:
    for f in found:
        f.box = Box(number, f.box.x, f.box.y, f.box.w, f.box.h)
    return found


def _merge(first: list[Finding], more: list[Finding]) -> list[Finding]:
    """Findings of two readings of one page: a box mostly inside one already found is the same one
    (its box is widened to cover both)."""
    out = list(first)
    for f in more:
        twin = next((g for g in out if _overlap(g.box, f.box) >= 0.5), None)
        if twin is None:
            out.append(f)
            continue
        x0, y0 = min(twin.box.x, f.box.x), min(twin.box.y, f.box.y)
        x1, y1 = max(twin.box.x1, f.box.x1), max(twin.box.y1, f.box.y1)
        twin.box = Box(twin.box.page, x0, y0, x1 - x0, y1 - y0)
        if not twin.value and f.value:
            twin.value, twin.kind, twin.label, twin.how = f.value, f.kind, f.label, f.how
        twin.problems = list(dict.fromkeys(twin.problems + f.problems))
        twin.confidence = min(twin.confidence, f.confidence)
    return out


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    w = min(a.x1, b.x1) - max(a.x, b.x)
    h = min(a.y1, b.y1) - max(a.y, b.y)
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max(1e-9, min(a.w * a.h, b.w * b.h))

