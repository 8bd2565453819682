"""子ども医療費受給資格証交付申請書 (template: child_medical.toml)."""
from __future__ import annotations

from datetime import date

from bots import FormBot, Record

# 保険者番号 digits by insurance type: 8 for 社会保険 (協会けんぽ・健保組合) and 共済組合, 6 for 国民健康保険
INSURER_DIGITS = {"社会保険": 8, "共済組合": 8, "国民健康保険": 6}


class ChildMedical(FormBot):
    """子ども医療費受給資格証交付申請書 (template: child_medical.toml)."""

    name = "child_medical"

    def validate(self, rec: Record) -> Record:
        rec = super().validate(rec)
        f = rec.fields
        kind, insurer = f["insurance_type"].value, f["insurer_number"].value
        digits = INSURER_DIGITS.get(kind or "")
        if digits and insurer and len(insurer) != digits:
            rec.flag("insurer_number", f"{kind}の保険者番号は{digits}桁です ({len(insurer)}桁で記入されています)")
        # dates are ISO strings ("YYYY-MM-DD"), so string order is date order
        applied, child, guardian = f["applied_on"].value, f["child_birth"].value, f["guardian_birth"].value
        if applied and applied > date.today().isoformat():
            rec.flag("applied_on", "申請日が未来の日付です")
        if child and guardian and child <= guardian:
            rec.flag("child_birth", "児童の生年月日が申請者の生年月日より前です")
        if applied and child and applied < child:
            rec.flag("applied_on", "申請日が児童の生年月日より前です")
        return rec
