"""The region tree (行政区划): ``region(code)`` with its parent, children and ancestors, and ``regions``."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from app.db.models import Region as RegionModel
from app.domain import clock
from app.domain.errors import FieldError, InvalidInput, NotFound
from app.domain.regions import batches, codes, service
from app.domain.regions.codes import Level
from app.graphql import loaders
from app.graphql.connections import (
    AFTER_DESCRIPTION,
    DEFAULT_FIRST,
    FIRST_DESCRIPTION,
    Connection,
    page_request,
)
from app.graphql.context import Info
from app.graphql.types.stats import RegionStats, region_stats


@strawberry.type(description="A region of the administrative hierarchy (行政区划)")
class Region:
    code: str = strawberry.field(description="12-digit code (统计用区划代码)")
    name: str
    level: str = strawberry.field(description="national, province, prefecture, county, township or village")
    parent_code: str | None

    @classmethod
    def from_row(cls, row: Any) -> Region:
        return cls(code=row.code, name=row.name, level=row.level, parent_code=row.parent_code)

    @strawberry.field(description="The region directly above, when you can see it")
    async def parent(self, info: Info) -> Region | None:
        if self.parent_code is None:
            return None
        row = await info.context.loader(loaders.region_by_code).load(self.parent_code)
        return Region.from_row(row) if row is not None else None

    @strawberry.field(description="The regions directly below that you can see, by code")
    async def children(self, info: Info) -> list[Region]:
        rows = await info.context.loader(loaders.region_children).load(self.code)
        return [Region.from_row(row) for row in rows]

    @strawberry.field(description="The chain above, from the national root down to the parent")
    async def ancestors(self, info: Info) -> list[Region]:
        rows = await info.context.loader(loaders.region_ancestors).load(self.code)
        return [Region.from_row(row) for row in rows]

    @strawberry.field(
        description="The region's statistics for a year: households and people by status, attribute, cause "
        "and category, poverty incidence (贫困发生率), exits and returns per year, monitoring, "
        "responsibility coverage and funds"
    )
    async def stats(
        self,
        info: Info,
        year: Annotated[
            int | None, strawberry.argument(description="Calendar (fiscal) year; default: this year")
        ] = None,
    ) -> RegionStats:
        year = clock.today().year if year is None else year
        if not 1980 <= year <= 2100:
            raise InvalidInput(
                "year must be between 1980 and 2100.",
                "validation",
                errors=[FieldError(("args", "year"), "not in 1980..2100", "range")],
            )
        return RegionStats.of(await info.context.loader(region_stats).load((self.code, year)))

    # Links to other areas (responsibility, plans, projects, funds): fields added by their owners ----------


@strawberry.type
class RegionQuery:
    @strawberry.field(description="A region in your scope (an error `region.not_found` otherwise)")
    async def region(self, info: Info, code: str) -> Region:
        row = await info.context.loader(loaders.region_by_code).load(code)
        if row is None:
            raise NotFound("region")
        return Region.from_row(row)

    @strawberry.field(description="Regions in your scope by code; with `parent`, the children of that region")
    async def regions(
        self,
        info: Info,
        parent: str | None = None,
        level: Annotated[str | None, strawberry.argument(description="Only regions of this level")] = None,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_FIRST,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Region]:
        context = info.context
        chosen = _level(level)
        page = await service.list_regions(
            context.session, context.principal, page_request(first, after), parent=parent, level=chosen
        )

        async def count() -> int:
            return await batches.count_regions(
                context.session, context.principal, parent=parent, level=chosen
            )

        return Connection.of(page, [RegionModel.code], Region.from_row, count)


def _level(level: str | None) -> Level | None:
    if level is None:
        return None
    if level not in codes.LEVELS:
        raise InvalidInput(
            f"level must be one of {', '.join(codes.LEVELS)}.",
            "region.invalid_level",
            errors=[FieldError(("args", "level"), "unknown level", "enum")],
        )
    return level
