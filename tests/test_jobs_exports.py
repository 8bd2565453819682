"""An online export through a job (`source = "export"`): every row once in the ledger and the time log,
a re-dropped or overlapping export adds nothing, and each kind of bad export gets a clear reason
without losing anything (the file goes to errors/ with its reason; a bad row goes to 要確認 with its line).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from connectors.excel import read_ledger
from jobs.runner import RunSummary, run_job
from jobs.store import Store
from jobs.timelog import TimeLog
from kakari.config import KakariConfig, RunContext, load_config
from kakari.model import Status
from samples.exports import Export

ROOT = Path(__file__).resolve().parents[1]
JOB = "kodomo_iryo_online"


def home(tmp_path: Path) -> KakariConfig:
    return load_config(ROOT / "samples" / "kakari.toml", tmp_path / "home")


def export(tmp_path: Path, count: int = 30, start: int = 1, fmt: str | None = None, attachments: str = "none",
           name: str | None = None) -> Export:
    from samples.exports import generate

    return generate(tmp_path / "s", "child_medical", count=count, seed=7, start=start, fmt=fmt,
                    attachments=attachments, name=name)


def drop(config: KakariConfig, *paths: Path | None, name: str | None = None) -> None:
    inbox = config.job(JOB).folders(config.home)["inbox"]
    inbox.mkdir(parents=True, exist_ok=True)
    for p in paths:
        if p is None:
            continue
        target = inbox / (name + p.suffix if name else p.name)
        (shutil.copytree if p.is_dir() else shutil.copy2)(p, target)


def run(config: KakariConfig) -> RunSummary:
    return run_job(config.job(JOB), RunContext(config))


def ledger(config: KakariConfig) -> list[dict[str, object]]:
    path = config.job(JOB).ledger_path(config.home)
    return read_ledger(path) if path.exists() else []


def truth(e: Export) -> list[dict[str, object]]:
    return json.loads(e.truth.read_text(encoding="utf-8"))["rows"]


def test_every_row_once_and_again_adds_nothing(tmp_path: Path) -> None:
    config = home(tmp_path)
    first = export(tmp_path, count=30, fmt="csv")  # Shift_JIS, as most services write it
    drop(config, first.path)
    summary = run(config)
    expected = truth(first)
    assert len(summary.outcomes) == 30 and not summary.errors
    rows = ledger(config)
    assert len(rows) == 30 and len({r["文書ID"] for r in rows}) == 30
    bad = {r["receipt"] for r in expected if r["expected_status"] == "要確認"}
    unattached = {r["receipt"] for r in expected if r["attachments"]}  # referenced, but none came with it
    assert bad and unattached and {o.original_name.split("受付番号 ")[1] for o in summary.outcomes
                    if o.status == Status.REVIEW} == bad | unattached
    frame = TimeLog(Store(config.database_url)).frame()
    assert len(frame) == 30 and set(frame["task"]) == {"子ども医療費受給資格証交付申請の受付入力（電子申請）"}
    assert set(frame["minutes_before"]) == {6.0}  # the mapping's 導入前, not the paper form's

    drop(config, first.path, name="申請一覧_再ダウンロード")  # the same export again, under another name
    overlap = export(tmp_path, count=30, start=21, fmt="xlsx")  # rows 21-30 again, 31-50 new, as Excel
    drop(config, overlap.path)
    again = run(config)
    assert sum(not o.replayed for o in again.outcomes) == 20
    rows = ledger(config)
    assert len(rows) == 50 and len({r["文書ID"] for r in rows}) == 50
    assert len(TimeLog(Store(config.database_url)).frame()) == 50
    archive = config.job(JOB).folders(config.home)["archive"]
    assert len([p for p in archive.iterdir() if p.is_file()]) == 3  # every export kept, none vanished


def test_a_bad_row_goes_to_review_with_its_line_and_the_rest_go_on(tmp_path: Path) -> None:
    config = home(tmp_path)
    e = export(tmp_path, count=12, fmt="csv-utf8")
    text = e.path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = text[0].rstrip("\r\n").split(",")
    cells = text[4].rstrip("\r\n").split(",")  # line 5 of the file
    cells[header.index("郵便番号")] = "98961"
    cells[header.index("対象児童生年月日")] = "令和3年2月30日"
    text[4] = ",".join(cells) + "\r\n"
    e.path.write_text("".join(text), encoding="utf-8")
    drop(config, e.path)
    summary = run(config)
    assert len(summary.outcomes) == 12 and not summary.errors
    line5 = [o for o in summary.outcomes if " 5行目" in o.original_name]
    assert len(line5) == 1 and line5[0].status == Status.REVIEW
    assert line5[0].reason.startswith("5行目: ") and "郵便番号" in line5[0].reason
    assert "生年月日" in line5[0].reason
    assert len(ledger(config)) == 12
    doc = Store(config.database_url).document(line5[0].doc_id, JOB)
    assert doc["status"] == Status.REVIEW.value and doc["record"]["meta"]["export"]["line"] == 5


def test_a_missing_column_names_the_column_and_the_mapping_file(tmp_path: Path) -> None:
    config = home(tmp_path)
    e = export(tmp_path, count=5, fmt="csv-utf8")
    e.path.write_text(e.path.read_text(encoding="utf-8").replace("保険者番号", "保険者の番号", 1), encoding="utf-8")
    drop(config, e.path)
    summary = run(config)
    assert [o.status for o in summary.outcomes] == [Status.ERROR]
    reason = summary.outcomes[0].reason
    assert "「保険者番号」" in reason and "child_medical.export.toml" in reason and "保険者の番号" in reason
    errors = config.job(JOB).folders(config.home)["errors"]
    assert (errors / e.path.name).is_file()  # never vanishes
    assert "保険者番号" in (errors / (e.path.name + ".error.txt")).read_text(encoding="utf-8")
    assert ledger(config) == [] and TimeLog(Store(config.database_url)).frame().empty

    # the town fixes the mapping (here: the export) and drops it again: the same bytes are taken now
    e.path.write_text(e.path.read_text(encoding="utf-8").replace("保険者の番号", "保険者番号", 1), encoding="utf-8")
    drop(config, e.path)
    assert len(run(config).outcomes) == 5 and len(ledger(config)) == 5


@pytest.mark.parametrize(("encode", "said"), [
    (lambda t: t.encode("euc_jp"), "EUC-JP"),
    (lambda t: t.encode("utf-8").decode("cp932", errors="replace").encode("utf-8"), "文字化け"),
    (lambda t: t.encode("utf-16-le"), "UTF-16"),
], ids=["euc-jp", "utf8-read-as-sjis-and-saved", "utf16-without-bom"])
def test_an_export_in_an_unexpected_encoding_is_refused_not_misread(tmp_path: Path, encode, said: str) -> None:  # noqa: ANN001
    config = home(tmp_path)
    e = export(tmp_path, count=5, fmt="csv-utf8")
    e.path.write_bytes(encode(e.path.read_text(encoding="utf-8")))
    drop(config, e.path)
    summary = run(config)
    assert [o.status for o in summary.outcomes] == [Status.ERROR]
    assert said in summary.outcomes[0].reason and "保存し直してください" in summary.outcomes[0].reason
    assert (config.job(JOB).folders(config.home)["errors"] / e.path.name).is_file()
    assert ledger(config) == []  # no mojibake reached the ledger


def test_not_a_table_and_an_empty_export(tmp_path: Path) -> None:
    config = home(tmp_path)
    inbox = config.job(JOB).folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    (inbox / "申請一覧.csv").write_bytes(b"")
    (inbox / "壊れた.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    summary = run(config)
    assert sorted(o.status for o in summary.outcomes) == [Status.ERROR, Status.ERROR]
    assert all(o.reason for o in summary.outcomes)
    errors = config.job(JOB).folders(config.home)["errors"]
    assert {"申請一覧.csv", "壊れた.xlsx"} <= {p.name for p in errors.iterdir()}


def test_attachments_are_read_and_linked_to_their_application(tmp_path: Path) -> None:
    config = home(tmp_path)
    e = export(tmp_path, count=10, fmt="csv", attachments="zip")
    drop(config, e.path, e.companion)
    summary = run(config)
    assert len(summary.outcomes) == 10
    store = Store(config.database_url)
    want = {r["receipt"]: r for r in truth(e)}
    linked = 0
    for o in summary.outcomes:
        meta = store.document(o.doc_id, JOB)["record"]["meta"]
        row = want[meta["export"]["receipt"]]
        present = [n for n in row["attachments"] if n not in row["missing"]]
        assert sorted(a["name"] for a in meta["attachments"]) == sorted(present)
        linked += len(present)
        if row["missing"]:
            assert o.status == Status.REVIEW
    assert linked
    archive = config.job(JOB).folders(config.home)["archive"]
    assert (archive / e.companion.name).is_file()  # the attachments are kept beside the export


def test_an_attachment_bomb_is_refused_by_the_readers_limits_and_the_row_goes_to_errors(tmp_path: Path) -> None:
    """Attachments are read in the reader processes, under the documents' time and memory limits: an
    inflate bomb in one row's attachment ends that row as エラー with the reason (the rest go on)."""
    from samples.hostile import bomb_pdf

    config = home(tmp_path)
    config.limits.memory_mb = 1024
    config.limits.max_inflated_bytes = 64 * 1024 ** 3  # raised, as a town may: the memory limit stops it
    e = export(tmp_path, count=6, fmt="csv", attachments="folder")
    assert e.companion is not None
    rows = truth(e)
    bombed = next(r for r in rows if any(n.endswith(".pdf") and n not in r["missing"] for n in r["attachments"]))
    name = next(n for n in bombed["attachments"] if n.endswith(".pdf") and n not in bombed["missing"])
    target = next(e.companion.rglob(name))
    bomb_pdf(target, 2 * 1024 ** 2)  # about 2 GiB inflated
    drop(config, e.path, e.companion)
    summary = run(config)
    assert len(summary.outcomes) == 6
    store = Store(config.database_url)
    by_receipt = {store.document(o.doc_id, JOB)["record"]["meta"]["export"]["receipt"]: o for o in summary.outcomes}
    hit = by_receipt[bombed["receipt"]]
    assert hit.status == Status.ERROR
    assert "添付ファイル" in hit.reason and "上限 (1,024 MB)" in hit.reason
    assert all(o.status != Status.ERROR for o in summary.outcomes if o is not hit)
    assert len(ledger(config)) >= 5  # the other rows are written
    archive = config.job(JOB).folders(config.home)["archive"]
    assert (archive / e.companion.name / target.relative_to(e.companion)).is_file()  # nothing is lost


def test_an_exports_attachment_folder_in_the_inbox_is_taken_with_it_without_a_warning(tmp_path: Path) -> None:
    """The folder beside an export is its attachments: no 「フォルダーです」 warning for it (it is read
    with the export); a folder whose export has not arrived is said to be waiting for it."""
    from kakari.log import logger

    config = home(tmp_path)
    e = export(tmp_path, count=6, fmt="csv", attachments="folder")
    assert e.companion is not None and e.companion.is_dir()
    drop(config, e.path, e.companion)
    inbox = config.job(JOB).folders(config.home)["inbox"]
    (inbox / "申請一覧_未着").mkdir()  # its export is still being copied
    (inbox / "申請一覧_未着" / "x.pdf").write_bytes(b"%PDF-1.4")
    said: list[tuple[str, str]] = []
    sink = logger.add(lambda m: said.append((m.record["level"].name, m.record["message"])), level="INFO")
    try:
        summary = run(config)
    finally:
        logger.remove(sink)
    assert len(summary.outcomes) == 6
    notices = [(level, text) for level, text in said if "は処理しません" in text]  # names are masked in logs
    assert len(notices) == 1, notices  # the export's own folder is not one of them
    level, text = notices[0]
    assert level == "WARNING" and "同じ名前のエクスポート" in text and "待っています" in text
    assert "フォルダーです。中のファイル" not in text
    store = Store(config.database_url)
    assert any(store.document(o.doc_id, JOB)["record"]["meta"]["attachments"] for o in summary.outcomes)
    archive = config.job(JOB).folders(config.home)["archive"]
    assert (archive / e.companion.name).is_dir() and (inbox / "申請一覧_未着").is_dir()
