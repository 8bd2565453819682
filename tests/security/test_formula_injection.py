"""Item 2: text from outside (an imported time log's 原課 and 業務名) is never a formula in any xlsx
or CSV kakari writes — `kakari report` files and the dashboard's downloads alike."""
from __future__ import annotations

import csv
import io
import zipfile
from contextlib import closing
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from tests.security.conftest import Site, kakari, login, this_month

HOSTILE = {"原課": '=HYPERLINK("http://evil.example/","click")', "業務名": "+cmd|' /C calc'!A0"}
MORE = [("@SUM(1+1)*cmd|' /C calc'!A0", "-2+3"), ("\t=1+1", "=1+2")]
SLOWER = ("子育て支援課", "手作業に戻した試行")  # 導入後 > 導入前: a negative 削減時間 that must stay a number


def timelog_csv(path: Path) -> Path:
    today = date.today().isoformat()
    lines = ["日付,原課,業務名,件数,導入前分,導入後分,RPA処理分"]
    for dept, task in [(HOSTILE["原課"], HOSTILE["業務名"]), *MORE, SLOWER]:
        q = [f'"{v.replace(chr(34), chr(34) * 2)}"' for v in (dept, task)]
        before, after = (30, 90) if (dept, task) == SLOWER else (100, 20)
        lines.append(f"{today},{q[0]},{q[1]},10,{before},{after},5")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def imported(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Site:
    csv_file = timelog_csv(tmp_path_factory.mktemp("timelog") / "rpa.csv")
    kakari("timelog", "import", str(csv_file), home=site.home, check=True)
    return site


def formulas_in(xlsx: bytes) -> list[str]:
    """Every formula a spreadsheet program would run: <f> elements, and cells openpyxl reads as formulas."""
    found = []
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and (b"<f>" in z.read(name) or b"<f " in z.read(name)):
                found.append(name)
    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            found += [f"{ws.title}!{c.coordinate}={c.value}" for c in row if c.data_type == "f"]
    return found


def texts_in(xlsx: bytes) -> set[str]:
    wb = openpyxl.load_workbook(io.BytesIO(xlsx))
    return {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}


def unsafe_csv_fields(text: str) -> list[str]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    return [f for row in reader for f in row if f[:1] in ("=", "+", "-", "@", "\t", "\r")
            and not _number(f)]


def _number(field: str) -> bool:
    try:
        float(field)
        return True
    except ValueError:
        return False


def test_kakari_report_writes_no_formula(imported: Site, tmp_path: Path) -> None:
    xlsx, csv_out = tmp_path / "r.xlsx", tmp_path / "r.csv"
    kakari("report", "--month", this_month(), "--format", "xlsx", "--out", str(xlsx), home=imported.home, check=True)
    kakari("report", "--month", this_month(), "--format", "csv", "--out", str(csv_out), home=imported.home, check=True)
    data = xlsx.read_bytes()
    assert not formulas_in(data)
    assert HOSTILE["原課"] in texts_in(data)  # kept, as text, exactly as imported
    text = csv_out.read_text(encoding="utf-8")
    assert not unsafe_csv_fields(text), unsafe_csv_fields(text)
    assert "'" + HOSTILE["業務名"] in text.replace('""', '"')  # shown as text by Excel, not run
    slower = next(r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))) if r["業務名"] == SLOWER[1])
    assert float(slower["削減時間"]) < 0  # a negative number is still a number, not "'-1.0"


def test_dashboard_downloads_write_no_formula(imported: Site) -> None:
    with closing(login(imported.base, "kacho")) as manager:
        xlsx = manager.get(f"/reports/{this_month()}.xlsx")
        assert xlsx.status_code == 200
        assert not formulas_in(xlsx.content)
        sheet = manager.get(f"/reports/{this_month()}.csv")
        assert sheet.status_code == 200 and not unsafe_csv_fields(sheet.text)
        page = manager.get("/dashboard")
        assert page.status_code == 200 and "<a href=\"http://evil.example" not in page.text
