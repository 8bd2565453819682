"""Hostile inputs made on the spot: a PDF whose page content inflates to gigabytes (an inflate bomb)."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

CHUNK = 1 << 24  # 16 MiB of spaces per deflate block


def inflate_bomb_stream(inflated_mib: int) -> bytes:
    """A valid zlib stream of `inflated_mib` MiB of spaces, a few KB per 16 MiB and quick to make:
    after a full flush every block of the same input compresses to the same bytes, so one block is
    repeated and the checksum is computed on the fly."""
    chunk = b" " * CHUNK
    blocks = max(1, inflated_mib * (1 << 20) // CHUNK)
    c = zlib.compressobj(9)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(blocks):
        adler = zlib.adler32(chunk, adler)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty final block
    return first + again * (blocks - 1) + end + struct.pack(">I", adler)


def inflate_bomb_pdf(path: Path, inflated_mib: int) -> Path:
    """A one-page PDF whose content stream inflates to `inflated_mib` MiB."""
    stream = inflate_bomb_stream(inflated_mib)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path
