"""samples/corpus.py: the multi-font corpus a benchmark iterates — its folder layout, its index,
held-out fonts, determinism — and the demo's scans."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from samples import corpus, fonts
from samples.scanlike import PROFILES


def need(name: str) -> fonts.Font:
    try:
        return fonts.font(name)
    except FileNotFoundError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus")
    chosen = [need("vl-gothic"), need("klee-one"), need("zen-kurenaido")]
    index = corpus.build(out, chosen, ["clean", "fax"], [200], count=1, seed=42, jobs=2)
    return out, index


def test_index_lists_every_set_and_document_that_exists(built: tuple[Path, dict]) -> None:
    out, index = built
    assert json.loads((out / corpus.INDEX).read_text(encoding="utf-8")) == index
    assert index["version"] == corpus.VERSION and index["seed"] == 42 and index["count"] == 1
    assert index["forms"] == list(corpus.FORMS3)
    sets = {(s["font"], s["profile"], s["dpi"]) for s in index["sets"]}
    assert sets == {(f, p, d) for f in ("vl-gothic", "klee-one", "zen-kurenaido")
                    for p, d in (("text", None), ("clean", 200), ("fax", 200))}
    for s in index["sets"]:
        assert s["dir"] == {"text": f"{s['font']}/text", "fax": f"{s['font']}/fax"}.get(
            s["profile"], f"{s['font']}/{s['profile']}-{s['dpi']}dpi")
        assert len(s["documents"]) == 3  # one per form
        assert s["dpi_y"] == (100 if s["profile"] == "fax" else s["dpi"])
        for d in s["documents"]:
            doc, truth = out / s["dir"] / d["file"], out / s["dir"] / d["truth"]
            assert doc.is_file() and truth.is_file()
            t = json.loads(truth.read_text(encoding="utf-8"))
            assert t["form"] == d["form"] and t["expected_status"] == d["expected_status"]
            assert t["fonts"]["value"] == s["font"]
            if s["profile"] != "text":
                assert t["scan"]["profile"] == s["profile"] and doc.suffix in (".pdf", ".tif", ".png", ".jpg")
            else:
                assert doc.suffix == ".pdf"


def test_fonts_say_their_kind_and_which_are_held_out(built: tuple[Path, dict]) -> None:
    _, index = built
    by_name = {f["name"]: f for f in index["fonts"]}
    assert by_name["vl-gothic"]["kind"] == "printed" and by_name["klee-one"]["kind"] == "handwriting"
    assert by_name["zen-kurenaido"]["held_out"] and not by_name["klee-one"]["held_out"]
    assert index["held_out"] == ["zen-kurenaido"]
    for s in index["sets"]:
        assert s["held_out"] == by_name[s["font"]]["held_out"] and s["kind"] == by_name[s["font"]]["kind"]
        # leave-one-font-out: a set uses only the fonts it names
        assert s["fonts_used"][0] == s["font"] and set(s["fonts_used"]) <= set(by_name)
    # all values of a handwriting-style set are drawn by hand
    hand = next(s for s in index["sets"] if s["font"] == "klee-one" and s["profile"] == "text")
    truth = json.loads((built[0] / hand["dir"] / hand["documents"][0]["truth"]).read_text(encoding="utf-8"))
    assert {"applied_on", "postal_code", "address", "phone"} <= set(truth["fonts"]["handwriting"])


def test_every_font_gets_the_same_documents(built: tuple[Path, dict]) -> None:
    out, _ = built
    a = json.loads((out / "vl-gothic/fax/child_medical/child_medical_0001.json").read_text(encoding="utf-8"))
    b = json.loads((out / "klee-one/fax/child_medical/child_medical_0001.json").read_text(encoding="utf-8"))
    assert a["fields"] == b["fields"] and a["scan"] == b["scan"]  # paired: only the font differs


def test_the_same_seed_gives_the_same_bytes(built: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = built
    corpus.build(tmp_path, [need("vl-gothic")], ["fax"], [200], forms=["restaurant_permit"], count=1, seed=42)
    for rel in ("vl-gothic/text/restaurant_permit/restaurant_permit_0001.pdf", "vl-gothic/fax/restaurant_permit"):
        a, b = out / rel, tmp_path / rel
        files = sorted(p.name for p in a.iterdir()) if a.is_dir() else [""]
        for name in files:
            pa, pb = (a / name, b / name) if name else (a, b)
            assert pa.read_bytes() == pb.read_bytes(), rel


def test_the_default_corpus_mixes_printed_and_handwriting_fonts() -> None:
    chosen = corpus.choose_fonts("all")
    printed = [f for f in chosen if f.kind == "printed"]
    hand = [f for f in chosen if f.kind == "handwriting"]
    missing = [s.name for s in fonts.CATALOGUE if s.kind == "handwriting" and fonts.locate(s) is None]
    if missing:
        pytest.skip(f"handwriting-style fonts missing ({', '.join(missing)}): "
                    f"{fonts.install_hint(fonts.spec(missing[0]))}")
    assert len(printed) >= 10 and len(hand) >= 4
    assert {f.spec.family for f in printed} >= {"IPAGothic", "Noto Sans CJK JP", "Noto Serif CJK JP", "VL Gothic"}
    assert any(f.held_out for f in printed) and any(f.held_out for f in hand)
    assert set(PROFILES) == {"clean", "scanner", "fax"}


def test_cli_refuses_what_it_cannot_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert corpus.main(["--out", str(tmp_path), "--fonts", "no-such-font"]) == 1
    assert "no-such-font" in capsys.readouterr().err
    assert corpus.main(["--out", str(tmp_path), "--fonts", "ipa-gothic", "--profiles", "photocopier"]) == 1
    assert "photocopier" in capsys.readouterr().err


def test_demo_scans_are_a_dozen_in_several_fonts(tmp_path: Path) -> None:
    for name in {f for f, *_ in corpus.DEMO}:
        need(name)
    paths = corpus.build_demo(tmp_path)
    assert len(paths) == len(corpus.DEMO) == 12
    assert {p.parent.name for p in paths} == {"child_medical", "restaurant_permit"}
    kinds = set()
    for p in paths:
        truth = json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
        kinds.add(fonts.spec(truth["fonts"]["value"]).kind)
        assert truth["scan"]["profile"] in PROFILES and truth["form"] == p.parent.name
    assert kinds == {"printed", "handwriting"}
