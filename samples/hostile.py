"""Hostile inputs for the hardening tests and benchmarks: PDFs whose compressed streams inflate to
gigabytes (inflate bombs), and image bombs that pass the inflate check: images that each decode to
no more than they declare, many of them, or JPEGs of huge dimensions.

A bomb is made without ever holding or compressing its inflated size: one 16 MiB run of spaces is
deflated once, ending in a full flush, so the next identical run deflates to the identical bytes;
repeating those bytes N times gives a valid stream of N × 16 MiB.
"""
from __future__ import annotations

import io
import struct
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
    Path(path).write_bytes(_pdf(objects))
    return inflated


def flate_run(size: int, byte: bytes = b"\x80") -> bytes:
    """A valid zlib stream of `size` copies of `byte`, built from one deflated RUN repeated."""
    c = zlib.compressobj(9)
    whole, rest = divmod(size, RUN)
    head = c.compress(byte * RUN) + c.flush(zlib.Z_FULL_FLUSH) if whole else b""
    segment = c.compress(byte * RUN) + c.flush(zlib.Z_FULL_FLUSH) if whole > 1 else b""
    tail = c.compress(byte * rest) + c.flush()[:-4]
    check = 1
    block = byte * RUN
    for _ in range(whole):
        check = zlib.adler32(block, check)
    check = zlib.adler32(byte * rest, check)
    return head + segment * max(0, whole - 1) + tail + struct.pack(">I", check)


def image_bomb_pdf(path: Path, width: int, height: int, images: int = 1, pages: int = 1) -> int:
    """PDF pages each drawing `images` grey Flate images of width × height that inflate to exactly
    their declared size (so an inflate check passes each); returns the bytes they decode to."""
    raw = width * height
    stream = flate_run(raw)
    image = (f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray "
             f"/BitsPerComponent 8 /Filter /FlateDecode /Length {len(stream)} >>\nstream\n").encode() + stream + b"\nendstream"
    return _image_pages(path, image, images, pages) * raw


def jpeg_bomb(width: int, height: int) -> bytes:
    """A baseline JPEG of width × height mid-grey pixels (4 bytes per 16×16 block), never held decoded."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (128, 128, 128)).save(buf, "JPEG", quality=75, optimize=False, subsampling=2)
    data = buf.getvalue()
    sos = data.index(b"\xff\xda")
    head = bytearray(data[:sos + 2 + struct.unpack(">H", data[sos + 2:sos + 4])[0]])
    sof = head.index(b"\xff\xc0")
    head[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    blocks = -(-width // 16) * -(-height // 16)
    return bytes(head) + b"\x28\xa2\x8a\x00" * blocks + b"\xff\xd9"  # Y: DC 0 + EOB ×4; Cb, Cr: DC 0 + EOB


def jpeg_bomb_pdf(path: Path, width: int, height: int, images: int = 1, pages: int = 1) -> int:
    """PDF pages each drawing `images` JPEG (DCTDecode) images of width × height: the inflate check
    does not open JPEG data; returns the bytes they decode to (RGB)."""
    jpeg = jpeg_bomb(width, height)
    image = (f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceRGB "
             f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>\nstream\n").encode() + jpeg + b"\nendstream"
    return _image_pages(path, image, images, pages) * width * height * 3


def _image_pages(path: Path, image: bytes, images: int, pages: int) -> int:
    """Write a PDF of `pages` A4 pages each drawing `images` distinct image objects (all holding
    `image`) over the page; returns how many images were drawn."""
    first_page = 3
    first_image = first_page + 2 * pages
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{' '.join(f'{first_page + 2 * p} 0 R' for p in range(pages))}] /Count {pages} >>".encode()]
    for p in range(pages):
        names = [(f"/Im{i}", first_image + p * images + i) for i in range(images)]
        xobjects = " ".join(f"{name} {obj} 0 R" for name, obj in names)
        content = " ".join(f"q 595 0 0 842 0 0 cm {name} Do Q" for name, _ in names).encode()
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << {xobjects} >> >> "
                       f"/Contents {first_page + 2 * p + 1} 0 R >>".encode())
        objects.append(f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
    objects += [image] * (pages * images)
    Path(path).write_bytes(_pdf(objects))
    return pages * images


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF file of these objects, numbered from 1 (the first the catalogue), with its xref."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def png_bomb(path: Path, width: int, height: int) -> int:
    """An RGBA PNG of width × height transparent pixels (all-zero rows, deflated once and repeated);
    returns the bytes it decodes to."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA
    data = flate_run(height * (1 + width * 4), b"\x00")  # filter byte 0 and zero pixels: all zero
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return width * height * 4
