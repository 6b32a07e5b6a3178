"""The audit log is append-only at the database level (migration 0010).

PostgreSQL: UPDATE, DELETE and TRUNCATE are refused for everyone, the superuser included, also with
``session_replication_role = replica``; an application role that does not own the table cannot update,
delete, truncate or switch the triggers off. The test fixtures' one way past (tests/conftest.py
``truncate``) leaves the triggers as they were. SQLite: UPDATE is refused.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from app.db.base import utcnow
from app.db.models import AuditEntry
from app.db.session import Database
from tests.conftest import truncate


async def _audit_row(db: Database) -> int:
    async with db.sessionmaker() as session, session.begin():
        row = AuditEntry(
            at=utcnow(),
            actor_subject=f"user:{uuid.uuid4()}",
            actor_name="inspector",
            actor_roles=["inspector"],
            actor_scope="620522",
            action="read_personal_data",
            record_type="household",
            record_id=str(uuid.uuid4()),
            region_code="620522100201",
            fields=["members.id_number"],
            request_id="proof",
            details={},
        )
        session.add(row)
        await session.flush()
        return row.id


async def _actor_name(db: Database, row_id: int) -> str | None:
    async with db.sessionmaker() as session:
        return await session.scalar(select(AuditEntry.actor_name).where(AuditEntry.id == row_id))


def _postgres(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: on SQLite the fixtures empty tables with DELETE (UPDATE is refused)")


REFUSED = (
    "UPDATE audit_log SET actor_name = 'someone else' WHERE id = :id",
    "DELETE FROM audit_log WHERE id = :id",
    "TRUNCATE audit_log",
    "TRUNCATE audit_log CASCADE",
)


async def test_the_application_path_cannot_rewrite_the_audit_log(db: Database) -> None:
    """Through the ORM session the service uses, an UPDATE is refused on both databases."""
    row_id = await _audit_row(db)
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.sessionmaker() as session, session.begin():
            await session.execute(update(AuditEntry).where(AuditEntry.id == row_id).values(actor_name="x"))
    assert await _actor_name(db, row_id) == "inspector"


@pytest.mark.parametrize("replica", [False, True], ids=["origin", "replica"])
@pytest.mark.parametrize("statement", REFUSED)
async def test_postgres_refuses_update_delete_truncate_even_for_the_superuser(
    db: Database, statement: str, replica: bool
) -> None:
    _postgres(db)
    row_id = await _audit_row(db)
    async with db.engine.connect() as connection:
        assert await connection.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        if replica:  # what replication tools use to skip ordinary triggers
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
        with pytest.raises(DBAPIError, match="append-only"):
            await connection.execute(text(statement), {"id": row_id} if ":id" in statement else {})
        await connection.rollback()
    assert await _actor_name(db, row_id) == "inspector"


async def test_postgres_an_application_role_cannot_switch_the_triggers_off(db: Database) -> None:
    """A role like the service's (reads and writes its tables, owns none): refused by privilege or trigger,
    and ALTER TABLE … DISABLE TRIGGER needs ownership it does not have."""
    _postgres(db)
    row_id = await _audit_row(db)
    role = f"fupin_proof_app_{uuid.uuid4().hex[:8]}"
    async with db.engine.connect() as connection:
        await connection.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        await connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        await connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON audit_log TO {role}"))
        await connection.commit()
    try:
        for statement in (
            *REFUSED,
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
            "SET session_replication_role = replica",
        ):
            async with db.engine.connect() as connection:
                await connection.execute(text(f"SET ROLE {role}"))
                with pytest.raises(DBAPIError, match=r"append-only|must be owner|permission denied"):
                    await connection.execute(text(statement), {"id": row_id} if ":id" in statement else {})
                await connection.rollback()
    finally:
        async with db.engine.connect() as connection:
            await connection.execute(text(f"REVOKE ALL ON SCHEMA public FROM {role}"))
            await connection.execute(text(f"DROP OWNED BY {role}"))
            await connection.execute(text(f"DROP ROLE {role}"))
            await connection.commit()
    assert await _actor_name(db, row_id) == "inspector"


async def test_postgres_the_fixture_path_empties_it_and_restores_the_triggers(db: Database) -> None:
    _postgres(db)
    await _audit_row(db)
    query = text(
        "SELECT tgname, tgenabled::text FROM pg_trigger"
        " WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal"
    )
    async with db.engine.begin() as connection:
        before = sorted((await connection.execute(query)).all())
        await truncate(connection, ["audit_log"])
    async with db.engine.connect() as connection:
        assert sorted((await connection.execute(query)).all()) == before
        assert await connection.scalar(text("SELECT count(*) FROM audit_log")) == 0
    assert [tuple(row) for row in before] == [
        ("audit_log_append_only", "A"),
        ("audit_log_no_truncate", "A"),
    ]
