"""Item 7: an inflate bomb — a PDF of a few megabytes whose content stream inflates to gigabytes — is
refused with a clear reason, and reading it never costs more than MEMORY_LIMIT of resident memory,
up to the size limit (50 MB of compressed data: about 54 GB inflated). Image bombs that pass the
inflate check are bounded by the reader's memory limit. Peak memory is measured over the whole
`kakari run` process tree, readers included (benchmarks/peak_memory.py)."""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.peak_memory import run_measured as measure
from samples.hostile import bomb_pdf, image_bomb_pdf, png_bomb
from tests.security.conftest import CHILD_JOB, CONFIG, KAKARI, ROOT

MEMORY_LIMIT = 1 << 30  # 1 GiB: the documented most one hostile document may cost (README, RESULTS.md)
MAX_BYTES = 50 * 1024 * 1024  # kakari's default limits.max_bytes

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the peak of a process tree with a forkserver's readers is read as their subreaper (Linux)")


def run_measured(home: Path, job: str = CHILD_JOB, config: Path = CONFIG) -> tuple[int, int, str]:
    """(exit code, peak resident bytes, console) of `kakari run` over the home's inbox."""
    return measure([KAKARI, "run", job, "--config", str(config), "--home", str(home)], ROOT, timeout=600)


@pytest.mark.parametrize(("compressed", "stages"), [(4_000_000, 1), (MAX_BYTES - 8192, 1), (4_000_000, 2)],
                         ids=["4MB", "size-limit", "two-stage"])
def test_an_inflate_bomb_is_refused_within_the_memory_limit(tmp_path: Path, compressed: int, stages: int) -> None:
    home = tmp_path / "home"
    inbox = home / "jobs" / CHILD_JOB / "inbox"
    inbox.mkdir(parents=True)
    inflated = bomb_pdf(inbox / "bomb.pdf", compressed, stages)
    assert inflated > 3 * MEMORY_LIMIT and (inbox / "bomb.pdf").stat().st_size <= MAX_BYTES
    os.utime(inbox / "bomb.pdf", (time.time() - 10, time.time() - 10))
    code, peak, console = run_measured(home)
    assert code == 4, console  # one document failed, with its reason; nothing crashed
    note = (home / "jobs" / CHILD_JOB / "errors" / "bomb.pdf.error.txt").read_text(encoding="utf-8")
    assert "圧縮" in note and "制限時間" not in note, note  # refused as a bomb, not timed out
    assert peak < MEMORY_LIMIT, f"peak {peak / 2**20:.0f} MiB"


def test_a_masking_job_refuses_a_bomb_before_it_masks(tmp_path: Path) -> None:
    """The masking bot opens its PDFs itself (to burn boxes into page images): the same check comes
    first, so a bomb dropped into a 墨塗り inbox is refused as cheaply."""
    config = tmp_path / "kakari.toml"
    config.write_text('[jobs.masking]\ndepartment = "市民課"\nbots = ["mask_numbers"]\n', encoding="utf-8")
    home = tmp_path / "home"
    inbox = home / "jobs" / "masking" / "inbox"
    inbox.mkdir(parents=True)
    bomb_pdf(inbox / "bomb.pdf", 4_000_000, 1)
    os.utime(inbox / "bomb.pdf", (time.time() - 10, time.time() - 10))
    code, peak, console = run_measured(home, "masking", config)
    assert code == 4, console
    note = (home / "jobs" / "masking" / "errors" / "bomb.pdf.error.txt").read_text(encoding="utf-8")
    assert "圧縮" in note and "制限時間" not in note, note
    assert not list((home / "jobs" / "masking").glob("output/*")), "a bomb was released as a masked copy"
    assert peak < MEMORY_LIMIT, f"peak {peak / 2**20:.0f} MiB"


# Each passes the inflate check (or is no PDF): what bounds it is the reader's memory limit.
IMAGE_BOMBS: dict[str, tuple[str, Callable[[Path], int]]] = {
    "png-at-the-pixel-limit": ("bomb.png", lambda p: png_bomb(p, 10000, 12000)),  # 120 Mpx RGBA, 0.5 MB
    "pdf-page-of-four-images": ("bomb.pdf", lambda p: image_bomb_pdf(p, 10000, 12000, images=4)),
}


@pytest.mark.parametrize("bomb", list(IMAGE_BOMBS))
def test_an_image_bomb_past_the_inflate_check_is_bounded_by_the_reader(tmp_path: Path, bomb: str) -> None:
    name, make = IMAGE_BOMBS[bomb]
    home = tmp_path / "home"
    inbox = home / "jobs" / CHILD_JOB / "inbox"
    inbox.mkdir(parents=True)
    decoded = make(inbox / name)
    assert decoded > MEMORY_LIMIT / 3 and (inbox / name).stat().st_size < 1_000_000
    os.utime(inbox / name, (time.time() - 10, time.time() - 10))
    code, peak, console = run_measured(home)
    assert code == 4, console  # one document in errors/, nothing crashed
    note = (home / "jobs" / CHILD_JOB / "errors" / f"{name}.error.txt").read_text(encoding="utf-8")
    reason = note.split("理由: ", 1)[1]
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in reason), note  # Japanese
    assert "Traceback" not in note and "MemoryError" not in note, note
    assert peak < MEMORY_LIMIT, f"peak {peak / 2**20:.0f} MiB"
