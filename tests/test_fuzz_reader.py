"""Fuzzing the PDF reader with mutated real PDFs (hypothesis): every input ends as a Document or a
DocumentError with a Japanese reason, within the per-document time limit and bounded memory.

The pipeline under test is the part that parses hostile bytes: sniffing and limits, then the
pdfplumber/pdfminer text layer, run as the pipeline runs it: in a warm reader process under the
time and memory limits (jobs.reading). Examples are bounded (count and total time) so the suite stays
short; the seed database is not kept, so CI explores new inputs.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from jobs.reading import readers
from kakari.config import KakariConfig, LimitsConfig
from kakari.errors import DocumentError
from ocr.inputs import sniff
from ocr.textlayer import read_textlayer

LIMITS = LimitsConfig(max_bytes=2_000_000, max_pages=20, timeout_seconds=10, memory_mb=1536)
CONFIG = KakariConfig(limits=LIMITS)
SEEDS: list[bytes] = []


def read_pdf(path: Path, config: KakariConfig) -> int:
    """In the reader: sniff and read the text layer; the number of pages."""
    if sniff(path, config.limits) != "pdf":
        return 0
    pages = read_textlayer(path, "fuzz", config.limits)
    assert 1 <= len(pages) <= config.limits.max_pages
    return len(pages)


def read_image(path: Path, config: KakariConfig) -> list[str]:
    """In the reader: sniff and decode an image with the page and pixel limits; the pages' modes."""
    from ocr.raster import rasterise

    kind = sniff(path, config.limits)
    if kind == "pdf":
        return []
    return [p.image.mode for p in rasterise(path, kind, None, 300, 40_000_000, config.limits.max_pages)]


def ready(config: KakariConfig) -> bool:
    return True


def hangs(config: KakariConfig) -> None:
    while True:  # what a pathological content stream does to pdfminer
        sum(range(1000))


@pytest.fixture(scope="module", autouse=True)
def seeds(tmp_path_factory: pytest.TempPathFactory) -> None:
    from samples.generate import generate

    out = tmp_path_factory.mktemp("fuzzseeds")
    generate(out, count=2, seed=3)
    SEEDS[:] = [p.read_bytes() for p in sorted(out.rglob("*.pdf"))[:4]]


def mutate(data: bytes, edits: list[tuple[int, int, int]], cut: float | None, splice: bytes) -> bytes:
    """Flip/replace bytes at positions, optionally truncate, optionally splice hostile tokens in."""
    buf = bytearray(data)
    for kind, pos, value in edits:
        i = pos % max(1, len(buf))
        if kind == 0:
            buf[i] = value
        elif kind == 1:
            del buf[i:i + value % 64]
        else:
            buf[i:i] = bytes([value]) * (value % 32 + 1)
    if splice:
        i = edits[0][1] % max(1, len(buf)) if edits else len(buf) // 2
        buf[i:i] = splice
    if cut is not None:
        buf = buf[: int(len(buf) * cut)]
    return bytes(buf)


HOSTILE = [b"", b"/Length 99999999999", b"/Count 4294967295", b"obj << /Type /Pages /Kids [1 0 R] >>",
           b"/Filter /FlateDecode", b"stream\n" + b"\x78\x9c" + b"\x00" * 64 + b"\nendstream", b"%%EOF",
           b"/Encrypt 1 0 R", b"(" * 500, b"[" * 2000, b"1 0 R " * 500, b"/W [0 [" + b"9" * 400 + b"]]"]


@pytest.mark.slow
@settings(max_examples=120, deadline=None, derandomize=False, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 3),
       edits=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10**7), st.integers(0, 255)), max_size=12),
       cut=st.one_of(st.none(), st.floats(0.0, 1.0)),
       splice=st.sampled_from(HOSTILE))
def test_mutated_pdfs_end_as_a_document_or_a_clear_refusal(tmp_path: Path, seed: int, edits: list, cut: float | None,
                                                            splice: bytes) -> None:
    path = tmp_path / "fuzz.pdf"
    path.write_bytes(mutate(SEEDS[seed % len(SEEDS)], edits, cut, splice))
    t0 = time.monotonic()
    try:
        readers.run(read_pdf, (path,), CONFIG)  # memory is bounded by the reader's limit (TooLarge)
    except DocumentError as e:
        assert e.message and not e.message.isascii(), e.message  # a reason a clerk can read
    assert time.monotonic() - t0 < LIMITS.timeout_seconds + 2


def test_deadline_stops_a_read_that_hangs() -> None:
    from kakari.errors import ReadTimeout

    # a warm reader first, on a generous limit (starting one on a busy machine takes seconds): the
    # limit of the next read, not the start, is what is timed
    assert readers.run(ready, (), KakariConfig(limits=LimitsConfig(timeout_seconds=120)))
    config = KakariConfig(limits=LimitsConfig(timeout_seconds=0.5))
    t0 = time.monotonic()
    with pytest.raises(ReadTimeout, match="制限時間"):
        readers.run(hangs, (), config)
    assert time.monotonic() - t0 < 3


IMAGE_SEEDS: list[tuple[str, bytes]] = []


def _image_seeds() -> list[tuple[str, bytes]]:
    if not IMAGE_SEEDS:
        import io

        from PIL import Image, ImageDraw

        im = Image.new("L", (300, 420), 255)
        ImageDraw.Draw(im).rectangle((30, 60, 260, 90), fill=0)
        for fmt, mode in (("PNG", "L"), ("JPEG", "RGB"), ("TIFF", "CMYK"), ("PNG", "P")):
            buf = io.BytesIO()
            im.convert(mode).save(buf, fmt)
            IMAGE_SEEDS.append((fmt, buf.getvalue()))
    return IMAGE_SEEDS


@pytest.mark.slow
@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 3),
       edits=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10**6), st.integers(0, 255)), max_size=10),
       cut=st.one_of(st.none(), st.floats(0.0, 1.0)),
       header=st.sampled_from([b"", b"\xff\xff\xff\x7f", b"\x00\x00\xff\xff\x00\x00\xff\xff"]))
def test_mutated_images_end_as_pages_or_a_clear_refusal(tmp_path: Path, seed: int, edits: list, cut: float | None,
                                                         header: bytes) -> None:
    """PNG/JPEG/TIFF bytes mutated (sizes in the header blown up, bodies cut or scrambled) through
    sniffing and decoding with the page and pixel limits: pages or a DocumentError, never a crash."""
    fmt, data = _image_seeds()[seed]
    mutated = bytearray(mutate(data, edits, cut, b""))
    if header and len(mutated) > 24:  # where PNG keeps its width/height, TIFF its first tags
        mutated[16:16 + len(header)] = header
    path = tmp_path / f"fuzz.{fmt.lower()}"
    path.write_bytes(bytes(mutated))
    t0 = time.monotonic()
    try:
        assert set(readers.run(read_image, (path,), CONFIG)) <= {"L", "RGB"}
    except DocumentError as e:
        assert e.message and not e.message.isascii(), e.message
    assert time.monotonic() - t0 < LIMITS.timeout_seconds + 2
