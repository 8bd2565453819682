"""`kakari bots test NAME FOLDER --json` (bots/harness.py, bots/cli.py): each document's diffs and the
status it would get, and the sums a town checks before trusting a bot — on text-layer PDFs and on
scans read by real OCR."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from samples.generate import generate

ROOT = Path(__file__).resolve().parents[1]
KAKARI = str(Path(sys.executable).with_name("kakari"))


def bots_test(name: str, folder: Path, home: Path) -> tuple[int, dict]:
    done = subprocess.run([KAKARI, "bots", "test", name, str(folder), "--json", "--home", str(home)],
                          capture_output=True, text=True, timeout=900, check=False)
    try:
        return done.returncode, json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON on stdout: {done.stdout[:500]!r} / {done.stderr[-1500:]}") from None


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("harness")
    generate(out, 20, 29, ["child_medical"])  # two defects: era_child_birth, missing_phone
    return out / "child_medical"


def test_text_layer_folder_sums(folder: Path, tmp_path: Path) -> None:
    code, report = bots_test("child_medical", folder, tmp_path)
    assert code == 0 and report["bot"] == "child_medical"
    s = report["summary"]
    truths = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("child_medical_*.json"))]
    defects = sum(1 for t in truths if t["defect"])
    assert s["documents"] == 20 and s["fields"] == 20 * len(truths[0]["fields"]) == s["exact"]
    assert s["exact_rate"] == 1.0
    assert (s["registered"], s["review"], s["errors"]) == (20 - defects, defects, 0) and defects == 2
    assert s["registered_wrong"] == s["unflagged_wrong"] == s["clean_to_review"] == s["defects_registered"] == 0
    for doc, truth in zip(report["documents"], truths):
        assert doc["status"] == doc["expected_status"] == truth["expected_status"]
        assert doc["engine"] == "textlayer" and doc["diffs"] == []


def test_wrong_values_are_told_apart_by_what_a_clerk_would_see(folder: Path, tmp_path: Path) -> None:
    """Expected values changed after the fact stand for misreadings: one in a document that registers
    (registered without review), one in an unmarked field of a 要確認 document (the clerk would
    confirm it) and one in the marked field of that document (the clerk looks at it)."""
    import shutil

    work = tmp_path / "docs"
    shutil.copytree(folder, work)
    truths = {p: json.loads(p.read_text(encoding="utf-8")) for p in sorted(work.glob("child_medical_*.json"))}
    clean = next(p for p, t in truths.items() if t["defect"] is None)
    marked = next(p for p, t in truths.items() if t["defect"] == "missing_phone")
    truths[clean]["fields"]["address"] += "X"
    truths[marked]["fields"]["guardian_name"] = "別人　花子"  # unmarked in a 要確認 document
    truths[marked]["fields"]["phone"] = "090-0000-0000"  # the field whose problem sent it to 要確認
    for p in (clean, marked):
        p.write_text(json.dumps(truths[p], ensure_ascii=False), encoding="utf-8")
    code, report = bots_test("child_medical", work, tmp_path / "home")
    assert code == 4
    s = report["summary"]
    assert (s["registered_wrong"], s["unflagged_wrong"]) == (1, 1)
    assert s["exact"] == s["fields"] - 3
    docs = {d["file"]: d for d in report["documents"]}
    c, m = docs[clean.with_suffix(".pdf").name], docs[marked.with_suffix(".pdf").name]
    assert c["status"] == "自動登録" and c["registered_wrong"] == ["address"] and c["unflagged_wrong"] == []
    assert m["status"] == "要確認" and m["unflagged_wrong"] == ["guardian_name"] and m["registered_wrong"] == []
    phone = next(d for d in m["diffs"] if d["field"] == "phone")
    assert phone["doubted"] and phone["problems"] and phone["got"] is None
    assert not next(d for d in m["diffs"] if d["field"] == "guardian_name")["doubted"]


def test_doubt_mark_is_the_review_screens(tmp_path: Path) -> None:
    """A field is doubted exactly when the review screen highlights it (problems, or confidence below
    the record's min_confidence)."""
    from jinja2 import Environment, FileSystemLoader

    from kakari.model import Field, Record

    rec = Record("d", "child_medical", min_confidence=0.8)
    rec.fields = {"a": Field("a", "A", confidence=0.95), "b": Field("b", "B", confidence=0.5),
                  "c": Field("c", "C", confidence=0.99, problems=["必須項目が空です"])}
    env = Environment(loader=FileSystemLoader(ROOT / "web" / "templates"))
    source = env.loader.get_source(env, "review.html")[0]
    assert "rec.doubts(f)" in source  # the screen marks what Record.doubts says
    assert [rec.doubts(f) for f in rec.fields.values()] == [False, True, True]


def test_scan_folder_is_read_by_ocr_and_summed_consistently(tmp_path: Path) -> None:
    from samples.scanlike import scan_one

    generate(tmp_path / "pdf", 2, 42, ["restaurant_permit"])
    scans = tmp_path / "scans"
    for i, profile in ((1, "clean"), (2, "fax")):
        scan_one(tmp_path / "pdf" / "restaurant_permit" / f"restaurant_permit_{i:04d}.pdf", scans, 42, 300, profile)
    code, report = bots_test("restaurant_permit", scans, tmp_path / "home")
    s, docs = report["summary"], report["documents"]
    assert s["documents"] == 2 and all(d["engine"] not in ("", "textlayer") for d in docs)
    assert s["fields"] == sum(d["fields"] for d in docs) and s["exact"] == sum(d["exact"] for d in docs)
    assert s["registered"] + s["review"] + s["errors"] == 2
    min_confidence = 0.8  # restaurant_permit.toml
    for d in docs:
        assert d["status"] in ("自動登録", "要確認")
        for diff in d["diffs"]:
            assert diff["doubted"] == (bool(diff["problems"]) or diff["confidence"] < min_confidence)
        wrong = [x["field"] for x in d["diffs"]]
        if d["status"] == "自動登録":
            assert d["registered_wrong"] == wrong
        else:
            assert d["unflagged_wrong"] == [x["field"] for x in d["diffs"] if not x["doubted"]]
    assert s["registered_wrong"] == sum(len(d["registered_wrong"]) for d in docs)
    assert s["unflagged_wrong"] == sum(len(d["unflagged_wrong"]) for d in docs)
    assert code == (4 if any(d["diffs"] for d in docs) else 0)


def test_plain_output_shows_status_and_sums(folder: Path, tmp_path: Path) -> None:
    done = subprocess.run([KAKARI, "bots", "test", "child_medical", str(folder), "--home", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "自動登録" in done.stdout and "要確認" in done.stdout
    assert "確認なしで登録される誤り 0" in done.stdout and "印のない誤り 0" in done.stdout
