"""The entry form of the sample system: what each page accepts and its Japanese validation messages.

The rules are the system's own (not kakari's): 和暦 in separate era/year/month/day inputs, names
split into 姓・名, the postal code in two boxes, the address split into 都道府県・市区町村・町域以下.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

ERAS = {"令和": date(2019, 5, 1), "平成": date(1989, 1, 8), "昭和": date(1926, 12, 25)}
PREFECTURES = ["北海道", "宮城県", "東京都", "大阪府", "京都府", "若葉県"]
BUSINESS_TYPES = {"飲食店営業": 16000, "喫茶店営業": 9600, "菓子製造業": 13000, "食肉販売業": 10500}
QUALIFICATIONS = ["調理師", "栄養士", "養成講習会修了"]
_KATAKANA = re.compile(r"^[\u30A1-\u30FA\u30FC\u3000 ]+$")

PAGE1 = ["kakari_ref", "applied_era", "applied_year", "applied_month", "applied_day", "applicant_type",
         "applicant_sei", "applicant_mei", "applicant_sei_kana", "applicant_mei_kana", "corp_name", "corp_kana",
         "rep_sei", "rep_mei", "corporate_number", "zip1", "zip2", "addr_pref", "addr_city", "addr_rest", "tel"]
PAGE2 = ["shop_name", "shop_address", "shop_tel", "business_type", "manager_sei", "manager_mei",
         "manager_qualification", "seating", "seat_count", "seat_area", "fee"]


def _n(s: Any) -> str:
    return unicodedata.normalize("NFKC", str(s or "")).strip()


def _digits(s: str) -> str:
    return re.sub(r"\D", "", _n(s))


def corporate_number_ok(number: str) -> bool:
    if not re.fullmatch(r"\d{13}", number):
        return False
    body = number[1:]
    total = sum(int(d) * (1 if i % 2 == 0 else 2) for i, d in enumerate(reversed(body)))
    return int(number[0]) == 9 - total % 9


def _phone_ok(tel: str) -> bool:
    digits = re.sub(r"-", "", tel)
    return bool(re.fullmatch(r"0\d{9,10}", digits)) and bool(re.fullmatch(r"[\d-]+", tel))


def validate_page1(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(cleaned values, errors by input name). Messages are the system's, in Japanese."""
    v = {k: (form.get(k) or "").strip() for k in PAGE1}
    err: dict[str, str] = {}
    ref = _n(v["kakari_ref"])
    if ref and not re.fullmatch(r"[A-Z0-9-]{4,30}", ref):
        err["kakari_ref"] = "外部連携番号は半角英数字とハイフン30文字以内で入力してください"
    applied = None
    try:
        era = v["applied_era"]
        y, m, d = int(_n(v["applied_year"])), int(_n(v["applied_month"])), int(_n(v["applied_day"]))
        applied = date(ERAS[era].year + y - 1, m, d)
        if applied < ERAS[era] or applied > date.today():
            raise ValueError
    except (KeyError, ValueError):
        err["applied_year"] = "申請日が正しくありません（元号・年・月・日を確認してください）"
    out: dict[str, Any] = {"kakari_ref": ref or None, "applied_on": applied.isoformat() if applied else ""}
    kind = v["applicant_type"]
    out["applicant_type"] = kind
    if kind == "個人":
        if not v["applicant_sei"]:
            err["applicant_sei"] = "申請者の姓を入力してください"
        if not v["applicant_mei"]:
            err["applicant_mei"] = "申請者の名を入力してください"
        for key in ("applicant_sei_kana", "applicant_mei_kana"):
            if not _KATAKANA.match(v[key]):
                err[key] = "フリガナは全角カタカナで入力してください"
        out |= {"applicant_name": f"{v['applicant_sei']}\u3000{v['applicant_mei']}",
                "applicant_kana": f"{v['applicant_sei_kana']}\u3000{v['applicant_mei_kana']}",
                "representative": None, "corporate_number": None}
    elif kind == "法人":
        if not v["corp_name"]:
            err["corp_name"] = "法人の名称を入力してください"
        if not _KATAKANA.match(v["corp_kana"]):
            err["corp_kana"] = "名称フリガナは全角カタカナで入力してください"
        if not v["rep_sei"] or not v["rep_mei"]:
            err["rep_sei"] = "代表者の姓と名を入力してください"
        if not corporate_number_ok(_digits(v["corporate_number"])):
            err["corporate_number"] = "法人番号が正しくありません（13桁・チェックデジットを確認してください）"
        out |= {"applicant_name": v["corp_name"], "applicant_kana": v["corp_kana"],
                "representative": f"{v['rep_sei']}\u3000{v['rep_mei']}",
                "corporate_number": _digits(v["corporate_number"])}
    else:
        err["applicant_type"] = "申請者区分（個人・法人）を選択してください"
    if not (re.fullmatch(r"\d{3}", _n(v["zip1"])) and re.fullmatch(r"\d{4}", _n(v["zip2"]))):
        err["zip1"] = "郵便番号は3桁と4桁の数字で入力してください"
    out["postal_code"] = f"{_n(v['zip1'])}-{_n(v['zip2'])}"
    if v["addr_pref"] not in PREFECTURES:
        err["addr_pref"] = "都道府県を選択してください"
    if not re.search(r"[市区町村]$", v["addr_city"]):
        err["addr_city"] = "市区町村は「市・区・町・村」までを入力してください"
    if not v["addr_rest"]:
        err["addr_rest"] = "町域・番地を入力してください"
    out["address"] = v["addr_pref"] + v["addr_city"] + v["addr_rest"]
    if not _phone_ok(_n(v["tel"])):
        err["tel"] = "電話番号は0から始まる10桁または11桁の数字で入力してください（ハイフン可）"
    out["tel"] = _n(v["tel"])
    return out, err


def validate_page2(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    v = {k: (form.get(k) or "").strip() for k in PAGE2}
    err: dict[str, str] = {}
    out: dict[str, Any] = {"shop_name": v["shop_name"], "shop_address": v["shop_address"]}
    if not v["shop_name"]:
        err["shop_name"] = "営業所の名称を入力してください"
    if not v["shop_address"]:
        err["shop_address"] = "営業所の所在地を入力してください"
    tel = _n(v["shop_tel"])
    if tel and not _phone_ok(tel):
        err["shop_tel"] = "営業所電話番号は0から始まる10桁または11桁の数字で入力してください（ハイフン可）"
    out["shop_tel"] = tel or None
    kind = v["business_type"]
    if kind not in BUSINESS_TYPES:
        err["business_type"] = "営業の種類を選択してください"
    out["business_type"] = kind
    if not v["manager_sei"] or not v["manager_mei"]:
        err["manager_sei"] = "食品衛生責任者の姓と名を入力してください"
    out["manager_name"] = f"{v['manager_sei']}\u3000{v['manager_mei']}"
    if v["manager_qualification"] not in QUALIFICATIONS:
        err["manager_qualification"] = "食品衛生責任者の資格を選択してください"
    out["manager_qualification"] = v["manager_qualification"]
    seating = v["seating"]
    if seating not in ("有", "無"):
        err["seating"] = "客席の有無を選択してください"
    out["seating"] = 1 if seating == "有" else 0
    out["seat_count"] = out["seat_area"] = None
    if seating == "有":
        count, area = _n(v["seat_count"]), _n(v["seat_area"])
        if not re.fullmatch(r"[1-9]\d{0,3}", count):
            err["seat_count"] = "客席がある場合は客席数（1以上の整数）を入力してください"
        else:
            out["seat_count"] = int(count)
        if area:
            if not re.fullmatch(r"\d{1,5}(\.\d{1,2})?", area):
                err["seat_area"] = "客席面積は数値（小数点以下2桁まで）で入力してください"
            else:
                out["seat_area"] = float(area)
    fee = _digits(v["fee"])
    if not fee:
        err["fee"] = "申請手数料を入力してください"
    elif kind in BUSINESS_TYPES and int(fee) != BUSINESS_TYPES[kind]:
        err["fee"] = f"申請手数料が営業の種類（{kind}: {BUSINESS_TYPES[kind]:,}円）と一致しません"
    out["fee"] = int(fee) if fee else None
    return out, err
