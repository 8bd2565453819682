"""Helpers of the web-entry tests: a kakari home whose systems/<name>.toml is a built-in mapping with short
backoffs and a test's edits, and the check that each record is in a sample system once, right."""
from __future__ import annotations

from pathlib import Path

import pytest

from connectors.webmapping import SYSTEMS_DIR, load_system
from kakari.model import Record
from samples.backoffice.records import mismatches
from samples.backoffice.server import Backoffice


def mapping_home(home: Path, system: str, *replacements: tuple[str, str]) -> Path:
    text = (SYSTEMS_DIR / f"{system}.toml").read_text(encoding="utf-8")
    text = text.replace("backoff_seconds = [1, 3, 10]", "backoff_seconds = [0.2, 0.5]")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    (home / "systems").mkdir(parents=True, exist_ok=True)
    (home / "systems" / f"{system}.toml").write_text(text, encoding="utf-8")
    return home


def point_at(monkeypatch: pytest.MonkeyPatch, bo: Backoffice, *names: str) -> None:
    """A calm sample system, and the environment a mapping reads its address and sign-in from."""
    bo.calm()
    for name in names:
        monkeypatch.setenv(f"KAKARI_{name}_URL", bo.url)
        monkeypatch.setenv(f"KAKARI_{name}_USER", bo.user)
        monkeypatch.setenv(f"KAKARI_{name}_PASSWORD", bo.password)


def assert_exactly_once(bo: Backoffice, records: list[Record]) -> dict[str, str]:
    """Each record's key once in the system's own database, with the right values; returns key → 受付番号."""
    system = load_system(bo.system)
    by_key = bo.by_key()
    out = {}
    for rec in records:
        key = system.key_for(rec.doc_id)
        rows = by_key.get(key, [])
        assert len(rows) == 1, f"{key}: {len(rows)} rows"
        assert mismatches(rec, rows[0]) == [], key
        out[key] = str(rows[0]["receipt_no"])
    return out
