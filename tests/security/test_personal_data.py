"""Item 9: no personal value from the samples' ground truth — names, kana, addresses, phone numbers,
birth dates (as written: 和暦, 西暦, with slashes), insurance numbers — appears in any log line, event,
run note, error file, console output or page other than the review page itself; nor does a file
named after its applicant (山﨑　智子_飲食店.pdf, which cannot be read)."""
from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import date

import pytest

from kakari.wareki import format_wareki
from tests.security.conftest import CHILD_JOB, PERSONAL, SHOP_JOB, Site, csrf_of, kakari, login

PERSONAL_FILE = "山﨑　智子_飲食店.pdf"


def spellings(key: str, value: str) -> set[str]:
    """How a value may be written where it leaks: as is, without its spaces, digits only, and a
    date as 和暦 (令和元年11月30日), with slashes or with 年月日."""
    out = {value, value.replace("\u3000", " "), re.sub(r"[\s\u3000]+", "", value)}
    if key in ("phone", "postal_code"):
        out.add(value.replace("-", ""))
    if key.endswith("birth"):
        y, m, d = (int(x) for x in value.split("-"))
        out |= {f"{y}/{m:02d}/{d:02d}", f"{y}年{m}月{d}日", format_wareki(date(y, m, d))}
    parts = re.split(r"[\s\u3000]+", value)
    if key.endswith(("name", "kana", "representative")) and len(parts) > 1:
        out |= {p for p in parts if len(p) >= 3}
    return {s for s in out if len(s) >= 4}


def secrets_of(site: Site) -> set[str]:
    found = {PERSONAL_FILE.split("_")[0], "山﨑智子", "山﨑 智子"}
    for form, keys in PERSONAL.items():
        for _, truth in site.truth(form):
            for key in keys:
                value = truth["fields"].get(key)
                if value:
                    found |= spellings(key, str(value))
    return found


def decide_some(site: Site) -> None:
    """What clerks do in a morning: send one document back with a reason that repeats the child's
    birth date and name, as people write them."""
    name = site.with_defect("era_child_birth")
    truth = dict(site.truth("child_medical"))[name]["fields"]
    y, m, d = (int(x) for x in truth["child_birth"].split("-"))
    reason = f"{truth['child_name']}さんの生年月日 {format_wareki(date(y, m, d))} を保護者に確認する"
    clerk = login(site.base, "tanaka")
    doc = site.doc_id(name)
    page = clerk.get(f"/review/{CHILD_JOB}/{doc}")
    r = clerk.post(f"/review/{CHILD_JOB}/{doc}", data={"csrf_token": csrf_of(page.text), "action": "reject",
                                                       "reason": reason, "active_seconds": "42"})
    assert r.status_code == 303, r.text[:500]


@pytest.fixture(scope="module")
def texts(site: Site) -> dict[str, str]:
    """Every stored or shown free text, by where it came from."""
    decide_some(site)
    out = {p.name: p.read_text(encoding="utf-8", errors="replace") for p in (site.home / "logs").glob("*.log*")}
    out |= {str(p.relative_to(site.home)): p.read_text(encoding="utf-8") for p in site.home.rglob("*.error.txt")}
    out |= {f"console {job}": text for job, text in site.console.items()}
    out["web server console"] = (site.home / "web-server.out").read_text(encoding="utf-8", errors="replace")
    with sqlite3.connect(site.home / "kakari.db") as db:
        out |= {f"event {i}": d for i, (d,) in enumerate(db.execute("select detail from events"))}
        out |= {f"run {r}": x or "" for r, x in db.execute("select run_id, log_excerpt from runs")}
        rows = db.execute("select doc_id, status from documents order by id").fetchall()
    # the trail of every document a person saw or that failed, and of a few registered ones
    docs = [d for d, status in rows if status != "自動登録"] + [d for d, status in rows if status == "自動登録"][:3]
    for doc in docs:
        out[f"history {doc[:12]}"] = kakari("history", doc[:12], home=site.home, check=True).stdout
    out["history by name"] = kakari("history", PERSONAL_FILE, home=site.home, check=True).stdout
    out["jobs history"] = kakari("jobs", "history", home=site.home, check=True).stdout
    with closing(login(site.base, "kacho")) as manager:
        out["dashboard"] = manager.get("/dashboard").text
        out["missing page"] = manager.get("/review/inshoku_kyoka/nothing").text
    with closing(login(site.base, "joho")) as admin:
        out["admin"] = admin.get("/admin").text
    with closing(login(site.base, "suzuki")) as clerk:  # the 生活環境課 clerk's queue: file names, not values
        out["queue"] = clerk.get("/review").text
    return out


def test_no_personal_value_is_stored_or_shown_outside_the_review_page(site: Site, texts: dict[str, str]) -> None:
    secrets = secrets_of(site)
    assert len(secrets) > 200
    assert any("kodomo_iryo" in t for t in texts.values()) and len(texts) > 100  # they do say things
    leaks = sorted({(where, s) for where, text in texts.items() for s in secrets if s in text})
    assert not leaks, leaks[:40]


def test_the_review_page_still_shows_the_values(site: Site) -> None:
    """The one place they belong: the clerk reviewing the document sees them in full."""
    name = site.with_defect("missing_child_kana")
    truth = dict(site.truth("child_medical"))[name]["fields"]
    with closing(login(site.base, "tanaka")) as clerk:
        page = clerk.get(f"/review/{CHILD_JOB}/{site.doc_id(name)}").text
    assert truth["guardian_name"] in page and truth["address"] in page


def test_a_document_that_fails_is_still_found_by_its_name(site: Site) -> None:
    hist = kakari("history", PERSONAL_FILE, home=site.home, check=True).stdout
    assert "エラー" in hist and "山＊" in hist and SHOP_JOB in hist
