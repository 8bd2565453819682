"""住民票の写し等交付請求書 (template: juminhyo_request.toml). Scaffolded with `kakari bots new`."""
from __future__ import annotations

from bots import FormBot, Record


class JuminhyoRequest(FormBot):
    """住民票の写し等交付請求書."""

    name = "juminhyo_request"

    def validate(self, rec: Record) -> Record:
        rec = super().validate(rec)
        f = rec.fields
        copies = f["copies"].value
        if copies is not None and copies < 1:
            rec.flag("copies", "通数は1以上にしてください")
        birth, applied = f["requester_birth"].value, f["applied_on"].value
        if birth and applied and birth >= applied:  # ISO strings: string order is date order
            rec.flag("requester_birth", "生年月日が請求日より後になっています")
        return rec
