"""WebFormSink against the real sample system (uvicorn subprocess) in real Chromium, plus its mapping,
transforms, credentials and durable state. One server and one browser for the whole module."""
from __future__ import annotations

import os
import socket
import stat
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from connectors.webform import LoginFailed, PageChanged, WebFormSink
from connectors.webmapping import SYSTEMS_DIR, Credentials, load_credentials, load_system, value_for
from connectors.webstate import CONFIRMED, PENDING, REJECTED, SUBMITTED, WebState
from connectors.webvalues import split_address, split_name, wareki_parts
from jobs.store import Store
from kakari.errors import ConfigError
from kakari.model import Field, Record, Status
from samples.backoffice.records import mismatches, sample_records
from samples.backoffice.server import Backoffice
from tests.webhome import mapping_home


# =============================================================================================
# Mapping, transforms, credentials, state: no browser
# =============================================================================================
def test_wareki_parts_follow_era_boundaries() -> None:
    assert wareki_parts(date(2019, 4, 30)) == ("平成", 31, 4, 30)
    assert wareki_parts("2019-05-01") == ("令和", 1, 5, 1)
    assert wareki_parts("2025-04-01T00:00:00") == ("令和", 7, 4, 1)
    assert wareki_parts(date(1989, 1, 7)) == ("昭和", 64, 1, 7)


def test_names_split_at_the_space_and_keep_variant_kanji() -> None:
    assert split_name("髙橋\u3000太郎") == ("髙橋", "太郎")
    assert split_name("山﨑 美穂") == ("山﨑", "美穂")
    with pytest.raises(ValueError, match="区切り"):
        split_name("株式会社みどりフーズ")


def test_address_split_prefers_known_municipalities() -> None:
    known = ["みどり町", "あおば市"]
    assert split_address("若葉県みどり町本町1丁目2番3号\u3000みどりハイツ101", known) == (
        "若葉県", "みどり町", "本町1丁目2番3号\u3000みどりハイツ101")
    assert split_address("東京都町田市中町1-2-3") == ("東京都", "町田市", "中町1-2-3")  # heuristic, no list
    assert split_address("神奈川県足柄上郡開成町延沢1") == ("神奈川県", "足柄上郡開成町", "延沢1")
    with pytest.raises(ValueError, match="都道府県"):
        split_address("みどり町本町1")


def test_value_for_applies_conditions_transforms_and_maps() -> None:
    system = load_system("eisei")
    page1 = {f.label: f for f in system.pages[0].fields}
    person = Record("a" * 64, "restaurant_permit", {
        "applicant_name": Field("applicant_name", "氏名", "佐藤\u3000翔太"),
        "corporate_number": Field("corporate_number", "法人番号", None),
        "postal_code": Field("postal_code", "郵便番号", "989-6101"),
        "applied_on": Field("applied_on", "申請日", "2024-05-01"),
    })
    key = system.key_for(person.doc_id)
    assert key == "KK-AAAAAAAAAAAA"
    assert value_for(page1["外部連携番号"], person, key, system) == key
    assert value_for(page1["申請者区分"], person, key, system) == "個人"
    assert value_for(page1["申請者 名"], person, key, system) == "翔太"
    assert value_for(page1["法人 名称"], person, key, system) is None  # `when` the corporate number is there
    assert value_for(page1["郵便番号（後4桁）"], person, key, system) == "6101"
    assert value_for(page1["申請日（元号）"], person, key, system) == "令和"
    assert value_for(page1["申請日（年）"], person, key, system) == "6"
    person.fields["corporate_number"].value = "2115268735081"
    assert value_for(page1["申請者区分"], person, key, system) == "法人"
    assert value_for(page1["申請者 名"], person, key, system) is None
    person.fields["applied_on"].value = None
    with pytest.raises(ValueError, match="必須"):
        value_for(page1["申請日（年）"], person, key, system)


def test_mapping_refuses_secrets_and_unknown_transforms(tmp_path: Path) -> None:
    text = (SYSTEMS_DIR / "eisei.toml").read_text(encoding="utf-8")
    (tmp_path / "systems").mkdir()
    target = tmp_path / "systems" / "eisei.toml"
    target.write_text(text.replace('file = "credentials/eisei.toml"', 'password = "hunter2"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="秘密情報") as e:
        load_system("eisei", tmp_path)
    assert "hunter2" not in e.value.message
    target.write_text(text.replace('transform = "wareki_year"', 'transform = "wareki_yaer"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="wareki_yaer") as e:
        load_system("eisei", tmp_path)
    assert str(target) in e.value.message
    with pytest.raises(ConfigError, match="設定ファイルがありません"):
        load_system("hoiku", tmp_path)


def test_credentials_from_environment_or_owner_only_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_system("eisei").credentials
    monkeypatch.delenv(spec.user_env, raising=False)
    monkeypatch.delenv(spec.password_env, raising=False)
    with pytest.raises(ConfigError, match=spec.password_env):
        load_credentials(spec, tmp_path, "eisei")
    file = tmp_path / "credentials" / "eisei.toml"
    file.parent.mkdir()
    file.write_text('user = "kakari01"\npassword = "pw-from-file"\n', encoding="utf-8")
    os.chmod(file, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_credentials(spec, tmp_path, "eisei")
    os.chmod(file, 0o600)
    creds = load_credentials(spec, tmp_path, "eisei")
    assert (creds.user, creds.password) == ("kakari01", "pw-from-file")
    assert "pw-from-file" not in repr(creds) and "kakari01" not in repr(creds)
    monkeypatch.setenv(spec.user_env, "env-user")
    monkeypatch.setenv(spec.password_env, "env-pw")
    assert load_credentials(spec, tmp_path, "eisei").user == "env-user"


def test_state_moves_forward_only_and_leases_exclude_live_workers(tmp_path: Path) -> None:
    st = WebState(Store(f"sqlite:///{tmp_path / 'k.db'}").engine)
    sub = st.ensure("d1", "eisei", "job", "KK-D1")
    assert sub.state == PENDING and st.ensure("d1", "eisei", "job", "KK-D1").state == PENDING
    with pytest.raises(ValueError, match="KK-D1"):
        st.ensure("d2", "eisei", "job", "KK-D1")  # one key, one document
    host = socket.gethostname()
    me, dead, other_live = f"{host}:{os.getpid()}:x", f"{host}:999999999:y", f"{host}:{os.getppid()}:z"
    assert st.acquire("d1", "eisei", other_live)
    assert not st.acquire("d1", "eisei", me)  # a live worker holds it
    st.release("d1", "eisei", other_live)
    assert st.acquire("d1", "eisei", dead)
    assert st.acquire("d1", "eisei", me)  # the holder died: taken over at once
    assert st.mark_submitted("d1", "eisei", datetime.now(timezone.utc))
    assert st.get("d1", "eisei").state == SUBMITTED
    assert st.mark_confirmed("d1", "eisei", "R7-衛-000001", "search")
    assert not st.mark_submitted("d1", "eisei", datetime.now(timezone.utc))  # never back from confirmed
    assert not st.mark_rejected("d1", "eisei", "x")
    final = st.get("d1", "eisei")
    assert (final.state, final.confirmation, final.via) == (CONFIRMED, "R7-衛-000001", "search")
    assert [s.doc_id for s in st.unsynced("eisei")] == ["d1"]
    st.mark_synced(["d1"], "eisei")
    assert st.unsynced("eisei") == []
    assert st.counts("eisei")[CONFIRMED] == 1


# =============================================================================================
# Against the sample system, in Chromium
# =============================================================================================
@pytest.fixture(autouse=True)
def _calm(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if "server" in request.fixturenames:
        bo: Backoffice = request.getfixturevalue("server")
        bo.calm()
        monkeypatch.setenv("KAKARI_EISEI_URL", bo.url)


def home_with_mapping(home: Path, *replacements: tuple[str, str]) -> Path:
    return mapping_home(home, "eisei", *replacements)


def make_sink(home: Path, server: Backoffice, browser: object, db: str = "kakari.db",
              password: str | None = None) -> WebFormSink:
    system = load_system("eisei", home)
    state = WebState(Store(f"sqlite:///{home / db}").engine)
    return WebFormSink(system, state, home, "inshoku", Credentials(server.user, password or server.password),
                       browser=browser)


def rows_for(server: Backoffice, key: str) -> list[dict[str, object]]:
    return [r for r in server.applications() if r["kakari_ref"] == key]


def pick(records: list[Record], corporate: bool) -> Record:
    return next(r for r in records if bool(r.fields["corporate_number"].value) == corporate)


def test_enters_a_person_and_a_company_once_with_the_right_values(tmp_path: Path, server: Backoffice,
                                                                   browser: object) -> None:
    home = home_with_mapping(tmp_path)
    pool = sample_records(12, seed=5, salt=str(tmp_path))
    records = [pick(pool, corporate=False), pick(pool, corporate=True)]
    sink = make_sink(home, server, browser)
    result = sink.write_many(records)
    assert sorted(result.written) == sorted(r.doc_id for r in records)
    for rec in records:
        key = sink.system.key_for(rec.doc_id)
        rows = rows_for(server, key)
        assert len(rows) == 1, key
        assert mismatches(rec, rows[0]) == []
        sub = sink.state.get(rec.doc_id, "eisei")
        assert (sub.state, sub.via, sub.confirmation) == (CONFIRMED, "entry", rows[0]["receipt_no"])
        assert rec.meta["confirmation"] == rows[0]["receipt_no"]
    before = len(server.applications())
    again = sink.write_many(records)
    assert again.written == [] and sorted(again.skipped) == sorted(r.doc_id for r in records)
    assert len(server.applications()) == before
    assert not (home / "web_failures").exists()


def test_lost_local_state_is_recovered_by_searching_the_key(tmp_path: Path, server: Backoffice,
                                                            browser: object) -> None:
    home = home_with_mapping(tmp_path)
    rec = sample_records(1, seed=6, salt=str(tmp_path))[0]
    first = make_sink(home, server, browser, db="first.db")
    first.write_many([rec])
    second = make_sink(home, server, browser, db="second.db")  # kakari's own record of it is gone
    assert second.write_many([rec]).written == [rec.doc_id]
    sub = second.state.get(rec.doc_id, "eisei")
    assert sub.via == "search"
    assert sub.confirmation == first.state.get(rec.doc_id, "eisei").confirmation
    assert len(rows_for(server, second.system.key_for(rec.doc_id))) == 1


def test_without_a_search_page_the_systems_duplicate_check_gives_the_number(tmp_path: Path, server: Backoffice,
                                                                            browser: object) -> None:
    rec = sample_records(1, seed=7, salt=str(tmp_path))[0]
    first = make_sink(home_with_mapping(tmp_path / "a"), server, browser)
    first.write_many([rec])
    text = (SYSTEMS_DIR / "eisei.toml").read_text(encoding="utf-8")
    search = text[text.index("[search]"):text.index("[errors]")]
    blind = make_sink(home_with_mapping(tmp_path / "b", (search, "")), server, browser)
    assert blind.system.search is None
    assert blind.write_many([rec]).written == [rec.doc_id]
    sub = blind.state.get(rec.doc_id, "eisei")
    assert sub.via == "duplicate"
    assert sub.confirmation == first.state.get(rec.doc_id, "eisei").confirmation
    assert len(rows_for(server, blind.system.key_for(rec.doc_id))) == 1


def test_answer_lost_after_the_commit_is_found_by_search_not_entered_twice(tmp_path: Path, server: Backoffice,
                                                                          browser: object) -> None:
    home = home_with_mapping(tmp_path)
    rec = sample_records(1, seed=8, salt=str(tmp_path))[0]
    server.faults(error_after_commit_rate=1.0, duplicate_check=False)  # 登録 commits, then answers 503
    sink = make_sink(home, server, browser)
    assert sink.write_many([rec]).written == [rec.doc_id]
    assert server.injected()["503_after_commit"] >= 1
    sub = sink.state.get(rec.doc_id, "eisei")
    assert sub.via == "search" and sub.attempts == 1
    rows = rows_for(server, sink.system.key_for(rec.doc_id))
    assert len(rows) == 1 and rows[0]["receipt_no"] == sub.confirmation
    pngs = sorted((home / "web_failures").glob(f"{rec.doc_id}_*.png"))
    assert len(pngs) == 1 and pngs[0].with_suffix(".html").is_file()


def test_a_changed_page_stops_before_typing_and_names_selector_and_page(tmp_path: Path, server: Backoffice,
                                                                         browser: object) -> None:
    home = home_with_mapping(tmp_path, ('selector = "#shop_name"', 'selector = "#shop_name_v2"'))
    records = sample_records(2, seed=9, salt=str(tmp_path))
    sink = make_sink(home, server, browser)
    with pytest.raises(PageChanged) as e:
        sink.write_many(records)
    assert "#shop_name_v2" in e.value.message and "営業所・施設" in e.value.message
    assert "営業所の名称" in e.value.message
    for rec in records:
        assert rows_for(server, sink.system.key_for(rec.doc_id)) == []
    first = sink.state.get(records[0].doc_id, "eisei")
    assert first.state == PENDING and "#shop_name_v2" in (first.last_error or "")
    assert sink.state.get(records[1].doc_id, "eisei") is None  # the batch stopped at the first record
    png = next((home / "web_failures").glob(f"{records[0].doc_id}_*.png"))
    html = png.with_suffix(".html")
    assert png.stat().st_size > 0 and "営業所・施設" in html.read_text(encoding="utf-8")
    assert stat.S_IMODE(html.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "web_failures").stat().st_mode) == 0o700


def test_the_systems_validation_rejects_one_record_and_the_batch_goes_on(tmp_path: Path, server: Backoffice,
                                                                        browser: object) -> None:
    home = home_with_mapping(tmp_path)
    bad, good = sample_records(2, seed=10, salt=str(tmp_path))
    bad.fields["phone"].value = "12-345"
    sink = make_sink(home, server, browser)
    result = sink.write_many([bad, good])
    assert result.written == [good.doc_id] and "受付不可 1件" in result.detail
    sub = sink.state.get(bad.doc_id, "eisei")
    assert sub.state == REJECTED and "電話番号" in (sub.last_error or "")
    assert rows_for(server, sink.system.key_for(bad.doc_id)) == []
    assert len(rows_for(server, sink.system.key_for(good.doc_id))) == 1
    assert list((home / "web_failures").glob(f"{bad.doc_id}_*.html"))
    assert sink.write_many([bad]).written == []  # stays rejected until a person resets it
    assert sink.state.reset(bad.doc_id, "eisei")
    bad.fields["phone"].value = "0229-12-3456"
    assert sink.write_many([bad]).written == [bad.doc_id]
    assert len(rows_for(server, sink.system.key_for(bad.doc_id))) == 1


def test_a_value_the_screen_cannot_take_is_rejected_before_anything_is_typed(tmp_path: Path, server: Backoffice,
                                                                            browser: object) -> None:
    home = home_with_mapping(tmp_path)
    rec = pick(sample_records(8, seed=11, salt=str(tmp_path)), corporate=False)
    rec.fields["applicant_name"].value = "佐藤翔太"  # no space: 姓・名 cannot be split safely
    sink = make_sink(home, server, browser)
    assert sink.write_many([rec]).written == []
    sub = sink.state.get(rec.doc_id, "eisei")
    assert sub.state == REJECTED and "申請者 姓" in (sub.last_error or "") and "佐藤" not in (sub.last_error or "")
    assert rows_for(server, sink.system.key_for(rec.doc_id)) == []


def test_review_and_error_records_are_not_sent(tmp_path: Path, server: Backoffice, browser: object) -> None:
    home = home_with_mapping(tmp_path)
    review, error = sample_records(2, seed=12, salt=str(tmp_path))
    review.meta["status"] = Status.REVIEW.value
    error.meta["status"] = Status.ERROR.value
    sink = make_sink(home, server, browser)
    result = sink.write_many([review, error])
    assert result.written == [] and result.skipped == [] and "対象外 2件" in result.detail
    assert sink.state.all() == []
    review.meta["status"] = Status.CONFIRMED.value  # a person checked it: the review screen calls update()
    assert sink.update(review).written == [review.doc_id]
    assert len(rows_for(server, sink.system.key_for(review.doc_id))) == 1


def test_a_refused_password_stops_without_retrying_or_showing_it(tmp_path: Path, server: Backoffice,
                                                                 browser: object) -> None:
    home = home_with_mapping(tmp_path)
    rec = sample_records(1, seed=13, salt=str(tmp_path))[0]
    sink = make_sink(home, server, browser, password="wrong-password-123")
    with pytest.raises(LoginFailed) as e:
        sink.write_many([rec])
    assert "KAKARI_EISEI_PASSWORD" in e.value.message and "wrong-password-123" not in e.value.message
    assert isinstance(e.value, ConfigError)
    assert sink.state.get(rec.doc_id, "eisei").attempts == 0  # not counted as a retryable failure
    assert "ログインできません" in e.value.message
    html = next((home / "web_failures").glob(f"{rec.doc_id}_*.html"))  # the login page as it refused
    assert "login-error" in html.read_text(encoding="utf-8")
    assert "wrong-password-123" not in html.read_text(encoding="utf-8")
