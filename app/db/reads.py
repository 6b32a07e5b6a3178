"""Hot reads: Core statements compiled once, run straight on a driver connection, rows out as dicts.

A list page through an ``AsyncSession`` spent more CPU in the session (checkout, autocommit switch, result
wrapping) than in the query and the JSON together (bench/RESULTS.md). Statements that serve hot read paths
are built with SQLAlchemy as everywhere else (so the scope module still builds their WHERE clause), then:

* on PostgreSQL, compiled once by the asyncpg dialect and run on an asyncpg pool of their own (JSON
  columns decoded by orjson, as the engine does);
* on SQLite, executed through the engine as Core statements (the embedded database has no pool to spare).

Only plain column reads go through here: values come back as the driver gives them (no result processors),
and bind values must be ones the driver takes as they are (str, int, bool, UUID, date, datetime).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import asyncpg
import orjson
from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import Settings

AnySelect = Select[Any]


class Rows(NamedTuple):
    keys: tuple[str, ...]
    values: Sequence[Sequence[Any]]


class CompiledRead:
    """A statement rendered for asyncpg: SQL with ``$n`` placeholders and the bind names in their order."""

    __slots__ = ("defaults", "keys", "names", "sql")

    def __init__(self, statement: AnySelect, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.defaults: dict[str, Any] = dict(compiled.params)
        self.keys: tuple[str, ...] = tuple(_key(column) for column in statement.selected_columns)

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        defaults = self.defaults
        return [params[name] if name in params else defaults[name] for name in self.names]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _key(column: Any) -> str:
    if column.key is None:
        raise ValueError(f"a hot read selects named columns only, not {column}")
    return str(column.key)


async def _init_connection(connection: asyncpg.Connection) -> None:
    # As the engine decodes them (app/db/session.py). Passing the text through as an orjson.Fragment would
    # save the parse, but PostgreSQL writes arrays as `["a", "b"]`: a page would differ byte for byte
    # between the databases.
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=_dumps, decoder=orjson.loads, schema="pg_catalog", format="text"
        )


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Nothing a read does outlives it (no LISTEN, advisory lock, SET or open transaction), so the pool's
    default reset on release, a round trip per request, is skipped."""


class Reader:
    """Runs read-only statements for the hot paths; one per :class:`~app.db.session.Database`."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._dialect = engine.dialect
        self._postgres = engine.dialect.name == "postgresql"
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        # Compiled forms, kept as long as the statement object lives (statements are cached by their
        # builders, e.g. per principal and filter).
        self._compiled: weakref.WeakKeyDictionary[AnySelect, CompiledRead] = weakref.WeakKeyDictionary()

    async def fetch(self, statement: AnySelect, params: Mapping[str, Any]) -> Rows:
        """The rows of ``statement`` with ``params`` bound by name: the column keys, and each row's values
        in their order (``dict(zip(keys, row))`` is a quarter faster than ``dict(record)``)."""
        if not self._postgres:
            async with self._engine.connect() as connection:
                result = await connection.execute(statement, dict(params))
                return Rows(tuple(result.keys()), result.all())
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = CompiledRead(statement, self._dialect)
        pool = self._pool or await self._open_pool()
        async with pool.acquire() as connection:
            records: list[asyncpg.Record] = await connection.fetch(compiled.sql, *compiled.arguments(params))
        return Rows(compiled.keys, records)

    async def _open_pool(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                url = self._engine.url.set(drivername="postgresql")
                server_settings = {"application_name": "fupin-reads"}
                if self._settings.database_statement_timeout_ms:
                    server_settings["statement_timeout"] = str(self._settings.database_statement_timeout_ms)
                self._pool = await asyncpg.create_pool(
                    url.render_as_string(hide_password=False),
                    min_size=1,
                    max_size=self._settings.database_read_pool_size,
                    init=_init_connection,
                    server_settings=server_settings,
                    reset=_no_reset,
                )
            return self._pool

    def pool_stats(self) -> tuple[int, int, int] | None:
        """Open connections, those in use, and the most the pool opens; None before the pool opens (and
        on SQLite, which reads through the engine)."""
        pool = self._pool
        if pool is None:
            return None
        size: int = pool.get_size()
        return size, size - pool.get_idle_size(), pool.get_max_size()

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
