"""A text layer that lies is read as a scan (ocr/layercheck.py, ocr/fullpage.py, read_document): a
gazette-like page (samples.kanpo) whose digits' font maps its glyphs wrongly or not at all, and vertical
text that pdfplumber's line order scrambles, go through real Tesseract (jpn_vert for the columns); the
reason reaches the log and the events; honest PDFs keep the fast text-layer path."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kakari.config import KakariConfig
from kakari.model import Box
from ocr import layercheck, read_document
from ocr.document import Word, join_chars
from ocr.textlayer import read_textlayer
from samples import kanpo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kanpo")
    kanpo.write(out, 1, 42)
    return out


def truth_of(pdf: Path) -> dict:
    return json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))


def words(text: str, font: str) -> list[Word]:
    return [Word(ch, Box(1, 10 + 4 * i, 10, 3.5, 3.5), 1.0, font) for i, ch in enumerate(text)]


# --- what the check sees --------------------------------------------------------------------------
def test_the_gazettes_garbled_date_is_misfit_and_a_lone_sign_is_not() -> None:
    gazette = words("官報平成", "Body") + words("™—", "Digits") + words("年", "Body") + words("›", "Digits") \
        + words("月", "Body") + words("™œ", "Digits") + words("日", "Body")
    stats = layercheck.misfits_by_font(gazette)
    n, bad, sample = stats["Digits"]
    assert (n, bad) == (5, 4) and sample == "™›™œ"  # — is a dash Japanese text uses
    assert stats["Body"][1] == 0
    page = type("P", (), {"chars": gazette})()
    lie = layercheck.lying_font(page)  # type: ignore[arg-type]
    assert lie is not None and lie.font == "Digits"
    # a trademark sign in a font of its own, a foreign name's é: honest
    honest = words("みどりカード", "Gothic") + words("™", "Helvetica") + words("カフェ・ド・Café", "Gothic")
    assert layercheck.lying_font(type("P", (), {"chars": honest})()) is None  # type: ignore[arg-type]
    assert layercheck.misfits_by_font(words("Café", "Latin"))["Latin"][1] == 0
    # unmapped glyphs are misfits wherever they stand
    assert layercheck.misfits_by_font(words("\ufffd\ue012a", "X"))["X"][1] == 2


def test_fitted_thresholds_separate_the_fitting_corpus(tmp_path: Path) -> None:
    """ocr/layercheck.py's thresholds lie inside the gap benchmarks/fit_layercheck.py measures."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import fit_layercheck as fit

    measured, _ = fit.measure(fit.corpus(tmp_path, 1, 7))
    fitted = fit.fit(measured)
    assert fitted["honest_max_count"] < layercheck.LIE_MIN_CHARS <= fitted["lying_min_count"]
    assert fitted["honest_max_share"] < layercheck.LIE_SHARE <= fitted["lying_min_share"]
    assert not [m.name for m in measured if m.group in ("forms", "blank", "edge") and m.routed]
    assert all(m.routed for m in measured if not m.honest)


# --- the gazette page ---------------------------------------------------------------------------------
def test_the_layers_lie_as_a_real_gazettes_does(pages: Path) -> None:
    honest, wrong, missing = (read_textlayer(pages / f"kanpo_0001_{v}.pdf", "", KakariConfig().limits)[0]
                              for v in ("honest", "wrong", "missing"))
    date = truth_of(pages / "kanpo_0001_honest.pdf")["header_date"]
    year = date[2:date.index("年")]
    assert f"令和{year}" in honest.text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    assert "令和" in wrong.text and f"令和{year}" not in wrong.text and any(ch in wrong.text for ch in "™›œšžŸ˜")
    assert "\ufffd" in missing.text
    # pdfplumber's characters sorted into lines read the columns across: the first notice is not there
    first = truth_of(pages / "kanpo_0001_honest.pdf")["text"].splitlines()[1]
    assert first not in join_chars(honest.chars).replace("\n", "")
    assert layercheck.is_vertical(honest, 20)


@pytest.mark.parametrize("variant", ["wrong", "missing"])
def test_a_lying_layer_is_detected_and_the_page_ocrd(pages: Path, variant: str) -> None:
    pdf = pages / f"kanpo_0001_{variant}.pdf"
    truth = truth_of(pdf)
    doc = read_document(pdf, KakariConfig())
    assert doc.engine != "textlayer" and doc.pages[0].source == "scan"
    [note] = doc.notes
    assert "KanpoDigits" in note and layercheck.LIES in note and layercheck.VERTICAL in note
    page = doc.pages[0]
    assert page.writing == "vertical" and page.lines
    text = doc.text
    assert truth["header_date"] in text  # the date reads right: 令和X年Y月Z日
    read = [d for d in truth["dates"] if d in text]
    assert len(read) >= 0.75 * len(truth["dates"]), (truth["dates"], text)
    assert not any(ch in text for ch in "™›œšžŸ˜\ufffd")


def test_honest_vertical_text_is_read_in_column_order(pages: Path) -> None:
    pdf = pages / "kanpo_0001_honest.pdf"
    truth = truth_of(pdf)
    doc = read_document(pdf, KakariConfig())
    assert doc.pages[0].source == "scan" and doc.pages[0].writing == "vertical"
    assert doc.notes and layercheck.VERTICAL in doc.notes[0] and "対応表" not in doc.notes[0]
    text = doc.text
    assert truth["header_date"] in text
    assert sum(d in text for d in truth["dates"]) >= 0.75 * len(truth["dates"])
    assert "みどり町告示第" in text  # the first column of a notice, in order


def test_the_reason_is_in_the_events(pages: Path, tmp_path: Path) -> None:
    """kakari run on a lying gazette page: the read event says why it was read as an image (the page
    is no form of the job, so it then goes to the error folder with its reason, as any stray file)."""
    home = tmp_path / "home"
    inbox = home / "jobs" / "kodomo_iryo" / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy2(pages / "kanpo_0001_wrong.pdf", inbox / "官報.pdf")
    env = os.environ | {"COLUMNS": "300"}
    cmd = [sys.executable, "-m", "kakari.cli"]
    config = ROOT / "samples" / "kakari.toml"
    subprocess.run([*cmd, "run", "kodomo_iryo", "--config", str(config), "--home", str(home)], cwd=ROOT,
                   capture_output=True, text=True, env=env, timeout=600, check=False)
    hist = subprocess.run([*cmd, "history", "官報.pdf", "--config", str(config), "--home", str(home)], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=120, check=True).stdout
    assert "KanpoDigits" in hist and layercheck.LIES in hist, hist
    assert list((home / "jobs" / "kodomo_iryo").rglob("官報.pdf")), "the file is kept somewhere"


def test_sample_forms_and_blanks_stay_on_the_text_layer(tmp_path: Path) -> None:
    """The fast path is kept: every bot's blank, and forms whose values are in another font."""
    from samples import fonts
    from samples.generate import Typefaces, generate

    cfg = KakariConfig()
    for blank in sorted((ROOT / "bots").glob("*.blank.pdf")):
        assert read_document(blank, cfg).engine == "textlayer", blank.name
    generate(tmp_path, 3, 3, ["child_medical", "restaurant_permit", "juminhyo_request"],
             Typefaces(value=fonts.font("noto-serif")))
    for pdf in sorted(tmp_path.rglob("*.pdf")):
        doc = read_document(pdf, cfg)
        assert doc.engine == "textlayer" and doc.notes == [], pdf.name


def test_vertical_share_is_the_nearest_neighbour_of_every_character() -> None:
    """Comparing each character only with those within reach gives what comparing every pair gives,
    ties (a regular grid, characters on top of each other) and mixed sizes included."""
    import math
    import random

    rng = random.Random(8)
    line = [Word("字", Box(1, 10.0 * i, 10.0, 8.0, 8.0)) for i in range(64)]
    alone = Word("字", Box(1, 0.0, 300.0, 8.0, 8.0))  # far below the line, in a block of its own
    assert layercheck.vertical_share([*line, alone]) == (0.0, 64)
    assert layercheck.vertical_share([line[0], alone]) == (0.0, 0)
    for _ in range(150):
        step = rng.choice([(10.0, 10.0), (20.0, 10.0), (10.0, 20.0), (0.0, 0.0)])
        chars = []
        for _ in range(rng.randint(0, 160)):
            x = rng.randint(0, 12) * step[0] if step[0] else rng.uniform(0, 300)
            y = rng.randint(0, 40) * step[1] if step[1] else rng.uniform(0, 400)
            s = rng.choice([3.0, 8.0, 10.0, 30.0])
            chars.append(Word(rng.choice("あ 字1"), Box(1, x, y, s, s)))
        solid = [c for c in chars if c.text.strip()]
        vertical = counted = 0
        for i, c in enumerate(solid):
            others = [(math.dist((c.cx, c.cy), (o.cx, o.cy)), j) for j, o in enumerate(solid) if j != i]
            if not others:
                continue
            dist, j = min(others)
            o = solid[j]
            if dist <= 1.6 * max(c.box.w, c.box.h, o.box.w, o.box.h):
                counted += 1
                vertical += abs(o.cy - c.cy) > abs(o.cx - c.cx)
        share, n = layercheck.vertical_share(chars)
        assert n == counted and share == pytest.approx(vertical / counted if counted else 0.0)
