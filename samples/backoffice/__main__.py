"""python -m samples.backoffice [--system eisei|kosodate] --port 8765 --db var/backoffice.db [--session-seconds 1200]"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn


def parse_users(text: str) -> dict[str, str]:
    users = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        user, _, password = item.partition(":")
        users[user] = password
    return users


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.backoffice", description="みどり町のサンプル業務システム")
    ap.add_argument("--system", choices=("eisei", "kosodate"), default="eisei",
                    help="eisei: 総合衛生システム / kosodate: 子育て支援総合システム")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--db", type=Path, default=Path("var/backoffice.db"))
    ap.add_argument("--session-seconds", type=float, default=1200.0, help="idle time before logout")
    ap.add_argument("--calm", action="store_true", help="kosodate: no delays, 503s or session limit")
    args = ap.parse_args(argv)
    users = parse_users(os.environ.get("BACKOFFICE_USERS", ""))
    if not users:
        ap.error("BACKOFFICE_USERS (id:password,…) is not set")
    token = os.environ.get("BACKOFFICE_ADMIN_TOKEN", "")
    if args.system == "kosodate":
        from samples.backoffice.faults import Faults
        from samples.backoffice.kosodate.app import Settings as KSettings, create_app as create_kosodate

        settings = KSettings(args.db, users, args.session_seconds, token)
        if args.calm:
            settings.faults = Faults()
        app = create_kosodate(settings)
    else:
        from samples.backoffice.app import Settings, create_app

        app = create_app(Settings(args.db, users, args.session_seconds, token))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
