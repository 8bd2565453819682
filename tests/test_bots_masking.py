"""墨塗り: every personal number of the generated documents is under a box, nothing of it can be read
back from a released file (pdfplumber, pypdfium2, Tesseract), a naive mask is caught, metadata,
annotations, form fields, attachments and scripts are gone, and a town can add its own number."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from benchmarks.run_masking import COVERED, coverage
from bots.mask_numbers import MaskNumbers
from bots.masking.engine import mask_file, tessdata_for
from bots.masking.spec import load_spec
from bots.masking.verify import structure, text_layers, verify
from kakari.config import KakariConfig
from kakari.model import Box
from samples.masking import generate_scans, generate_text, my_number

ROOT = Path(__file__).resolve().parents[1]
SPEC = MaskNumbers.spec


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    out = tmp_path_factory.mktemp("masking")
    return {"text": generate_text(out, count=7, seed=5), "scan": generate_scans(out, count=4, seed=5)}


@pytest.fixture(scope="module")
def masked(corpus: dict[str, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, dict, object]]:
    out = tmp_path_factory.mktemp("masked")
    cfg = KakariConfig()
    done = []
    for path in corpus["text"] + corpus["scan"]:
        truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        done.append((path, truth, mask_file(path, SPEC, cfg, out / (path.stem + ".pdf"))))
    return done


def test_every_personal_number_is_under_a_box(masked: list) -> None:
    styles = set()
    for path, truth, result in masked:
        boxes = [f.box for f in result.findings]
        for n in truth["numbers"]:
            on_page = [b for b in boxes if b.page == n["page"]]
            assert coverage(n["box"], on_page) >= COVERED, (path.name, n["style"], n["kind"])
            styles.add((truth["kind"], n["style"]))
        for b in boxes:  # and nothing else: no box lies off every number
            on = [Box(b.page, *t["box"]) for t in truth["numbers"] if t["page"] == b.page]
            assert coverage([b.x, b.y, b.w, b.h], on) > 0.2, (path.name, b)
    assert {s for k, s in styles if k == "text"} >= {"boxes", "sentence", "table", "rotated", "picture", "field"}
    assert {s for k, s in styles if k == "scan"} >= {"boxes", "sentence", "table", "rotated"}


def test_released_files_give_nothing_back(masked: list) -> None:
    """An independent re-read with the truth values: text by pdfplumber and pypdfium2, pixels by
    Tesseract jpn and eng, and the file's structure."""
    tessdata = tessdata_for(KakariConfig())
    released = 0
    for path, truth, result in masked:
        if not result.releasable:
            assert truth["expected_status"] == "要確認" or result.problems, path.name
            continue
        released += 1
        values = [n["value"] for n in truth["numbers"]]
        assert verify(result.output, values, tessdata) == [], path.name
        with pikepdf.open(result.output) as pdf:
            assert len(pdf.pages) == truth["pages"]
    assert released >= len(masked) // 2


def test_a_failing_check_digit_beside_its_label_is_masked_and_sent_to_review(tmp_path: Path) -> None:
    from samples.masking import Sheet, Truth

    truth = Truth("bad", "sentence")
    sheet = Sheet(tmp_path / "bad.pdf", truth)
    bad = my_number(__import__("random").Random(3), valid=False)
    x = 20 + sheet.text(20, 50, "個人番号", 10.5)[0]
    sheet.number(x + 3, 50, "個人番号", "my_number", bad, bad, False, "sentence")
    sheet.text(20, 70, "受付番号 123456789012 (チェックデジットの合わない、見出しのない12桁は番号ではない)", 10.5)
    sheet.save()
    result = mask_file(tmp_path / "bad.pdf", SPEC, KakariConfig(), tmp_path / "out.pdf")
    assert [f.value for f in result.findings] == [bad]
    assert not result.releasable and any("チェックデジット" in p for p in result.problems)


def test_a_label_without_a_number_sends_the_document_to_review(tmp_path: Path) -> None:
    from samples.masking import Sheet, Truth

    sheet = Sheet(tmp_path / "empty.pdf", Truth("empty", "sentence"))
    sheet.text(20, 50, "個人番号", 10.5)
    sheet.text(20, 60, "個人番号カードの写しを添付してください。", 10.5)  # not a label: the card's name
    sheet.save()
    result = mask_file(tmp_path / "empty.pdf", SPEC, KakariConfig(), tmp_path / "out.pdf")
    assert result.findings == [] and result.problems == ["「個人番号」の近くに番号が見つかりません"]


def test_corporate_numbers_are_not_masked_by_default(tmp_path: Path) -> None:
    from samples.generate import corporate_number
    from samples.masking import Sheet, Truth

    corp = corporate_number(__import__("random").Random(9))
    sheet = Sheet(tmp_path / "corp.pdf", Truth("corp", "sentence"))
    sheet.text(20, 50, f"株式会社みどりフーズ　法人番号 {corp}", 10.5)
    sheet.save()
    result = mask_file(tmp_path / "corp.pdf", SPEC, KakariConfig(), tmp_path / "out.pdf")
    assert result.findings == [] and result.releasable


def test_zones_of_a_known_form_are_masked_by_position(tmp_path: Path) -> None:
    """Digits drawn as strokes (a pen on a tablet) are no text: the form's zone masks them, moved
    with its anchor label (the whole form is printed 4 mm lower than the blank says)."""
    from samples.masking import Sheet, Truth

    toml = (ROOT / "bots" / "mask_numbers.toml").read_text(encoding="utf-8") + (
        '\n[forms.todoke]\ntitle = "個人番号届出書"\nkeywords = ["個人番号届出書"]\n'
        'anchor = { text = "個人番号", x = 22, y = 84.7 }\n'
        'zones = [{ kind = "my_number", page = 1, x = 60, y = 82, w = 96, h = 9 }]\n')
    (tmp_path / "spec.toml").write_text(toml, encoding="utf-8")
    spec = load_spec(tmp_path / "spec.toml")
    sheet = Sheet(tmp_path / "form.pdf", Truth("form", "boxes"))
    sheet.text(60, 38, "個人番号届出書", 16)
    sheet.text(22, 92, "個人番号", 10.5)
    for i in range(12):
        sheet.rect(60 + i * 8, 86, 8, 9)
        sheet.c.line((62 + i * 8) / 0.3528, (297 - 88) / 0.3528, (66 + i * 8) / 0.3528, (297 - 93) / 0.3528)
    sheet.save()
    result = mask_file(tmp_path / "form.pdf", spec, KakariConfig(), tmp_path / "out.pdf")
    [zone] = result.findings
    assert zone.how == "zone" and coverage([60, 86, 96, 9], [zone.box]) >= 0.99
    assert result.releasable  # the label is answered by its zone
    plain = mask_file(tmp_path / "form.pdf", SPEC, KakariConfig(), tmp_path / "plain.pdf")
    assert plain.findings == [] and plain.problems == ["「個人番号」の近くに番号が見つかりません"]


def _naive(source: Path, boxes: list[Box], out: Path) -> Path:
    """What people do by hand: a black rectangle drawn on top of the page, the text left under it."""
    with pikepdf.open(source) as pdf:
        page = pdf.pages[0]
        h = float(page.mediabox[3])
        ops = b"".join(f"0 g {b.x / 25.4 * 72:.2f} {h - b.y1 / 25.4 * 72:.2f} {b.w / 25.4 * 72:.2f} "
                       f"{b.h / 25.4 * 72:.2f} re f\n".encode() for b in boxes)
        page.contents_add(pdf.make_stream(b"q\n" + ops + b"Q\n"), prepend=False)
        pdf.save(out)
    return out


def test_a_rectangle_drawn_over_a_text_layer_is_caught(masked: list, tmp_path: Path) -> None:
    path, truth, result = next(m for m in masked if m[1]["style"] == "sentence" and m[1]["kind"] == "text")
    first = [n for n in truth["numbers"] if n["page"] == 1]
    naive = _naive(path, [Box(1, *n["box"]).grown(1.0) for n in first], tmp_path / "naive.pdf")
    values = [n["value"] for n in first]
    found = verify(naive, values, tessdata_for(KakariConfig()))
    where = {lo.where for lo in found}
    assert {"テキスト (pdfplumber)", "テキスト (pypdfium2)"} <= where  # the digits are still selectable
    assert not any(lo.where.startswith("OCR") and "墨塗りした番号" in lo.what for lo in found)  # the ink is hidden
    assert any("文書情報" in lo.what for lo in found)
    assert text_layers(result.output, values) == []


def test_metadata_annotations_fields_attachments_and_scripts_are_gone(masked: list) -> None:
    path, _truth, result = next(m for m in masked if m[1]["style"] == "field")
    with pikepdf.open(path) as pdf:  # the input has all of them
        assert pdf.docinfo.get("/Author") and "/Metadata" in pdf.Root and "/OpenAction" in pdf.Root
        assert "/AcroForm" in pdf.Root and len(pdf.attachments) == 1 and "/Annots" in pdf.pages[0].obj
    assert result.releasable
    assert structure(result.output) == []
    with pikepdf.open(result.output) as pdf:
        assert "/Info" not in pdf.trailer and set(pdf.Root.keys()) == {"/Type", "/Pages"}
        assert len(pdf.attachments) == 0
        for page in pdf.pages:
            assert "/Annots" not in page.obj and set(page.Resources.keys()) == {"/XObject"}
    assert b"JavaScript" not in result.output.read_bytes() and b"memo.txt" not in result.output.read_bytes()


def test_a_town_adds_its_own_number_pattern(tmp_path: Path) -> None:
    """A subclass in the town's bots_dir with its own TOML: 住民票コード (11 digits) beside its label."""
    toml = (ROOT / "bots" / "mask_numbers.toml").read_text(encoding="utf-8") + (
        '\n[patterns.juminhyo_code]\nlabel = "住民票コード"\ndigits = [11]\nlabels = ["住民票コード"]\n')
    local = tmp_path / "bots_local"
    local.mkdir()
    (local / "midori_mask.toml").write_text(toml, encoding="utf-8")
    (local / "midori_mask.py").write_text(
        "from bots.mask_numbers import MaskNumbers\n\n\nclass MidoriMask(MaskNumbers):\n    pass\n", encoding="utf-8")
    spec = load_spec(local / "midori_mask.toml")
    from samples.masking import Sheet, Truth

    sheet = Sheet(tmp_path / "code.pdf", Truth("code", "sentence"))
    sheet.text(20, 50, "住民票コード　12345678901", 10.5)
    sheet.text(20, 60, "整理番号　98765432109", 10.5)  # eleven digits without the label stay
    sheet.save()
    result = mask_file(tmp_path / "code.pdf", spec, KakariConfig(), tmp_path / "out.pdf")
    assert [(f.label, f.box.y < 55) for f in result.findings] == [("住民票コード", True)]
    # and `kakari mask --bot` finds the town's bot through bots_dir
    cfg = tmp_path / "kakari.toml"
    cfg.write_text(f'bots_dir = ["{local}"]\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "kakari.cli", "mask", str(tmp_path / "code.pdf"), "--out",
                          str(tmp_path / "out"), "--bot", "midori_mask", "--config", str(cfg), "--home",
                          str(tmp_path / "home")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "住民票コード 1箇所" in run.stdout and (tmp_path / "out" / "code.pdf").is_file()


def test_kakari_mask_exits_4_with_a_reason_when_a_file_cannot_be_released(masked: list, tmp_path: Path) -> None:
    good = next(p for p, t, r in masked if r.releasable and t["kind"] == "text")
    broken = tmp_path / "途中まで.pdf"
    broken.write_bytes(good.read_bytes()[:300])
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "kakari.cli", "mask", str(good), str(broken), "--out", str(out),
                          "--home", str(tmp_path / "home")], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 4, run.stderr
    assert "出力できません" in run.stderr and "途中まで.pdf" in run.stderr and "壊れている" in run.stderr
    assert sorted(p.name for p in out.iterdir()) == [good.stem + ".pdf"]  # nothing half-written, no temp file
    assert "墨塗りしました" in run.stdout


def test_the_generator_is_seeded_and_synthetic(tmp_path: Path) -> None:
    a = generate_text(tmp_path / "a", count=3, seed=11)
    b = generate_text(tmp_path / "b", count=3, seed=11)
    for x, y in zip(a, b):
        assert x.with_suffix(".json").read_text(encoding="utf-8") == y.with_suffix(".json").read_text(encoding="utf-8")
    from bots.fields import my_number_check_digit

    for p in a:
        for n in json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))["numbers"]:
            if n["kind"] == "my_number":
                assert (my_number_check_digit(n["value"][:11]) == int(n["value"][11])) == n["valid"]
    shutil.rmtree(tmp_path / "b")


def test_twelve_digits_are_found_in_any_grouping() -> None:
    from bots.masking.verify import holds_twelve

    assert holds_twelve([12]) and holds_twelve([4, 4, 4]) and holds_twelve([2, 4, 4, 4])  # a phone-like prefix
    assert holds_twelve([4, 4, 4, 3, 4, 4])  # a number followed by a phone number on its line
    assert not holds_twelve([13]) and not holds_twelve([4, 6]) and not holds_twelve([3, 4, 4])


def _unlabelled_runs(path: Path) -> list[str]:
    """A page with 12-digit runs whose check digit fails, none beside a label: spaced, hyphenated,
    whole, and one digit to a printed box."""
    import random

    from samples.masking import Sheet, Truth

    rng = random.Random(11)
    bad = [my_number(rng, valid=False) for _ in range(4)]
    sheet = Sheet(path, Truth("runs", "sentence"))
    sheet.text(20, 40, f"受付 {bad[0][:4]} {bad[0][4:8]} {bad[0][8:]}", 12)
    sheet.text(20, 60, f"照会 {bad[1][:4]}-{bad[1][4:8]}-{bad[1][8:]}", 12)
    sheet.text(20, 80, f"控え {bad[2]}", 12)
    sheet.text(20, 102, "記入欄", 12)
    for i, d in enumerate(bad[3]):
        sheet.rect(50 + 8 * i, 95, 8, 9)
        sheet.text(52.3 + 8 * i, 102, d, 12)
    sheet.save()
    return bad


def test_verification_catches_any_twelve_digit_run_whatever_its_check_digit(tmp_path: Path) -> None:
    """Numbers the finder does not know (no label, a check digit that fails) are still found by the
    verification, in the text layer and in the pixels by every engine, and nothing is released."""
    _unlabelled_runs(tmp_path / "runs.pdf")
    found = text_layers(tmp_path / "runs.pdf", [])
    assert {lo.where for lo in found} == {"テキスト (pdfplumber)", "テキスト (pypdfium2)"}
    assert all("12桁" in lo.what for lo in found)
    # released as it is (a clerk removed every box): image-only, so OCR is all that can read it
    result = mask_file(tmp_path / "runs.pdf", SPEC, KakariConfig(), tmp_path / "out.pdf", boxes={1: []})
    assert not result.releasable
    ocr = [lo for lo in result.leftovers if lo.where.startswith("OCR")]
    assert {lo.where for lo in ocr} == {"OCR (jpn)", "OCR (eng)", "OCR (PP-OCR)"}
    assert all("12桁" in lo.what and lo.box is not None for lo in ocr)
    for top, bottom in ((30, 42), (50, 62), (70, 82), (93, 106)):  # each of the four runs, by one engine at least
        assert any(lo.box is not None and top <= lo.box.y and lo.box.y1 <= bottom for lo in ocr), (top, ocr)


def test_verification_reads_every_configured_kind_not_only_twelve_digits(tmp_path: Path) -> None:
    """A 基礎年金番号 the finder did not mask (here: a clerk removed its box) is read back beside its
    label by the verification's own reading of the pixels, and the file is not released."""
    from samples.masking import Sheet, Truth

    sheet = Sheet(tmp_path / "nenkin.pdf", Truth("nenkin", "sentence"))
    sheet.text(20, 50, "基礎年金番号　4821-093755", 12)
    sheet.save()
    result = mask_file(tmp_path / "nenkin.pdf", SPEC, KakariConfig(), tmp_path / "out.pdf", boxes={1: []})
    assert not result.releasable
    assert any(lo.where.startswith("OCR") and "基礎年金番号が画像から読み取れます" in lo.what for lo in result.leftovers)


@pytest.fixture(scope="module")
def seed42(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The benchmark corpus's first documents (seed 42), by name."""
    from samples.masking import generate

    return {p.stem: p for p in generate(tmp_path_factory.mktemp("seed42"), 1, 70, 42)}


def test_one_engines_misreading_of_a_date_or_phone_number_does_not_keep_a_clean_file_back(
        seed42: dict[str, Path], tmp_path: Path) -> None:
    """Clean documents (their numbers masked, nothing else of 12 digits on them) whose released page
    one engine misreads as 12 digits that fail the check digit — a date's 年月日 read as digits by
    eng, a phone number read with a digit too many — are not kept back by the verification: the
    other engines read that place as what it is. A run that every engine reads as 12 digits still keeps a file back (the
    test above)."""
    for path in (seed42["mask_0001_boxes"], seed42["scan_0029_boxes"]):
        truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        assert truth["expected_status"] == "自動登録"
        result = mask_file(path, SPEC, KakariConfig(), tmp_path / (path.stem + ".pdf"))
        assert result.leftovers == [], (path.name, result.problems)
        values = [n["value"] for n in truth["numbers"]]
        assert verify(result.output, values, tessdata_for(KakariConfig())) == [], path.name
        if truth["kind"] == "text":  # nothing else in doubt there: released
            assert result.releasable, result.problems


def test_a_sideways_number_is_masked_though_the_other_engine_reads_its_line_as_garbage(
        seed42: dict[str, Path], tmp_path: Path) -> None:
    """A scanned sideways stamp 個人番号確認済 with a number whose check digit fails: PP-OCR reads
    it beside its label; Tesseract reads the line turned the wrong way, letters among a few digits.
    Such a fragment is no other reading of the number (電話 090-…): it is masked and flagged."""
    path = seed42["scan_0048_rotated"]
    truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    [n] = truth["numbers"]
    assert not n["valid"] and n["style"] == "rotated"
    result = mask_file(path, SPEC, KakariConfig(), tmp_path / "out.pdf", verify_ocr=False)
    assert coverage(n["box"], [f.box for f in result.findings]) >= COVERED
    assert any("チェックデジット" in m for m in result.problems)


def test_a_phone_number_read_in_doubt_as_twelve_digits_is_not_masked(seed42: dict[str, Path], tmp_path: Path) -> None:
    """A scanned 電話 0222-15-4380 that one engine reads as 12 digits in doubt (it read a few digits,
    its second reading more than were there) is not masked: the other engine reads it after 電話.
    The page's two 個人番号 are masked."""
    path = seed42["scan_0070_sentence"]
    truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    [phone] = [d for d in truth["decoys"] if d["kind"] == "phone"]
    result = mask_file(path, SPEC, KakariConfig(), tmp_path / "out.pdf", verify_ocr=False)
    boxes = [f.box for f in result.findings]
    assert all(coverage(n["box"], boxes) >= COVERED for n in truth["numbers"])
    assert coverage(phone["box"], boxes) < 0.2, result.findings


def test_the_next_number_on_a_label_s_line_after_another_name_of_a_number_is_not_the_label_s(
        tmp_path: Path) -> None:
    """A table row 被保険者番号 98014812 保険者番号 97255646: the masked page reads 被保険者番号 ■■
    保険者番号 97255646, and the insurer's number, named by its own 保険者番号, is not taken for the
    被保険者番号 left legible: the clean file is released. The 被保険者番号 itself is masked."""
    from samples.masking import Sheet, Truth

    sheet = Sheet(tmp_path / "row.pdf", Truth("row", "table"))
    sheet.text(20, 50, "国民健康保険　被保険者番号　98014812　　保険者番号　97255646", 10.5)
    sheet.save()
    result = mask_file(tmp_path / "row.pdf", SPEC, KakariConfig(), tmp_path / "out.pdf")
    assert [f.value for f in result.findings] == ["98014812"]
    assert result.leftovers == [] and result.releasable, result.problems
