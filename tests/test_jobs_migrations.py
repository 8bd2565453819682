"""Schema migrations: a database made by release 0.1.0 (create_all, kept in tests/data) is upgraded
and keeps every record; the models and the migrations never disagree; `kakari db`, backup and
restore work on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, create_engine, func, inspect, select, text

from jobs.migrate import current, head, upgrade
from jobs.store import Store, engine_for

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[1]
T = datetime(2026, 10, 5, 1, 30, tzinfo=timezone.utc)
TABLES = {"documents", "events", "runs", "pending_writes", "time_log", "web_submissions", "users", "baselines",
          "schedule_state"}


def models() -> list[MetaData]:
    """Every table the code defines: jobs.store's metadata (with the tables their owners attach) and
    the web entry state's own."""
    import connectors.webstate
    import jobs.store
    import jobs.timelog
    import kpi.baseline  # noqa: F401 - attaches baselines
    import schedule.scheduler  # noqa: F401 - attaches schedule_state
    import web.accounts
    import web.sessions
    import web.throttle  # noqa: F401 - attaches login_failures

    return [jobs.store.metadata, connectors.webstate.metadata]


def old_release_database(url: str) -> None:
    """The schema exactly as 0.1.0's create_all made it, and one row in every table."""
    engine = create_engine(url)
    ddl = (DATA / f"schema-0.1.0.{engine.dialect.name}.sql").read_text(encoding="utf-8")
    ddl = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    with engine.begin() as conn:
        for statement in ddl.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
        rows = {
            "documents": "INSERT INTO documents (doc_id, job, status, bot, original_name, stored_path, received_at, "
                         "finished_at, reason, run_id, record) VALUES ('d1', 'kodomo', '要確認', 'child_medical', "
                         "'申請_1.pdf', '/review/申請_1.pdf', :t, :t, '電話番号', 'r1', '{\"doc_id\": \"d1\", \"fields\": []}')",
            "events": "INSERT INTO events (ts, doc_id, job, event, detail, run_id) VALUES (:t, 'd1', 'kodomo', 'review', '', 'r1')",
            "runs": "INSERT INTO runs (run_id, job, \"trigger\", started, finished, status, counts, robot_seconds, stats, "
                    "log_excerpt) VALUES ('r1', 'kodomo', 'manual', :t, :t, 'ok', '{\"read\": 1}', 1.5, '{}', '')",
            "pending_writes": "INSERT INTO pending_writes (doc_id, job, sink, payload, created, attempts) VALUES "
                              "('d1', 'kodomo', 'excel', '{\"doc_id\": \"d1\"}', :t, 2)",
            "time_log": "INSERT INTO time_log (doc_id, job, step, department, task, bot, status, work_date, started, "
                        "finished, items, robot_seconds, minutes_before, minutes_after, baseline, source) VALUES "
                        "('d1', 'kodomo', 'ledger', '子育て支援課', '子ども医療費', 'child_medical', '要確認', :day, :t, :t, "
                        "1, 1.5, 8.0, 2.0, 'estimate', 'kakari')",
            "web_submissions": "INSERT INTO web_submissions (doc_id, system, job, \"key\", state, attempts, created, updated) "
                               "VALUES ('d1', 'eisei', 'inshoku', 'KK-1', 'confirmed', 1, :t, :t)",
            "users": "INSERT INTO users (username, password_hash, role, section, created) VALUES "
                     "('tanaka', '$argon2id$x', 'clerk', '子育て支援課', :t)",
            "baselines": "INSERT INTO baselines (\"key\", department, task, minutes, observed_on, note, source) VALUES "
                         "('k1', '子育て支援課', '子ども医療費', 12.0, :day, '', 'study.csv')",
            "schedule_state": "INSERT INTO schedule_state (name, last_fire, last_run_id, last_status) VALUES "
                              "('kodomo', :t, 'r1', 'started')",
        }
        assert set(rows) == TABLES
        for sql in rows.values():
            conn.execute(text(sql), {"t": T, "day": datetime(2026, 10, 5)})
    engine.dispose()


def test_a_database_of_the_previous_release_is_upgraded_and_keeps_every_record(db_url: str) -> None:
    old_release_database(db_url)
    store = Store(db_url)  # what every command does on start
    with store.engine.connect() as conn:
        assert current(conn) == head()
        assert set(inspect(conn).get_table_names()) >= TABLES
    doc = store.document("d1", "kodomo")
    assert doc["status"] == "要確認" and doc["record"] == {"doc_id": "d1", "fields": []}
    [run] = store.runs_for("kodomo")
    assert run["counts"] == {"read": 1}
    [write] = store.pending("kodomo", "excel")
    assert write["attempts"] == 2
    assert [e["event"] for e in store.history(doc_id_prefix="d1")] == ["review"]

    from connectors.webstate import WebState
    from jobs.timelog import TimeLog
    from kpi.baseline import baselines
    from schedule.scheduler import schedule_state
    from web.accounts import users

    assert WebState(store.engine).get("d1", "eisei").state == "confirmed"
    assert TimeLog(store).frame()["minutes_before"].tolist() == [8.0]
    with store.engine.connect() as conn:
        assert conn.execute(select(users.c.section)).scalar_one() == "子育て支援課"
        assert conn.execute(select(baselines.c.minutes)).scalar_one() == 12.0
        assert conn.execute(select(schedule_state.c.last_run_id)).scalar_one() == "r1"
    if db_url.startswith("sqlite"):  # the data was copied before the schema was touched
        db = Path(db_url.removeprefix("sqlite:///"))
        [copy] = (db.parent / "backups").glob(f"kakari-*-before-{head()}.db")
        import sqlite3

        with sqlite3.connect(copy) as conn:
            assert conn.execute("SELECT count(*) FROM documents").fetchone() == (1,)


def test_a_masked_copy_committed_before_the_upgrade_is_released_after_it(db_url: str, tmp_path: Path) -> None:
    """The masking's outcome (released path in the record, the staged copy in processing/) made
    under the previous release's schema: after the upgrade the next run's sweep releases it once."""
    import json

    from jobs import artifacts
    from kakari.config import RunContext, load_config

    cfg = tmp_path / "kakari.toml"
    cfg.write_text('[jobs.masking]\ndepartment = "市民課"\nbots = ["mask_numbers"]\n', encoding="utf-8")
    config = load_config(cfg, tmp_path / "home")
    job = config.job("masking")
    staged = artifacts.staged_path(job, RunContext(config), "m1")
    staged.write_bytes(b"%PDF-1.7 masked copy")
    target = job.output_folder(config.home) / "届出.pdf"
    record = {"doc_id": "m1", "bot": "mask_numbers", "fields": {},
              "meta": {"release": True, "output_path": str(target), "summary": "1ページ・2箇所"}}
    old_release_database(db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO documents (doc_id, job, status, bot, original_name, stored_path, received_at, "
                          "finished_at, reason, run_id, record) VALUES ('m1', 'masking', '自動登録', 'mask_numbers', "
                          "'届出.pdf', '', :t, :t, '', 'r1', :record)"), {"t": T, "record": json.dumps(record)})
    engine.dispose()

    store = Store(db_url)  # upgraded on start
    artifacts.sweep(job, RunContext(config, "r2"), store)
    assert target.read_bytes() == b"%PDF-1.7 masked copy" and not staged.exists()
    assert [e["event"] for e in store.history(doc_id_prefix="m1")] == ["released"]
    artifacts.sweep(job, RunContext(config, "r3"), store)  # nothing twice
    assert [p.name for p in target.parent.iterdir()] == ["届出.pdf"]


def test_the_models_and_the_migrations_agree(db_url: str) -> None:
    """A column or table added to a model without a revision in jobs/migrations/versions fails here
    (write one: scripts/new_migration.py "what changed")."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = Store(db_url).engine
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), models())
        assert diff == [], f"the models differ from the migrations: {diff}"
        # and the check sees a model change that has no migration
        changed = MetaData()
        for md in models():
            for table in md.tables.values():
                table.to_metadata(changed)
        changed.tables["documents"].append_column(Column("checked_by", String(100)))
        found = compare_metadata(MigrationContext.configure(conn), changed)
        assert [d[0] for d in found] == ["add_column"]


def test_two_processes_starting_on_a_new_database_migrate_it_once(db_url: str) -> None:
    code = f"from jobs.store import Store; Store({db_url!r})"
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=os.environ.copy(),
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for p in procs:
        assert p.wait(120) == 0, p.stderr.read()
    with engine_for(db_url).connect() as conn:
        assert current(conn) == head()
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_upgrade_is_a_no_op_at_head(db_url: str) -> None:
    engine = Store(db_url).engine
    assert upgrade(engine) == (head(), head())


def kakari(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kakari.cli", *args, "--home", str(home)], cwd=ROOT,
                          capture_output=True, text=True, env=os.environ | {"COLUMNS": "200"})


def test_cli_backup_and_restore(db_url: str, tmp_path: Path) -> None:
    """A backup taken now comes back after later changes; the changes are kept aside, not lost."""
    home = tmp_path / "home"
    if db_url.startswith("sqlite"):
        os.environ.pop("KAKARI_DB_URL", None)
        url = f"sqlite:///{home / 'kakari.db'}"
    else:
        url = db_url
    store = Store(url)
    from tests.test_jobs_store import commit

    commit(store, "kept")
    made = kakari("backup", "--out", str(tmp_path / "copy.bak"), home=home)
    assert made.returncode == 0, made.stderr
    assert "写しを作成しました" in made.stdout
    commit(store, "later")
    assert kakari("restore", str(tmp_path / "nothing.bak"), "--yes", home=home).returncode == 1
    back = kakari("restore", str(tmp_path / "copy.bak"), "--yes", home=home)
    assert back.returncode == 0, back.stderr + back.stdout
    from jobs.store import dispose

    dispose(url)
    store = Store(url)
    assert store.document("kept", "kodomo") is not None and store.document("later", "kodomo") is None
    [aside] = (home / "backups").glob("kakari-*-before-restore.*")
    assert aside.stat().st_size > 0
    status = kakari("db", "status", home=home)
    assert f"スキーマ {head()} / 最新 {head()}" in status.stdout


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    os.environ.pop("KAKARI_DB_URL", None)
    home = tmp_path / "home"
    Store(f"sqlite:///{home / 'kakari.db'}")
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    proc = kakari("restore", str(tmp_path / "junk.db"), "--yes", home=home)
    assert proc.returncode == 2 and "バックアップではない" in proc.stderr


def test_a_live_sqlite_database_is_copied_consistently(tmp_path: Path) -> None:
    """The online backup API copies a database that another connection is writing."""
    from jobs.backup import backup_sqlite
    from tests.test_jobs_store import commit

    url = f"sqlite:///{tmp_path / 'kakari.db'}"
    store = Store(url)
    for i in range(50):
        commit(store, f"d{i}")
    writer = store.engine.connect()
    tx = writer.begin()
    from jobs.store import insert_document
    from tests.test_jobs_store import row

    insert_document(writer, row("uncommitted"))  # in flight while the copy is made
    copy = backup_sqlite(tmp_path / "kakari.db", tmp_path / "copy.db")
    tx.rollback()
    writer.close()
    copied = create_engine(f"sqlite:///{copy}")
    with copied.connect() as conn:
        from jobs.store import documents

        assert conn.execute(select(func.count()).select_from(documents)).scalar_one() == 50
    copied.dispose()


@pytest.fixture(autouse=True)
def _fresh_migration_cache() -> None:
    """Each test's database is new: forget which URLs this process has already upgraded."""
    import jobs.migrate

    jobs.migrate._ready.clear()
