"""The fonts the samples are drawn in: a catalogue of printed and handwriting-style Japanese fonts,
found on this machine by file name (``kakari.fonts``), and turned into TrueType files reportlab can
embed (a collection's face extracted, CFF outlines converted to quadratic curves; cached).

Printed fonts come from Debian packages (scripts/install-system.sh) or a Windows PC's own fonts;
handwriting-style fonts from npm packages that ``scripts/setup_fonts.py`` (run by ``make setup``)
merges into ``samples/fontdata/npm/<name>.ttf``. ``held_out`` fonts are never to be used to fit or
calibrate anything: they stand for the fonts a town prints in that nobody here has seen.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from kakari.fonts import find_font, font_dirs

FONTS_DIR = Path(__file__).resolve().parent / "fontdata"
NPM_DIR = FONTS_DIR / "npm"  # merged handwriting-style fonts, written at install time
NPM_STATUS = NPM_DIR / "fetch.json"  # what the fetch script got, or why it could not
CACHE_ENV = "KAKARI_FONT_CACHE"
Kind = Literal["printed", "handwriting"]


@dataclass(frozen=True)
class FontSpec:
    """A font the corpus knows by name. `files`: file names to look for (the first found wins);
    `face`: the family to pick inside a collection (.ttc/.otc)."""

    name: str  # short id, used in folder names
    family: str
    files: tuple[str, ...]
    kind: Kind
    source: str
    face: str = ""
    held_out: bool = False


CATALOGUE: tuple[FontSpec, ...] = (
    FontSpec("ipa-gothic", "IPAGothic", ("ipag.ttf",), "printed", "Debian fonts-ipafont-gothic"),
    FontSpec("ipa-mincho", "IPAMincho", ("ipam.ttf",), "printed", "Debian fonts-ipafont-mincho"),
    FontSpec("ipaex-gothic", "IPAexGothic", ("ipaexg.ttf",), "printed", "Debian fonts-ipaexfont-gothic"),
    FontSpec("ipaex-mincho", "IPAexMincho", ("ipaexm.ttf",), "printed", "Debian fonts-ipaexfont-mincho"),
    FontSpec("noto-sans", "Noto Sans CJK JP", ("NotoSansCJK-Regular.ttc", "NotoSansCJKjp-Regular.otf",
                                                "NotoSansJP-Regular.otf"), "printed", "Debian fonts-noto-cjk",
             face="Noto Sans CJK JP"),
    FontSpec("noto-serif", "Noto Serif CJK JP", ("NotoSerifCJK-Regular.ttc", "NotoSerifCJKjp-Regular.otf",
                                                  "NotoSerifJP-Regular.otf"), "printed", "Debian fonts-noto-cjk",
             face="Noto Serif CJK JP"),
    FontSpec("vl-gothic", "VL Gothic", ("VL-Gothic-Regular.ttf",), "printed", "Debian fonts-vlgothic"),
    FontSpec("takao-gothic", "TakaoGothic", ("TakaoGothic.ttf",), "printed", "Debian fonts-takao-gothic"),
    FontSpec("takao-mincho", "TakaoMincho", ("TakaoMincho.ttf",), "printed", "Debian fonts-takao-mincho"),
    FontSpec("sawarabi-gothic", "Sawarabi Gothic", ("sawarabi-gothic-medium.ttf",), "printed",
             "Debian fonts-sawarabi-gothic"),
    FontSpec("sawarabi-mincho", "Sawarabi Mincho", ("sawarabi-mincho-medium.ttf",), "printed",
             "Debian fonts-sawarabi-mincho", held_out=True),
    FontSpec("mplus-1", "M PLUS 1", ("Mplus1-Regular.otf",), "printed", "Debian fonts-mplus", held_out=True),
    # the office fonts of a Windows PC, used where they are installed (never shipped here)
    FontSpec("ms-gothic", "MS Gothic", ("msgothic.ttc",), "printed", "Windows", face="MS Gothic"),
    FontSpec("ms-mincho", "MS Mincho", ("msmincho.ttc",), "printed", "Windows", face="MS Mincho"),
    FontSpec("bizud-gothic", "BIZ UDGothic", ("BIZ-UDGothicR.ttc",), "printed", "Windows", face="BIZ UDGothic"),
    FontSpec("bizud-mincho", "BIZ UDMincho", ("BIZ-UDMinchoM.ttc",), "printed", "Windows", face="BIZ UDMincho"),
    FontSpec("meiryo", "Meiryo", ("meiryo.ttc",), "printed", "Windows", face="Meiryo"),
    FontSpec("yu-gothic", "Yu Gothic", ("YuGothR.ttc",), "printed", "Windows", face="Yu Gothic"),
    # handwriting-style (merged from npm packages by scripts/setup_fonts.py)
    FontSpec("klee-one", "Klee One", ("klee-one.ttf",), "handwriting", "npm @fontsource/klee-one@5.3.0"),
    FontSpec("hachi-maru-pop", "Hachi Maru Pop", ("hachi-maru-pop.ttf",), "handwriting",
             "npm @fontsource/hachi-maru-pop@5.3.0"),
    FontSpec("yomogi", "Yomogi", ("yomogi.ttf",), "handwriting", "npm @fontsource/yomogi@5.3.0"),
    FontSpec("zen-kurenaido", "Zen Kurenaido", ("zen-kurenaido.ttf",), "handwriting",
             "npm @fontsource/zen-kurenaido@5.3.0", held_out=True),
)
NPM_PACKAGES = {s.name: s.source.removeprefix("npm ") for s in CATALOGUE if s.source.startswith("npm ")}  # pinned
DEFAULT_GOTHIC, DEFAULT_MINCHO = "ipa-gothic", "ipa-mincho"


@dataclass(frozen=True)
class Font:
    """A font file found on this machine (``spec`` None for a file given by path)."""

    name: str
    path: Path
    kind: Kind
    face: str = ""
    spec: FontSpec | None = None

    @property
    def held_out(self) -> bool:
        return bool(self.spec and self.spec.held_out)

    def truetype(self) -> Path:
        """A single-face TrueType file of this font that reportlab can embed."""
        return truetype(self.path, self.face)


def search_dirs() -> list[Path]:
    return [NPM_DIR, *font_dirs()]


def spec(name: str) -> FontSpec:
    for s in CATALOGUE:
        if s.name == name:
            return s
    raise KeyError(f"unknown font {name!r}; known: {', '.join(s.name for s in CATALOGUE)}")


def locate(s: FontSpec) -> Font | None:
    path = find_font(*s.files, dirs=search_dirs())
    return Font(s.name, path, s.kind, s.face, s) if path else None


def font(name: str) -> Font:
    """A catalogue font by name; FileNotFoundError (saying how to install it) when it is missing."""
    s = spec(name)
    found = locate(s)
    if found is None:
        raise FileNotFoundError(f"font {s.family} ({' / '.join(s.files)}) not found: {install_hint(s)}")
    return found


def available(kind: Kind | None = None, held_out: bool | None = None) -> list[Font]:
    """Catalogue fonts found on this machine, in catalogue order."""
    out = []
    for s in CATALOGUE:
        if (kind is None or s.kind == kind) and (held_out is None or s.held_out == held_out):
            found = locate(s)
            if found is not None:
                out.append(found)
    return out


def from_path(path: Path, face: str = "", kind: Kind = "printed") -> Font:
    """A font given by file (``--value-font PATH``): any TTF/OTF/TTC file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"font file {path} not found")
    for s in CATALOGUE:  # a catalogue font given by path keeps its name and kind
        if path.name.lower() in (f.lower() for f in s.files):
            return Font(s.name, path, s.kind, face or s.face, s)
    return Font(path.stem.lower(), path, kind, face)


def install_hint(s: FontSpec) -> str:
    if s.source.startswith("Debian "):
        return f"apt-get install {s.source.removeprefix('Debian ')} (scripts/install-system.sh)"
    if s.source.startswith("npm "):
        reason = npm_failure(s.name)
        return f"make setup fetches {s.source}" + (f" (last attempt: {reason})" if reason else "")
    return f"installed with {s.source} only"


def npm_failure(name: str) -> str:
    """Why the fetch script could not make this handwriting font ("" if it did or never ran)."""
    try:
        status = json.loads(NPM_STATUS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "scripts/setup_fonts.py has not run"
    entry = status.get("fonts", {}).get(name, {})
    return str(entry.get("error") or "")


# =============================================================================================
# TrueType for reportlab
# =============================================================================================
def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or FONTS_DIR / "cache")


def truetype(path: Path, face: str = "") -> Path:
    """`path` itself when reportlab can embed it as it is, else a converted copy in the cache: the face
    of a collection; CFF outlines converted to quadratic curves (limited to the Japanese repertoire of
    JIS X 0213 and Windows-31J plus Latin, kana and symbols); a character map reportlab misreads
    rebuilt from its Unicode subtables."""
    out = converted_path(path, face)
    if out is None:
        return Path(path)
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        _convert(Path(path), face, tmp)
        os.replace(tmp, out)  # atomic: parallel test workers may convert the same font
    return out


def converted_path(path: Path, face: str = "") -> Path | None:
    """Where the cache keeps the TrueType version of a font; None if the file is usable as it is."""
    path = Path(path)
    st = path.stat()
    return _converted_path(path, face, st.st_size, int(st.st_mtime))


@lru_cache(maxsize=64)
def _converted_path(path: Path, face: str, size: int, mtime: int) -> Path | None:
    with path.open("rb") as fh:
        tag = fh.read(4)
    if tag in (b"\x00\x01\x00\x00", b"true") and not _misread_by_reportlab(path):
        return None
    key = hashlib.sha1(f"{path.resolve()}|{size}|{mtime}|{face}|3".encode()).hexdigest()[:12]
    return cache_dir() / f"{path.stem}{'-' + face.replace(' ', '') if face else ''}-{key}.ttf"


def _misread_by_reportlab(path: Path) -> bool:
    """Does reportlab map some character to another glyph than the font's own Unicode cmap says?
    (Some fonts carry legacy subtables reportlab reads instead, drawing the neighbouring glyph.)"""
    from fontTools.ttLib import TTFont
    from reportlab.pdfbase.ttfonts import TTFontFile

    theirs = TTFontFile(str(path)).charToGlyph
    font = TTFont(str(path), lazy=True)
    ids = {name: i for i, name in enumerate(font.getGlyphOrder())}
    best = font.getBestCmap() or {}
    return any(theirs.get(cp) != ids.get(name) for cp, name in best.items() if cp not in (0x20, 0xA0))


def _convert(path: Path, face: str, out: Path) -> None:
    from fontTools.ttLib import TTCollection, TTFont

    with path.open("rb") as fh:
        collection = fh.read(4) == b"ttcf"
    # the file's own timestamps are kept, so the same font converts to the same bytes on every machine
    if collection:
        fonts = TTCollection(str(path), recalcTimestamp=False).fonts
        font = next((f for f in fonts if face and _family(f) == face), None) or fonts[0]
    else:
        font = TTFont(str(path), recalcTimestamp=False)
    if "CFF " in font or "CFF2" in font:
        subset(font, japanese_repertoire())
        _cff_to_glyf(font)
    cmap = font["cmap"]
    cmap.tables = [t for t in cmap.tables if t.isUnicode() and t.format in (4, 12)]
    font.save(str(out))


def _family(font: object) -> str:
    name = font["name"]  # type: ignore[index]
    return str(name.getDebugName(16) or name.getDebugName(1) or "")


@lru_cache(maxsize=1)
def japanese_repertoire() -> frozenset[int]:
    """Code points worth keeping from a large CJK font: what Japanese forms and names use."""
    keep = set(range(0x20, 0x7F)) | set(range(0xA0, 0x250)) | set(range(0x2000, 0x2800))
    keep |= set(range(0x3000, 0x3400)) | set(range(0xFE30, 0xFE50)) | set(range(0xFF00, 0xFFF0))
    for cp in [*range(0x3400, 0xA000), *range(0xF900, 0xFB00), *range(0x20000, 0x2FA20)]:
        ch = chr(cp)
        for encoding in ("euc_jis_2004", "cp932"):
            try:
                ch.encode(encoding)
            except UnicodeEncodeError:
                continue
            keep.add(cp)
            break
    return frozenset(keep)


def subset(font: object, unicodes: Iterable[int]) -> None:
    """Keep only the glyphs `unicodes` reach (outlines, metrics, names; no layout tables, no hints)."""
    from fontTools import subset as ft_subset

    opts = ft_subset.Options()
    opts.layout_features = []
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "JSTF", "MATH"]
    sub = ft_subset.Subsetter(opts)
    sub.populate(unicodes=list(unicodes))
    sub.subset(font)


def _cff_to_glyf(font: object) -> None:
    """CFF (cubic) outlines → glyf (quadratic), as fontTools' otf2ttf does."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    f = font  # type: ignore[assignment]
    order = f.getGlyphOrder()
    glyph_set = f.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    f["loca"] = newTable("loca")
    f["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    for tag in ("CFF ", "CFF2", "VORG"):
        if tag in f:
            del f[tag]
    glyf.compile(f)
    hmtx = f["hmtx"]
    for name, g in glyphs.items():  # left side bearings follow the new outlines
        width = hmtx.metrics[name][0]
        hmtx.metrics[name] = (width, getattr(g, "xMin", 0))
    maxp = f["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones",):
        setattr(maxp, attr, 1)
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    post = f["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    f["head"].glyphDataFormat = 0
    f.sfntVersion = "\x00\x01\x00\x00"
