"""What each page of the 子育て支援総合システム accepts, with its own Japanese messages and code lists."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from kakari.wareki import ERAS

RELATIONSHIPS = {"01": "子", "02": "孫", "99": "その他"}  # 続柄コード
INSURANCE = {"1": "社保", "2": "国保", "3": "共済"}  # 保険種別コード, shown abbreviated as on the host
SEXES = {"1": "男", "2": "女"}
OTHER_AID = {"1": "有", "0": "無"}
_KATAKANA = re.compile(r"^[\u30A1-\u30FA\u30FC]+\u3000[\u30A1-\u30FA\u30FC]+$")
_NAME = re.compile(r"^\S+\u3000\S+$")
_WAREKI = re.compile(r"^([MTSHR])(\d{1,2})\.(\d{1,2})\.(\d{1,2})$")
_INITIAL = {initials[0]: (name, start, end) for name, initials, start, end in ERAS}


def _n(s: Any) -> str:
    return unicodedata.normalize("NFKC", str(s or "")).strip()


def wareki_box(text: str) -> date | None:
    """`R6.9.11` → 2024-09-11; None unless the date exists and lies inside its era."""
    m = _WAREKI.match(_n(text))
    if not m:
        return None
    _, start, end = _INITIAL[m.group(1)]
    try:
        d = date(start.year + int(m.group(2)) - 1, int(m.group(3)), int(m.group(4)))
    except ValueError:
        return None
    return d if start <= d and (end is None or d < end) and int(m.group(2)) >= 1 else None


def three_boxes(y: str, m: str, d: str) -> date | None:
    """Year (西暦, four digits), month, day in three boxes."""
    if not re.fullmatch(r"\d{4}", _n(y)):
        return None
    try:
        return date(int(_n(y)), int(_n(m)), int(_n(d)))
    except ValueError:
        return None


def _phone_ok(tel: str) -> bool:
    return bool(re.fullmatch(r"0\d{1,4}-\d{1,4}-\d{3,4}", tel)) and 10 <= len(tel.replace("-", "")) <= 11


def validate_applicant(form: dict[str, str], kana_field: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Page 1 (申請者): cleaned values and the messages, by input."""
    err: dict[str, str] = {}
    applied = wareki_box(form.get("apply_dt", ""))
    if applied is None or applied > date.today():
        err["apply_dt"] = "申請日は和暦で「R6.9.11」のように入力してください"
    seiri = _n(form.get("seiri_no"))
    if seiri and not re.fullmatch(r"[A-Z0-9-]{1,20}", seiri):
        err["seiri_no"] = "整理番号は半角英大文字・数字・ハイフン20文字以内です"
    name, kana = (form.get("g_name") or "").strip(), (form.get(kana_field) or "").strip()
    if not _NAME.match(name):
        err["g_name"] = "保護者氏名は姓と名の間に全角空白を入れて入力してください"
    if not _KATAKANA.match(kana):
        err["g_kana"] = "保護者氏名フリガナは全角カタカナで、姓と名の間に全角空白を入れてください"
    birth = three_boxes(form.get("g_by", ""), form.get("g_bm", ""), form.get("g_bd", ""))
    if birth is None or birth >= date.today():
        err["g_birth"] = "保護者生年月日は西暦の年（4桁）・月・日で入力してください"
    postal = _n(form.get("zip"))
    if not re.fullmatch(r"\d{3}-\d{4}", postal):
        err["zip"] = "郵便番号は「000-0000」の形で入力してください"
    address = (form.get("addr") or "").strip()
    if not address:
        err["addr"] = "住所を入力してください"
    tel = _n(form.get("tel"))
    if not _phone_ok(tel):
        err["tel"] = "電話番号は市外局番からハイフン付きで入力してください"
    return {"seiri_no": seiri or None, "applied_on": applied.isoformat() if applied else "", "guardian_name": name,
            "guardian_kana": kana, "guardian_birth": birth.isoformat() if birth else "", "postal_code": postal,
            "address": address, "tel": tel}, err


def validate_child(form: dict[str, str], kana_field: str, upload: tuple[str, int, str] | None
                   ) -> tuple[dict[str, Any], dict[str, str]]:
    """Page 2 (対象児童・保険). `upload` is (file name, size, sha256) of the attached application."""
    err: dict[str, str] = {}
    name, kana = (form.get("c_name") or "").strip(), (form.get(kana_field) or "").strip()
    if not _NAME.match(name):
        err["c_name"] = "児童氏名は姓と名の間に全角空白を入れて入力してください"
    if not _KATAKANA.match(kana):
        err["c_kana"] = "児童氏名フリガナは全角カタカナで、姓と名の間に全角空白を入れてください"
    birth = three_boxes(form.get("c_by", ""), form.get("c_bm", ""), form.get("c_bd", ""))
    if birth is None or birth > date.today():
        err["c_birth"] = "児童生年月日は西暦の年（4桁）・月・日で入力してください"
    codes = {"sex": SEXES, "rel_cd": RELATIONSHIPS, "ins_cd": INSURANCE, "other_aid": OTHER_AID}
    messages = {"sex": "性別を選択してください", "rel_cd": "続柄を選択してください",
                "ins_cd": "保険種別を選択してください", "other_aid": "他の医療費助成の有無を選択してください"}
    for key, allowed in codes.items():
        if form.get(key) not in allowed:
            err[key] = messages[key]
    number = _n(form.get("ins_no"))
    if not re.fullmatch(r"\d{1,10}", number):
        err["ins_no"] = "保険証の番号は数字で入力してください"
    insurer = _n(form.get("hokensha_no"))
    if not re.fullmatch(r"\d{6}|\d{8}", insurer):
        err["hokensha_no"] = "保険者番号は6桁または8桁の数字です"
    if upload is None or upload[1] == 0:
        err["scan"] = "申請書（PDF・画像）を添付してください"
    return {"child_name": name, "child_kana": kana, "child_birth": birth.isoformat() if birth else "",
            "child_sex": form.get("sex"), "relationship": form.get("rel_cd"), "insurance_type": form.get("ins_cd"),
            "insurance_symbol": (form.get("ins_kigo") or "").strip() or None, "insurance_number": number,
            "insurer_number": insurer, "insurer_name": (form.get("hokensha_nm") or "").strip() or None,
            "other_aid": form.get("other_aid"),
            "attachment_name": upload[0] if upload else None, "attachment_size": upload[1] if upload else 0,
            "attachment_sha256": upload[2] if upload else None}, err
