"""Page layout of the two sample forms of みどり町, in millimetres from the top-left corner (A4).

The generator draws from these descriptions, and the bot templates (bots/<form>.toml) use the same
numbers for their zones: a ``Slot`` is a value cell (its rectangle is the template ``box``), an
``Option`` is a printed choice (男・女 circled, □ ticked) whose ``zone`` is the template option box.
Keep both in step when a form changes: tests/test_golden_samples.py fails otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PAGE_W = 210.0
PAGE_H = 297.0
PT = 25.4 / 72  # millimetres per point

LABEL_PT = 9.0  # printed labels
VALUE_PT = 11.0  # filled-in values
OPTION_PT = 10.5  # printed choices (男・女, □社会保険 …)
ASCENT, DESCENT = 0.88, 0.12  # IPA fonts: em box above / below the baseline


def baseline_for(top: float, height: float, size_pt: float) -> float:
    """Baseline that centres a line of `size_pt` text vertically in a cell."""
    s = size_pt * PT
    return top + height / 2 + (ASCENT - DESCENT) / 2 * s


@dataclass(frozen=True)
class Text:
    """Printed text; `y` is the baseline. align: left, centre or right of x."""

    x: float
    y: float
    text: str
    size: float = LABEL_PT
    font: Literal["gothic", "mincho"] = "gothic"
    align: Literal["left", "centre", "right"] = "left"


@dataclass(frozen=True)
class Cell:
    """A ruled rectangle; label cells are shaded and carry a centred label (one or two lines)."""

    x: float
    y: float
    w: float
    h: float
    label: str = ""
    shade: bool = False
    size: float = LABEL_PT
    align: Literal["left", "centre"] = "centre"
    note: str = ""  # small second line under the label, e.g. （法人は所在地）


@dataclass(frozen=True)
class Slot:
    """Where a field's value is written. `unit` is printed in the cell's right end (円, ㎡, 席)."""

    name: str
    x: float
    y: float
    w: float
    h: float
    unit: str = ""

    @property
    def box(self) -> dict[str, float]:
        return {"page": 1, "x": self.x, "y": self.y, "w": self.w, "h": self.h}


@dataclass(frozen=True)
class Option:
    """A printed choice. style "circle": the text is circled; "check": a □ before the text is ticked.
    `field` is the choice (or checkbox) field it belongs to, `value` what marking it means."""

    field: str
    value: str
    x: float
    y: float  # baseline
    style: Literal["circle", "check"]
    text: str = ""  # printed text; defaults to value

    @property
    def label(self) -> str:
        return self.text or self.value

    def glyph_box(self, width: float) -> tuple[float, float, float, float]:
        """(x, top, w, h) of the circled text or of the □, given the printed width in mm."""
        s = OPTION_PT * PT
        top = self.y - ASCENT * s
        if self.style == "check":
            return (self.x, top, s, s)
        return (self.x, top, width, s)

    def zone(self, width: float) -> dict[str, float]:
        """Template option zone: wide enough for a drawn circle or tick, clear of the neighbours."""
        x, top, w, h = self.glyph_box(width)
        if self.style == "check":
            return {"page": 1, "x": round(x - 1.0, 1), "y": round(top - 2.0, 1), "w": 7.0, "h": round(h + 3.5, 1)}
        return {"page": 1, "x": round(x - 2.5, 1), "y": round(top - 2.0, 1), "w": round(w + 5.0, 1),
                "h": round(h + 4.0, 1)}


@dataclass
class FormLayout:
    name: str
    title: str
    texts: list[Text] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    slots: dict[str, Slot] = field(default_factory=dict)
    options: list[Option] = field(default_factory=list)
    frame: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # thick outline of the applicant's part

    def slot(self, name: str, x: float, y: float, w: float, h: float, unit: str = "") -> None:
        self.slots[name] = Slot(name, x, y, w, h, unit)
        self.cells.append(Cell(x, y, w, h))

    def label(self, x: float, y: float, w: float, h: float, text: str, size: float = LABEL_PT) -> None:
        self.cells.append(Cell(x, y, w, h, text, shade=True, size=size))

    def band(self, y: float, text: str, h: float = 7.0) -> None:
        """A shaded section header across the table."""
        self.cells.append(Cell(L, y, R - L, h, text, shade=True, size=10.0, align="left"))

    def options_of(self, field_name: str) -> list[Option]:
        return [o for o in self.options if o.field == field_name]


L, R = 15.0, 195.0  # table edges
LW = 30.0  # label column width


def _header(f: FormLayout, style_no: str, title_pt: float) -> None:
    f.texts.append(Text(L, 14.0, style_no, 9.0))
    f.texts.append(Text(PAGE_W / 2, 27.0, f.title, title_pt, "mincho", "centre"))
    f.texts.append(Text(20.0, 41.0, "みどり町長　様", 12.0))
    f.label(125.0, 34.0, 20.0, 9.0, "申請日")
    f.slot("applied_on", 145.0, 34.0, 50.0, 9.0)


def _postal_address(f: FormLayout, y: float, note: str = "") -> None:
    """住所 row: 〒 and the postal code on the first line, the address on the second (one ruled cell)."""
    f.cells.append(Cell(L, y, LW, 16.0, "住所", shade=True, note=note))
    f.cells.append(Cell(45.0, y, R - 45.0, 16.0))
    f.texts.append(Text(47.0, baseline_for(y, 7.0, 10.0), "〒", 10.0))
    f.slots["postal_code"] = Slot("postal_code", 52.0, y, 45.0, 7.0)
    f.slots["address"] = Slot("address", 45.0, y + 7.0, R - 45.0, 9.0)


def _office_box(f: FormLayout, y: float, section: str) -> None:
    """町処理欄: labels only, never filled by applicants."""
    f.texts.append(Text(L, y - 2.0, "※町処理欄には記入しないでください。", 8.0))
    f.band(y, "町処理欄（" + section + "）", 6.0)
    y += 6.0
    cols = [("受付日", 40.0), ("受付番号", 35.0), ("審査", 25.0), ("決定日", 40.0), ("担当", 40.0)]
    x = L
    for text, w in cols:
        f.cells.append(Cell(x, y, w, 6.0, text, shade=True, size=8.0))
        f.cells.append(Cell(x, y + 6.0, w, 14.0))
        x += w


def child_medical() -> FormLayout:
    """子ども医療費受給資格証交付申請書 (様式第1号)."""
    f = FormLayout("child_medical", "みどり町子ども医療費受給資格証交付申請書")
    _header(f, "様式第1号（第4条関係）", 15.0)
    f.texts.append(Text(L, 53.0, "次のとおり、子ども医療費受給資格証の交付を申請します。", 10.0))

    # 申請者（保護者）
    f.band(56.0, "申請者（保護者）")
    f.label(L, 63.0, LW, 8.0, "フリガナ")
    f.slot("guardian_kana", 45.0, 63.0, 80.0, 8.0)
    f.label(125.0, 63.0, 20.0, 18.0, "生年月日")
    f.slot("guardian_birth", 145.0, 63.0, 50.0, 18.0)
    f.label(L, 71.0, LW, 10.0, "氏名")
    f.slot("guardian_name", 45.0, 71.0, 80.0, 10.0)
    f.label(L, 81.0, LW, 16.0, "住所")
    f.cells.append(Cell(45.0, 81.0, R - 45.0, 16.0))
    f.texts.append(Text(47.0, baseline_for(81.0, 7.0, 10.0), "〒", 10.0))
    f.slots["postal_code"] = Slot("postal_code", 52.0, 81.0, 45.0, 7.0)
    f.slots["address"] = Slot("address", 45.0, 88.0, R - 45.0, 9.0)
    f.label(L, 97.0, LW, 9.0, "電話番号")
    f.slot("phone", 45.0, 97.0, 80.0, 9.0)
    f.cells.append(Cell(125.0, 97.0, R - 125.0, 9.0))
    f.texts.append(Text(127.0, baseline_for(97.0, 9.0, 8.0), "（日中に連絡のとれる番号）", 8.0))

    # 対象児童
    f.band(106.0, "対象児童")
    f.label(L, 113.0, LW, 8.0, "フリガナ")
    f.slot("child_kana", 45.0, 113.0, 80.0, 8.0)
    f.label(125.0, 113.0, 20.0, 18.0, "生年月日")
    f.slot("child_birth", 145.0, 113.0, 50.0, 18.0)
    f.label(L, 121.0, LW, 10.0, "氏名")
    f.slot("child_name", 45.0, 121.0, 80.0, 10.0)
    f.label(L, 131.0, LW, 10.0, "性別")
    f.cells.append(Cell(45.0, 131.0, 50.0, 10.0))
    b = baseline_for(131.0, 10.0, OPTION_PT)
    f.options += [Option("child_sex", "男", 58.0, b, "circle"), Option("child_sex", "女", 75.0, b, "circle")]
    f.texts.append(Text(67.2, b, "・", OPTION_PT))
    f.label(95.0, 131.0, 30.0, 10.0, "申請者との続柄")
    f.cells.append(Cell(125.0, 131.0, R - 125.0, 10.0))
    f.options += [Option("relationship", "子", 135.0, b, "circle"), Option("relationship", "孫", 150.0, b, "circle"),
                  Option("relationship", "その他", 165.0, b, "circle")]
    f.texts += [Text(142.2, b, "・", OPTION_PT), Text(157.2, b, "・", OPTION_PT),
                Text(178.0, b, "（　　　）", 9.0)]

    # 健康保険
    f.band(141.0, "対象児童が加入している健康保険")
    f.label(L, 148.0, LW, 10.0, "保険の種類")
    f.cells.append(Cell(45.0, 148.0, R - 45.0, 10.0))
    b = baseline_for(148.0, 10.0, OPTION_PT)
    f.options += [Option("insurance_type", "社会保険", 50.0, b, "check"),
                  Option("insurance_type", "国民健康保険", 92.0, b, "check"),
                  Option("insurance_type", "共済組合", 142.0, b, "check")]
    f.label(L, 158.0, LW, 10.0, "記号")
    f.slot("insurance_symbol", 45.0, 158.0, 50.0, 10.0)
    f.label(95.0, 158.0, 20.0, 10.0, "番号")
    f.slot("insurance_number", 115.0, 158.0, R - 115.0, 10.0)
    f.label(L, 168.0, LW, 10.0, "保険者名")
    f.slot("insurer_name", 45.0, 168.0, 80.0, 10.0)
    f.label(125.0, 168.0, 25.0, 10.0, "保険者番号")
    f.slot("insurer_number", 150.0, 168.0, R - 150.0, 10.0)

    # 他の医療費助成
    f.label(L, 178.0, 45.0, 10.0, "他の医療費助成の受給")
    f.cells.append(Cell(60.0, 178.0, R - 60.0, 10.0))
    b = baseline_for(178.0, 10.0, OPTION_PT)
    f.options += [Option("other_aid", "有", 70.0, b, "circle"), Option("other_aid", "無", 87.0, b, "circle")]
    f.texts += [Text(79.2, b, "・", OPTION_PT),
                Text(100.0, baseline_for(178.0, 10.0, 8.0), "（ひとり親家庭等医療費、重度心身障害者医療費など）", 8.0)]

    f.frame = (L, 56.0, R - L, 188.0 - 56.0)
    f.texts += [
        Text(L, 202.0, "【同意事項】", 9.0),
        Text(L + 3, 208.0, "上記児童の健康保険の加入状況及び他の医療費助成の受給状況について、みどり町が関係機関に", 8.5),
        Text(L + 3, 213.0, "照会することに同意します。", 8.5),
        Text(L, 220.0, "※ 健康保険証（資格確認書）の写しを添付してください。", 8.5),
    ]
    _office_box(f, 236.0, "子育て支援課")
    f.texts.append(Text(L, 285.0, "みどり町 子育て支援課 子育て支援係", 8.0))
    return f


def restaurant_permit() -> FormLayout:
    """飲食店営業許可申請書 (様式第1号)."""
    f = FormLayout("restaurant_permit", "飲食店営業許可申請書")
    _header(f, "様式第1号（第2条関係）", 18.0)
    f.texts.append(Text(L, 53.0, "食品衛生法第55条第1項の規定により、次のとおり営業の許可を申請します。", 10.0))

    # 申請者
    f.band(56.0, "申請者")
    _postal_address(f, 63.0, note="（法人は所在地）")
    f.label(L, 79.0, LW, 8.0, "フリガナ")
    f.slot("applicant_kana", 45.0, 79.0, R - 45.0, 8.0)
    f.cells.append(Cell(L, 87.0, LW, 10.0, "氏名", shade=True, note="（法人は名称）"))
    f.slot("applicant_name", 45.0, 87.0, R - 45.0, 10.0)
    f.label(L, 97.0, LW, 10.0, "代表者氏名")
    f.slot("representative", 45.0, 97.0, 70.0, 10.0)
    f.label(115.0, 97.0, 20.0, 10.0, "法人番号")
    f.slot("corporate_number", 135.0, 97.0, R - 135.0, 10.0)
    f.label(L, 107.0, LW, 9.0, "電話番号")
    f.slot("phone", 45.0, 107.0, 70.0, 9.0)
    f.cells.append(Cell(115.0, 107.0, R - 115.0, 9.0))
    f.texts.append(Text(117.0, baseline_for(107.0, 9.0, 8.0), "（代表者氏名・法人番号は法人の場合のみ）", 8.0))

    # 営業所
    f.band(116.0, "営業所")
    f.label(L, 123.0, LW, 10.0, "名称（屋号）")
    f.slot("business_name", 45.0, 123.0, R - 45.0, 10.0)
    f.label(L, 133.0, LW, 10.0, "所在地")
    f.slot("business_address", 45.0, 133.0, R - 45.0, 10.0)
    f.label(L, 143.0, LW, 9.0, "営業所電話番号", size=8.0)
    f.slot("business_phone", 45.0, 143.0, 70.0, 9.0)
    f.cells.append(Cell(115.0, 143.0, R - 115.0, 9.0))
    f.label(L, 152.0, LW, 10.0, "営業の種類")
    f.cells.append(Cell(45.0, 152.0, R - 45.0, 10.0))
    b = baseline_for(152.0, 10.0, OPTION_PT)
    f.options += [Option("business_type", v, x, b, "check") for v, x in
                  (("飲食店営業", 50.0), ("喫茶店営業", 86.0), ("菓子製造業", 122.0), ("食肉販売業", 158.0))]

    # 食品衛生責任者
    f.band(162.0, "食品衛生責任者")
    f.label(L, 169.0, LW, 10.0, "責任者氏名")
    f.slot("manager_name", 45.0, 169.0, 80.0, 10.0)
    f.cells.append(Cell(125.0, 169.0, R - 125.0, 10.0))
    f.label(L, 179.0, LW, 10.0, "資格")
    f.cells.append(Cell(45.0, 179.0, R - 45.0, 10.0))
    b = baseline_for(179.0, 10.0, OPTION_PT)
    f.options += [Option("manager_qualification", v, x, b, "check") for v, x in
                  (("調理師", 50.0), ("栄養士", 80.0), ("養成講習会修了", 110.0))]

    # 施設の概要
    f.band(189.0, "施設の概要")
    f.label(L, 196.0, LW, 10.0, "客席")
    f.cells.append(Cell(45.0, 196.0, 25.0, 10.0))
    b = baseline_for(196.0, 10.0, OPTION_PT)
    f.options.append(Option("has_seating", "有", 50.0, b, "check"))
    f.label(70.0, 196.0, 18.0, 10.0, "客席数")
    f.slot("seat_count", 88.0, 196.0, 32.0, 10.0, unit="席")
    f.label(120.0, 196.0, 20.0, 10.0, "客席面積")
    f.slot("seat_area", 140.0, 196.0, R - 140.0, 10.0, unit="㎡")
    f.label(L, 206.0, LW, 10.0, "申請手数料")
    f.slot("fee", 45.0, 206.0, 50.0, 10.0, unit="円")
    f.cells.append(Cell(95.0, 206.0, R - 95.0, 10.0))
    f.texts.append(Text(97.0, baseline_for(206.0, 10.0, 8.0), "（みどり町手数料条例別表による）", 8.0))

    f.frame = (L, 56.0, R - L, 216.0 - 56.0)
    f.texts.append(Text(L, 224.0, "※ 施設の構造及び設備を示す図面を添付してください。", 8.5))
    _office_box(f, 236.0, "生活環境課")
    f.texts.append(Text(L, 285.0, "みどり町 生活環境課 環境衛生係", 8.0))
    return f


def juminhyo_request() -> FormLayout:
    """住民票の写し等交付請求書 (様式第3号): the third form, added with `kakari bots new`."""
    f = FormLayout("juminhyo_request", "住民票の写し等交付請求書")
    _header(f, "様式第3号（第4条関係）", 18.0)
    f.texts.append(Text(L, 53.0, "住民基本台帳法第12条の規定により、次のとおり請求します。", 10.0))

    f.band(56.0, "請求者（窓口に来た方）")
    _postal_address(f, 63.0)
    f.label(L, 79.0, LW, 8.0, "フリガナ")
    f.slot("requester_kana", 45.0, 79.0, R - 45.0, 8.0)
    f.label(L, 87.0, LW, 10.0, "氏名")
    f.slot("requester_name", 45.0, 87.0, 80.0, 10.0)
    f.label(125.0, 87.0, 20.0, 10.0, "生年月日")
    f.slot("requester_birth", 145.0, 87.0, R - 145.0, 10.0)
    f.label(L, 97.0, LW, 9.0, "電話番号")
    f.slot("phone", 45.0, 97.0, 70.0, 9.0)
    f.cells.append(Cell(115.0, 97.0, R - 115.0, 9.0))

    f.band(106.0, "必要な方（住民票に記載されている方）")
    f.label(L, 113.0, LW, 10.0, "世帯主氏名")
    f.slot("householder_name", 45.0, 113.0, 80.0, 10.0)
    f.cells.append(Cell(125.0, 113.0, R - 125.0, 10.0))
    f.label(L, 123.0, LW, 10.0, "請求者との関係")
    f.cells.append(Cell(45.0, 123.0, R - 45.0, 10.0))
    b = baseline_for(123.0, 10.0, OPTION_PT)
    f.options += [Option("relation", v, x, b, "check") for v, x in (("本人", 50.0), ("同一世帯", 80.0), ("代理人", 120.0))]

    f.band(133.0, "必要な証明")
    f.label(L, 140.0, LW, 10.0, "証明の種類")
    f.cells.append(Cell(45.0, 140.0, R - 45.0, 10.0))
    b = baseline_for(140.0, 10.0, OPTION_PT)
    f.options += [Option("certificate", v, x, b, "check") for v, x in (("住民票の写し", 50.0), ("記載事項証明書", 110.0))]
    f.label(L, 150.0, LW, 10.0, "通数")
    f.slot("copies", 45.0, 150.0, 40.0, 10.0, unit="通")
    f.cells.append(Cell(85.0, 150.0, R - 85.0, 10.0))
    f.label(L, 160.0, LW, 10.0, "使用目的")
    f.slot("purpose", 45.0, 160.0, R - 45.0, 10.0)

    f.frame = (L, 56.0, R - L, 170.0 - 56.0)
    f.texts.append(Text(L, 178.0, "※ 本人確認書類（運転免許証・マイナンバーカード等）を提示してください。", 8.5))
    _office_box(f, 236.0, "市民課")
    f.texts.append(Text(L, 285.0, "みどり町 市民課 住民記録係", 8.0))
    return f


LAYOUTS = {"child_medical": child_medical, "restaurant_permit": restaurant_permit, "juminhyo_request": juminhyo_request}


def layout(form: str) -> FormLayout:
    return LAYOUTS[form]()
