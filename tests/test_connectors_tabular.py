"""Table files as a town gets them: CSV in UTF-8 (with or without BOM), Shift_JIS as Excel saves it,
UTF-16 as Excel's Unicode text, xlsx and JSON — and the encodings and mojibake that must be refused
with a clear reason rather than read into a ledger."""
from __future__ import annotations

import codecs
import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from connectors.encodings import EncodingRefused, decode
from connectors.tabular import ImportError_, read_grid

ROWS = [["受付番号", "申請者氏名", "フリガナ", "住所", "備考"],
        ["KD-0001", "髙橋　陽葵", "ﾀｶﾊｼ ﾋﾏﾘ", "若葉県みどり町緑ヶ丘1丁目2番3号", ""],
        ["KD-0002", "渡邊　誠", "ワタナベ　マコト", "若葉県みどり町桜台3-4-5　みどりハイツ101", "平日の\n午前に連絡"],
        ["KD-0003", "山﨑　恵子", "やまざき　けいこ", "若葉県みどり町中央二丁目8番地1", "①②を添付"]]


def csv_text(rows: list[list[str]], sep: str = ",") -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if any(c in v for c in (sep, "\n", '"')) else v
    return "".join(sep.join(cell(v) for v in r) + "\r\n" for r in rows)


@pytest.mark.parametrize(("encoding", "label"), [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (BOM付き)"),
                                                 ("cp932", "Shift_JIS")])
def test_csv_in_every_encoding_excel_writes_reads_the_same_rows_and_lines(tmp_path: Path, encoding: str,
                                                                          label: str) -> None:
    path = tmp_path / "申請一覧.csv"
    path.write_bytes(csv_text(ROWS).encode(encoding))
    grid = read_grid(path)
    table = grid.table()
    assert grid.encoding == label
    assert table.header == ROWS[0]
    assert [c for _, c in table.rows] == ROWS[1:]
    # a quoted cell spanning two lines: the next record starts one line later
    assert [line for line, _ in table.rows] == [2, 3, 5]


def test_utf16_unicode_text_from_excel_is_read_as_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "申請一覧.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + csv_text(ROWS[:2], "\t").encode("utf-16-le"))
    table = read_grid(path).table()
    assert table.header == ROWS[0] and table.rows[0][1] == ROWS[1]


def test_euc_jp_is_recognised_and_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "申請一覧.csv"
    path.write_bytes(csv_text([r[:4] for r in ROWS if "髙" not in "".join(r) and "﨑" not in "".join(r)
                               and "①" not in "".join(r)]).encode("euc_jp"))
    with pytest.raises(ImportError_, match="EUC-JP で保存されたファイル"):
        read_grid(path)


def test_utf16_without_bom_and_binary_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "申請一覧.csv"
    path.write_bytes(csv_text(ROWS).encode("utf-16-le"))
    with pytest.raises(ImportError_, match="NUL"):
        read_grid(path)
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ImportError_, match="文字コード"):
        read_grid(path)


def test_mojibake_saved_again_is_refused_not_read(tmp_path: Path) -> None:
    text = csv_text(ROWS)
    path = tmp_path / "申請一覧.csv"
    # Excel opened a UTF-8 file as Shift_JIS and saved it (lossless: every byte had a character)
    lossless = "受付番号,氏名\r\nKD-0001,佐藤　翔太\r\n".encode().decode("cp932")
    path.write_bytes(lossless.encode("utf-8"))
    with pytest.raises(ImportError_, match="UTF-8 の文字を Shift_JIS として読んで"):
        read_grid(path)
    # the usual case: undecodable bytes were replaced on the way (a lossy copy), saved as Shift_JIS
    lossy = text.encode("utf-8").decode("cp932", errors="replace").encode("cp932", errors="replace")
    path.write_bytes(lossy)
    with pytest.raises(ImportError_, match="文字化け"):
        read_grid(path)
    # Shift_JIS read as UTF-8 by another tool and saved: replacement characters everywhere
    path.write_bytes(text.encode("cp932").decode("utf-8", errors="replace").encode("utf-8"))
    with pytest.raises(ImportError_, match="文字化け"):
        read_grid(path)


def test_honest_text_with_rare_characters_is_never_refused() -> None:
    """Names with 外字-like variants, half-width kana, circled digits and a little English are all honest."""
    text = csv_text([*ROWS, ["KD-0004", "齋藤　直美", "ｻｲﾄｳ ﾅｵﾐ", "Wakaba-ken Midori-machi 1-2-3", "Tel: 090-1234-5678"]])
    for encoding in ("utf-8", "cp932"):
        assert decode(text.encode(encoding)).text == text


def test_xlsx_rows_sheets_and_values(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "表紙"
    ws.append(["申請一覧 (2025年10月5日出力)"])
    data = wb.create_sheet("申請一覧")
    data.append(["受付番号", "申請日時", "手数料"])
    data.append(["LG-1", datetime(2025, 10, 5, 13, 45), 16000])
    data.append([None, None, None])
    data.append(["LG-2", datetime(2025, 10, 6), 9600])
    path = tmp_path / "申請一覧.xlsx"
    wb.save(path)
    table = read_grid(path, sheet="申請一覧").table()
    assert table.sheet == "申請一覧" and table.header == ["受付番号", "申請日時", "手数料"]
    assert [line for line, _ in table.rows] == [2, 4]  # the blank row is skipped, rows keep their numbers
    assert table.rows[0][1] == ["LG-1", datetime(2025, 10, 5, 13, 45), 16000]
    with pytest.raises(ImportError_, match="シート「台帳」がありません"):
        read_grid(path, sheet="台帳")
    first = read_grid(path).table(header_row=1)  # the first sheet: a cover page with a title line
    assert first.header == ["申請一覧 (2025年10月5日出力)"] and first.rows == []


def test_json_lists_nested_objects_and_positions(tmp_path: Path) -> None:
    path = tmp_path / "申請一覧.json"
    path.write_text(json.dumps({"applications": [
        {"id": "A-1", "applicant": {"name": "佐藤　翔太", "kana": "サトウ　ショウタ"}, "files": ["a.pdf", "b.png"]},
        {"id": "A-2", "applicant": {"name": "鈴木　恵子"}, "note": "至急"},
    ]}, ensure_ascii=False), encoding="utf-8")
    table = read_grid(path).table()
    assert table.unit == "件目"
    assert table.header == ["id", "applicant.name", "applicant.kana", "files", "note"]
    assert table.rows[0] == (1, ["A-1", "佐藤　翔太", "サトウ　ショウタ", "a.pdf\nb.png", None])
    assert table.rows[1][0] == 2
    path.write_text('{"applications": [{"id": 1},]}', encoding="utf-8")
    with pytest.raises(ImportError_, match="JSON として読めません \\(1行目"):
        read_grid(path)
    path.write_text('{"a": [1], "b": [2]}', encoding="utf-8")
    with pytest.raises(ImportError_, match="申請の一覧"):
        read_grid(path)


def test_not_a_table_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7")
    with pytest.raises(ImportError_, match=r"CSV \(.csv\)・Excel \(.xlsx\)・JSON"):
        read_grid(tmp_path / "a.pdf")
    (tmp_path / "b.csv").write_bytes(b"\r\n")
    with pytest.raises(ImportError_, match="空のファイル"):
        read_grid(tmp_path / "b.csv")
    (tmp_path / "c.xlsx").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ImportError_, match="Excel ブックとして読めません"):
        read_grid(tmp_path / "c.xlsx")


def test_decode_refuses_a_broken_byte_after_a_bom() -> None:
    with pytest.raises(EncodingRefused, match="BOM"):
        decode(codecs.BOM_UTF8 + "受付".encode("cp932"))
