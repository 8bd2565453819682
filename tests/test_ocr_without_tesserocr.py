"""Scans read where tesserocr cannot be imported (Windows: no wheel on PyPI): Tesseract through its
command line with the same models and settings, hidden from this process and from reader processes."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocr import tesseract
from tests.test_ocr_scan import gray_page, right_or_sent_to_review, run_scans, scans_of

ROOT = Path(__file__).resolve().parents[1]
SHIM = Path(__file__).resolve().parent / "data" / "no_tesserocr"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samples.generate import generate
    from samples.scanlike import make_scans

    out = tmp_path_factory.mktemp("scans")
    generate(out / "pdf", count=2, seed=42)
    make_scans(out / "pdf", out / "scan", seed=42, dpis=(200, 300))
    return out


@pytest.fixture
def hidden(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """tesserocr cannot be imported here nor in the readers (spawned fresh, with the shim first)."""
    from jobs.reading import readers

    monkeypatch.setitem(sys.modules, "tesserocr", None)
    monkeypatch.syspath_prepend(str(SHIM))  # spawn gives the readers this process's sys.path
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SHIM), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("KAKARI_START_METHOD", "spawn")  # a forkserver started earlier would still have it
    readers.close()
    assert not tesseract.in_process()
    yield
    readers.close()


def _tesserocr_here(config: object) -> bool:
    return tesseract.in_process()


def test_the_shim_hides_tesserocr_from_new_interpreters_and_readers(hidden: None) -> None:
    import subprocess

    from jobs.reading import readers
    from kakari.config import KakariConfig

    proc = subprocess.run([sys.executable, "-c", "import tesserocr"], capture_output=True, text=True, env=os.environ)
    assert proc.returncode != 0 and "hidden" in proc.stderr
    assert readers.run(_tesserocr_here, (), KakariConfig()) is False


def test_orientation_by_osd_through_the_command(samples: Path, hidden: None) -> None:
    import numpy as np

    from ocr.tesseract import detect_turns, find_tessdata

    page = gray_page(next((samples / "pdf" / "child_medical").glob("child_medical_*.pdf")))
    for turns in (1, 2, 3):
        assert detect_turns(np.rot90(page, -turns).copy(), 300, find_tessdata()) == (4 - turns) % 4


def test_scanned_documents_every_field_right_or_sent_to_review(samples: Path, hidden: None) -> None:
    """The promise to the clerk holds on the command-line path too: what is registered is right."""
    from benchmarks.ocr_scan import run_kakari

    scans = [p for p in scans_of(samples) if p.suffix == ".pdf"]  # a process per zone: a few documents
    results = [run_kakari(str(p)) for p in scans]
    assert len(results) >= 2 and len({d.form for d in results}) >= 2
    assert right_or_sent_to_review(results) >= 0.9


def test_kakari_run_takes_scans_into_the_ledger_through_the_readers(samples: Path, tmp_path: Path,
                                                                    hidden: None) -> None:
    rows = run_scans(samples, tmp_path, 1, timeout_seconds=900)  # a process per zone: many times slower
    assert all(r["申請者氏名"] or r["状態"] == "要確認" for r in rows)
    assert readers_lacked_tesserocr()


def readers_lacked_tesserocr() -> bool:
    from jobs.reading import readers
    from kakari.config import KakariConfig

    return readers.run(_tesserocr_here, (), KakariConfig()) is False


def test_masking_scans_through_the_command_never_releases_a_legible_number(tmp_path: Path, hidden: None) -> None:
    """The masking's page lines (ocr.pagetext) and its verification read through the command too:
    a released copy gives no number back to an independent re-read; what is not found is not released."""
    import json

    from benchmarks.run_masking import COVERED, coverage
    from bots.mask_numbers import MaskNumbers
    from bots.masking.engine import mask_file, tessdata_for
    from bots.masking.verify import verify
    from kakari.config import KakariConfig
    from samples.masking import generate_scans

    config = KakariConfig()
    tessdata = tessdata_for(config)
    covered = numbers = released = 0
    for path in generate_scans(tmp_path / "scans", count=2, seed=5):  # digit boxes, a sentence
        truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        result = mask_file(path, MaskNumbers.spec, config, tmp_path / f"{path.stem}.masked.pdf")
        boxes = [f.box for f in result.findings]
        hits = [coverage(n["box"], [b for b in boxes if b.page == n["page"]]) >= COVERED for n in truth["numbers"]]
        covered, numbers = covered + sum(hits), numbers + len(hits)
        if result.releasable:
            released += 1
            assert all(hits), path.name
            assert verify(result.output, [n["value"] for n in truth["numbers"]], tessdata) == [], path.name
    assert numbers >= 2 and covered >= numbers // 2 and released >= 1
