"""Excel ledger: real .xlsx files written, reopened and read back."""
from __future__ import annotations

import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table

import connectors.excel
from connectors.excel import ExcelLedger, read_ledger, writers_lock
from kakari.errors import LedgerLocked, LedgerRefused
from kakari.model import Field, Record
from tests.locks import held_by_another_process

COLUMNS = [("name", "氏名"), ("birth", "生年月日"), ("my_number", "個人番号"), ("agree", "同意")]


def rec(doc_id: str, name: str = "緑 花子", **meta: object) -> Record:
    fields = {
        "name": Field("name", "氏名", name),
        "birth": Field("birth", "生年月日", date(2019, 4, 1)),
        "my_number": Field("my_number", "個人番号", "123456789018"),
        "agree": Field("agree", "同意", True),
    }
    m = {"received_at": datetime(2026, 10, 5, 1, 30, tzinfo=timezone.utc), "original_name": f"{doc_id}.pdf",
         "status": "自動登録", "archived_path": f"/archive/{doc_id}.pdf"}
    m.update(meta)
    return Record(doc_id=doc_id, bot="child_medical", fields=fields, meta=m)


def ledger(path: Path, **kw: object) -> ExcelLedger:
    return ExcelLedger(path, COLUMNS, my_number_columns={"my_number"}, **kw)


def test_new_ledger_rows_read_back_and_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "台帳.xlsx"
    res = ledger(path).write_many([rec("a"), rec("b")])
    assert res.written == ["a", "b"]
    res = ledger(path).write_many([rec("b"), rec("c")])
    assert res.written == ["c"] and res.skipped == ["b"]
    rows = read_ledger(path)
    assert [r["文書ID"] for r in rows] == ["a", "b", "c"]
    first = rows[0]
    assert list(first)[:3] == ["文書ID", "受付日時", "元ファイル名"]
    assert list(first)[-3:] == ["状態", "保存先", "備考"]
    assert first["氏名"] == "緑 花子"
    assert first["生年月日"].date() == date(2019, 4, 1)
    assert first["受付日時"] == datetime(2026, 10, 5, 10, 30)  # Tokyo wall time
    assert first["個人番号"] == "********9018"  # masked unless the job keeps it
    assert first["同意"] == "有"
    assert first["状態"] == "自動登録"


def test_keep_my_number(tmp_path: Path) -> None:
    path = tmp_path / "l.xlsx"
    ledger(path, keep_my_number=True).write_many([rec("a")])
    assert read_ledger(path)[0]["個人番号"] == "123456789018"


@pytest.mark.parametrize("evil", ["=HYPERLINK(\"http://x\",\"a\")", "+1+2", "-3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_injection_stored_as_text(tmp_path: Path, evil: str) -> None:
    path = tmp_path / "l.xlsx"
    ledger(path).write_many([rec("a", name=evil)])
    ws = load_workbook(path)["台帳"]
    cell = ws.cell(row=2, column=4)
    assert cell.data_type == "s" and cell.value == evil.replace("\r", "\n")  # line ends are stored as LF
    with zipfile.ZipFile(path) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_control_characters_removed(tmp_path: Path) -> None:
    path = tmp_path / "l.xlsx"
    ledger(path).write_many([rec("a", name="緑\x00\x07 花\x1b子")])
    assert read_ledger(path)[0]["氏名"] == "緑 花子"


def test_existing_town_workbook_is_extended_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "town.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "台帳"
    ws.append(["文書ID", "氏名", "受付日時", "担当者メモ"])  # the town's own order and column
    ws.append(["old-1", "既存 太郎", None, "手書きメモ"])
    for c in ws[2]:
        c.font = Font(name="MS Gothic", color="FF0000")
        c.fill = PatternFill("solid", fgColor="FFFF00")
    ws.add_table(Table(displayName="Daicho", ref="A1:D2"))
    dv = DataValidation(type="list", formula1='"済,未"')
    dv.add("D2:D2")
    ws.add_data_validation(dv)
    wb.create_sheet("メモ")["A1"] = "残す"
    wb.save(path)

    ledger(path).write_many([rec("new-1")])
    wb = load_workbook(path)
    ws = wb["台帳"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["文書ID", "氏名", "受付日時", "担当者メモ"]  # nothing moved
    assert {"元ファイル名", "生年月日", "状態"} <= set(header)
    assert ws["A2"].value == "old-1" and ws["D2"].value == "手書きメモ"
    assert ws["A3"].value == "new-1" and ws["B3"].value == "緑 花子"
    assert ws["B3"].font.color.rgb.endswith("FF0000") and ws["B3"].fill.fgColor.rgb.endswith("FFFF00")
    assert ws.tables["Daicho"].ref == "A1:D3"
    assert "D2:D3" in str(ws.data_validations.dataValidation[0].sqref)
    assert wb["メモ"]["A1"].value == "残す"


def test_update_replaces_row(tmp_path: Path) -> None:
    path = tmp_path / "l.xlsx"
    lg = ledger(path)
    lg.write_many([rec("a", status="要確認"), rec("b")])
    fixed = rec("a", name="緑 花美", status="確認済", confirmation="R8-000123")
    lg.update(fixed)
    rows = read_ledger(path)
    assert len(rows) == 2
    assert rows[0]["氏名"] == "緑 花美" and rows[0]["状態"] == "確認済"
    assert rows[0]["システム受付番号"] == "R8-000123"


def test_refuses_workbook_with_chart(tmp_path: Path) -> None:
    path = tmp_path / "chart.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "台帳"
    for i in range(3):
        ws.append([i, i * 2])
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=3))
    ws.add_chart(chart, "D2")
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(LedgerRefused, match="グラフ"):
        ledger(path).write_many([rec("a")])
    assert path.read_bytes() == before


def test_not_a_workbook_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "l.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(LedgerRefused):
        ledger(path).write_many([rec("a")])
    assert path.read_bytes() == b"not a zip"


def test_locked_by_another_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another kakari process is saving the same ledger: we wait for its lock, then park the rows."""
    path = tmp_path / "l.xlsx"
    ledger(path).write_many([rec("a")])
    written = path.read_bytes()
    monkeypatch.setattr(connectors.excel, "LOCK_WAIT_SECONDS", 0.3)
    with held_by_another_process(writers_lock(path)):
        with pytest.raises(LedgerLocked, match="書き込み中"):
            ledger(path).write_many([rec("b")])
        assert path.read_bytes() == written
    ledger(path).write_many([rec("b")])
    assert [r["文書ID"] for r in read_ledger(path)] == ["a", "b"]


def test_a_workbook_another_program_holds_open_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows refuses to open a workbook Excel holds (a sharing violation): the rows are parked
    before anything is saved, with the reason a clerk reads."""
    path = tmp_path / "l.xlsx"
    ledger(path).write_many([rec("a")])
    written = path.read_bytes()
    real_open = open

    def held(file, mode="r", *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if Path(file) == path and "+" in mode:
            e = PermissionError(13, "別のプロセスが使用中のため、プロセスはファイルにアクセスできません")
            e.winerror = 32  # type: ignore[attr-defined]
            raise e
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(connectors.excel, "open", held, raising=False)  # the ledger module's open only
    with pytest.raises(LedgerLocked, match="使用中"):
        ledger(path).write_many([rec("b")])
    monkeypatch.undo()
    assert path.read_bytes() == written
    ledger(path).write_many([rec("b")])
    assert [r["文書ID"] for r in read_ledger(path)] == ["a", "b"]


def test_excel_owner_file_means_open(tmp_path: Path) -> None:
    path = tmp_path / "l.xlsx"
    ledger(path).write_many([rec("a")])
    owner = tmp_path / "~$l.xlsx"
    owner.write_bytes(b"x")
    with pytest.raises(LedgerLocked, match="開いています"):
        ledger(path).write_many([rec("b")])
    owner.unlink()
    assert ledger(path).write_many([rec("b")]).written == ["b"]


def test_no_temp_files_left(tmp_path: Path) -> None:
    path = tmp_path / "l.xlsx"
    ledger(path).write_many([rec(str(i)) for i in range(5)])
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".l.xlsx.lock")) == ["l.xlsx"]


def test_sheet_settings_survive_and_xlsm_keeps_macros(tmp_path: Path) -> None:
    plain = tmp_path / "plain.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "台帳"
    ws.append(["文書ID", "生年月日"])
    ws.append(["old", date(2000, 1, 1)])
    ws["B2"].number_format = 'ggge"年"m"月"d"日"'
    ws.freeze_panes = "B2"
    ws.column_dimensions["B"].width = 33
    wb.save(plain)
    # an .xlsm: the same workbook with a VBA project part, as Excel writes it
    xlsm = tmp_path / "macro.xlsm"
    vba = b"\xd0\xcf\x11\xe0fake-vba-project"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(xlsm, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml").replace(
                    b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
            dst.writestr(item, data)
        dst.writestr("xl/vbaProject.bin", vba)
    for path in (plain, xlsm):
        ledger(path).write_many([rec("new")])
        ws = load_workbook(path)["台帳"]
        assert ws.freeze_panes == "B2" and ws.column_dimensions["B"].width == 33
        assert ws["B3"].number_format == 'ggge"年"m"月"d"日"'  # copied from the row above
        assert ws["A3"].value == "new"
    with zipfile.ZipFile(xlsm) as z:
        assert z.read("xl/vbaProject.bin") == vba


def test_a_towns_formatted_text_survives_and_plain_text_reads_back(tmp_path: Path) -> None:
    """Strings are read through the quick path for plain text; formatted runs, spaces and Excel's
    _x005F_ escapes come back as openpyxl reads them."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    path = tmp_path / "台帳.xlsx"
    ledger(path).write_many([rec("a", name=" 緑　花子 ")])
    wb = load_workbook(path, rich_text=True)
    ws = wb.active
    ws["B2"] = CellRichText(["至急", TextBlock(InlineFont(b=True), "要電話")])
    ws["C2"] = "x005F_x000D_メモ"
    wb.save(path)
    ledger(path).write_many([rec("b")])
    ws = load_workbook(path, rich_text=True).active
    kept = ws["B2"].value
    assert isinstance(kept, CellRichText) and str(kept) == "至急要電話"
    assert [b.font.b for b in kept if isinstance(b, TextBlock)] == [True]
    assert ws["C2"].value == "x000D_メモ"
    rows = read_ledger(path)
    assert [r["文書ID"] for r in rows] == ["a", "b"]
    assert rows[0]["氏名"] == " 緑　花子 "


def test_a_run_reads_its_ledger_once_and_keeps_what_others_wrote(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """During a run the ledger is parsed once (ahead of the first write); each later write starts
    from the workbook the run saved, unless someone else has saved the file since."""
    path = tmp_path / "台帳.xlsx"
    ledger(path).write_many([rec("a")])
    loads: list[Path] = []
    real_load = ExcelLedger._load

    def counted(self: ExcelLedger) -> Workbook:
        loads.append(self.path)
        return real_load(self)

    monkeypatch.setattr(ExcelLedger, "_load", counted)
    sink = ledger(path)
    with sink.read_ahead():
        sink.write_many([rec("b")])
        sink.write_many([rec("c")])
        assert len(loads) == 1
        wb = load_workbook(path, rich_text=True)  # a clerk adds a row in Excel between two writes
        wb.active.append(["x"])
        wb.save(path)
        sink.write_many([rec("d")])
        assert len(loads) == 2  # the file changed: read again, not overwritten from memory
    sink.write_many([rec("e")])  # after the run: read as always
    assert len(loads) == 3
    assert [r["文書ID"] for r in read_ledger(path)] == ["a", "b", "c", "x", "d", "e"]


def test_the_garbage_collector_runs_again_after_a_ledger_is_opened_or_saved(tmp_path: Path) -> None:
    """It is paused while openpyxl makes or writes the cells, and on again afterwards, also when the
    workbook cannot be opened; where it was off before, it stays off."""
    import gc

    path = tmp_path / "台帳.xlsx"
    ledger(path).write_many([rec("d1")])
    ledger(path).write_many([rec("d2")])
    assert gc.isenabled() and [r["文書ID"] for r in read_ledger(path)] == ["d1", "d2"]
    broken = tmp_path / "壊れた.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.raises(LedgerRefused):
        ledger(broken).write_many([rec("d3")])
    assert gc.isenabled()
    gc.disable()
    try:
        ledger(path).write_many([rec("d4")])
        assert not gc.isenabled()
    finally:
        gc.enable()
