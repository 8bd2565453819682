"""Web accounts that can be disabled and say when their password changed; server-side sessions;
failed logins counted per account and per address (the web's security rules).

A database that already has some of these (made by a build that created them itself) is taken as
it is: each table, column and index is added only where it is missing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    when = sa.DateTime(timezone=True)
    have = {c["name"] for c in inspector.get_columns("users")}
    if "disabled" not in have:
        op.add_column("users", sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.text("FALSE")))
    if "password_changed" not in have:
        op.add_column("users", sa.Column("password_changed", when))
    if "sessions" not in tables:
        op.create_table(
            "sessions",
            sa.Column("id_hash", sa.String(64), primary_key=True),
            sa.Column("username", sa.String(100), nullable=False),
            sa.Column("created", when, nullable=False),
            sa.Column("last_seen", when, nullable=False),
            sa.Column("address", sa.String(64)),
        )
    if "ix_sessions_username" not in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("sessions")}:
        op.create_index("ix_sessions_username", "sessions", ["username"])
    if "login_failures" not in tables:
        op.create_table(
            "login_failures",
            sa.Column("key", sa.String(200), primary_key=True),
            sa.Column("failures", sa.Integer, nullable=False),
            sa.Column("first_failure", when, nullable=False),
            sa.Column("locked_until", when),
        )


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_index("ix_sessions_username", table_name="sessions")
    op.drop_table("sessions")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_changed")
        batch.drop_column("disabled")
