"""飲食店営業許可申請書 (template: restaurant_permit.toml)."""
from __future__ import annotations

from datetime import date

from bots import FormBot, Record


class RestaurantPermit(FormBot):
    """飲食店営業許可申請書 (template: restaurant_permit.toml)."""

    name = "restaurant_permit"

    def validate(self, rec: Record) -> Record:
        rec = super().validate(rec)
        f = rec.fields
        if f["has_seating"].value:
            if f["seat_count"].value in (None, ""):
                rec.flag("seat_count", "客席ありの場合は客席数が必要です")
            if f["seat_area"].value in (None, ""):
                rec.flag("seat_area", "客席ありの場合は客席面積が必要です")
        applied = f["applied_on"].value
        if applied and applied > date.today().isoformat():
            rec.flag("applied_on", "申請日が未来の日付です")
        return rec
