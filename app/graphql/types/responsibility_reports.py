"""The reports of the responsibility chain, field for field as REST gives them: the chain of one household
(责任链, ``GET /households/{id}/responsibility-chain``) and the coverage of a region (覆盖情况, ``GET
/regions/{code}/coverage``), built from the documents of the same domain services."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import strawberry
from strawberry.scalars import JSON

RANKS = "县级领导 county_leader, 科级 section, 一般干部 general, 村两委 village"
KINDS = (
    "包乡 township_cover, 包村 village_cover, 第一书记 first_secretary, 驻村工作队 work_team, "
    "结对帮扶 pairing"
)

# The chain of one household (the REST document, field for field) ----------------------------------------


@strawberry.type(description="A work unit as the chain names it")
class ChainUnit:
    id: uuid.UUID
    name: str
    kind: str
    enterprise_class: int | None
    phone: str | None = strawberry.field(description="Office number")


@strawberry.type(description="A cadre as the chain names them, wherever they work")
class ChainCadre:
    id: uuid.UUID
    name: str
    rank: str = strawberry.field(description=RANKS)
    region_code: str = strawberry.field(description="Where the cadre works (a region above yours, maybe)")
    phone: str | None = strawberry.field(description="Masked unless you may read personal data")


@strawberry.type(description="One active assignment of the chain")
class ChainEntry:
    assignment_id: uuid.UUID
    kind: str = strawberry.field(description=KINDS)
    region_code: str
    is_team_leader: bool
    starts_on: date
    cadre: ChainCadre | None
    cadre_unit: ChainUnit | None = strawberry.field(description="The cadre's own work unit")
    unit: ChainUnit | None = strawberry.field(description="An enterprise or organisation paired by itself")


@strawberry.type(description="An active county-level leader of the household's county")
class ChainLeader:
    id: uuid.UUID
    name: str
    rank: str
    region_code: str
    phone: str | None = strawberry.field(description="Masked unless you may read personal data")
    unit: ChainUnit | None


@strawberry.type(description="The household the chain is for")
class ChainHousehold:
    id: uuid.UUID
    region_code: str
    household_number: str
    head_name: str
    status: str


@strawberry.type(description="A region of the chain")
class ChainRegion:
    code: str
    name: str | None


@strawberry.type(description="Who is responsible for one household (责任链)")
class ResponsibilityChain:
    household: ChainHousehold
    village: ChainRegion
    township: ChainRegion
    county: ChainRegion
    pairings: list[ChainEntry] = strawberry.field(
        description="结对帮扶: cadres and enterprises paired with it"
    )
    first_secretary: ChainEntry | None = strawberry.field(description="第一书记 of the village")
    work_team: list[ChainEntry] = strawberry.field(description="驻村工作队, the leader first")
    village_cover: list[ChainEntry] = strawberry.field(description="包村干部")
    township_cover: list[ChainEntry] = strawberry.field(description="包乡县级领导 of the township")
    county_leaders: list[ChainLeader] = strawberry.field(description="县级领导 of the county")
    has_responsible_person: bool = strawberry.field(description="At least one active pairing with a cadre")

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ResponsibilityChain:
        def unit(value: dict[str, Any] | None) -> ChainUnit | None:
            return ChainUnit(**value) if value is not None else None

        def entry(value: dict[str, Any]) -> ChainEntry:
            cadre = value["cadre"]
            return ChainEntry(
                assignment_id=value["assignment_id"],
                kind=value["kind"],
                region_code=value["region_code"],
                is_team_leader=value["is_team_leader"],
                starts_on=value["starts_on"],
                cadre=ChainCadre(**cadre) if cadre is not None else None,
                cadre_unit=unit(value["cadre_unit"]),
                unit=unit(value["unit"]),
            )

        first = document["first_secretary"]
        return cls(
            household=ChainHousehold(**document["household"]),
            village=ChainRegion(**document["village"]),
            township=ChainRegion(**document["township"]),
            county=ChainRegion(**document["county"]),
            pairings=[entry(value) for value in document["pairings"]],
            first_secretary=entry(first) if first is not None else None,
            work_team=[entry(value) for value in document["work_team"]],
            village_cover=[entry(value) for value in document["village_cover"]],
            township_cover=[entry(value) for value in document["township_cover"]],
            county_leaders=[
                ChainLeader(**{**leader, "unit": unit(leader["unit"])})
                for leader in document["county_leaders"]
            ],
            has_responsible_person=document["has_responsible_person"],
        )


# Coverage of a region (the REST report, field for field) -------------------------------------------------


@strawberry.type(description="Coverage counts (覆盖情况) of a region or of one of its children")
class ResponsibilityCounts:
    households: int = strawberry.field(description="Registered and exited households (who need a person)")
    households_registered: int
    households_exited: int
    households_uncovered: int = strawberry.field(description="Of those, with no active pairing with a cadre")
    villages: int
    poor_villages: int
    villages_without_first_secretary: int = strawberry.field(description="Poor villages lacking one")
    villages_without_team: int = strawberry.field(description="Poor villages with no work team member")
    cadres: int = strawberry.field(description="Active cadres working here")
    cadres_below_quota: int
    cadres_above_quota: int
    units: int = strawberry.field(description="Enterprises with a class")
    units_below_quota: int
    units_above_quota: int

    @classmethod
    def of(cls, values: dict[str, Any]) -> ResponsibilityCounts:
        return cls(**{name: values[name] for name in cls.__annotations__})


@strawberry.type(description="The coverage counts of one child region (or the region's own records)")
class ResponsibilityCoverageRow:
    region_code: str
    name: str | None
    level: str | None
    counts: ResponsibilityCounts


@strawberry.type(
    description="Coverage of a region (覆盖情况): who and where is not covered, per child region"
)
class ResponsibilityCoverage:
    region_code: str
    name: str
    level: str
    totals: ResponsibilityCounts
    children: list[ResponsibilityCoverageRow] = strawberry.field(
        description="One row per child region (a village: itself); the region's own records, if any, in a "
        "last row with its own code"
    )
    rules: JSON = strawberry.field(
        description="The settings applying at the region; `varies_inside` names those set differently below"
    )

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ResponsibilityCoverage:
        region = document["region"]
        return cls(
            region_code=region["code"],
            name=region["name"],
            level=region["level"],
            totals=ResponsibilityCounts.of(document["totals"]),
            children=[
                ResponsibilityCoverageRow(
                    region_code=row["region_code"],
                    name=row["name"],
                    level=row["level"],
                    counts=ResponsibilityCounts.of(row),
                )
                for row in document["children"]
            ],
            rules=document["rules"],
        )
