"""python -m samples.backoffice --port 8765 --db var/backoffice.db [--session-seconds 1200]"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from samples.backoffice.app import Settings, create_app


def parse_users(text: str) -> dict[str, str]:
    users = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        user, _, password = item.partition(":")
        users[user] = password
    return users


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m samples.backoffice", description="みどり町 総合衛生システム (sample)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--db", type=Path, default=Path("var/backoffice.db"))
    ap.add_argument("--session-seconds", type=float, default=1200.0, help="idle time before logout")
    args = ap.parse_args(argv)
    users = parse_users(os.environ.get("BACKOFFICE_USERS", ""))
    if not users:
        ap.error("BACKOFFICE_USERS (id:password,…) is not set")
    settings = Settings(args.db, users, args.session_seconds, os.environ.get("BACKOFFICE_ADMIN_TOKEN", ""))
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
