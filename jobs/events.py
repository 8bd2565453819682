"""What each pipeline event is called on the clerk's side (`kakari history`, the document page)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
EVENT_NAMES = {
    "claimed": "受付", "transformed": "変換", "read": "読取", "classified": "判別", "registered": "自動登録",
    "review": "要確認", "error": "エラー", "archived": "保存", "written": "台帳に記入", "already_written": "台帳に記入済",
    "parked": "書き込み保留", "retry": "再試行", "released": "受付に戻す", "recovered": "復旧", "replayed": "再処理",
    "corrected": "修正", "confirmed": "確認済", "rejected": "差し戻し", "purged": "原本削除",
    "web_confirmed": "業務システムに登録", "web_rejected": "業務システムが拒否",
}


def event_name(event: str) -> str:
    """The Japanese name of an event; an unknown one (a plugin's) by its own name."""
    return EVENT_NAMES.get(event, event)


def tokyo_time(ts: Any, seconds: bool = True) -> str:
    """A stored time as the town reads it (Asia/Tokyo); a naive time is UTC, as the store writes it."""
    if isinstance(ts, str):
        try:
            ts = datetime.fromisoformat(ts)
        except ValueError:
            return ts
    if not isinstance(ts, datetime):
        return ""
    local = (ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).astimezone(TOKYO)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
