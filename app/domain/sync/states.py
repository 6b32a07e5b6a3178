"""What the sync feed and snapshots deliver of each collection: an entity's current state, as one JSON
object, built from Core rows (no ORM objects on this bulk path) for a batch of entities at a time.

- households: the household (personal data masked without the grant) with all its ``members`` (leavers
  too, ``is_active: false``), ``incomes`` (by year) and ``indicators``;
- assignments; plans with their ``measures``; projects; fund transfers with their ``sources`` split.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import orjson
from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.models import (
    Assignment,
    AssistancePlan,
    FundTransfer,
    FundTransferSource,
    Household,
    Income,
    Indicator,
    Member,
    PlanMeasure,
    Project,
)
from app.domain.households import masking
from app.domain.principal import Permission, Principal
from app.domain.scope import restrict, within_prefix

CollectionName = Literal["households", "assignments", "plans", "projects", "fund_transfers"]
JSON_OPTIONS = orjson.OPT_UTC_Z
PartsLoader = Callable[[AsyncConnection, Principal, Sequence[Row[Any]]], Awaitable[dict[Any, dict[str, Any]]]]


def _columns(model: type[Any], *, leave_out: tuple[str, ...] = ()) -> tuple[Any, ...]:
    return tuple(column for column in model.__table__.columns if column.key not in leave_out)


@dataclass(frozen=True)
class Collection:
    name: CollectionName
    model: type[Any]
    permission: Permission
    columns: tuple[Any, ...]  # the entity's own columns; the first is its id
    parts: PartsLoader | None = None
    has_personal_data: bool = False

    def rows(self, principal: Principal, region: str | None) -> Select[Any]:
        """The collection's entities in the caller's scope (and ``region``'s subtree, if given)."""
        statement = restrict(select(*self.columns), self.model, principal)
        if region is not None:
            statement = statement.where(within_prefix(self.model.region_code, region))
        return statement

    async def states(
        self, connection: AsyncConnection, principal: Principal, rows: Sequence[Row[Any]]
    ) -> list[tuple[str, dict[str, Any]]]:
        """``(id, state)`` of each row, with its parts; personal data masked unless the caller may see it."""
        parts = await self.parts(connection, principal, rows) if self.parts and rows else {}
        unmasked = masking.may_see_personal_data(principal)
        keys = [column.key for column in self.columns]
        states = []
        for row in rows:
            state = dict(zip(keys, row, strict=True))
            if self.has_personal_data and not unmasked:
                state = masking.mask_row(state, unmasked=False)
            state.update(parts.get(row[0], {}))
            states.append((str(row[0]), state))
        return states


def _villages(rows: Sequence[Row[Any]]) -> tuple[str, str]:
    """The batch's villages bound the parts' queries besides the scope (as in the household export)."""
    villages = [row.region_code for row in rows]
    return min(villages), max(villages)


async def _grouped(
    connection: AsyncConnection, statement: Select[Any], owner_key: str, leave_out: tuple[str, ...]
) -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for row in (await connection.execute(statement)).mappings():
        grouped.setdefault(row[owner_key], []).append({k: v for k, v in row.items() if k not in leave_out})
    return grouped


HOUSEHOLD_PART = ("household_id", "region_code")
MEMBER_COLUMNS = _columns(Member)
INCOME_COLUMNS = _columns(Income)
INDICATOR_COLUMNS = _columns(Indicator)


async def _household_parts(
    connection: AsyncConnection, principal: Principal, rows: Sequence[Row[Any]]
) -> dict[Any, dict[str, Any]]:
    ids = [row[0] for row in rows]
    low, high = _villages(rows)
    unmasked = masking.may_see_personal_data(principal)

    def part(model: type[Any], columns: tuple[Any, ...], *order: Any) -> Select[Any]:
        statement = select(*columns).where(
            model.household_id.in_(ids),
            model.region_code.between(low, high),  # scope: narrower, inside restrict()
        )
        return restrict(statement, model, principal).order_by(model.household_id, *order)

    members = await _grouped(
        connection, part(Member, MEMBER_COLUMNS, Member.id), "household_id", HOUSEHOLD_PART
    )
    incomes = await _grouped(
        connection, part(Income, INCOME_COLUMNS, Income.year), "household_id", HOUSEHOLD_PART
    )
    indicators = await _grouped(
        connection, part(Indicator, INDICATOR_COLUMNS, Indicator.indicator), "household_id", HOUSEHOLD_PART
    )
    return {
        household_id: {
            "members": [
                masking.mask_row(member, unmasked=unmasked) for member in members.get(household_id, [])
            ],
            "incomes": incomes.get(household_id, []),
            "indicators": indicators.get(household_id, []),
        }
        for household_id in ids
    }


MEASURE_COLUMNS = _columns(PlanMeasure)


async def _plan_parts(
    connection: AsyncConnection, principal: Principal, rows: Sequence[Row[Any]]
) -> dict[Any, dict[str, Any]]:
    ids = [row[0] for row in rows]
    low, high = _villages(rows)
    statement = restrict(
        select(*MEASURE_COLUMNS).where(
            PlanMeasure.plan_id.in_(ids),
            PlanMeasure.region_code.between(low, high),  # scope: narrower, inside restrict()
        ),
        PlanMeasure,
        principal,
    ).order_by(PlanMeasure.plan_id, PlanMeasure.id)
    measures = await _grouped(connection, statement, "plan_id", ("plan_id", "household_id", "region_code"))
    return {plan_id: {"measures": measures.get(plan_id, [])} for plan_id in ids}


SOURCE_COLUMNS: tuple[Any, ...] = (
    FundTransferSource.transfer_id,
    FundTransferSource.source,
    FundTransferSource.amount_fen,
)


async def _transfer_parts(
    connection: AsyncConnection, _principal: Principal, rows: Sequence[Row[Any]]
) -> dict[Any, dict[str, Any]]:
    ids = [row[0] for row in rows]  # transfers already read in scope; their splits carry no region
    statement = (
        select(*SOURCE_COLUMNS)
        .where(FundTransferSource.transfer_id.in_(ids))
        .order_by(FundTransferSource.transfer_id, FundTransferSource.source)
    )
    sources = await _grouped(connection, statement, "transfer_id", ("transfer_id",))
    return {transfer_id: {"sources": sources.get(transfer_id, [])} for transfer_id in ids}


COLLECTIONS: dict[str, Collection] = {
    collection.name: collection
    for collection in (
        Collection(
            "households",
            Household,
            Permission.HOUSEHOLDS_EXPORT,
            tuple(getattr(Household, name) for name in masking.HOUSEHOLD_FIELDS),
            _household_parts,
            has_personal_data=True,
        ),
        Collection("assignments", Assignment, Permission.HOUSEHOLDS_READ, _columns(Assignment)),
        Collection(
            "plans", AssistancePlan, Permission.HOUSEHOLDS_READ, _columns(AssistancePlan), _plan_parts
        ),
        Collection("projects", Project, Permission.FUNDS_READ, _columns(Project)),
        Collection(
            "fund_transfers",
            FundTransfer,
            Permission.FUNDS_READ,
            _columns(FundTransfer, leave_out=("idempotency_key",)),  # the caller's own retry key
            _transfer_parts,
        ),
    )
}


def _json_default(value: Any) -> Any:
    """Decimals as strings (as the API writes them), and asyncpg's own UUID class."""
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_json_default, option=JSON_OPTIONS)
