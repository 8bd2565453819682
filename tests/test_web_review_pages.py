"""The review screen's page images in a real Chromium: a scan fed tilted and shifted is shown as
registered, so the highlighted zone of the focused field holds that field's printed value (found by
matching the value's pixels from the untouched sample, in the form's coordinates, against the served
page at the zone drawn on screen); a two-page document shows both pages, each zone on its own page,
and focus on a page-2 field brings page 2 into view. The page images keep their access rule and
headers. Screenshots in tests/artifacts/."""
from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect

from jobs.runner import run_job
from jobs.store import Store
from kakari.config import RunContext, load_config
from samples.scanlike import render_page
from tests.test_web_review import ARTIFACTS, PASSWORD, current_zone, login, serve, zone_in_view
from web.accounts import add_user, sections_of
from web.app import create_app
from web.pages import PAGE_DPI

ROOT = Path(__file__).resolve().parents[1]
JOB = "kodomo_iryo"
SEED = 20
TILT = dict(rotation=2.5, dx_mm=-3.0, dy_mm=2.5)  # degrees counter-clockwise, mm right and down
TOLERANCE_MM = 1.0  # a zone outline "on" its value: within a millimetre (a value cell is 7–9 mm tall)
CHECKED = ("guardian_name", "guardian_kana", "phone", "child_name", "insurer_number")
ON_PAGE_2 = ("guardian_name", "phone")  # the two-page document's fields written on its second sheet


def two_pages(first: Path, second: Path, out: Path) -> None:
    import pypdfium2 as pdfium

    merged = pdfium.PdfDocument.new()
    for part in (first, second):
        src = pdfium.PdfDocument(str(part))
        merged.import_pages(src)
        src.close()
    merged.save(str(out))
    merged.close()


def doc_id_of(store: Store, name: str) -> str:
    from sqlalchemy import select

    from jobs.store import documents

    with store.engine.connect() as conn:
        return str(conn.execute(select(documents.c.doc_id).where(documents.c.original_name == name)).scalar_one())


def rewrite(store: Store, doc_id: str, change: Any) -> None:
    """`change(record)` on the stored record, then the document is 要確認 (what the screen is for)."""
    from sqlalchemy import select, update

    from jobs.store import documents

    with store.begin() as conn:
        record = json.loads(json.dumps(conn.execute(select(documents.c.record)
                                                    .where(documents.c.doc_id == doc_id)).scalar_one()))
        change(record)
        conn.execute(update(documents).where(documents.c.doc_id == doc_id).values(record=record, status="要確認"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from samples.generate import generate
    from samples.scanlike import clean_params, degrade, save

    tmp = tmp_path_factory.mktemp("pages")
    pdfs = [p for p in generate(tmp / "s", count=4, seed=SEED, forms=["child_medical"])
            if json.loads(p.with_suffix(".json").read_text(encoding="utf-8")).get("defect") is None]
    tilted_src, first, second = pdfs[0], pdfs[1], pdfs[2]
    config = load_config(ROOT / "samples" / "kakari.toml", tmp / "home")
    job = config.job(JOB)
    inbox = job.folders(config.home)["inbox"]
    inbox.mkdir(parents=True)
    truth = json.loads(tilted_src.with_suffix(".json").read_text(encoding="utf-8"))
    params = replace(clean_params(200), profile="scanner", noise=3.0, lossless=False, quality=85, **TILT)
    save(degrade(tilted_src, truth, params, random.Random(SEED)), inbox / "tilted.pdf", params)
    two_pages(first, second, inbox / "two_pages.pdf")
    run_job(job, RunContext(config))
    store = Store(config.database_url)
    tilted, double = doc_id_of(store, "tilted.pdf"), doc_id_of(store, "two_pages.pdf")
    rewrite(store, tilted, lambda r: None)
    later = json.loads(second.with_suffix(".json").read_text(encoding="utf-8"))["fields"]

    def onto_page_2(record: dict[str, Any]) -> None:
        for f in record["fields"]:
            if f["name"] in ON_PAGE_2:
                f["box"][0] = 2
                f["value"] = f["raw"] = later[f["name"]]
    rewrite(store, double, onto_page_2)
    sections = sections_of(config)
    add_user(store, "tanaka", PASSWORD, "clerk", "子育て支援課", sections=sections)
    add_user(store, "suzuki", PASSWORD, "clerk", "生活環境課", sections=sections)
    with serve(create_app(config, flush_interval=0.2)) as base:
        yield {"base": base, "config": config, "tilted": tilted, "double": double, "tilted_src": tilted_src,
               "second": second, "store": store}


def served(page: Any, url: str) -> np.ndarray:
    r = page.request.get(url)
    assert r.status == 200 and r.headers["content-type"] == "image/png", (url, r.status)
    return cv2.imdecode(np.frombuffer(r.body(), np.uint8), cv2.IMREAD_GRAYSCALE)


def zone_on_screen(page: Any) -> dict[str, Any]:
    """The highlighted zone in pixels of its page image (as the browser drew it), and its page."""
    return page.evaluate("""() => { const z = document.querySelector('.zone.current');
        const box = z.closest('.pagebox'), img = box.querySelector('img');
        const zr = z.getBoundingClientRect(), ir = img.getBoundingClientRect(), k = img.naturalWidth / ir.width;
        return {page: Number(box.dataset.page), src: img.getAttribute('src'), x: (zr.left - ir.left) * k,
                y: (zr.top - ir.top) * k, w: zr.width * k, h: zr.height * k}; }""")


def best_offset_mm(image: np.ndarray, patch: np.ndarray, x: float, y: float, search_mm: float = 6.0) -> tuple[float, float]:
    """Where `patch` (a value's pixels) matches best in `image` around (x, y) px: (distance from
    (x, y) in mm, the match's correlation)."""
    s = PAGE_DPI / 25.4
    pad = round(search_mm * s)
    x0, y0 = max(0, round(x) - pad), max(0, round(y) - pad)
    area = image[y0:round(y) + patch.shape[0] + pad, x0:round(x) + patch.shape[1] + pad]
    scores = cv2.matchTemplate(area, patch, cv2.TM_CCOEFF_NORMED)
    _, score, _, (bx, by) = cv2.minMaxLoc(scores)
    return float(np.hypot(x0 + bx - x, y0 + by - y) / s), float(score)


def truth_patch(pdf: Path, box: list[float]) -> np.ndarray:
    """The field's zone of the untouched sample: its printed value in the form's coordinates."""
    s = PAGE_DPI / 25.4
    _, x, y, w, h = box
    return render_page(pdf, PAGE_DPI, False)[round(y * s):round((y + h) * s), round(x * s):round((x + w) * s)]


def stored_boxes(store: Store, doc_id: str) -> dict[str, list[float]]:
    row = store.document(doc_id, JOB)
    assert row is not None
    return {f["name"]: f["box"] for f in row["record"]["fields"] if f.get("box")}


def test_tilted_scan_is_shown_registered_and_the_zone_holds_the_value(site, browser) -> None:  # noqa: ANN001
    base, tilted = site["base"], site["tilted"]
    row = site["store"].document(tilted, JOB)
    frame = row["record"]["meta"]["frames"]["1"]  # the alignment OCR read the fields through
    page = login(browser, base, "tanaka")
    page.goto(f"{base}/review/{JOB}/{tilted}")
    page.wait_for_load_state("networkidle")
    assert page.locator(".pagebox").count() == 1
    boxes = stored_boxes(site["store"], tilted)
    s = PAGE_DPI / 25.4
    image = served(page, f"{base}/review/{JOB}/{tilted}/page/1.png")
    raw = render_page(Path(row["stored_path"]), PAGE_DPI, False)  # the scan as it was fed, not registered
    assert image.shape == (round(297 * s), round(210 * s))  # the form's page, A4 at the screen's dpi
    checked = 0
    for name in CHECKED:
        page.focus(f"#f_{name}")
        assert current_zone(page) == name and zone_in_view(page), name
        z = zone_on_screen(page)
        _, x, y, w, h = boxes[name]
        drawn = (z["x"], z["y"], z["w"], z["h"])  # drawn in the form's mm, to the pixel
        assert z["page"] == 1 and all(abs(a - b * s) < 1.5 for a, b in zip(drawn, (x, y, w, h))), (name, z)
        patch = truth_patch(site["tilted_src"], boxes[name])
        if patch.min() > 128:  # an empty field: nothing printed to find
            continue
        shown, _ = best_offset_mm(image, patch, z["x"], z["y"])
        fed, _ = best_offset_mm(raw, patch, z["x"], z["y"])
        assert shown <= TOLERANCE_MM, (name, shown)  # the value is under its outline
        assert fed > TOLERANCE_MM, (name, fed)  # on the scan as fed it is not: the check can tell
        checked += 1
    assert checked >= 4
    page.focus("#f_guardian_name")
    page.screenshot(path=str(ARTIFACTS / "review-registered.png"))
    assert abs(frame["matrix"][1][0]) > 0.1  # the scan was really tilted (≈ 2.5° at 300 dpi)

    crop = served(page, f"{base}/review/{JOB}/{tilted}/crop/guardian_name.png")  # the field's crop, registered too
    patch = truth_patch(site["tilted_src"], boxes["guardian_name"])
    small = cv2.resize(crop, (round(crop.shape[1] * PAGE_DPI / 200), round(crop.shape[0] * PAGE_DPI / 200)),
                       interpolation=cv2.INTER_AREA)
    offset, _ = best_offset_mm(small, patch, 2 * s, 2 * s, search_mm=2.0)  # the crop has a 2 mm margin
    assert offset <= TOLERANCE_MM


def test_two_page_document_shows_page_two_and_its_zones(site, browser) -> None:  # noqa: ANN001
    base, double = site["base"], site["double"]
    page = login(browser, base, "tanaka")
    page.goto(f"{base}/review/{JOB}/{double}")
    page.wait_for_load_state("networkidle")
    assert page.locator(".pagebox").count() == 2
    assert page.eval_on_selector_all(".pagebox img", "els => els.map(e => e.naturalWidth > 0)") == [True, True]
    for name in ON_PAGE_2:  # each zone outlined on its own page
        assert page.locator(f'.pagebox[data-page="2"] .zone[data-field="{name}"]').count() == 1
    assert page.locator('.pagebox[data-page="1"] .zone[data-field="child_name"]').count() == 1
    assert page.locator('.pagebox[data-page="1"] .zone[data-field="guardian_name"]').count() == 0

    page.focus("#f_child_name")
    expect(page.locator("#page-now")).to_have_text("1 / 2 ページ")  # set by the viewer's script, not at once
    page.focus("#f_guardian_name")  # focus brings page 2 and the zone into view
    assert current_zone(page) == "guardian_name" and zone_in_view(page)
    expect(page.locator("#page-now")).to_have_text("2 / 2 ページ")
    z = zone_on_screen(page)
    assert z["page"] == 2 and z["src"].endswith("/page/2.png")
    box = stored_boxes(site["store"], double)["guardian_name"]
    patch = truth_patch(site["second"], box)  # the second sheet's name, not the first's
    on_two, score_two = best_offset_mm(served(page, base + z["src"]), patch, z["x"], z["y"])
    _, score_one = best_offset_mm(served(page, f"{base}/review/{JOB}/{double}/page/1.png"), patch, z["x"], z["y"])
    assert on_two <= TOLERANCE_MM and score_two > score_one
    page.screenshot(path=str(ARTIFACTS / "review-two-pages.png"))

    page.click('[data-goto-page="1"]')  # the page switcher
    expect(page.locator("#page-now")).to_have_text("1 / 2 ページ")
    top = page.evaluate("""() => document.querySelector('.pagebox[data-page="1"]').getBoundingClientRect().top
        - document.querySelector('.viewer .scroller').getBoundingClientRect().top""")
    assert abs(top) < 2


def test_page_images_keep_their_access_rule_and_headers(site, browser) -> None:  # noqa: ANN001
    base, double = site["base"], site["double"]
    clerk = login(browser, base, "tanaka")
    old = clerk.request.get(f"{base}/review/{JOB}/{double}/page.png")
    new = clerk.request.get(f"{base}/review/{JOB}/{double}/page/2.png")
    assert old.status == new.status == 200
    def without_nonce(value: str | None) -> str:  # the policy's nonce is new on every response
        return re.sub(r"'nonce-[^']+'", "'nonce'", value or "")

    for name in ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy",
                 "cache-control", "cross-origin-resource-policy"):
        assert new.headers.get(name) and without_nonce(new.headers.get(name)) == without_nonce(old.headers.get(name)), name
    assert "no-store" in new.headers["cache-control"]
    assert clerk.request.get(f"{base}/review/{JOB}/{double}/page/3.png").status == 404
    other = login(browser, base, "suzuki")  # another section sees no page of it
    assert other.request.get(f"{base}/review/{JOB}/{double}/page/2.png").status == 403


def test_a_scan_read_before_alignments_were_kept_is_registered_when_shown(site) -> None:  # noqa: ANN001
    from jobs.store import record_from_dict
    from web.pages import page_png

    row = site["store"].document(site["tilted"], JOB)
    rec = record_from_dict(row["record"])
    del rec.meta["frames"]  # as a record of an earlier version has it
    image = cv2.imdecode(np.frombuffer(page_png(Path(row["stored_path"]), rec, 1, site["config"]), np.uint8),
                         cv2.IMREAD_GRAYSCALE)
    s = PAGE_DPI / 25.4
    boxes = stored_boxes(site["store"], site["tilted"])
    for name in ("guardian_name", "phone"):
        _, x, y, _, _ = boxes[name]
        offset, _ = best_offset_mm(image, truth_patch(site["tilted_src"], boxes[name]), x * s, y * s)
        assert offset <= TOLERANCE_MM, (name, offset)
