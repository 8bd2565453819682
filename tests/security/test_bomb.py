"""Item 7: an inflate bomb — a PDF of a few megabytes whose content stream inflates to gigabytes — is
refused with a clear reason, and reading it never costs more than MEMORY_LIMIT of resident memory,
up to the size limit (50 MB of compressed data: about 54 GB inflated). Peak memory is measured over
the whole `kakari run` process tree (RUSAGE_CHILDREN of a fresh parent)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from samples.hostile import bomb_pdf
from tests.security.conftest import CHILD_JOB, CONFIG, KAKARI, ROOT

MEMORY_LIMIT = 1 << 30  # 1 GiB: the documented most one hostile document may cost (README, RESULTS.md)
MAX_BYTES = 50 * 1024 * 1024  # kakari's default limits.max_bytes

pytestmark = pytest.mark.skipif(os.name != "posix", reason="peak memory of a process tree is read with resource")

MEASURE = ("import resource, subprocess, sys\n"
           "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
           "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
           "sys.stderr.write(p.stdout + p.stderr)\n")


def run_measured(home: Path, job: str = CHILD_JOB, config: Path = CONFIG) -> tuple[int, int, str]:
    """(exit code, peak resident bytes, console) of `kakari run` over the home's inbox."""
    proc = subprocess.run([sys.executable, "-c", MEASURE, KAKARI, "run", job, "--config", str(config),
                           "--home", str(home)], capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env=os.environ | {"COLUMNS": "200"})
    code, peak = proc.stdout.split()
    return int(code), int(peak), proc.stderr


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
