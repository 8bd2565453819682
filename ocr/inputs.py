"""Look at an input file before any parser does: empty, too big, or which kind by its magic bytes.

The extension is only used to word the error message: a PNG saved as ``申請書.pdf`` is read as a PNG,
because scanners and mail clients rename files freely and a parser fed the wrong kind fails obscurely.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kakari.errors import EmptyFile, NotADocument, TooLarge

if TYPE_CHECKING:
    from kakari.config import LimitsConfig

Kind = Literal["pdf", "png", "jpeg", "tiff"]

HEAD_BYTES = 4096
# the PDF spec lets a header start anywhere in the first 1024 bytes (some scanners prepend junk)
PDF_HEADER_WINDOW = 1024

_SUPPORTED_EXT: dict[str, str] = {
    ".pdf": "PDF ",
    ".png": "PNG 画像",
    ".jpg": "JPEG 画像",
    ".jpeg": "JPEG 画像",
    ".jpe": "JPEG 画像",
    ".tif": "TIFF 画像",
    ".tiff": "TIFF 画像",
}

# (prefix, offset, description) of common kinds we do not read, to tell the user what they sent
_OTHER_MAGIC: list[tuple[bytes, int, str]] = [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "古い形式の Office 文書 (.doc/.xls/.ppt)"),
    (b"GIF8", 0, "GIF 画像"),
    (b"BM", 0, "BMP 画像"),
    (b"WEBP", 8, "WebP 画像"),
    (b"ftypheic", 4, "HEIC 画像"),
    (b"ftypmif1", 4, "HEIF 画像"),
    (b"{\\rtf", 0, "リッチテキスト (RTF)"),
    (b"%!PS", 0, "PostScript"),
    (b"\x1f\x8b", 0, "gzip 圧縮ファイル"),
    (b"7z\xbc\xaf\x27\x1c", 0, "7-Zip 圧縮ファイル"),
    (b"Rar!", 0, "RAR 圧縮ファイル"),
    (b"MZ", 0, "実行ファイル (.exe)"),
]

_CONTROL_OK = set("\t\n\r\f\v")


def sniff(path: Path, limits: LimitsConfig) -> Kind:
    """Kind of the file by content. Raises EmptyFile, TooLarge or NotADocument (Japanese reason)."""
    path = Path(path)
    if path.is_dir():
        raise NotADocument("ファイルではなくフォルダーです")
    size = path.stat().st_size
    if size == 0:
        raise EmptyFile("空のファイルです (0 バイト)")
    if size > limits.max_bytes:
        raise TooLarge(f"ファイルが大きすぎます ({size:,} バイト、上限 {limits.max_bytes:,} バイト)")
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    kind = kind_of(head)
    if kind == "pdf":
        from ocr.inflate import check_pdf_inflation

        check_pdf_inflation(path, limits)
    if kind is not None:
        return kind
    raise NotADocument(_refusal(path, describe(head, path, size)))


def kind_of(head: bytes) -> Kind | None:
    """Supported kind from the first bytes of a file, or None."""
    if b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    return None


def describe(head: bytes, path: Path, size: int) -> str:
    """What an unsupported file looks like, in Japanese (fits "中身は…です")."""
    if head.startswith(b"PK\x03\x04"):
        return _describe_zip(path)
    for magic, offset, what in _OTHER_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return what
    if not head.strip(b"\x00"):
        return "NUL バイトだけ"
    text = _as_text(head, complete=size <= len(head))
    if text is None:
        return "種類の分からないデータ"
    if not text.strip():
        return "空白だけ"
    low = text.lstrip("\ufeff \t\r\n").lower()
    if low.startswith("<!doctype html") or "<html" in low[:1024] or "<body" in low[:1024]:
        return "HTML (ウェブページ)"
    if low.startswith("<?xml"):
        return "XML"
    return "テキスト"


def _describe_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "ZIP 圧縮ファイル"
    if any(n.startswith("word/") for n in names):
        return "Word 文書 (.docx)"
    if any(n.startswith("xl/") for n in names):
        return "Excel ブック (.xlsx)"
    if any(n.startswith("ppt/") for n in names):
        return "PowerPoint (.pptx)"
    if "mimetype" in names and "content.xml" in names:
        return "OpenDocument 文書"
    return "ZIP 圧縮ファイル"


def _as_text(head: bytes, complete: bool) -> str | None:
    """Decode the head as text if it plausibly is text (UTF-8/16 or Shift_JIS), else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head.decode("utf-16")
        except UnicodeDecodeError:
            return None
    for enc in ("utf-8", "cp932"):
        # a multi-byte character may be cut at the end of the head
        for cut in (0, 1, 2, 3) if not complete else (0,):
            try:
                text = head[: len(head) - cut].decode(enc)
            except UnicodeDecodeError:
                continue
            controls = sum(1 for ch in text if ord(ch) < 32 and ch not in _CONTROL_OK)
            if controls <= len(text) // 100:
                return text
            break
    return None


def _refusal(path: Path, what: str) -> str:
    # a space between Japanese and Latin words, as Japanese typesetting does ("中身は Excel ブック")
    what = (" " if what[0].isascii() else "") + what + (" " if what[-1].isascii() else "")
    ext = path.suffix.lower()
    label = _SUPPORTED_EXT.get(ext)
    if label is not None:
        return f"{label}ではありません (拡張子は {path.suffix} ですが中身は{what}です)"
    where = f"拡張子は {path.suffix}、" if path.suffix else ""
    return f"読み取れる形式ではありません ({where}中身は{what}です。対応形式: PDF・PNG・JPEG・TIFF)"
