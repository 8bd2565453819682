"""Both real recognisers: PP-OCR (rapidocr, the model files of its wheel) and Tesseract (tesserocr,
and pytesseract where tesserocr cannot be imported). Nothing is downloaded: the models load and read
with every network connection made to fail."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from kakari.errors import MissingDependency
from ocr import ppocr
from ocr.tesseract import find_tessdata, ocr_crop
from samples.fonts import font, locate, spec

ROOT = Path(__file__).resolve().parents[1]
GOTHIC = str(font("ipa-gothic").path)  # found by file name, wherever the platform keeps fonts
NOTO = str(noto.path) if (noto := locate(spec("noto-sans"))) else ""
PX = round(11 / 72 * 300)


def crop_of(text: str, font: str = GOTHIC, lines: int = 1) -> np.ndarray:
    """A cleaned zone: `text` (lines split at "\\n") in black on white, trimmed with a 12 px margin."""
    f = ImageFont.truetype(font, PX)
    rows = text.split("\n")
    im = Image.new("L", (PX * (max(map(len, rows)) + 4), PX * (2 * len(rows) + 2)), 255)
    for i, row in enumerate(rows):
        ImageDraw.Draw(im).text((PX, PX + i * 2 * PX), row, fill=0, font=f)
    a = np.asarray(im)
    ys, xs = np.nonzero(a < 128)
    return np.pad(a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1], 12, constant_values=255)


@pytest.fixture(scope="module")
def rec() -> ppocr.Recogniser:
    return ppocr.recogniser()


def test_ppocr_reads_zone_crops_in_a_batch(rec: ppocr.Recogniser) -> None:
    fonts = [GOTHIC] + ([NOTO] if Path(NOTO).is_file() else [])
    texts = ["令和6年6月30日", "若葉県みどり町中央1丁目20番11号", "090-1234-5678", "ヤマダ", "16,000"]
    crops = [crop_of(t, f) for f in fonts for t in texts]
    out = rec.read(crops)
    assert [o.text for o in out] == texts * len(fonts)
    assert all(len(o.confs) == len(o.text) and o.weakest > 0.5 for o in out)


def test_ppocr_cannot_tell_a_variant_kanji(rec: ppocr.Recogniser) -> None:
    # why the variant check exists: 髙 is read as the common 高, and sure of it
    [out] = rec.read([crop_of("髙橋")])
    assert out.text == "高橋" and out.weakest > 0.9


def test_detection_finds_the_lines_of_free_text(rec: ppocr.Recogniser) -> None:
    boxes = rec.lines(crop_of("営業時間は午前十時から\n午後九時までです"))
    assert len(boxes) == 2 and boxes[0][1] < boxes[1][1]


def test_tesseract_reads_a_zone_in_process() -> None:
    td = find_tessdata()
    assert td is not None, "jpn.traineddata missing: make setup installs tesseract-ocr-jpn"
    assert ocr_crop(crop_of("0569-51-3413"), "digits", td).text == "0569-51-3413"


def test_a_character_tesseract_reads_from_no_ink_is_left_out() -> None:
    # jpn reads the blank of a full-width space between katakana words as ソ; its box holds only paper
    td = find_tessdata()
    assert td is not None
    crop = crop_of("キムラ\u3000リン")
    read = ocr_crop(crop, "kana", td)
    assert read.text == "キムラリン"
    assert all((crop[y0:y1, x0:x1] < 255).any() for x0, y0, x1, y1 in (g.box for g in read.glyphs))


def test_models_are_the_pinned_files_and_never_fetched(tmp_path: Path) -> None:
    paths = ppocr.verify_models()
    assert {p.name for p in paths.values()} == {m.name for m in ppocr.MODELS}
    # a folder without them: a missing dependency with the fix, not a download
    with pytest.raises(MissingDependency) as err:
        ppocr.verify_models(str(tmp_path))
    assert "rapidocr" in err.value.fix
    # a file of the right name but other content is not the model that was measured
    for m in ppocr.MODELS:
        (tmp_path / m.name).write_bytes(b"not a model")
    with pytest.raises(MissingDependency) as err:
        ppocr.verify_models(str(tmp_path))
    assert "SHA-256" in err.value.message


NO_NETWORK = textwrap.dedent('''
    import socket, sys
    def refuse(*a, **k):
        raise OSError("network use attempted")
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    sys.path.insert(0, {root!r})
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont
    from ocr import ppocr
    f = ImageFont.truetype({font!r}, 46)
    im = Image.new("L", (600, 140), 255)
    ImageDraw.Draw(im).text((20, 40), "申請者氏名", fill=0, font=f)
    r = ppocr.Recogniser()
    print(r.read([np.asarray(im)])[0].text, len(r.lines(np.asarray(im))))
''')


def test_nothing_touches_the_network() -> None:
    code = NO_NETWORK.format(root=str(ROOT), font=GOTHIC)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["申請者氏名", "1"]


WITHOUT_TESSEROCR = textwrap.dedent('''
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "tesserocr" or name.startswith("tesserocr."):
                raise ImportError("tesserocr hidden (as on Windows)")
            return None
    sys.meta_path.insert(0, Block())
    sys.path.insert(0, {root!r})
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont
    from ocr import tesseract
    assert not tesseract.in_process()
    td = tesseract.check()
    f = ImageFont.truetype({font!r}, 46)
    im = Image.new("L", (700, 100), 255)
    ImageDraw.Draw(im).text((20, 20), "090-1234-5678", fill=0, font=f)
    zt = tesseract.ocr_crop(np.asarray(im), "digits", td)
    print(zt.text, 0.0 <= zt.raw <= 1.0, tesseract.version())
''')


def test_pytesseract_reads_where_tesserocr_cannot_be_imported() -> None:
    code = WITHOUT_TESSEROCR.format(root=str(ROOT), font=GOTHIC)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    # (the program's word confidences are lower than tesserocr's per-character ones: an agreement
    # then counts less often, which sends more to 要確認, never less)
    text, in_range, *version = out.stdout.split()
    assert text == "090-1234-5678" and in_range == "True" and "pytesseract" in " ".join(version)


def _tesserocr_in_reader(config: object) -> bool:
    from ocr import tesseract

    return tesseract.in_process()


@pytest.mark.skipif(os.environ.get("KAKARI_TEST_HIDE_TESSEROCR") != "1",
                    reason="checks the suite's tesserocr-hidden mode (make test-portable sets KAKARI_TEST_HIDE_TESSEROCR=1)")
def test_the_suites_hidden_mode_reaches_this_process_its_readers_and_new_interpreters() -> None:
    """What the suite proves in this mode it proves on the pytesseract path, everywhere."""
    from jobs.reading import readers, start_method
    from kakari.config import KakariConfig
    from ocr import tesseract

    assert not tesseract.in_process()
    config = KakariConfig()
    assert readers.run(_tesserocr_in_reader, (), config) is False, start_method(config)
    proc = subprocess.run([sys.executable, "-c", "import tesserocr"], capture_output=True, text=True)
    assert proc.returncode != 0 and "hidden" in proc.stderr
