"""`kakari bots new NAME --form blank.pdf`: a first bot (module + template) from a blank form.

The blank PDF's ruled cells are read with pdfplumber: a shaded cell with text is a label, an empty
cell right of it on the same row is where the applicant writes, so it becomes a field with that
label, its zone (the cell less 0.5 mm so ruling stays out of scans, less a printed unit such as 円
or 〒) and a type guessed from the label. □ boxes inside a cell become the options of a choice.
The result is a starting point to edit: names are field_01…, guesses are marked in comments.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kakari.errors import ConfigError

MM = 25.4 / 72  # mm per PDF point
INSET = 0.5  # mm kept clear of the ruling on each side
UNITS = ("円", "㎡", "席", "人", "通", "枚", "部", "〒", "年", "月", "日")
COMMON_LABELS = {"申請日", "請求日", "届出日", "住所", "所在地", "氏名", "フリガナ", "電話番号", "生年月日", "郵便番号"}
TYPE_RULES = (  # first match wins: (label pattern, field type)
    (r"フリガナ|ふりがな", "kana"),
    (r"郵便番号|〒", "postal_code"),
    (r"電話|TEL|携帯", "phone"),
    (r"法人番号", "corporate_number"),
    (r"個人番号|マイナンバー", "my_number"),
    (r"生年月日|年月日|申請日|届出日|日付|期日", "wareki_date"),
    (r"金額|手数料|料金|円|通数|枚数|部数|人数", "amount"),
    (r"番号|記号|数$|面積", "digits"),
    (r"氏名|代表者|責任者", "name"),
)
PERSONAL = re.compile(r"氏名|住所|フリガナ|ふりがな|生年月日|電話|個人番号|代表者")


@dataclass
class Found:
    label: str
    type: str
    box: tuple[float, float, float, float]  # x, y, w, h in mm
    options: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    unit: str = ""

    @property
    def personal(self) -> bool:
        """Masked in logs (names, addresses, phones, birthdays)."""
        return bool(PERSONAL.search(self.label))


def guess_type(label: str) -> str:
    for pattern, kind in TYPE_RULES:
        if re.search(pattern, label):
            return kind
    return "text"


def _inside(word: dict[str, Any], r: dict[str, Any]) -> bool:
    cx, cy = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    return r["x0"] <= cx <= r["x0"] + r["width"] and r["top"] <= cy <= r["top"] + r["height"]


def _shaded(r: dict[str, Any]) -> bool:
    colour = r.get("non_stroking_color")
    values = colour if isinstance(colour, (list, tuple)) else (colour,)
    return bool(r.get("fill")) and any(v is not None and v < 0.99 for v in values)


def detect(pdf: Path) -> tuple[str, list[Found]]:
    """(title, fields) of page 1 of a blank form PDF with a text layer."""
    import pdfplumber

    try:
        with pdfplumber.open(pdf) as doc:
            page = doc.pages[0]
            words = page.extract_words(keep_blank_chars=True)
            rects = [r for r in page.rects if r["width"] * MM > 3 and r["height"] * MM > 3]
    except Exception as e:  # noqa: BLE001 - whatever pdfminer raises, the user needs the file named
        raise ConfigError(f"様式 {pdf} を読めません ({type(e).__name__}): 文字の入った PDF を指定してください") from None
    if not words:
        raise ConfigError(f"様式 {pdf} に文字がありません。スキャン画像ではなく、文字の入った PDF を指定してください")
    title = max(words, key=lambda w: w["bottom"] - w["top"])["text"].strip()
    labels = [r for r in rects if _shaded(r)]
    found: list[Found] = []
    for cell in sorted((r for r in rects if not _shaded(r)), key=lambda r: (round(r["top"]), r["x0"])):
        label_cell = next((lc for lc in labels if abs(lc["x0"] + lc["width"] - cell["x0"]) < 2
                           and _overlap(lc, cell) > 0.5), None)
        if label_cell is None:
            continue
        label = "".join(w["text"] for w in words if _inside(w, label_cell))
        label = unicodedata.normalize("NFKC", re.sub(r"[（(].*?[）)]", "", label)).replace(" ", "")
        if not label:
            continue
        printed = [w for w in words if _inside(w, cell)]
        x0, x1 = cell["x0"] * MM + INSET, (cell["x0"] + cell["width"]) * MM - INSET
        y0, h = cell["top"] * MM + INSET, cell["height"] * MM - 2 * INSET
        options = {w["text"].lstrip("□ ").strip(): (round(w["x0"] * MM - 1.0, 1), round(w["top"] * MM - 2.0, 1),
                                                     7.0, round((w["bottom"] - w["top"]) * MM + 3.5, 1))
                   for w in printed if w["text"].startswith("□")}
        if options:
            found.append(Found(label, "choice", (x0, y0, x1 - x0, h), options))
            continue
        if sum(len(w["text"]) for w in printed) > 6:
            continue  # printed content (notes, examples), not a place to write
        unit = ""
        for w in printed:
            if w["text"] in UNITS and w["x0"] * MM > (x0 + x1) / 2:
                x1, unit = min(x1, w["x0"] * MM - INSET), w["text"]
            elif w["text"] in UNITS:
                x0, unit = max(x0, w["x1"] * MM + INSET), w["text"]
        kind = guess_type(label + unit)
        found.append(Found(label, kind, (round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(h, 1)), unit=unit))
    if not found:
        raise ConfigError(f"様式 {pdf} に記入欄 (見出しの右の空欄) が見つかりませんでした")
    return title, found


def detect_image(path: Path, dpi: int = 200) -> tuple[str, list[Found]]:
    """(title, fields) of a scanned or photographed blank form (PNG/JPEG/TIFF): ruled cells by line
    detection, labels by Tesseract. Choices (□ options) are not found on images: add them by hand."""
    import cv2
    import numpy as np

    from kakari.config import LimitsConfig
    from ocr.inputs import sniff
    from ocr.preprocess import to_gray
    from ocr.raster import rasterise
    from ocr.tesseract import find_tessdata, ocr_crop

    limits = LimitsConfig()
    try:
        [r] = rasterise(path, sniff(path, limits), [1], dpi, limits.max_pixels, limits.max_pages)
    except Exception as e:  # noqa: BLE001 - the user needs the file named, whatever failed
        raise ConfigError(f"様式の画像 {path} を読めません: {getattr(e, 'message', e)}") from None
    gray = to_gray(r.image)
    s = r.dpi / 25.4
    ink = (gray < 160).astype(np.uint8)
    long_ = max(10, int(8 * s))  # ruling is at least 8 mm long
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (long_, 1)))
    lines |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, long_)))
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats((1 - lines).astype(np.uint8), connectivity=4)
    tessdata = find_tessdata()
    cells = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if not (4 * s < h < 30 * s and 8 * s < w < gray.shape[1] * 0.95) or area < 0.8 * w * h:
            continue  # not a table cell (the page margin, a sliver between lines)
        inner = gray[y + 3:y + h - 3, x + 3:x + w - 3]
        cells.append({"x0": x / s, "top": y / s, "width": w / s, "height": h / s,
                      "shaded": float(np.median(inner)) < 245, "img": inner})
    found: list[Found] = []
    for cell in sorted((c for c in cells if not c["shaded"]), key=lambda c: (round(c["top"]), c["x0"])):
        label_cell = next((lc for lc in cells if lc["shaded"] and abs(lc["x0"] + lc["width"] - cell["x0"]) < 2.5
                           and _overlap(lc, cell) > 0.5), None)
        if label_cell is None or tessdata is None:
            continue
        label = unicodedata.normalize("NFKC", ocr_crop(_for_ocr(label_cell["img"]), "line", tessdata).text)
        label = re.sub(r"[（(].*?[）)]|\s", "", label)
        if not label or (cell["img"] < 128).mean() > 0.02:  # no label, or the cell has printed content
            continue
        x0, y0 = cell["x0"] + INSET - 0.5, cell["top"] + INSET - 0.5  # the line mask was dilated by a pixel
        w, h = cell["width"] - 2 * INSET + 1.0, cell["height"] - 2 * INSET + 1.0
        found.append(Found(label, guess_type(label), (round(float(x0), 1), round(float(y0), 1), round(float(w), 1),
                                                      round(float(h), 1))))
    if not found:
        raise ConfigError(f"様式の画像 {path} に記入欄 (見出しの右の空欄) が見つかりませんでした")
    title = path.stem
    return title, found


def _for_ocr(img: Any) -> Any:
    """A label cell, shaded grey, as black text on white with a margin (what Tesseract reads best)."""
    import cv2
    import numpy as np

    _, bw = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ys, xs = np.nonzero(bw < 128)
    if ys.size == 0:
        return bw
    bw = bw[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    return cv2.copyMakeBorder(bw, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=255)


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
    top, bottom = max(a["top"], b["top"]), min(a["top"] + a["height"], b["top"] + b["height"])
    return max(0.0, bottom - top) / max(1e-9, min(a["height"], b["height"]))


def _box(b: tuple[float, float, float, float]) -> str:
    return f"{{ page = 1, x = {b[0]:g}, y = {b[1]:g}, w = {b[2]:g}, h = {b[3]:g} }}"


def render_template(title: str, fields: list[Found], manual_minutes: float) -> str:
    keywords = [title, *[f.label for f in fields if f.label not in COMMON_LABELS][:2]]
    lines = [f"# {title} — generated by `kakari bots new`; check every zone with `kakari bots preview`.",
             f'title = "{title}"', f'task = "{title}の受付入力"', f"manual_minutes = {manual_minutes:g}",
             "min_confidence = 0.80", "", "[match]",
             # labels every form has (申請日, 住所 …) would match other forms too: the title and the rarer labels
             f"keywords = [{', '.join(repr(k) for k in keywords)}]".replace("'", '"'),
             "min_score = 0.6", ""]
    names = []
    for i, f in enumerate(fields, start=1):
        name = f"field_{i:02d}"
        names.append(name)
        lines += [f"[fields.{name}]", f'label = "{f.label}"', f'type = "{f.type}"  # 推定: 見出し「{f.label}」から']
        if f.options:
            opts = ", ".join(f'"{k}" = {_box(v)}' for k, v in f.options.items())
            lines.append(f"options = {{ {opts} }}")
        else:
            lines.append(f"box = {_box(f.box)}")
        if f.personal:
            lines.append("personal = true")
        lines.append("")
    lines += ["[ledger]", 'sheet = "台帳"', f"columns = [{', '.join(repr(n) for n in names)}]".replace("'", '"'), ""]
    return "\n".join(lines)


def render_module(name: str, title: str) -> str:
    cls = "".join(part.capitalize() for part in name.split("_")) or "NewForm"
    return (f'"""{title} (template: {name}.toml). Generated by `kakari bots new`."""\n'
            "from __future__ import annotations\n\n"
            "from bots import FormBot, Record\n\n\n"
            f"class {cls}(FormBot):\n"
            f'    """{title}."""\n\n'
            f'    name = "{name}"\n\n'
            "    def validate(self, rec: Record) -> Record:\n"
            "        rec = super().validate(rec)\n"
            "        # checks between fields go here, e.g. rec.flag(\"applied_on\", \"申請日が未来の日付です\")\n"
            "        return rec\n")


def scaffold(name: str, form: Path, out: Path, manual_minutes: float = 5.0, force: bool = False) -> tuple[Path, Path, int]:
    """Write <out>/<name>.py and <out>/<name>.toml (+ the blank form as <name>.blank.pdf for scans)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ConfigError(f"ボット名「{name}」は英小文字・数字・下線で、英字から始めてください (例: juminhyo_request)")
    if not form.is_file():
        raise ConfigError(f"様式ファイル {form} が見つかりません")
    title, fields = detect(form) if form.suffix.lower() == ".pdf" else detect_image(form)
    out.mkdir(parents=True, exist_ok=True)
    module, template = out / f"{name}.py", out / f"{name}.toml"
    for p in (module, template):
        if p.exists() and not force:
            raise ConfigError(f"{p} は既にあります (上書きするには --force)")
    template.write_text(render_template(title, fields, manual_minutes), encoding="utf-8")
    module.write_text(render_module(name, title), encoding="utf-8")
    if form.suffix.lower() == ".pdf":
        (out / f"{name}.blank.pdf").write_bytes(form.read_bytes())  # the reference scans are registered to
    return module, template, len(fields)
