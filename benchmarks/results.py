"""Write one named section of benchmarks/RESULTS.md, leaving the other sections as they are, and
the hand-written part of this one (history, held-out runs) below its KEPT line."""
from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
KEPT = "<!-- written by hand below: kept when the section is rewritten -->"
HEADER = "# Benchmark results\n\nEach section is rewritten by its script; compare figures within one run (ratios), not across machines.\n"


def write_section(title: str, body: str, path: Path = RESULTS) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    old = pattern.search(text)
    if old:
        kept = old.group(0).partition(KEPT)[2]
        if kept.strip():
            section += f"\n{KEPT}\n{kept.strip()}\n"
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
