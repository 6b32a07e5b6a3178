"""The `fupin` command: serve, migrate, import regions, manage users and clients, export the OpenAPI file.

Commands act as the installation's operator (nationwide, every role): whoever can run them can reach the
database anyway. People and scripts without that access use the API, where scope applies.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, Literal, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.migrate import upgrade
from app.db.models import ImportRowReport, Job
from app.db.session import Database, create_database
from app.domain.errors import DomainError
from app.domain.principal import Role
from app.domain.system import system_principal
from app.settings import Settings

if TYPE_CHECKING:
    from app.domain.households.imports import ImportOptions

T = TypeVar("T")

cli = typer.Typer(
    help="Fupin (扶贫): targeted poverty alleviation backbone API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
regions_cli = typer.Typer(help="The region tree.", no_args_is_help=True)
users_cli = typer.Typer(help="People who sign in.", no_args_is_help=True)
clients_cli = typer.Typer(help="Machine clients (client credentials).", no_args_is_help=True)
openapi_cli = typer.Typer(help="The OpenAPI description.", no_args_is_help=True)
graphql_cli = typer.Typer(help="The GraphQL schema.", no_args_is_help=True)
demo_cli = typer.Typer(help="Demo data.", no_args_is_help=True)
households_cli = typer.Typer(help="The household registry: bulk import and export.", no_args_is_help=True)
funds_cli = typer.Typer(help="The funds ledger: consistency proof, idempotency keys.", no_args_is_help=True)
stats_cli = typer.Typer(help="Region statistics: the rollups.", no_args_is_help=True)
sync_cli = typer.Typer(help="The sync feed's change log.", no_args_is_help=True)
for sub, name in (
    (db_cli, "db"),
    (regions_cli, "regions"),
    (users_cli, "users"),
    (clients_cli, "clients"),
    (openapi_cli, "openapi"),
    (graphql_cli, "graphql"),
    (demo_cli, "demo"),
    (households_cli, "households"),
    (funds_cli, "funds"),
    (stats_cli, "stats"),
    (sync_cli, "sync"),
):
    cli.add_typer(sub, name=name)

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")
DEFAULT_GRAPHQL_SCHEMA_PATH = Path("openapi/schema.graphql")


def _in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work in a transaction of its own; domain errors end the command with their detail."""

    async def run() -> T:
        database = create_database(Settings())
        try:
            async with database.sessionmaker() as session, session.begin():
                return await work(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except DomainError as error:
        typer.secho(f"error: {error.detail}", fg=typer.colors.RED, err=True)
        for field_error in error.errors:
            typer.echo(f"  {'.'.join(map(str, field_error.loc))}: {field_error.message}", err=True)
        raise typer.Exit(1) from None


def _roles(value: str) -> list[Role]:
    try:
        return [Role(role.strip()) for role in value.split(",") if role.strip()]
    except ValueError:
        raise typer.BadParameter(f"roles are a comma-separated subset of: {', '.join(Role)}") from None


# db ------------------------------------------------------------------------------------------------------


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Option(help="Target revision")] = "head") -> None:
    """Apply the migrations to the database of FUPIN_DATABASE_URL."""
    settings = Settings()
    if settings.is_sqlite:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


# serve ---------------------------------------------------------------------------------------------------


@cli.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Migrate, load the demo county and users, then serve")] = False,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """Serve the API (Swagger UI at /docs)."""
    import uvicorn

    if demo:
        db_upgrade("head")
        _load_demo()
        # Exploring the demo: GraphiQL and introspection on, unless the environment says otherwise.
        os.environ.setdefault("FUPIN_GRAPHQL_INTROSPECTION", "true")
        os.environ.setdefault("FUPIN_GRAPHQL_GRAPHIQL", "true")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        # On SIGTERM: stop accepting, let in-flight requests finish for this long, then the application's
        # shutdown lets running jobs finish for as long again (app/main.py).
        timeout_graceful_shutdown=Settings().shutdown_timeout_seconds,
        log_config=None,
    )


# demo ----------------------------------------------------------------------------------------------------


def _load_demo() -> None:
    from app.domain.demo import DEMO_PASSWORD, DEMO_USERS, load_demo

    created = _in_session(load_demo)
    typer.echo(f"demo data loaded ({created} users created). Sign in at /docs (Authorize) with:")
    for user in DEMO_USERS:
        typer.echo(
            f"  {user.username:<10} / {DEMO_PASSWORD:<5} {', '.join(user.roles):<70} {user.region_code}"
        )


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo county (秦安县) and demo users, all with the password `demo`."""
    _load_demo()


# regions -------------------------------------------------------------------------------------------------


@regions_cli.command("import")
def regions_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Import a `code,name` CSV; idempotent, all or nothing."""
    from app.domain.regions.service import import_region_file

    data = file.read_bytes()
    report = _in_session(lambda session: import_region_file(session, system_principal(), data))
    typer.echo(f"created {report.created}, renamed {report.updated}, unchanged {report.unchanged}")


# users ---------------------------------------------------------------------------------------------------


@users_cli.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    region: Annotated[str, typer.Option(help="12-digit region code of the user's scope")],
    roles: Annotated[str, typer.Option(help=f"Comma-separated: {', '.join(Role)}")],
    display_name: Annotated[str | None, typer.Option()] = None,
    password: Annotated[
        str | None, typer.Option(help="Read from the prompt when omitted", envvar="FUPIN_NEW_PASSWORD")
    ] = None,
    personal_data: Annotated[bool, typer.Option(help="Grant reading unmasked personal data")] = False,
) -> None:
    """Create a user."""
    from app.domain.users.service import NewUser, create_user

    if password is None:
        password = getpass.getpass("password: ")
    new = NewUser(
        username=username,
        display_name=display_name or username,
        region_code=region,
        roles=_roles(roles),
        password=password,
        has_personal_data_grant=personal_data,
    )
    user = _in_session(lambda session: create_user(session, system_principal(), new))
    typer.echo(f"created user {user.username} ({user.id})")


@users_cli.command("list")
def users_list(region: Annotated[str | None, typer.Option(help="Only this region's subtree")] = None) -> None:
    """List users (500 at most)."""
    from app.domain.pagination import PageRequest
    from app.domain.users.service import list_users

    page = _in_session(
        lambda session: list_users(session, system_principal(), PageRequest(500), region=region)
    )
    for user in page.items:
        state = "active" if user.is_active else "disabled"
        typer.echo(f"{user.id}  {user.username:<16} {user.region_code}  {state:<8} {','.join(user.roles)}")


@users_cli.command("set")
def users_set(
    user_id: Annotated[uuid.UUID, typer.Argument()],
    active: Annotated[bool | None, typer.Option("--active/--disabled")] = None,
    roles: Annotated[str | None, typer.Option()] = None,
    reset_password: Annotated[bool, typer.Option(help="Prompt for a new password")] = False,
) -> None:
    """Enable or disable a user, change their roles or reset their password (ends their sessions)."""
    from app.domain.users.service import update_user

    changes: dict[str, object] = {}
    if active is not None:
        changes["is_active"] = active
    if roles is not None:
        changes["roles"] = _roles(roles)
    if reset_password:
        changes["password"] = getpass.getpass("new password: ")
    user = _in_session(lambda session: update_user(session, system_principal(), user_id, changes))
    typer.echo(f"updated user {user.username}")


# clients -------------------------------------------------------------------------------------------------


@clients_cli.command("create")
def clients_create(
    name: Annotated[str, typer.Option()],
    region: Annotated[str, typer.Option(help="12-digit region code of the client's scope")],
    roles: Annotated[str, typer.Option()] = Role.DATA_CONSUMER.value,
) -> None:
    """Register a machine client; prints its id and secret (shown once)."""
    from app.domain.users.service import NewClient, create_client

    new = NewClient(name=name, region_code=region, roles=_roles(roles))
    created = _in_session(lambda session: create_client(session, system_principal(), new))
    typer.echo(f"client_id={created.client.client_id}\nclient_secret={created.client_secret}")


# households ----------------------------------------------------------------------------------------------


@households_cli.command("import")
def households_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help=".csv or .xlsx")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only: write nothing")] = False,
    mode: Annotated[
        Literal["all_or_nothing", "row_by_row"],
        typer.Option(help="all_or_nothing: any error imports nothing; row_by_row: skip bad households"),
    ] = "all_or_nothing",
) -> None:
    """Import households with members (layout: docs/households-import.md); prints every row's errors.

    Runs the API's import synchronously, as a job of the operator. Exits 1 when the file could not be
    imported: unreadable, or rows with errors in all_or_nothing mode (nothing was imported then).
    """
    from app.domain.households import imports

    options = imports.ImportOptions(dry_run=dry_run, mode=mode)
    job = _run(lambda database: _import_file(database, file, options))
    for row in job.report:
        for error in row.errors:
            column = error["column"] or "row"
            typer.echo(
                f"row {row.row} [{row.household_number or '-'}] {column}: {error['message']}", err=True
            )
    result = job.job.result
    verb = "would be" if dry_run else "were"
    typer.echo(
        f"{result.get('rows', 0)} rows: households {result.get('households_created', 0)} created, "
        f"{result.get('households_updated', 0)} updated, {result.get('households_unchanged', 0)} unchanged; "
        f"members {result.get('members_created', 0)} created, {result.get('members_updated', 0)} updated "
        f"({verb} so); {result.get('rows_with_errors', 0)} rows with errors"
    )
    if job.job.status == "failed":
        typer.secho(f"error: {job.job.error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    if mode == "all_or_nothing" and result.get("rows_with_errors"):
        typer.secho("nothing was imported (all or nothing)", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@dataclass(frozen=True)
class _ImportOutcome:
    job: Job
    report: list[ImportRowReport]


async def _import_file(database: Database, file: Path, options: ImportOptions) -> _ImportOutcome:
    from app.domain import jobs
    from app.domain.households import imports
    from app.domain.pagination import PageRequest

    principal = system_principal()
    with file.open("rb") as handle:
        opened = imports.open_file(handle, file.name)
        params = {"filename": file.name, "dry_run": options.dry_run, "mode": options.mode}
        async with database.sessionmaker() as session, session.begin():
            job = await jobs.create_job(session, principal, jobs.HOUSEHOLD_IMPORT, params)
        await imports.run_import(database.sessionmaker, job.id, principal, opened, options)
    report: list[ImportRowReport] = []
    async with database.sessionmaker() as session:
        page = PageRequest(limit=500)
        while True:
            result = await jobs.report_page(session, principal, job.id, page)
            report.extend(result.items)
            if result.next_cursor is None:
                break
            page = PageRequest(limit=500, cursor=result.next_cursor)
        job = await jobs.get_job(session, principal, job.id)
    return _ImportOutcome(job, report)


@households_cli.command("export")
def households_export(
    region: Annotated[str, typer.Option(help="12-digit code: the households of this region's subtree")],
    format: Annotated[Literal["csv", "xlsx", "ndjson"], typer.Option(help="File format")] = "csv",
    output: Annotated[Path | None, typer.Option(help="File to write; standard output when left out")] = None,
) -> None:
    """Export households with members, unmasked (CSV/XLSX in the import layout); recorded in the audit log."""
    from app.domain.households import exports
    from app.domain.households.queries import HouseholdFilter
    from app.domain.regions import codes

    if not codes.is_valid_code(region):
        raise typer.BadParameter("a region code is 12 digits", param_hint="--region")

    async def export(database: Database) -> int:
        principal = system_principal()
        async with database.sessionmaker() as session, session.begin():
            plan = await exports.begin_export(session, principal, HouseholdFilter(region=region), format)
        written = 0
        with output.open("wb") if output else _stdout() as target:
            async for block in exports.stream_export(database.sessionmaker, principal, plan):
                target.write(block)
                written += len(block)
        return written

    written = _run(export)
    if output is not None:
        typer.echo(f"wrote {written} bytes to {output}", err=True)


@contextmanager
def _stdout() -> Iterator[BinaryIO]:
    stream = typer.get_binary_stream("stdout")
    yield stream
    stream.flush()


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run work needing the database (and sessions of its own); domain errors end the command."""

    async def run() -> T:
        database = create_database(Settings())
        try:
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except DomainError as error:
        typer.secho(f"error: {error.detail}", fg=typer.colors.RED, err=True)
        for field_error in error.errors:
            typer.echo(f"  {'.'.join(map(str, field_error.loc))}: {field_error.message}", err=True)
        raise typer.Exit(1) from None


# funds ---------------------------------------------------------------------------------------------------


@funds_cli.command("verify")
def funds_verify() -> None:
    """Prove the ledger consistent: balances equal their entries (per account and per source), reservations
    equal the pending transfers, every posted transfer balances, nothing below zero, money conserved."""
    from app.domain.funds.verify import verify

    report = _in_session(verify)
    typer.echo(f"{report.accounts} accounts, {report.transfers} transfers, {report.entries} entries")
    if report.ok:
        typer.echo("ledger consistent: every check passed")
        return
    for check, rows in report.failures.items():
        typer.secho(f"FAILED {check}:", fg=typer.colors.RED, err=True)
        for row in rows:
            typer.echo(f"  {row}", err=True)
    raise typer.Exit(1)


@funds_cli.command("purge-keys")
def funds_purge_keys(
    hours: Annotated[int, typer.Option(min=24, help="Drop keys older than this (at least 24)")] = 24,
) -> None:
    """Drop the Idempotency-Keys of transfer requests older than the retention (run it daily)."""
    from datetime import timedelta

    from app.domain.funds.idempotency import purge

    dropped = _in_session(lambda session: purge(session, timedelta(hours=hours)))
    typer.echo(f"dropped {dropped} idempotency keys older than {hours} hours")


# sync ----------------------------------------------------------------------------------------------------


@sync_cli.command("purge")
def sync_purge(
    days: Annotated[
        int, typer.Option(min=7, help="Keep removals (tombstones) this many days (at least 7)")
    ] = 90,
) -> None:
    """Compact the change log and drop removals older than the retention (run it daily). Clients whose cursor
    is older than a dropped removal get 410 and take a new snapshot."""
    from app.domain.sync.retention import purge

    result = _in_session(lambda session: purge(session, tombstone_days=days))
    dropped = f"{result.superseded} superseded changes, and {result.tombstones} removals"
    typer.echo(f"dropped {dropped} older than {days} days")


# stats ---------------------------------------------------------------------------------------------------


@stats_cli.command("rebuild")
def stats_rebuild() -> None:
    """Recompute every statistics rollup from the registry and the ledger (after a restore or a bulk load;
    writes keep them current otherwise)."""
    import time

    from app.domain.stats.rollups import rebuild_all

    started = time.perf_counter()
    counts = _in_session(rebuild_all)
    typer.echo(
        f"rollups rebuilt in {time.perf_counter() - started:.1f} s: {counts['village_rows']} village rows, "
        f"{counts['township_rows']} township rows, {counts['fund_rows']} fund rows"
    )


# openapi -------------------------------------------------------------------------------------------------


def openapi_document() -> str:
    from app.main import create_app

    settings = Settings(
        database_url="sqlite+aiosqlite:///:memory:", jwt_secret="x" * 32, jwt_algorithm="HS256"
    )
    return json.dumps(create_app(settings, check_schema=False).openapi(), ensure_ascii=False, indent=2) + "\n"


@openapi_cli.command("export")
def openapi_export(output: Annotated[Path, typer.Option()] = DEFAULT_OPENAPI_PATH) -> None:
    """Write the OpenAPI document (openapi/openapi.json, checked for drift by the tests)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(openapi_document(), encoding="utf-8")
    typer.echo(f"wrote {output}")


# graphql -------------------------------------------------------------------------------------------------


@graphql_cli.command("export")
def graphql_export(output: Annotated[Path, typer.Option()] = DEFAULT_GRAPHQL_SCHEMA_PATH) -> None:
    """Write the GraphQL schema in SDL (openapi/schema.graphql, checked for drift by the tests)."""
    from app.graphql.schema import schema_sdl

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(schema_sdl(), encoding="utf-8")
    typer.echo(f"wrote {output}")


def main() -> None:
    cli()
