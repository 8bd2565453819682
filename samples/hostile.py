"""Hostile inputs for the hardening tests and benchmarks: PDFs whose compressed streams inflate to
gigabytes (inflate bombs).

A bomb is made without ever holding or compressing its inflated size: one 16 MiB run of spaces is
deflated once, ending in a full flush, so the next identical run deflates to the identical bytes;
repeating those bytes N times gives a valid stream of N × 16 MiB.
"""
from __future__ import annotations

import zlib
from pathlib import Path

RUN = 1 << 24  # bytes of spaces per repeated deflate segment


def deflate_bomb(compressed_bytes: int, stages: int = 1) -> tuple[bytes, int]:
    """(zlib data of about `compressed_bytes`, its inflated size). stages=2 deflates that data once
    more, as a PDF with /Filter [/FlateDecode /FlateDecode] holds it: a file of a few kilobytes."""
    c = zlib.compressobj(9)
    head = c.compress(b" " * RUN) + c.flush(zlib.Z_FULL_FLUSH)
    segment = c.compress(b" " * RUN) + c.flush(zlib.Z_FULL_FLUSH)
    n = max(1, (compressed_bytes - len(head)) // len(segment))
    tail = c.flush()
    body = head + segment * n + tail[:-4] + b"\0\0\0\0"  # the checksum is wrong: computing it means inflating
    inflated = (n + 1) * RUN
    if stages == 2:
        body = zlib.compress(body, 9)
    return body, inflated


def bomb_pdf(path: Path, compressed_bytes: int, stages: int = 1) -> int:
    """A one-page PDF whose content stream is an inflate bomb; returns its inflated size."""
    stream, inflated = deflate_bomb(compressed_bytes, stages)
    filters = "/FlateDecode" if stages == 1 else "[/FlateDecode /FlateDecode]"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
               f"<< /Length {len(stream)} /Filter {filters} >>\nstream\n".encode() + stream + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    Path(path).write_bytes(bytes(out))
    return inflated
