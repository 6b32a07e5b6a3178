"""Region statistics (区域统计) and rural population (农村人口)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from app.api.schemas.common import InputModel, ReadModel


class CountRead(ReadModel):
    key: str = Field(
        description="The code of the bucket (a status, attribute, cause, category or monitoring kind)"
    )
    households: int
    people: int = Field(description="Active members of those households")


class YearCountRead(ReadModel):
    year: int
    households: int
    people: int = Field(description="Active members of those households now")


class CoverageRead(ReadModel):
    households: int = Field(
        description="Register households (registered or exited): each needs a responsible person"
    )
    covered: int = Field(description="Of those, households with an active cadre pairing (结对帮扶)")
    uncovered: int
    ratio: float | None = Field(description="covered / households; null when there are none")


class FundFiguresRead(ReadModel):
    received: Decimal = Field(description="Received in the fiscal year, yuan (as in the fund report)")
    disbursed: Decimal = Field(description="Disbursed to households and contractors, yuan")
    balance: Decimal = Field(description="What the region's accounts hold of the year's money, yuan")
    balance_ratio: float | None = Field(
        description="结余率 = balance / received; null when nothing was received"
    )


class RegionStatsRead(ReadModel):
    region_code: str
    year: int = Field(description="Year of the rural population and fiscal year of the fund figures")
    households: int = Field(description="Register (建档立卡) households in the subtree: registered or exited")
    people: int = Field(description="Their active members")
    by_status: list[CountRead] = Field(description="Every household on record, by status")
    by_attribute: list[CountRead] = Field(description="Register households by attribute (贫困户属性)")
    by_cause: list[CountRead] = Field(description="Register households by primary cause (主要致贫原因)")
    by_category: list[CountRead] = Field(description='Register households by category; key "" when not set')
    poor_households: int = Field(description="Registered households not yet out of poverty")
    poor_people: int
    rural_population: int | None = Field(
        description="农村人口 for the year: the region's own figure, else the sum of the figures recorded "
        "nearest below it"
    )
    poverty_incidence: float | None = Field(description="贫困发生率 = poor_people / rural_population")
    exits: list[YearCountRead] = Field(description="脱贫: register households by exit year")
    returns: list[YearCountRead] = Field(description="返贫: county approvals of a return, by year")
    monitoring: list[CountRead] = Field(description="防返贫监测: register households by monitoring kind")
    coverage: CoverageRead = Field(description="责任覆盖: households with a responsible person")
    funds: FundFiguresRead | None = Field(
        description="Fund figures of the fiscal year; null without funds:read"
    )


class RuralPopulationRead(ReadModel):
    region_code: str
    year: int
    population: int = Field(description="农村人口")
    updated_by: str = Field(description="Who set it last")
    updated_at: datetime


class RuralPopulationWrite(InputModel):
    population: int = Field(ge=0, le=2_000_000_000, description="农村人口 of the region in the year")
