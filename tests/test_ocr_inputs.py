"""sniff(): empty, too large, and the kind decided by content, with Japanese reasons."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from kakari.config import LimitsConfig
from kakari.errors import DocumentError, EmptyFile, NotADocument, TooLarge
from ocr.inputs import sniff

LIMITS = LimitsConfig()
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def small_pdf(path: Path) -> Path:
    c = Canvas(str(path))
    c.drawString(72, 720, "kakari")
    c.showPage()
    c.save()
    return path


def image(path: Path, fmt: str, **kw: object) -> Path:
    Image.new("RGB", (40, 30), (250, 250, 250)).save(path, format=fmt, **kw)
    return path


def refusal(path: Path, limits: LimitsConfig = LIMITS) -> str:
    with pytest.raises(NotADocument) as err:
        sniff(path, limits)
    assert JAPANESE.search(err.value.message)
    return err.value.message


def test_supported_kinds_by_content(tmp_path: Path) -> None:
    assert sniff(small_pdf(tmp_path / "a.pdf"), LIMITS) == "pdf"
    assert sniff(image(tmp_path / "a.png", "PNG"), LIMITS) == "png"
    assert sniff(image(tmp_path / "a.jpg", "JPEG"), LIMITS) == "jpeg"
    assert sniff(image(tmp_path / "a.tif", "TIFF"), LIMITS) == "tiff"
    # big-endian TIFF ("MM\0*") as some scanners write it
    big = tmp_path / "mm.tif"
    big.write_bytes(b"MM\x00*" + bytes(60))
    assert sniff(big, LIMITS) == "tiff"


def test_extension_never_decides(tmp_path: Path) -> None:
    png_as_pdf = tmp_path / "申請書.pdf"
    png_as_pdf.write_bytes(image(tmp_path / "x.png", "PNG").read_bytes())
    assert sniff(png_as_pdf, LIMITS) == "png"
    jpeg_as_tiff = tmp_path / "scan.tiff"
    jpeg_as_tiff.write_bytes(image(tmp_path / "x.jpg", "JPEG").read_bytes())
    assert sniff(jpeg_as_tiff, LIMITS) == "jpeg"
    pdf_without_ext = tmp_path / "FAX0001"
    pdf_without_ext.write_bytes(small_pdf(tmp_path / "y.pdf").read_bytes())
    assert sniff(pdf_without_ext, LIMITS) == "pdf"


def test_header_after_leading_junk_is_still_a_pdf(tmp_path: Path) -> None:
    f = tmp_path / "junk.pdf"
    f.write_bytes(b"\r\n\x00" * 10 + small_pdf(tmp_path / "z.pdf").read_bytes())
    assert sniff(f, LIMITS) == "pdf"


def test_zero_bytes_is_empty(tmp_path: Path) -> None:
    f = tmp_path / "empty.pdf"
    f.write_bytes(b"")
    with pytest.raises(EmptyFile) as err:
        sniff(f, LIMITS)
    assert err.value.message == "空のファイルです (0 バイト)"


def test_too_many_bytes_before_anything_else(tmp_path: Path) -> None:
    f = small_pdf(tmp_path / "a.pdf")
    size = f.stat().st_size
    with pytest.raises(TooLarge) as err:
        sniff(f, LimitsConfig(max_bytes=size - 1))
    assert f"{size:,} バイト" in err.value.message
    assert sniff(f, LimitsConfig(max_bytes=size)) == "pdf"
    text = tmp_path / "huge.pdf"  # too big wins over "not a PDF": no need to look inside
    text.write_text("x" * 2000)
    with pytest.raises(TooLarge):
        sniff(text, LimitsConfig(max_bytes=1000))


def test_text_named_pdf(tmp_path: Path) -> None:
    f = tmp_path / "申請書.pdf"
    f.write_text("申請者: 緑川花子\n住所: みどり町1-2-3\n", encoding="utf-8")
    assert refusal(f) == "PDF ではありません (拡張子は .pdf ですが中身はテキストです)"
    sjis = tmp_path / "sjis.pdf"
    sjis.write_bytes("申請書の控え\r\n".encode("cp932") * 50)
    assert "中身はテキスト" in refusal(sjis)


def test_html_and_whitespace_and_nul(tmp_path: Path) -> None:
    html = tmp_path / "form.pdf"
    html.write_text("<!DOCTYPE html>\n<html><body>ログインしてください</body></html>", encoding="utf-8")
    assert "HTML" in refusal(html)
    blank = tmp_path / "blank.pdf"
    blank.write_bytes(b" \r\n\t " * 20)
    assert "空白だけ" in refusal(blank)
    nul = tmp_path / "nul.png"
    nul.write_bytes(bytes(5000))
    msg = refusal(nul)
    assert msg.startswith("PNG 画像ではありません") and "NUL" in msg


def test_zip_and_office_files(tmp_path: Path) -> None:
    z = tmp_path / "scans.pdf"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.txt", "x")
    assert "ZIP" in refusal(z)
    wb = Workbook()
    xlsx = tmp_path / "台帳.xlsx"
    wb.save(xlsx)
    msg = refusal(xlsx)
    assert "Excel" in msg and "対応形式" in msg
    renamed = tmp_path / "申請書.pdf"
    renamed.write_bytes(xlsx.read_bytes())
    assert refusal(renamed).startswith("PDF ではありません (拡張子は .pdf ですが中身は Excel")


def test_other_binaries(tmp_path: Path) -> None:
    gif = image(tmp_path / "scan.gif", "GIF")
    assert "GIF" in refusal(gif)
    noise = tmp_path / "noise.bin"
    noise.write_bytes(bytes([0x00, 0x01, 0x02, 0xFE, 0x9A, 0x07]) * 300)
    assert "種類の分からないデータ" in refusal(noise)


def test_every_refusal_is_a_document_error(tmp_path: Path) -> None:
    folder = tmp_path / "dir.pdf"
    folder.mkdir()
    with pytest.raises(DocumentError):
        sniff(folder, LIMITS)
