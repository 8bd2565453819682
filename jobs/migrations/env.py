"""Alembic environment: the caller (jobs.migrate, scripts/new_migration.py) hands over an open
connection and, for autogenerate, the models' metadata; there is no alembic.ini and no URL here."""
from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("target_metadata"),
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
