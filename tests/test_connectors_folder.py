"""FolderSource: stable-file check, atomic claim, recovery, finish with reasons, odd names."""
from __future__ import annotations

import os
import time
from pathlib import Path

from connectors.folder import FolderSource, is_ignored, safe_name
from kakari.model import Status


def source(tmp_path: Path, min_age: float = 0.0) -> FolderSource:
    return FolderSource({k: tmp_path / k for k in ("inbox", "processing", "archive", "review", "errors")}, min_age)


def old(path: Path, data: bytes = b"%PDF-1.4 test") -> Path:
    path.write_bytes(data)
    t = time.time() - 60
    os.utime(path, (t, t))
    return path


def test_ignores_temp_and_partial_names() -> None:
    for name in ("~$台帳.xlsx", "scan.pdf.tmp", "scan.part", ".hidden.pdf", "a.pdf.crdownload"):
        assert is_ignored(name), name
    for name in ("申請 0001.pdf", "scan.PDF", "x.tiff"):
        assert not is_ignored(name), name


def test_scan_waits_for_young_files(tmp_path: Path) -> None:
    src = source(tmp_path, min_age=30)
    old(src.inbox / "old.pdf")
    (src.inbox / "new.pdf").write_bytes(b"%PDF-")  # just written: not taken yet
    (src.inbox / "x.tmp").write_bytes(b"x")
    assert [p.name for p in src.scan()] == ["old.pdf"]


def test_scan_with_wait_takes_settled_young_files(tmp_path: Path) -> None:
    src = source(tmp_path, min_age=0.3)
    (src.inbox / "new.pdf").write_bytes(b"%PDF-")
    assert [p.name for p in src.scan(wait=True)] == ["new.pdf"]


def test_claim_is_exclusive_and_keeps_original_name(tmp_path: Path) -> None:
    src = source(tmp_path)
    path = old(src.inbox / "申請書 (1).pdf")
    ref = src.claim(path)
    assert ref is not None and ref.original_name == "申請書 (1).pdf"
    assert ref.path.parent == src.processing and not path.exists()
    assert len(ref.doc_id) == 64
    assert src.claim(path) is None  # a second claimer loses the race
    recovered = list(src.recover())
    assert [r.original_name for r in recovered] == ["申請書 (1).pdf"]
    assert recovered[0].doc_id == ref.doc_id


def test_finish_moves_by_status_and_writes_reason(tmp_path: Path) -> None:
    src = source(tmp_path)
    refs = [src.claim(old(src.inbox / f"{n}.pdf", n.encode())) for n in ("a", "b", "c")]
    assert all(refs)
    a = src.finish(refs[0], Status.REGISTERED)
    b = src.finish(refs[1], Status.REVIEW)
    c = src.finish(refs[2], Status.ERROR, "PDF ではありません")
    assert a == src.targets[Status.REGISTERED] / "a.pdf" and a.exists()
    assert b.parent.name == "review" and c.parent.name == "errors"
    note = c.with_name("c.pdf.error.txt").read_text(encoding="utf-8")
    assert "PDF ではありません" in note and refs[2].doc_id in note
    assert list(src.processing.iterdir()) == []


def test_same_name_twice_gets_a_distinct_name(tmp_path: Path) -> None:
    src = source(tmp_path)
    first = src.finish(src.claim(old(src.inbox / "scan.pdf", b"one")), Status.REGISTERED)
    second = src.finish(src.claim(old(src.inbox / "scan.pdf", b"two")), Status.REGISTERED)
    assert first != second and first.exists() and second.exists()


def test_long_and_hostile_names(tmp_path: Path) -> None:
    src = source(tmp_path)
    long_name = "申請" * 100 + ".pdf"
    assert len(safe_name(long_name).encode()) <= 200 and safe_name(long_name).endswith(".pdf")
    assert safe_name("..") == "_" and "/" not in safe_name("../../etc/passwd")
    ref = src.claim(old(src.inbox / ("長" * 80 + ".pdf")))
    assert ref is not None
    dest = src.finish(ref, Status.ERROR, "テスト")
    assert dest.parent == src.targets[Status.ERROR] and dest.exists()
    assert dest.with_name(dest.name + ".error.txt").exists()


def windows_busy(monkeypatch, module, busy: set[str]) -> None:  # noqa: ANN001
    """os.replace as Windows answers it while another program (a scanner, an antivirus) holds a
    file: PermissionError, winerror 32 (a sharing violation)."""
    real = os.replace

    def replace(src, dst):  # noqa: ANN001, ANN202
        if Path(src).name in busy:
            e = PermissionError(13, "別のプロセスが使用中のため、プロセスはファイルにアクセスできません")
            e.winerror = 32  # type: ignore[attr-defined]
            raise e
        return real(src, dst)

    monkeypatch.setattr(module.os, "replace", replace)


def test_a_busy_file_is_left_for_the_next_pass(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import connectors.folder

    src = source(tmp_path)
    busy = old(src.inbox / "scanning.pdf")
    free = old(src.inbox / "done.pdf")
    windows_busy(monkeypatch, connectors.folder, {"scanning.pdf"})
    assert src.claim(busy) is None and busy.exists()  # not a crash, not an error: it waits in the inbox
    assert src.claim(free) is not None
    monkeypatch.undo()
    ref = src.claim(busy)  # the scanner let go
    assert ref is not None and ref.original_name == "scanning.pdf"


def test_a_finished_file_held_by_another_program_is_moved_on_recovery(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import connectors.folder
    import kakari.files

    monkeypatch.setattr(connectors.folder, "BUSY_WAIT_SECONDS", 0.3)
    src = source(tmp_path)
    ref = src.claim(old(src.inbox / "a.pdf"))
    windows_busy(monkeypatch, kakari.files, {ref.path.name})
    where = src.finish(ref, Status.REGISTERED)
    assert where == ref.path and ref.path.exists()  # still in processing/, nothing lost
    monkeypatch.undo()
    [again] = list(src.recover())
    assert src.finish(again, Status.REGISTERED) == tmp_path / "archive" / "a.pdf"
