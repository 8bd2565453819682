"""Adding a bot: scaffold from a blank form, fill in a few lines, test against expected JSON,
preview the zones, and a bot installed as a separate package found through its entry point."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bots.harness import check_folder
from bots.scaffold import detect, guess_type, scaffold
from kakari.config import KakariConfig
from kakari.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
BLANK = ROOT / "bots" / "restaurant_permit.blank.pdf"
KAKARI = str(Path(sys.executable).with_name("kakari"))
# what IT staff fill in: the scaffold's field_NN → the names their expected JSON uses
NAMES = {"申請日": "applied_on", "フリガナ": "applicant_kana", "氏名": "applicant_name", "電話番号": "phone",
         "名称": "business_name", "所在地": "business_address", "営業所電話番号": "business_phone",
         "責任者氏名": "manager_name", "代表者氏名": "representative", "法人番号": "corporate_number"}


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samples.generate import generate

    out = tmp_path_factory.mktemp("rp")
    generate(out, count=4, seed=21, forms=["restaurant_permit"])
    folder = out / "restaurant_permit"
    for extra in folder.glob("blank*"):
        extra.unlink()
    return folder


def test_detects_the_writing_boxes_of_a_blank_form() -> None:
    from samples.layout import layout

    title, found = detect(BLANK)
    assert title == "飲食店営業許可申請書"
    by_label = {f.label: f for f in found}
    assert {"申請日", "フリガナ", "氏名", "電話番号", "名称", "所在地", "責任者氏名", "申請手数料"} <= set(by_label)
    assert by_label["フリガナ"].type == "kana" and by_label["電話番号"].type == "phone"
    assert by_label["申請日"].type == "wareki_date" and by_label["法人番号"].type == "corporate_number"
    assert by_label["申請手数料"].type == "amount" and by_label["申請手数料"].unit == "円"
    assert by_label["氏名"].personal and not by_label["法人番号"].personal
    # zones: the drawn value cells less 0.5 mm (what the hand-written template uses)
    slots = layout("restaurant_permit").slots
    boxes = [f.box for f in found]
    for name in ("applicant_kana", "applicant_name", "business_name", "business_address", "manager_name"):
        s = slots[name]
        want = (s.x + 0.5, s.y + 0.5, s.w - 1.0, s.h - 1.0)
        assert any(np.allclose(b, want, atol=0.6) for b in boxes), (name, want)
    choice = next(f for f in found if f.type == "choice" and "飲食店営業" in f.options)
    assert set(choice.options) == {"飲食店営業", "喫茶店営業", "菓子製造業", "食肉販売業"}
    assert guess_type("生年月日") == "wareki_date" and guess_type("郵便番号") == "postal_code"


def fill_in(template: Path) -> None:
    """What a person does after `bots new`: give the fields the names their data uses (here through
    the zone editor's save, as the web screen does)."""
    from bots.template_edit import save, zones

    model = zones(template)
    for f in model["fields"]:
        if f["label"] in NAMES:
            f["name"] = NAMES[f["label"]]
    save(template, model)


def test_scaffold_fill_in_and_reach_full_accuracy(tmp_path: Path, samples: Path) -> None:
    from bots import registry

    _, template, n = scaffold("rp_scaffolded", BLANK, tmp_path / "bots_local")
    assert n >= 15 and (tmp_path / "bots_local" / "rp_scaffolded.blank.pdf").exists()
    with pytest.raises(ConfigError, match="既に"):
        scaffold("rp_scaffolded", BLANK, tmp_path / "bots_local")
    fill_in(template)
    registry.add_folders([tmp_path / "bots_local"])
    bot = registry.get("rp_scaffolded")
    checks = check_folder(bot, samples, KakariConfig(home=tmp_path / "home"))
    compared = sum(c.total for c in checks)
    assert compared >= 4 * len(NAMES)  # every renamed field (and those named right by bots new) compared
    assert sum(c.right for c in checks) == compared, [(c.path.name, c.diffs) for c in checks if c.diffs]


def test_bad_requests_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="英小文字"):
        scaffold("Bad-Name", BLANK, tmp_path)
    with pytest.raises(ConfigError, match="見つかりません"):
        scaffold("x", tmp_path / "none.pdf", tmp_path)
    img = tmp_path / "scan.pdf"
    Image.new("L", (600, 800), 255).save(img, "PDF")
    with pytest.raises(ConfigError, match="文字"):
        scaffold("x", img, tmp_path)


def test_bots_test_and_preview_commands(tmp_path: Path, samples: Path) -> None:
    ok = subprocess.run([KAKARI, "bots", "test", "restaurant_permit", str(samples), "--home", str(tmp_path)],
                        capture_output=True, text=True, cwd=ROOT, env=os.environ | {"COLUMNS": "200"})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "項目の正解率: 100.0%" in ok.stdout
    # a regression: one expected value changed → field-by-field diff, exit code 4
    bad = tmp_path / "bad"
    shutil.copytree(samples, bad)
    first = sorted(bad.glob("*.json"))[0]
    first.write_text(first.read_text(encoding="utf-8").replace('"fee": ', '"fee": 1'), encoding="utf-8")
    ng = subprocess.run([KAKARI, "bots", "test", "restaurant_permit", str(bad), "--home", str(tmp_path)],
                        capture_output=True, text=True, cwd=ROOT, env=os.environ | {"COLUMNS": "200"})
    assert ng.returncode == 4 and "fee: 読取" in ng.stdout and "NG" in ng.stdout

    pdf = sorted(samples.glob("*.pdf"))[0]
    png = tmp_path / "p.png"
    pv = subprocess.run([KAKARI, "bots", "preview", "restaurant_permit", str(pdf), "--out", str(png), "--home",
                         str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert pv.returncode == 0, pv.stderr
    im = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert im.shape[1] == pytest.approx(827, abs=3)  # A4 at 100 dpi
    blue = ((np.abs(im - [30, 110, 220]) < 10).all(axis=-1)).sum()
    assert blue > 2000  # the zones and values are drawn


def test_bot_from_a_separate_package_via_entry_point(tmp_path: Path, samples: Path) -> None:
    """A town's own package (not in kakari's tree) declares `kakari.bots`; kakari lists and uses it."""
    pkg = tmp_path / "site" / "midori_bots"
    _, template, _ = scaffold("midori_permit", BLANK, pkg)
    fill_in(template)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    dist = tmp_path / "site" / "midori_bots-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: midori-bots\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[kakari.bots]\nmidori_permit = midori_bots.midori_permit\n",
                                           encoding="utf-8")
    env = os.environ | {"PYTHONPATH": str(tmp_path / "site"), "COLUMNS": "250"}
    listed = subprocess.run([KAKARI, "bots", "list", "--home", str(tmp_path / "h")], capture_output=True, text=True,
                            cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    line = next(ln for ln in listed.stdout.splitlines() if ln.startswith("midori_permit"))
    assert "entry point midori-bots" in line
    used = subprocess.run([KAKARI, "bots", "test", "midori_permit", str(samples), "--home", str(tmp_path / "h")],
                          capture_output=True, text=True, cwd=tmp_path, env=env)
    assert used.returncode == 0 and "項目の正解率: 100.0%" in used.stdout, used.stdout + used.stderr


def test_third_form_added_the_same_way(tmp_path: Path) -> None:
    """住民票の写し等交付請求書 was scaffolded from its blank form and edited as the guide says: every
    field of its text-layer samples is read right and each document gets the status expected."""
    import json

    from bots import registry
    from ocr import read_document
    from samples.generate import generate

    generate(tmp_path, count=20, seed=31, forms=["juminhyo_request"])
    folder = tmp_path / "juminhyo_request"
    config = KakariConfig(home=tmp_path / "home")
    bot = registry.get("juminhyo_request")
    checks = check_folder(bot, folder, config)
    assert len(checks) == 20 and all(not c.diffs and not c.error and not c.unknown for c in checks)
    for pdf in sorted(folder.glob("juminhyo_request_*.pdf")):
        truth = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
        rec = bot().read(read_document(pdf, config))
        assert rec.status.value == truth["expected_status"], (pdf.name, truth["defect"], rec.problems)
    # and the other forms are not mistaken for it
    from bots import classify

    doc = read_document(sorted(folder.glob("*.pdf"))[1], config)
    assert classify(doc, [registry.get(n) for n in ("child_medical", "restaurant_permit", "juminhyo_request")])[0] is bot


def test_scaffold_from_a_scanned_blank(tmp_path: Path) -> None:
    """A blank form that exists only on paper: cells by line detection, labels by real Tesseract."""
    import pypdfium2 as pdfium

    png = tmp_path / "blank.png"
    pdfium.PdfDocument(str(BLANK))[0].render(scale=200 / 72).to_pil().save(png, dpi=(200, 200))
    _, from_pdf = detect(BLANK)
    _, template, n = scaffold("rp_from_scan", png, tmp_path / "out")
    from bots.scaffold import detect_image
    from bots.template import load_template

    _, found = detect_image(png)
    assert n == len(found) >= 10
    by_label = {f.label: f for f in found}
    right = [lab for lab in ("申請日", "フリガナ", "代表者氏名", "法人番号", "電話番号", "名称", "所在地",
                             "営業所電話番号", "責任者氏名", "申請手数料") if lab in by_label]
    assert len(right) >= 8, sorted(by_label)  # labels read by OCR
    pdf_boxes = {f.label: f.box for f in from_pdf}
    for lab in right:
        assert np.allclose(by_label[lab].box[:2], pdf_boxes[lab][:2], atol=1.0), lab  # same zone as the PDF way
    assert by_label["電話番号"].type == "phone" and by_label["申請手数料"].type == "amount"
    assert load_template(template).fields  # a valid template, ready to edit
