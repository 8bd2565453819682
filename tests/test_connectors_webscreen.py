"""connectors/webscreen.Screen in real Chromium, on small pages served through Playwright routes: every
kind of step (goto, tab, wait, wait_gone, click, frame, popup), typing and reading inside an iframe,
and what a 503 or a login page met during the steps means."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.webmapping import FieldSpec, Step, Target, parse_system
from connectors.webscreen import PageChanged, Retry, Screen

MAPPING = """
title = "試験用システム"
base_url = "http://sys.test"
typing_minutes = 1
receipt_pattern = 'X-\\d{4}'
[credentials]
user_env = "U"
password_env = "P"
[login]
url = "/login"
form = "input[type=password]"
user_input = "#u"
password_input = "#p"
submit = "#go"
success = "#menu"
error = ".bad"
[errors]
validation = "[role=alert]"
items = "[role=alert] li"
[submit]
button = "#send"
done = "#ok"
confirmation = "#ok"
[[pages]]
name = "入力"
url = "/frame-host"
marker = "#work"
next = "#send"
[timeouts]
navigation_seconds = 5
element_seconds = 1.5
"""
PAGES = {
    "/menu": """<div id=menu><div role=tablist><button role=tab aria-selected=true>お知らせ</button>
        <button role=tab aria-selected=false id=t2>申請</button></div>
        <section id=p2 hidden><a href="/frame-host">申請を入力する</a></section>
        <a href="/popup-form" target="_blank">別ウィンドウで入力</a> <a href="/busy">混雑</a> <a href="/gone">期限切れ</a>
        <a href="#" id=dup>同じ</a><a href="#" id=dup2>同じ</a></div>
        <div id=loading style="position:fixed;inset:0;background:#fff">読み込み中</div>
        <script>
          document.getElementById('t2').onclick = e => { e.target.setAttribute('aria-selected', 'true');
            document.getElementById('p2').hidden = false; };
          setTimeout(() => document.getElementById('loading').remove(), 300);
          setTimeout(() => document.body.insertAdjacentHTML('beforeend', '<p>準備ができました</p>'), 500);
        </script>""",
    "/frame-host": "<h1>入力</h1><iframe id=work src='/inner-form'></iframe>",
    "/inner-form": """<form method=post action="/inner-done"><label for=a>氏名</label><input id=a name=a>
        <button id=send>送信</button></form>""",
    "/popup-form": "<h2>別窓の入力</h2><label>番号<input name=n></label>",
    "/gone": "<form><input id=u><input id=p type=password><button id=go>ログイン</button></form>",
}


@pytest.fixture()
def screen(browser: Any) -> Iterator[Screen]:
    context = browser.new_context(locale="ja-JP")

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix("http://sys.test")
        if path == "/busy":
            route.fulfill(status=503, content_type="text/html", body="<h1>ただいま混み合っています</h1>")
        elif path == "/inner-done":
            route.fulfill(status=200, content_type="text/html; charset=utf-8",
                          body="<p id=ok>登録しました。受付番号：X-0042</p>")
        else:
            body = PAGES.get(path.split("?")[0])
            route.fulfill(status=200 if body else 404, content_type="text/html; charset=utf-8",
                          body=f"<!doctype html><html lang=ja><meta charset=utf-8><body>{body or 'なし'}</body></html>")

    context.route("http://sys.test/**", serve)
    scr = Screen(context.new_page(), parse_system(MAPPING, "t", "t.toml"))
    yield scr
    context.close()


def steps(*items: dict[str, Any]) -> list[Step]:
    return [Step(**i) for i in items]


def test_tabs_waits_and_a_form_inside_an_iframe(screen: Screen) -> None:
    screen.run_steps(steps({"goto": "/menu"}, {"wait_gone": "#loading"}, {"wait": {"text": "準備ができました"}},
                           {"tab": "申請"}, {"click": {"role": "link", "name": "申請を入力する"}},
                           {"frame": "iframe#work"}), "メニュー")
    name = FieldSpec(label="氏名", selector={"label": "氏名"}, source="a")
    screen.put("入力", name, "山田\u3000太郎")
    assert screen.locate(Target(label="氏名")).input_value() == "山田\u3000太郎"
    assert screen.submit(Target(css="#send"), "入力", Target(css="#ok"), "完了") == "expected"  # the iframe navigated
    assert screen.receipt(Target(css="#ok"), "完了") == "X-0042"
    assert screen.page.url.endswith("/frame-host")  # the page itself stayed
    screen.run_steps(steps({"frame": ""}), "完了")
    assert screen.locate(Target(css="#ok")).count() == 0  # back on the page: the iframe's content is not there


def test_a_click_that_opens_a_window_continues_there_and_the_next_record_starts_in_the_first(screen: Screen) -> None:
    screen.run_steps(steps({"goto": "/menu"}, {"click": {"role": "link", "name": "別ウィンドウで入力"}, "popup": True}),
                     "メニュー")
    assert screen.page is not screen.main and screen.arrive(Target(role="heading", name="別窓の入力"), "別窓") == "expected"
    screen.put("別窓", FieldSpec(label="番号", selector={"label": "番号"}, source="n"), "12")
    screen.back_to_main()
    assert screen.page is screen.main and len(screen.main.context.pages) == 1


def test_a_503_or_the_login_page_met_on_the_way_is_a_retry_and_a_missing_element_is_not(screen: Screen) -> None:
    screen.run_steps(steps({"goto": "/menu"}), "メニュー")
    with pytest.raises(Retry) as busy:
        screen.run_steps(steps({"click": {"text": "混雑"}}, {"wait": "#never"}), "メニュー")
    assert busy.value.step and "HTTP 503" in busy.value.message
    screen.run_steps(steps({"goto": "/menu"}), "メニュー")
    with pytest.raises(Retry) as out:
        screen.run_steps(steps({"click": {"text": "期限切れ"}}, {"click": {"role": "link", "name": "申請を入力する"}}),
                         "メニュー")
    assert out.value.relogin
    screen.run_steps(steps({"goto": "/menu"}), "メニュー")
    with pytest.raises(PageChanged, match="#nowhere"):
        screen.run_steps(steps({"click": "#nowhere"}), "メニュー")
    with pytest.raises(PageChanged, match="2個"):
        screen.find(Target(text="同じ", exact=True), "メニュー", "リンク")
