"""How far a PDF's compressed streams inflate, measured before any parser inflates them.

A few megabytes of Flate data can inflate to gigabytes (an "inflate bomb"): pdfminer and pdfium
would hold all of it in memory. Each stream here is inflated in small steps and the output is
counted, never kept, so the check costs a bounded amount of memory whatever the file holds:

- an image (``/Subtype /Image``) may not declare more pixels than ``limits.max_pixels`` nor inflate
  to more than its declared width × height × components × bits (what a renderer would use);
- every other stream (page contents, fonts, object streams) counts towards one budget for the whole
  document, ``limits.max_inflated_bytes``.

Chained filters (``[/FlateDecode /FlateDecode]``) are inflated stage by stage the same way. Other
filters (JPEG, CCITT, JBIG2) are left to the renderer, whose output the pixel limit bounds.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kakari.errors import TooLarge

if TYPE_CHECKING:
    from kakari.config import LimitsConfig

STEP = 1 << 16  # bytes of output per inflate step: the memory one stage ever holds
DICT_WINDOW = 1 << 16  # how far before "stream" the object's dictionary may start
_OBJ_END = re.compile(rb"\d+\s+\d+\s+obj\Z")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_NAME = re.compile(rb"/([A-Za-z0-9]+)")
_INT = {key: re.compile(rb"/" + key + rb"\s+(\d+)") for key in (b"Width", b"Height", b"BitsPerComponent")}
_FLATE = {b"FlateDecode", b"Fl"}
_COMPONENTS = 4  # the most a colour space has (CMYK); used when the space is not a plain name


def check_pdf_inflation(path: Path, limits: LimitsConfig) -> None:
    """Raise TooLarge if an image declares too many pixels or inflates past its size, or if the
    other streams together inflate past limits.max_inflated_bytes."""
    data = Path(path).read_bytes()  # at most limits.max_bytes: sniff checked the size first
    budget = limits.max_inflated_bytes
    for start, head in _streams(data):
        stages = _flate_stages(head)
        if not stages and not _looks_like_zlib(data[start:start + 2]):
            continue
        if b"/Image" in head:
            cap = _image_bytes(head, limits)
            if _inflated(data, start, max(1, stages), cap + 1) > cap:
                raise TooLarge(_refusal("画像の圧縮データが宣言された大きさを超えて展開されます"))
            continue
        used = _inflated(data, start, max(1, stages), budget + 1)
        budget -= used
        if budget < 0:
            raise TooLarge(_refusal(f"展開すると {limits.max_inflated_bytes:,} バイトを超えます"))


def _streams(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset of the stream's data, its dictionary's bytes) for every stream in the file."""
    for start, end in _stream_keywords(data):
        window = data[max(0, start - DICT_WINDOW):start]
        yield end, window[_last_obj_end(window):]


def _stream_keywords(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each keyword ``stream`` not preceded by a letter and followed by an end of
    line (what the regex rb"(?<![A-Za-z])stream\\r?\\n" matches), found with bytes.find: the regex's
    look-behind keeps it from skipping ahead to the literal, and it cost more than the whole check."""
    at = 0
    while (i := data.find(b"stream", at)) >= 0:
        end = i + 6
        if data[end:end + 1] == b"\r":
            end += 1
        if data[end:end + 1] == b"\n" and not (i and data[i - 1:i].isalpha()):
            yield i, end + 1
            at = end + 1
        else:
            at = i + 1


def _last_obj_end(window: bytes) -> int:
    """Where the last "N G obj" in `window` ends (searched backwards: a regex over the whole window
    for each stream costs more than reading the page), or 1 KiB before its end when there is none."""
    end = len(window)
    while (i := window.rfind(b"obj", 0, end)) >= 0:
        if _OBJ_END.search(window, max(0, i - 48), i + 3):
            return i + 3
        end = i
    return max(0, len(window) - 1024)


def _flate_stages(head: bytes) -> int:
    """How many FlateDecode filters the stream's /Filter starts with (0 = none named)."""
    m = _FILTER.search(head)
    if not m:
        return 0
    n = 0
    for name in _NAME.findall(m.group(1)):
        if name not in _FLATE:
            break
        n += 1
    return n


def _looks_like_zlib(two: bytes) -> bool:
    return len(two) == 2 and two[0] & 0x0F == 8 and (two[0] << 8 | two[1]) % 31 == 0


def _image_bytes(head: bytes, limits: LimitsConfig) -> int:
    width, height, bits = (int(m.group(1)) if (m := _INT[k].search(head)) else 0
                           for k in (b"Width", b"Height", b"BitsPerComponent"))
    if width * height > limits.max_pixels:
        raise TooLarge(f"PDF の画像の画素数が多すぎます ({width:,}×{height:,} 画素、上限 {limits.max_pixels:,} 画素)")
    if b"/DeviceGray" in head or b"/ImageMask" in head:
        components = 1
    else:
        components = 3 if b"/DeviceRGB" in head else _COMPONENTS
    row = (width * components * max(bits, 1) + 7) // 8
    return row * height + (height + 1) * 8 + STEP  # PNG predictors add a byte per row; some slack


def _inflated(data: bytes, start: int, stages: int, cap: int) -> int:
    """Bytes the last of `stages` chained inflaters puts out for the zlib data at `start`, counting
    no further than `cap`. A stream that ends early or is broken counts what came out before."""
    view = memoryview(data)
    stream: Iterator[bytes] = (view[pos:pos + STEP] for pos in range(start, len(data), STEP))
    for _ in range(stages):
        stream = _inflate(stream)
    total = 0
    for chunk in stream:
        total += len(chunk)
        if total >= cap:
            break
    return total


def _inflate(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """One inflate stage, at most STEP bytes out at a time; stops at the end of the zlib data."""
    z = zlib.decompressobj()
    try:
        for chunk in chunks:
            buf = chunk
            while True:
                out = z.decompress(buf, STEP)
                if out:
                    yield out
                if z.eof:
                    return
                buf = z.unconsumed_tail
                if not buf and not out:
                    break
    except zlib.error:  # broken data: what came out before still counts
        return


def _refusal(what: str) -> str:
    return (f"PDF の圧縮データが大きすぎます ({what})。圧縮爆弾の可能性があるため読み取りません。"
            "元の文書を確認し、必要ならスキャンし直してください")
