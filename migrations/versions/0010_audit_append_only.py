"""The audit log made append-only at the database level (issue 7).

PostgreSQL: migration 0002 refuses UPDATE and DELETE row by row; this adds the missing TRUNCATE (a
statement-level trigger: TRUNCATE fires no row triggers), and makes both triggers fire ALWAYS, so a session
with ``session_replication_role = replica`` (superusers, replication tools) is refused too. PUBLIC loses
UPDATE, DELETE and TRUNCATE on the table. The only way past the triggers is DDL by the table's owner or a
superuser (``ALTER TABLE audit_log DISABLE TRIGGER …``), which the application never issues; run the service
as a role that does not own its tables and it cannot even do that. The test fixtures empty the table that
way, explicitly, inside one transaction (tests/conftest.py ``truncate``).

SQLite: a trigger refuses UPDATE. DELETE stays possible there, as for the ledger's tables: SQLite has no
TRUNCATE, and the test fixtures empty tables with DELETE.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 10:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # audit_log_append_only() (migration 0002) raises for whatever operation fired it.
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
            " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute("ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only")
        op.execute("ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate")
        op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC")
    else:
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
            " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
