"""Fonts of the samples (kakari/fonts.py, samples/fonts.py, the fonts options of samples/generate.py):
found by name on this machine, made embeddable, drawn for real, and read back exactly from the text
layer whatever the font."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pdfplumber
import pytest

from kakari import fonts as kfonts
from kakari.config import KakariConfig
from samples import fonts, generate as g
from samples.layout import PT, layout

ROOT = Path(__file__).resolve().parents[1]
FORMS3 = ["child_medical", "restaurant_permit", "juminhyo_request"]
DEBIAN = [s for s in fonts.CATALOGUE if s.source.startswith("Debian ")]
HANDWRITING = [s for s in fonts.CATALOGUE if s.kind == "handwriting"]


def need(name: str) -> fonts.Font:
    """A catalogue font, or a skip that says why it is missing and how it is installed."""
    try:
        return fonts.font(name)
    except FileNotFoundError as e:
        pytest.skip(str(e))


def slot_chars(pdf: Path, form: str, name: str) -> list[dict]:
    s = layout(form).slots[name]
    with pdfplumber.open(pdf) as doc:
        crop = doc.pages[0].within_bbox((s.x / PT, s.y / PT, (s.x + s.w) / PT, (s.y + s.h) / PT))
        return [c for c in crop.chars if c["text"].strip() and c["text"] not in s.unit]


def psname(font: fonts.Font) -> str:
    from fontTools.ttLib import TTFont

    return str(TTFont(str(font.truetype()), lazy=True)["name"].getDebugName(6))


# --- finding fonts -------------------------------------------------------------------------------
def test_fonts_are_found_by_name_in_the_configured_folders_first(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    system = kfonts.find_font("IPAG.TTF")  # any case
    assert system is not None and system.name == "ipag.ttf"
    own = tmp_path / "fonts" / "sub"
    own.mkdir(parents=True)
    shutil.copyfile(system, own / "ipag.ttf")
    monkeypatch.setenv(kfonts.ENV_DIRS, str(tmp_path / "fonts"))
    kfonts.forget()
    try:
        assert kfonts.font_dirs()[0] == tmp_path / "fonts"
        assert kfonts.find_font("no-such-font.ttf", "ipag.ttf") == own / "ipag.ttf"
        assert kfonts.find_font("no-such-font.ttf") is None
    finally:
        monkeypatch.delenv(kfonts.ENV_DIRS)
        kfonts.forget()


@pytest.mark.parametrize("spec", DEBIAN, ids=lambda s: s.name)
def test_every_debian_font_of_the_catalogue_is_installed(spec: fonts.FontSpec) -> None:
    """scripts/install-system.sh installs them; a missing one names its package."""
    package = spec.source.removeprefix("Debian ")
    assert package in (ROOT / "scripts" / "install-system.sh").read_text(encoding="utf-8")
    found = fonts.locate(spec)
    assert found is not None, fonts.install_hint(spec)
    assert found.kind == "printed"


def test_catalogue_names_are_unique_and_some_fonts_are_held_out() -> None:
    names = [s.name for s in fonts.CATALOGUE]
    assert len(names) == len(set(names))
    held = [s for s in fonts.CATALOGUE if s.held_out]
    assert {s.kind for s in held} == {"printed", "handwriting"}  # leave-one-font-out of each kind
    with pytest.raises(KeyError, match="unknown font"):
        fonts.spec("comic-sans")


# --- embeddable TrueType ---------------------------------------------------------------------------
def test_a_cff_collection_becomes_an_embeddable_truetype_file_once() -> None:
    from fontTools.ttLib import TTFont
    from reportlab.pdfbase.ttfonts import TTFont as ReportlabFont

    noto = need("noto-sans")
    assert noto.path.suffix.lower() in (".ttc", ".otc", ".otf")
    converted = noto.truetype()
    assert converted != noto.path and converted.parent == fonts.cache_dir()
    font = TTFont(str(converted))
    assert "glyf" in font and "CFF " not in font
    assert font["name"].getDebugName(1).startswith("Noto Sans CJK JP")  # the Japanese face of the collection
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "髙﨑邊齋あア漢ー０９")
    ReportlabFont("probe-noto", str(converted))  # reportlab accepts it
    before = converted.stat().st_mtime_ns
    assert noto.truetype() == converted and converted.stat().st_mtime_ns == before  # cached, not redone


def test_a_font_whose_cmap_reportlab_misreads_is_rebuilt_and_draws_the_right_glyphs(tmp_path: Path) -> None:
    """Sawarabi Mincho carries legacy cmap subtables that reportlab reads instead of the Unicode one:
    drawn as it is, every other character came out as its neighbour's glyph (or the page failed)."""
    mincho = need("sawarabi-mincho")
    assert fonts.converted_path(mincho.path) is not None
    g.generate(tmp_path, 3, 9, ["restaurant_permit"], g.Typefaces(value=mincho))
    for i in (1, 2, 3):
        pdf = tmp_path / "restaurant_permit" / f"restaurant_permit_{i:04d}.pdf"
        truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
        chars = slot_chars(pdf, "restaurant_permit", "business_phone")
        assert "".join(c["text"] for c in chars) == truth["fields"]["business_phone"].replace(" ", "")
        assert all(c["fontname"].endswith(psname(mincho)) for c in chars)


def test_an_ipa_font_is_embedded_as_it_is() -> None:
    ipa = need("ipa-gothic")
    assert ipa.truetype() == ipa.path


# --- drawing in chosen fonts --------------------------------------------------------------------
def test_value_font_by_path_draws_the_values_and_leaves_the_form_in_ipa(tmp_path: Path) -> None:
    vl = need("vl-gothic")
    assert g.main(["--out", str(tmp_path), "--count", "2", "--seed", "4", "--forms", "child_medical",
                   "--value-font", str(vl.path)]) == 0
    pdf = tmp_path / "child_medical" / "child_medical_0001.pdf"
    truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    assert truth["fonts"]["value"] == "vl-gothic" and truth["fonts"]["label"] == "ipa-gothic"
    with pdfplumber.open(pdf) as doc:
        chars = doc.pages[0].chars
    names = {c["fontname"].split("+")[-1] for c in chars}
    value_chars = slot_chars(pdf, "child_medical", "address")
    assert value_chars and {c["fontname"].split("+")[-1] for c in value_chars} == {psname(vl)}
    assert {"IPAGothic", "IPAMincho"} <= names  # labels and title: the form as the town prints it
    with pdfplumber.open(tmp_path / "child_medical" / "blank.pdf") as doc:
        assert {c["fontname"].split("+")[-1] for c in doc.pages[0].chars} == {"IPAGothic", "IPAMincho"}


def test_label_font_draws_the_printed_form(tmp_path: Path) -> None:
    takao = need("takao-mincho")
    assert g.main(["--out", str(tmp_path), "--count", "1", "--seed", "4", "--forms", "restaurant_permit",
                   "--label-font", "takao-mincho"]) == 0
    with pdfplumber.open(tmp_path / "restaurant_permit" / "blank.pdf") as doc:
        page = doc.pages[0]
        assert "飲食店営業許可申請書" in page.extract_text().replace(" ", "")
        assert {c["fontname"].split("+")[-1] for c in page.chars} == {psname(takao)}


def test_characters_a_font_lacks_are_drawn_in_ipa_gothic_and_recorded(tmp_path: Path) -> None:
    from fontTools.ttLib import TTFont

    sawarabi = need("sawarabi-gothic")
    cmap = set(TTFont(str(sawarabi.path)).getBestCmap())
    lacking = [ch for ch in "﨑邊" if ord(ch) not in cmap]
    assert lacking, "Sawarabi Gothic has grown the variant kanji this test relies on"
    found = None
    for seed in range(1, 60):  # a seed whose first child_medical names a 山﨑 or 渡邊
        s = g.make_sample("child_medical", 1, seed, g.plan("child_medical", 1, seed)[0])
        if any(ch in s.written.get("guardian_name", "") for ch in lacking):
            found = seed
            break
    assert found is not None
    g.generate(tmp_path, 1, found, ["child_medical"], g.Typefaces(value=sawarabi))
    pdf = tmp_path / "child_medical" / "child_medical_0001.pdf"
    truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    chars = slot_chars(pdf, "child_medical", "guardian_name")
    assert "".join(c["text"] for c in chars) == truth["fields"]["guardian_name"].replace("\u3000", "")
    by_font = {c["text"]: c["fontname"].split("+")[-1] for c in chars}
    for ch in lacking:
        if ch in by_font:
            assert by_font[ch] == "IPAGothic" and ch in truth["fonts"]["fallback_chars"]
    assert any(f == psname(sawarabi) for f in by_font.values())


def test_fields_the_template_marks_handwritten_are_drawn_in_the_hand_font(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    klee = need("klee-one")
    monkeypatch.setattr(g, "handwritten_fields", lambda form: frozenset({"guardian_name", "phone"}))
    g.generate(tmp_path, 2, 6, ["child_medical"], g.Typefaces(hand=klee))
    pdf = tmp_path / "child_medical" / "child_medical_0001.pdf"
    truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
    assert truth["fonts"]["hand"] == "klee-one" and truth["fonts"]["value"] == "ipa-gothic"
    assert "guardian_name" in truth["fonts"]["handwriting"]
    assert set(truth["fonts"]["handwriting"]) <= {"guardian_name", "phone"}
    hand = {c["fontname"].split("+")[-1] for c in slot_chars(pdf, "child_medical", "guardian_name")}
    typed = {c["fontname"].split("+")[-1] for c in slot_chars(pdf, "child_medical", "address")}
    assert hand == {psname(klee)} and typed == {"IPAGothic"}
    # written by hand: each character on its own, off the line a little (not one straight run)
    tops = [round(c["top"], 2) for c in slot_chars(pdf, "child_medical", "guardian_name")]
    assert len(set(tops)) > 1


def test_the_bots_template_flags_are_what_the_generator_reads() -> None:
    import tomllib

    for form in FORMS3:
        spec = tomllib.loads((ROOT / "bots" / f"{form}.toml").read_text(encoding="utf-8"))["fields"]
        assert g.handwritten_fields(form) == {n for n, f in spec.items() if f.get("handwritten")}
    assert g.handwritten_fields("no_such_form") == frozenset()


def test_same_seed_and_fonts_give_identical_bytes(tmp_path: Path) -> None:
    faces = g.Typefaces(value=need("noto-serif"), hand=need("hachi-maru-pop"))
    a = g.generate(tmp_path / "a", 2, 13, ["restaurant_permit"], faces)
    b = g.generate(tmp_path / "b", 2, 13, ["restaurant_permit"], faces)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    c = g.generate(tmp_path / "c", 2, 13, ["restaurant_permit"])
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


def test_unknown_font_is_a_clear_cli_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert g.main(["--out", str(tmp_path), "--value-font", "/nowhere/font.ttf"]) == 1
    assert "/nowhere/font.ttf" in capsys.readouterr().err


# --- the text layer reads the same in every font ----------------------------------------------------
# a Windows PC's office fonts are tried where they are installed
TRIED = [s for s in fonts.CATALOGUE if s.source != "Windows" or fonts.locate(s) is not None]


@pytest.mark.parametrize("spec", TRIED, ids=lambda s: s.name)
def test_text_layer_samples_read_exactly_in_every_font(tmp_path: Path, spec: fonts.FontSpec) -> None:
    """The golden check (tests/test_golden_samples.py) with the values in each font of the catalogue:
    a text layer is read exactly whatever font drew it, handwriting-style fonts included."""
    import bots
    from ocr import read_document

    found = fonts.locate(spec)
    if found is None:
        pytest.skip(f"{spec.family} missing: {fonts.install_hint(spec)}")
    g.generate(tmp_path, 4, 5, FORMS3, g.Typefaces(value=found))
    cfg = KakariConfig()
    for pdf in sorted(tmp_path.rglob("*_000?.pdf")):
        truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
        doc = read_document(pdf, cfg)
        assert doc.engine == "textlayer"
        bot_cls, _ = bots.classify(doc, [truth["form"]])
        rec = bot_cls().read(doc)
        got = {n: f.value for n, f in rec.fields.items()}
        assert got == truth["fields"], pdf.name
        assert rec.status == truth["expected_status"], (pdf.name, rec.problems)
