"""The schema of release 0.1.0: every table of the project.

A database made by 0.1.0 (before migrations, with create_all) holds some or all of these tables
and no alembic_version: each table is created only if it is missing, so such a database is
adopted as it is and the later revisions run on it.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> list[tuple[str, list[sa.schema.SchemaItem]]]:
    when = sa.DateTime(timezone=True)
    return [
        ("documents", [  # jobs/store.py
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("doc_id", sa.String(64), nullable=False),
            sa.Column("job", sa.String(100), nullable=False),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("bot", sa.String(100)),
            sa.Column("original_name", sa.Text),
            sa.Column("stored_path", sa.Text),
            sa.Column("received_at", when),
            sa.Column("finished_at", when),
            sa.Column("reason", sa.Text),
            sa.Column("run_id", sa.String(40)),
            sa.Column("record", sa.JSON),
            sa.UniqueConstraint("doc_id", "job", name="uq_documents_doc_job"),
        ]),
        ("events", [  # jobs/store.py
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("ts", when, nullable=False),
            sa.Column("doc_id", sa.String(64)),
            sa.Column("job", sa.String(100)),
            sa.Column("event", sa.String(40), nullable=False),
            sa.Column("detail", sa.Text),
            sa.Column("run_id", sa.String(40)),
        ]),
        ("runs", [  # jobs/store.py
            sa.Column("run_id", sa.String(40), primary_key=True),
            sa.Column("job", sa.String(100), nullable=False),
            sa.Column("trigger", sa.String(40)),
            sa.Column("started", when, nullable=False),
            sa.Column("finished", when),
            sa.Column("status", sa.String(20), nullable=False),
            sa.Column("counts", sa.JSON),
            sa.Column("robot_seconds", sa.Float),
            sa.Column("stats", sa.JSON),
            sa.Column("log_excerpt", sa.Text),
        ]),
        ("pending_writes", [  # jobs/store.py
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("doc_id", sa.String(64), nullable=False),
            sa.Column("job", sa.String(100), nullable=False),
            sa.Column("sink", sa.String(100), nullable=False),
            sa.Column("payload", sa.JSON, nullable=False),
            sa.Column("created", when, nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("next_try", when),
            sa.Column("last_error", sa.Text),
            sa.Column("done_at", when),
            sa.UniqueConstraint("doc_id", "job", "sink", name="uq_pending_doc_job_sink"),
        ]),
        ("time_log", [  # jobs/timelog.py
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("doc_id", sa.String(200), nullable=False),
            sa.Column("job", sa.String(100), nullable=False),
            sa.Column("step", sa.String(100), nullable=False),
            sa.Column("department", sa.String(100), nullable=False),
            sa.Column("task", sa.String(200), nullable=False),
            sa.Column("bot", sa.String(100)),
            sa.Column("status", sa.String(20)),
            sa.Column("work_date", sa.DateTime, nullable=False),
            sa.Column("started", when),
            sa.Column("finished", when),
            sa.Column("items", sa.Integer, nullable=False),
            sa.Column("robot_seconds", sa.Float, nullable=False),
            sa.Column("minutes_before", sa.Float, nullable=False),
            sa.Column("minutes_after", sa.Float, nullable=False),
            sa.Column("baseline", sa.String(20), nullable=False),
            sa.Column("source", sa.String(40), nullable=False),
            sa.UniqueConstraint("doc_id", "job", "step", name="uq_time_log_doc_job_step"),
        ]),
        ("web_submissions", [  # connectors/webstate.py
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("doc_id", sa.String(64), nullable=False),
            sa.Column("system", sa.String(100), nullable=False),
            sa.Column("job", sa.String(100), nullable=False),
            sa.Column("key", sa.String(64), nullable=False),
            sa.Column("state", sa.String(20), nullable=False),
            sa.Column("confirmation", sa.String(100)),
            sa.Column("via", sa.String(20)),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("last_error", sa.Text),
            sa.Column("created", when, nullable=False),
            sa.Column("updated", when, nullable=False),
            sa.Column("started", when),
            sa.Column("submitted_at", when),
            sa.Column("confirmed_at", when),
            sa.Column("synced_at", when),
            sa.Column("lease_owner", sa.String(200)),
            sa.Column("lease_until", when),
            sa.UniqueConstraint("doc_id", "system", name="uq_web_submissions_doc_system"),
            sa.UniqueConstraint("system", "key", name="uq_web_submissions_system_key"),
        ]),
        ("users", [  # web/accounts.py
            sa.Column("username", sa.String(100), primary_key=True),
            sa.Column("password_hash", sa.Text, nullable=False),
            sa.Column("role", sa.String(20), nullable=False),
            sa.Column("section", sa.String(100)),
            sa.Column("created", when),
        ]),
        ("baselines", [  # kpi/baseline.py
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("key", sa.String(64), nullable=False, unique=True),
            sa.Column("department", sa.String(100), nullable=False),
            sa.Column("task", sa.String(200), nullable=False),
            sa.Column("minutes", sa.Float, nullable=False),
            sa.Column("observed_on", sa.DateTime),
            sa.Column("note", sa.Text),
            sa.Column("source", sa.String(200)),
        ]),
        ("schedule_state", [  # schedule/scheduler.py
            sa.Column("name", sa.String(100), primary_key=True),
            sa.Column("last_fire", when),
            sa.Column("last_run_id", sa.String(40)),
            sa.Column("last_status", sa.String(20)),
        ]),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, items in _tables():
        if name not in existing:
            op.create_table(name, *items)


def downgrade() -> None:
    for name, _ in reversed(_tables()):
        op.drop_table(name)
