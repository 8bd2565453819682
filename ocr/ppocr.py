"""PP-OCR (PaddleOCR's PP-OCRv6 small models) through rapidocr and onnxruntime: the neural recogniser.

The model files ship inside the rapidocr wheel; kakari pins them by name and SHA-256 (``MODELS``)
and loads exactly those files, from the package's own folder or a folder the configuration names
(``[ocr] models_dir``). Nothing is ever downloaded: a missing or altered file is a
MissingDependency with the fix, not a fetch. One recogniser per process (``recogniser``), one
onnxruntime thread (workers are processes; two single-threaded ones share two cores best).

Recognition reads cleaned zone crops, several per call (``Recogniser.read``: one batch per page);
detection finds the lines of a zone holding free text (``Recogniser.lines``).
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kakari.errors import MissingDependency

if TYPE_CHECKING:
    from kakari.config import OcrConfig

INSTALL_FIX = "pip install 'rapidocr>=3.4,<4' onnxruntime (make setup で入ります)"


@dataclass(frozen=True)
class ModelFile:
    role: str  # det | rec
    name: str
    sha256: str


# the files rapidocr 3.x bundles in its wheel (rapidocr/models/); nothing else is loaded
MODELS = (
    ModelFile("det", "PP-OCRv6_det_small.onnx", "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"),
    ModelFile("rec", "PP-OCRv6_rec_small.onnx", "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"),
)
BATCH = 4  # crops per onnxruntime call (sorted by width, padded to the widest of the batch)
# rapidocr pads every line to 320 px (6.7 heights) at least; zone crops are mostly shorter, and padding
# them only to their own width reads them alike in 0.6 of the time
MIN_WIDTH = 48


@dataclass(frozen=True)
class LineText:
    """One crop's reading: the text, each character's probability (0..1) and, for the characters
    that are not spaces, where their centre is across the crop (0..1 of its width)."""

    text: str
    confs: tuple[float, ...]
    centres: tuple[float, ...] = ()

    @property
    def weakest(self) -> float:
        return min(self.confs, default=0.0)


def bundled_dir() -> Path:
    """rapidocr's own models folder (inside the installed wheel)."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise MissingDependency("PP-OCR (rapidocr) が入っていません", fix=INSTALL_FIX)
    return Path(spec.origin).parent / "models"


def model_paths(models_dir: str | None = None) -> dict[str, Path]:
    """role → the pinned model file; MissingDependency if one is missing (never downloaded)."""
    folder = Path(models_dir) if models_dir else bundled_dir()
    out = {}
    for m in MODELS:
        path = folder / m.name
        if not path.is_file():
            raise MissingDependency(f"PP-OCR のモデル {m.name} が {folder} にありません", fix=INSTALL_FIX)
        out[m.role] = path
    return out


@lru_cache(maxsize=8)
def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_models(models_dir: str | None = None) -> dict[str, Path]:
    """The pinned files, each checked against its SHA-256 (another file is not the model measured)."""
    paths = model_paths(models_dir)
    for m in MODELS:
        if file_sha256(paths[m.role]) != m.sha256:
            raise MissingDependency(f"PP-OCR のモデル {paths[m.role]} が想定のファイルと違います (SHA-256 不一致)",
                                    fix=INSTALL_FIX)
    return paths


def version() -> str:
    import importlib.metadata as md

    return f"rapidocr {md.version('rapidocr')}, onnxruntime {md.version('onnxruntime')}"


def check() -> None:
    """MissingDependency if PP-OCR cannot run here."""
    try:
        import onnxruntime  # noqa: F401
        import rapidocr  # noqa: F401
    except ImportError as e:
        raise MissingDependency("PP-OCR (rapidocr と onnxruntime) が入っていません", fix=INSTALL_FIX) from e
    verify_models()


class Recogniser:
    """PP-OCR's recognition (and, on demand, detection) models, loaded once."""

    def __init__(self, models_dir: str | None = None) -> None:
        from rapidocr import RapidOCR

        paths = verify_models(models_dir)
        threads = {f"EngineConfig.onnxruntime.{k}": 1 for k in ("intra_op_num_threads", "inter_op_num_threads")}
        self._ocr = RapidOCR(params={
            "Global.use_cls": False, "Global.log_level": "error",
            "Det.model_path": str(paths["det"]), "Rec.model_path": str(paths["rec"]),
            "Rec.rec_batch_num": BATCH, "Rec.rec_img_shape": [3, 48, MIN_WIDTH], **threads,
        })
        self._rec = self._ocr._load_rec_model()  # the rec session alone: crops are batched here
        self._lock = threading.Lock()  # one onnxruntime session, callers in several threads
        self.charset = frozenset(self._rec.postprocess_op.character)

    def read(self, crops: list[np.ndarray]) -> list[LineText]:
        """Each grey crop (uint8, paper 255, one line) read; one result per crop, in order."""
        from rapidocr.ch_ppocr_rec import TextRecInput

        if not crops:
            return []
        images = [np.repeat(c[:, :, None], 3, axis=2) if c.ndim == 2 else c for c in crops]
        with self._lock:
            out = self._rec(TextRecInput(img=images, return_word_box=True))
        results = []
        for text, words in zip(out.txts, out.word_results):
            confs = tuple(float(c) for c in (words.confs if words is not None else ()))
            if len(confs) != len(text):  # no per-character scores: the line's for each
                confs = (0.0,) * len(text)
            results.append(LineText(text, confs, _centres(words)))
        return results

    def lines(self, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Boxes (x0, y0, x1, y1) of the text lines PP-OCR's detector finds, top to bottom."""
        from rapidocr.ch_ppocr_det import TextDetector

        with self._lock:
            if self._ocr.text_det is None:
                self._ocr._load_det_model()
            det: TextDetector = self._ocr.text_det
            res = det(np.repeat(gray[:, :, None], 3, axis=2))
        if res.boxes is None:
            return []
        boxes = []
        for quad in res.boxes:
            xs, ys = quad[:, 0], quad[:, 1]
            boxes.append((int(xs.min()), int(ys.min()), int(np.ceil(xs.max())), int(np.ceil(ys.max()))))
        return sorted(boxes, key=lambda b: (b[1], b[0]))


def _centres(words: object) -> tuple[float, ...]:
    """Each decoded character's centre across its crop: CTC columns over the line's columns."""
    cols = [c for group in getattr(words, "word_cols", None) or [] for c in group]
    length = float(getattr(words, "line_txt_len", 0.0) or 0.0)
    if not cols or length <= 0:
        return ()
    return tuple(min(1.0, (c + 0.5) / length) for c in cols)


_recognisers: dict[str | None, Recogniser] = {}
_lock = threading.Lock()


def recogniser(cfg: OcrConfig | None = None) -> Recogniser:
    """The process's Recogniser for the configured models folder, loaded on first use."""
    key = cfg.models_dir if cfg is not None else None
    with _lock:
        r = _recognisers.get(key)
        if r is None:
            r = _recognisers[key] = Recogniser(key)
        return r


def describe(models_dir: str | None = None) -> list[tuple[str, str]]:
    """(what, detail) lines for ``kakari doctor``: version, each model file, size and checksum state."""
    out = [("PP-OCR", version())]
    paths = model_paths(models_dir)
    for m in MODELS:
        path = paths[m.role]
        ok = file_sha256(path) == m.sha256
        out.append((f"PP-OCR モデル ({m.role})", f"{path} ({path.stat().st_size / 1e6:.1f} MB, "
                                                   f"SHA-256 {'一致' if ok else '不一致'})"))
    return out

