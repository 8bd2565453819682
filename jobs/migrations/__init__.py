"""Alembic migrations of the kakari database: one revision script per schema change, in versions/.

Run through jobs.migrate (every Store upgrades its database on first use; `kakari db upgrade`),
never through alembic.ini: env.py takes the connection from the caller."""
