"""benchmarks/results.py: a script rewrites its own section of RESULTS.md and nothing else."""
from __future__ import annotations

from pathlib import Path

from benchmarks.results import KEPT, write_section


def test_a_rewritten_section_keeps_the_other_sections_and_its_hand_written_part(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    write_section("OCR", "run 1: 27%", path)
    write_section("KPI", "7.2 s", path)
    text = path.read_text(encoding="utf-8").replace("run 1: 27%\n", f"run 1: 27%\n\n{KEPT}\nHistory: 57% at first.\n")
    path.write_text(text, encoding="utf-8")

    write_section("OCR", "run 2: 12%", path)

    text = path.read_text(encoding="utf-8")
    assert "run 2: 12%" in text and "run 1" not in text
    assert "History: 57% at first." in text and text.count(KEPT) == 1
    assert text.index("run 2: 12%") < text.index("History") < text.index("## KPI")
    assert "7.2 s" in text
