"""Write a new Alembic revision for a model change: python scripts/new_migration.py "add 確認者 to documents".

Upgrades a scratch SQLite database to the current head, compares it with every model of the project
(the tables of jobs, connectors, kpi, schedule and web) and writes the difference as a revision in
jobs/migrations/versions/. Read it, fix what autogenerate cannot know (renames, data moves, server
defaults), and run tests/test_jobs_migrations.py.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/new_migration.py", description=__doc__.splitlines()[0])
    ap.add_argument("message", help="what changed, in a few words")
    args = ap.parse_args(argv)

    from alembic import command

    from jobs.migrate import SCRIPTS, alembic_config, head, upgrade
    from jobs.store import engine_for
    from tests.test_jobs_migrations import models

    versions = sorted(p.name for p in (SCRIPTS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    number = f"{int(versions[-1][:4]) + 1:04d}" if versions else "0001"
    slug = re.sub(r"[^0-9a-z]+", "_", args.message.lower()).strip("_")[:40] or "change"
    with tempfile.TemporaryDirectory() as tmp:
        engine = engine_for(f"sqlite:///{tmp}/scratch.db")
        upgrade(engine, backup=False)
        with engine.begin() as conn:
            cfg = alembic_config(conn, models())
            script = command.revision(cfg, message=args.message, autogenerate=True, rev_id=number,
                                      head=head())
    path = Path(script.path)  # type: ignore[union-attr]
    target = path.with_name(f"{number}_{slug}.py")
    path.rename(target)
    print(f"書きました: {target.relative_to(ROOT)} — 内容を確認してから tests/test_jobs_migrations.py を実行してください")
    return 0


if __name__ == "__main__":
    sys.exit(main())
