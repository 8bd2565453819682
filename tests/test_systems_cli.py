"""`kakari systems …` and the web step's outcomes through the real `kakari` command: a person's session
recorded in headed Chromium (under Xvfb) becomes a mapping that enters records after one edited line;
`systems test` types a sample up to 登録 and registers nothing; `systems check` names what is wrong;
`kakari run` exits 4 and `jobs status` lists each record the system refused, with its screenshot."""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from connectors.folder import sha256_of
from connectors.webform import WebFormSink
from connectors.webmapping import Credentials, load_system
from connectors.webstate import WebState
from jobs.store import Store
from kakari.log import mask_name, short_id
from kakari.wareki import era_initial, wareki_parts
from samples.backoffice.records import child_records, mismatches
from samples.backoffice.server import Backoffice, free_port
from samples.generate import generate, make_sample
from tests.webhome import mapping_home, point_at

ROOT = Path(__file__).resolve().parents[1]
KAKARI = [sys.executable, "-m", "kakari.cli"]


@pytest.fixture(autouse=True)
def _env(kosodate: Backoffice, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(monkeypatch, kosodate, "KOSODATE", "KOSODATE2")


def kakari(*args: str, home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KAKARI, *args, "--home", str(home)], cwd=ROOT, capture_output=True, text=True,
                          env=os.environ | {"COLUMNS": "250"}, timeout=timeout)


def sample_json(folder: Path, index: int) -> tuple[Path, dict[str, object]]:
    truth = make_sample("child_medical", index, 42, None).truth
    path = folder / f"sample_{index}.json"
    path.write_text(json.dumps({"form": "child_medical", "fields": truth}, ensure_ascii=False), encoding="utf-8")
    return path, truth


# =============================================================================================
# The recorder
# =============================================================================================
def act_as_a_clerk(page: object, bo: Backoffice, t: dict[str, object], key: str, scan: Path) -> None:
    """What a person does in the browser: sign in, open the entry through the portal's tab, type the sample
    (the system's own formats: 和暦 in one box, 西暦 years, its abbreviations), register, then search."""
    p: object = page
    applied = date.fromisoformat(str(t["applied_on"]))
    era, era_year, _, _ = wareki_parts(applied)

    def ymd(value: object) -> tuple[str, str, str]:
        d = date.fromisoformat(str(value))
        return str(d.year), str(d.month), str(d.day)

    p.get_by_label("職員ID").fill(bo.user)
    p.get_by_label("パスワード").fill(bo.password)
    p.get_by_role("button", name="サインイン").click()
    p.get_by_role("tab", name="子育て支援業務").click()
    p.get_by_role("link", name="受給資格 新規登録").click()
    p.get_by_label("申請日").fill(f"{era_initial(era)}{era_year}.{applied.month}.{applied.day}")
    p.get_by_label("整理番号").fill(key)
    p.get_by_label("保護者氏名", exact=True).fill(str(t["guardian_name"]))
    p.get_by_label("保護者氏名フリガナ").fill(str(t["guardian_kana"]))
    for group, field in (("保護者生年月日", "guardian_birth"),):
        g = p.get_by_role("group", name=group)
        for part, value in zip(("年", "月", "日"), ymd(t[field])):
            g.get_by_label(part).fill(value)
    p.get_by_label("郵便番号").fill(str(t["postal_code"]))
    p.get_by_label("住所").fill(str(t["address"]))
    p.get_by_label("電話番号").fill(str(t["phone"]))
    p.get_by_role("button", name="次へ").click()
    p.get_by_label("児童氏名", exact=True).fill(str(t["child_name"]))
    p.get_by_label("児童氏名フリガナ").fill(str(t["child_kana"]))
    g = p.get_by_role("group", name="児童生年月日")
    for part, value in zip(("年", "月", "日"), ymd(t["child_birth"])):
        g.get_by_label(part).fill(value)
    p.get_by_role("group", name="性別").get_by_label(str(t["child_sex"])).check()
    p.get_by_label("続柄").select_option(label=str(t["relationship"]))
    p.get_by_label("保険種別").select_option(label={"社会保険": "社保", "国民健康保険": "国保", "共済組合": "共済"}[
        str(t["insurance_type"])])
    p.get_by_label("保険証の記号").fill(str(t["insurance_symbol"]))
    p.get_by_label("保険証の番号").fill(str(t["insurance_number"]))
    p.get_by_label("保険者番号").fill(str(t["insurer_number"]))
    p.get_by_label("保険者名称").fill(str(t["insurer_name"]))
    p.get_by_role("group", name="他の医療費助成").get_by_label(str(t["other_aid"])).check()
    p.get_by_label("申請書の写し").set_input_files(str(scan))
    p.get_by_role("button", name="次へ").click()
    p.get_by_role("button", name="登録する").click()
    p.get_by_text("登録しました").wait_for()
    p.get_by_role("link", name="ポータルへ戻る").click()
    p.get_by_role("tab", name="子育て支援業務").click()
    p.get_by_role("link", name="受給資格 照会").click()
    p.get_by_label("整理番号").fill(key)
    p.get_by_role("button", name="検索").click()
    p.get_by_role("region", name="検索結果").wait_for()


def test_a_recorded_session_becomes_a_mapping_that_enters_records_after_one_edited_line(
        tmp_path: Path, kosodate: Backoffice, browser: object) -> None:
    home = tmp_path / "home"
    sample, truth = sample_json(tmp_path, 3)
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4 a scanned application")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}  # as on a server
    proc = subprocess.Popen([*KAKARI, "systems", "record", "kosodate2", "--url", f"{kosodate.url}/auth/signin",
                             "--sample", str(sample), "--home", str(home), "--cdp-port", str(port)],
                            cwd=ROOT, env=env | {"COLUMNS": "250"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        shown = []
        for line in proc.stdout:  # type: ignore[union-attr]
            shown.append(line)
            if "記録を始めました" in line:
                break
        key = "KK-" + hashlib.sha256(sample.read_bytes()).hexdigest()[:12].upper()
        assert any(key in line for line in shown), "".join(shown)  # the recorder says which key to type
        person = browser.browser_type.connect_over_cdp(f"http://127.0.0.1:{port}")  # type: ignore[attr-defined]
        page = person.contexts[0].pages[0]
        act_as_a_clerk(page, kosodate, truth, key, tmp_path / "scan.pdf")
        page.close()  # the person closes the window: the draft is written
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # the recorder, its browser and its Xvfb
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == 0, "".join(shown) + output
    draft = (home / "systems" / "kosodate2.toml").read_text(encoding="utf-8")
    assert "TODO が 1か所" in output, output
    for expected in ('format = "{era_initial}{era_year}.{month}.{day}"', 'source = "@key"', 'key_column = "整理番号"',
                     'source = "@document", kind = "upload"', "receipt_pattern = 'R\\d+-\\d{6}'", "[search]",
                     '{ tab = "子育て支援業務" }', 'within = { role = "group", name = "児童生年月日" }'):
        assert expected in draft, expected
    assert kosodate.password not in draft and kosodate.user not in draft  # what was typed at login stays out

    # the one line a person finishes: the host shows 社保・国保・共済 where the form says 社会保険 …
    todo = next(line for line in draft.splitlines() if "TODO" in line and "保険種別" in line)
    fixed = draft.replace(todo, '    { label = "保険種別", selector = { label = "保険種別" }, source = "insurance_type", '
                                'kind = "select", map = { "社会保険" = "社保", "国民健康保険" = "国保", "共済組合" = "共済" } },')
    edited = [d for d in difflib.unified_diff(draft.splitlines(), fixed.splitlines(), lineterm="", n=0)
              if d[:1] in "+-" and not d.startswith(("+++", "---"))]
    assert len(edited) == 2  # one line out, one line in
    (home / "systems" / "kosodate2.toml").write_text(fixed, encoding="utf-8")
    check = kakari("systems", "check", "kosodate2", home=home)
    assert check.returncode == 0, check.stdout + check.stderr

    system = load_system("kosodate2", home)
    records = child_records(2, tmp_path / "files", seed=9, salt=str(tmp_path))
    sink = WebFormSink(system, WebState(Store(f"sqlite:///{home / 'kakari.db'}").engine), home, "kodomo_iryo",
                       Credentials(kosodate.user, kosodate.password), browser=browser)
    assert sorted(sink.write_many(records).written) == sorted(r.doc_id for r in records)
    rows = {r["seiri_no"]: r for r in kosodate.applications()}
    for rec in records:
        row = rows[system.key_for(rec.doc_id)]
        assert mismatches(rec, row) == []
        assert sink.state.get(rec.doc_id, "kosodate2").confirmation == row["receipt_no"]


# =============================================================================================
# systems test / check
# =============================================================================================
def test_systems_test_types_the_sample_up_to_registering_and_registers_nothing(tmp_path: Path,
                                                                              kosodate: Backoffice) -> None:
    home = tmp_path / "home"
    pdf = generate(tmp_path / "samples", 1, 5, ["child_medical"])[0]
    sample = pdf.with_suffix(".json")  # the expected values, with the filled form beside them to attach
    truth = json.loads(sample.read_text(encoding="utf-8"))["fields"]
    before = len(kosodate.applications())
    proc = kakari("systems", "test", "kosodate", "--sample", str(sample), home=home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "登録ボタンの手前で止めました" in proc.stdout and "何も登録していません" in proc.stdout
    birth = date.fromisoformat(str(truth["child_birth"]))
    era, year, _, _ = wareki_parts(date.fromisoformat(str(truth["applied_on"])))
    assert re.search(rf"申請日.*{era_initial(era)}{year}\.", proc.stdout)  # 和暦 as the system wants it
    assert re.search(rf"児童生年月日（年）.*{birth.year}", proc.stdout)
    assert pdf.name in proc.stdout  # the file it would attach
    assert len(kosodate.applications()) == before


def test_systems_check_names_fields_no_bot_has_and_warns_about_exactly_once(tmp_path: Path) -> None:
    home = mapping_home(tmp_path / "home", "kosodate", ('source = "child_name"', 'source = "child_nmae"'),
                        ('{ label = "整理番号", selector = { label = "整理番号" }, source = "@key" },\n', ""))
    proc = kakari("systems", "check", "kosodate", home=home)
    assert proc.returncode == 2
    assert "child_nmae" in proc.stdout and "child_medical" in proc.stdout
    assert "外部連携番号を書き込む欄" in proc.stdout


# =============================================================================================
# Honest outcomes: kakari run exits 4, jobs status lists the refusals
# =============================================================================================
def test_run_exits_4_with_the_count_when_the_system_rejects_records(tmp_path: Path, kosodate: Backoffice) -> None:
    # a mapping that types the 申請日 in 西暦, which this system refuses for every record
    home = mapping_home(tmp_path / "home", "kosodate",
                        ('format = "{era_initial}{era_year}.{month}.{day}"', 'format = "{year}/{month}/{day}"'))
    config = tmp_path / "kakari.toml"
    config.write_text('[jobs.kodomo_iryo]\ndepartment = "子育て支援課"\nbots = ["child_medical"]\n'
                      'sinks = ["excel", "web:kosodate"]\n', encoding="utf-8")
    pdfs = generate(tmp_path / "samples", 3, 81, ["child_medical"])
    registered = [p for p in pdfs if json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
                  ["expected_status"] == "自動登録"]
    inbox = home / "jobs" / "kodomo_iryo" / "inbox"
    inbox.mkdir(parents=True)
    for pdf in pdfs:
        (inbox / pdf.name).write_bytes(pdf.read_bytes())
        os.utime(inbox / pdf.name, (time.time() - 60, time.time() - 60))
    before = len(kosodate.applications())
    run = kakari("run", "kodomo_iryo", "--config", str(config), home=home)
    assert run.returncode == 4, run.stdout + run.stderr
    assert f"システムが受け付けなかった申請 {len(registered)}件" in run.stdout
    shots = re.findall(r"画面: (\S+\.png)", run.stdout)
    assert len(shots) == len(registered) and all(Path(s).is_file() for s in shots)
    assert "申請日は和暦で" in run.stdout
    # each refused document by its masked name and its short id (the file name is personal)
    assert all(f"{mask_name(p.name)} ({short_id(sha256_of(p))})" in run.stdout for p in registered)
    assert not any(p.name in run.stdout for p in registered)
    assert len(kosodate.applications()) == before

    status = kakari("jobs", "status", "--config", str(config), home=home)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"受付不可 {len(registered)}件" in status.stdout
    assert all(p.name in status.stdout for p in registered) and all(s in status.stdout for s in shots)
