"""The engine and the session factory, configured for SQLite (embedded) or PostgreSQL (production)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from app.db import changes  # noqa: F401  (registers the change capture of the sync feed)
from app.db.reads import Reader
from app.settings import Settings


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    reader: Reader  # hot read paths (app/db/reads.py)

    async def dispose(self) -> None:
        await self.reader.close()
        await self.engine.dispose()


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(settings.database_url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {"server_settings": {"application_name": "fupin"}}
    if settings.database_statement_timeout_ms:
        connect_args["server_settings"]["statement_timeout"] = str(settings.database_statement_timeout_ms)
    engine = create_async_engine(
        settings.database_url,
        # A fixed pool: overflow connections are closed as soon as they are returned, so under load
        # every few requests paid for a new PostgreSQL backend (bench/RESULTS.md).
        pool_size=settings.database_pool_size,
        max_overflow=0,
        json_deserializer=orjson.loads,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "connect", _note_checkin)
    event.listen(engine.sync_engine, "checkin", _note_checkin)
    event.listen(engine.sync_engine, "checkout", _ping_if_idle)
    return engine


# The pool's own pre-ping costs three round trips on asyncpg (BEGIN, ping, ROLLBACK) at every checkout,
# as much as a whole list request (bench/RESULTS.md). A connection in steady use has just proved itself;
# one that sat idle for a while is pinged first. A connection that breaks in steady use fails its request,
# and SQLAlchemy then renews the whole pool.
IDLE_SECONDS_BEFORE_PING = 10.0


def _note_checkin(_dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: object) -> None:
    if time.monotonic() - record.info.get("idle_since", 0.0) < IDLE_SECONDS_BEFORE_PING:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:
        # The pool discards this connection and checks out (or opens) another.
        raise DisconnectionError("the pooled connection is gone") from error


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def create_database(settings: Settings) -> Database:
    engine = create_engine(settings)
    return Database(
        engine,
        async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
        Reader(engine, settings),
    )
