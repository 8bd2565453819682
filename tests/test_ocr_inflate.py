"""ocr.inflate: PDF streams are inflated in bounded steps before any parser sees them; bombs (one
stage or chained) and images that declare too many pixels are refused, real forms pass."""
from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from kakari.config import LimitsConfig
from kakari.errors import TooLarge
from ocr.inflate import _inflated, check_pdf_inflation
from ocr.inputs import sniff
from samples.hostile import bomb_pdf

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("stages", [1, 2])
def test_a_bomb_is_refused_by_sniff(tmp_path: Path, stages: int) -> None:
    pdf = tmp_path / "bomb.pdf"
    inflated = bomb_pdf(pdf, 2_000_000, stages)
    assert inflated > 10 * LimitsConfig().max_inflated_bytes
    with pytest.raises(TooLarge, match="圧縮"):
        sniff(pdf, LimitsConfig())


def test_the_budget_is_the_configured_one(tmp_path: Path) -> None:
    pdf = tmp_path / "big.pdf"
    bomb_pdf(pdf, 40_000)  # about 50 MB inflated
    check_pdf_inflation(pdf, LimitsConfig())  # under the default budget
    with pytest.raises(TooLarge):
        check_pdf_inflation(pdf, LimitsConfig(max_inflated_bytes=10 * 1024 * 1024))


def test_blank_forms_pass() -> None:
    for pdf in sorted((ROOT / "bots").glob("*.blank.pdf")):
        assert sniff(pdf, LimitsConfig()) == "pdf"


def test_an_image_declaring_too_many_pixels_is_refused(tmp_path: Path) -> None:
    data = zlib.compress(b"\x00" * 1000)
    head = (b"%PDF-1.4\n1 0 obj\n<< /Type /XObject /Subtype /Image /Width 200000 /Height 200000 "
            b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length " + str(len(data)).encode())
    body = head + b" >>\nstream\n" + data + b"\nendstream\nendobj\n%%EOF\n"
    (tmp_path / "img.pdf").write_bytes(body)
    with pytest.raises(TooLarge, match="画素"):
        check_pdf_inflation(tmp_path / "img.pdf", LimitsConfig())


def test_counting_stops_at_the_cap_and_survives_broken_data() -> None:
    data = b"stream\n" + zlib.compress(b" " * 10_000_000)
    assert _inflated(data, 7, 1, 1_000_000) >= 1_000_000
    assert _inflated(data, 7, 1, 10**9) == 10_000_000
    assert _inflated(b"stream\n\x78\x9cgarbage", 7, 1, 10**9) == 0
