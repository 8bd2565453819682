"""`kakari bots test` and `kakari bots preview`: a bot against sample documents with expected JSON
(`NAME.json` next to each file: {"fields": {field: value}}), a picture of where it reads, and one sample
record for trying a web mapping (`kakari systems test` / `record`)."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kakari.config import KakariConfig
from kakari.errors import ConfigError, DocumentError
from kakari.model import Field, Record, Status

SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


@dataclass
class FieldCheck:
    """One compared field: what the bot read and whether the review screen would mark it."""

    name: str
    got: Any
    expected: Any
    right: bool
    doubted: bool  # problems, or confidence below the record's min_confidence (the review screen's mark)
    confidence: float
    problems: list[str] = field(default_factory=list)


@dataclass
class DocCheck:
    path: Path
    diffs: list[tuple[str, Any, Any]] = field(default_factory=list)  # (field, got, expected)
    right: int = 0
    total: int = 0
    error: str = ""
    unknown: list[str] = field(default_factory=list)  # expected fields the bot does not define
    status: str = ""  # 自動登録 / 要確認 as the pipeline would decide, エラー when unreadable
    expected_status: str | None = None  # from the expected JSON, when it says
    engine: str = ""  # textlayer, tesseract, … (ocr.Document.engine)
    fields: list[FieldCheck] = field(default_factory=list)

    @property
    def registered_wrong(self) -> list[FieldCheck]:
        """Wrong values that would be registered without anyone looking."""
        return [f for f in self.fields if not f.right] if self.status == Status.REGISTERED.value else []

    @property
    def unflagged_wrong(self) -> list[FieldCheck]:
        """Wrong values of a 要確認 document in fields the review screen does not mark."""
        if self.status != Status.REVIEW.value:
            return []
        return [f for f in self.fields if not f.right and not f.doubted]

    def to_json(self, root: Path) -> dict[str, Any]:
        return {
            "file": _relative(self.path, root), "status": self.status, "expected_status": self.expected_status,
            "engine": self.engine, "error": self.error, "fields": self.total, "exact": self.right,
            "diffs": [{"field": f.name, "got": f.got, "expected": f.expected, "doubted": f.doubted,
                       "confidence": round(f.confidence, 4), "problems": f.problems}
                      for f in self.fields if not f.right],
            "registered_wrong": [f.name for f in self.registered_wrong],
            "unflagged_wrong": [f.name for f in self.unflagged_wrong],
            "unknown": self.unknown,
        }


def same(got: Any, want: Any) -> bool:
    if isinstance(got, (int, float)) and isinstance(want, (int, float)) and not isinstance(got, bool):
        return abs(float(got) - float(want)) < 1e-9
    return got == want


def check_folder(bot_cls: type, folder: Path, config: KakariConfig) -> list[DocCheck]:
    """Every document under FOLDER with a same-named .json ({"fields": …}, optionally
    "expected_status") read by the bot, compared field by field, with the status it would get."""
    from ocr import read_document

    if not folder.is_dir():
        raise ConfigError(f"フォルダー {folder} が見つかりません")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.with_suffix(".json").is_file())
    if not files:
        raise ConfigError(f"{folder} に試験用の文書 (文書と同じ名前の .json 付き) がありません。確認画面で確認済の文書なら "
                          "--accept で期待値を作れます (kakari bots test ボット名 フォルダー --accept)")
    out = []
    for path in files:
        truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        expected = truth.get("fields", {})
        check = DocCheck(path, expected_status=truth.get("expected_status"))
        try:
            doc = read_document(path, config, doc_id=path.stem)
            rec = bot_cls().read(doc)
        except DocumentError as e:
            check.error, check.total, check.status = e.message, len(expected), Status.ERROR.value
            out.append(check)
            continue
        check.engine, check.status = doc.engine, rec.status.value
        for name, want in expected.items():
            if name not in rec.fields:
                check.unknown.append(name)
                continue
            f = rec.fields[name]
            check.total += 1
            right = same(f.value, want)
            check.fields.append(FieldCheck(name, f.value, want, right, rec.doubts(f), f.confidence, list(f.problems)))
            if right:
                check.right += 1
            else:
                check.diffs.append((name, f.value, want))
        out.append(check)
    return out


def summarize(checks: list[DocCheck]) -> dict[str, Any]:
    """The figures of one run: documents, fields, exact, wrong values registered without review,
    wrong values in 要確認 documents with no doubt mark, documents per status."""
    statuses = Counter(c.status for c in checks)
    known = [c for c in checks if c.expected_status and not c.error]
    fields = sum(c.total for c in checks)
    exact = sum(c.right for c in checks)
    return {
        "documents": len(checks),
        "fields": fields,
        "exact": exact,
        "exact_rate": round(exact / fields, 6) if fields else 0.0,
        "registered_wrong": sum(len(c.registered_wrong) for c in checks),
        "unflagged_wrong": sum(len(c.unflagged_wrong) for c in checks),
        "review": statuses.get(Status.REVIEW.value, 0),
        "registered": statuses.get(Status.REGISTERED.value, 0),
        "errors": statuses.get(Status.ERROR.value, 0),
        # against the expected status: clean documents a clerk must still look at, defects let through
        "clean_to_review": sum(1 for c in known if c.expected_status == Status.REGISTERED.value
                               and c.status == Status.REVIEW.value),
        "defects_registered": sum(1 for c in known if c.expected_status == Status.REVIEW.value
                                  and c.status == Status.REGISTERED.value),
    }


def report_json(bot_name: str, folder: Path, checks: list[DocCheck]) -> dict[str, Any]:
    return {"bot": bot_name, "folder": str(folder), "summary": summarize(checks),
            "documents": [c.to_json(folder) for c in checks]}


def _label_font(size: int) -> Any:
    """A Japanese font for the preview's labels, found on this machine (Pillow's own if none)."""
    from PIL import ImageFont

    from kakari.fonts import find_font

    path = find_font("ipag.ttf", "ipaexg.ttf", "NotoSansCJK-Regular.ttc", "msgothic.ttc", "meiryo.ttc")
    return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def preview(bot_cls: type, file: Path, config: KakariConfig, out: Path, dpi: int = 100) -> Path:
    """PNG of page 1 with every zone drawn and the value read (red: a problem or low confidence).
    A scan is drawn through the alignment the bot read it through, so the zones sit where it reads."""
    return preview_record(bot_cls, file, config, out, dpi)[0]


def preview_record(bot_cls: type, file: Path, config: KakariConfig, out: Path, dpi: int = 100) -> tuple[Path, Any]:
    """(the preview PNG, the record read): what `kakari bots preview` draws and lists."""
    from PIL import ImageDraw

    from bots.tryout import page_image
    from ocr import read_document

    if not file.is_file():
        raise ConfigError(f"文書 {file} が見つかりません")
    template = bot_cls.template
    doc = read_document(file, config, doc_id=file.stem)
    rec = bot_cls().read(doc)
    frames = rec.meta.get("frames") or {}
    image = page_image(file, template, config, dpi, frames.get("1")).convert("RGB")  # as the bot read it
    s = dpi / 25.4
    draw = ImageDraw.Draw(image)
    font = _label_font(max(10, int(2.8 * s)))
    for name, f in rec.fields.items():
        spec = template.fields.get(name)
        zones = spec.zones if spec is not None else ([f.box] if f.box is not None else [])
        bad = rec.doubts(f)
        colour = (220, 30, 30) if bad else (30, 110, 220)
        for b in zones:
            if b.page != 1:
                continue
            draw.rectangle((b.x * s, b.y * s, (b.x + b.w) * s, (b.y + b.h) * s), outline=colour, width=2)
        if zones and zones[0].page == 1:
            b = zones[0]
            draw.text((b.x * s + 2, max(0, b.y * s - 3.2 * s)), f"{name}: {f.display()}"[:60], fill=colour, font=font)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)
    return out, rec


def sample_form(path: Path) -> str | None:
    """The bot a sample's JSON names ("form", as samples/generate writes it), if it is a JSON that does."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        form = json.loads(path.read_text(encoding="utf-8")).get("form")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return None
    return form if isinstance(form, str) and form else None


def sample_record(bot_cls: type, path: Path, config: KakariConfig) -> Record:
    """One record to try a web mapping with: a filled document read by the bot, or a .json of its
    expected values ({"fields": {...}}, as `kakari bots test` uses). Its document is the file itself."""
    if not path.is_file():
        raise ConfigError(f"試験用の申請 {path} が見つかりません")
    doc_id = hashlib.sha256(path.read_bytes()).hexdigest()
    if path.suffix.lower() == ".json":
        try:
            values = json.loads(path.read_text(encoding="utf-8")).get("fields", {})
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            raise ConfigError(f"{path} は {{\"fields\": {{…}}}} の形の JSON ではありません") from None
        template = getattr(bot_cls, "template", None)
        specs = template.fields if template is not None else {}
        unknown = sorted(set(values) - set(specs)) if specs else []
        if unknown:
            raise ConfigError(f"{path}: ボット {bot_cls.name} にない項目があります: {'、'.join(unknown)}")
        fields = {k: Field(k, specs[k].label if k in specs else k, v, raw="" if v is None else str(v),
                           personal=bool(specs[k].personal) if k in specs else False) for k, v in values.items()}
        rec = Record(doc_id, bot_cls.name, fields)
        document = next((path.with_suffix(s) for s in SUFFIXES if path.with_suffix(s).is_file()), None)
    else:
        from ocr import read_document

        rec = bot_cls().read(read_document(path, config, doc_id=doc_id))
        document = path
    rec.meta.update(status=Status.REGISTERED.value, original_name=path.name)
    if document is not None:
        rec.meta["archived_path"] = str(document)
    return rec


# =============================================================================================
# Expected values from what clerks confirmed
# =============================================================================================
CONFIRMED_GROUP = "kakari.confirmed"  # entry points: (config, bot, doc_ids, job) → confirmed records


@dataclass
class Accepted:
    written: list[Path] = field(default_factory=list)  # expected JSON written
    copied: list[Path] = field(default_factory=list)  # confirmed documents brought into the folder
    unconfirmed: list[Path] = field(default_factory=list)  # documents nobody has confirmed yet


def _confirmed_source() -> Any:
    from importlib.metadata import entry_points

    eps = list(entry_points(group=CONFIRMED_GROUP))
    if not eps:
        raise ConfigError("確認済の記録を読む仕組みが見つかりません (kakari を pip install -e . し直してください)")
    return eps[0].load()


def accept(bot: str, folder: Path, config: KakariConfig, job: str | None = None) -> Accepted:
    """Expected JSON for the documents in `folder` from the records clerks confirmed (確認済), so
    `bots test` has a regression set of the town's own documents. With `job`, that job's confirmed
    documents are first copied into the folder. Documents that already have a JSON keep it."""
    import hashlib
    import shutil

    confirmed = _confirmed_source()
    folder.mkdir(parents=True, exist_ok=True)
    done = Accepted()
    if job is not None:
        present = {hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.suffix.lower() in SUFFIXES}
        for c in confirmed(config, bot, None, job):
            source = Path(c["stored_path"])
            if c["doc_id"] in present or not source.is_file():
                continue
            target = _free(folder, Path(c["original_name"] or source.name).name, c["doc_id"])
            shutil.copy2(source, target)
            present.add(c["doc_id"])
            done.copied.append(target)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and not p.with_suffix(".json").exists())
    ids = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in files}
    found = {c["doc_id"]: c for c in confirmed(config, bot, set(ids), None)} if ids else {}
    for doc_id, path in ids.items():
        c = found.get(doc_id)
        if c is None:
            done.unconfirmed.append(path)
            continue
        doc = {"fields": c["fields"], "confirmed": {"job": c["job"], "by": c["reviewed_by"], "doc_id": doc_id}}
        path.with_suffix(".json").write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n",
                                             encoding="utf-8")
        done.written.append(path.with_suffix(".json"))
    return done


def _free(folder: Path, name: str, doc_id: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    return folder / f"{target.stem}_{doc_id[:8]}{target.suffix}"
