"""Factories of test records, stored directly (the API's own rules are tested through the API)."""

from __future__ import annotations

import itertools
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from app.db.base import utcnow
from app.db.models import Household, Income, Indicator, Member
from app.db.session import Database
from app.domain.households.idnumbers import check_character, parse_id_number
from app.domain.households.rules import INDICATORS

_sequence = itertools.count(1)


def id_number(birth: date = date(1970, 1, 1), *, male: bool = True, region: str = "620522") -> str:
    """A valid, unique 18-character ID number (GB 11643) for ``birth``."""
    serial = next(_sequence) % 500
    order = serial * 2 + (1 if male else 0)
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + check_character(first17)


def household_number(region_code: str) -> str:
    return f"{region_code}{next(_sequence):06d}"


async def make_household(
    db: Database,
    region_code: str,
    *,
    status: str = "registered",
    members: int = 2,
    head_name: str = "王建国",
    procedure: str | None = None,
    procedure_step: str | None = None,
    registered_year: int | None = 2015,
    **fields: Any,
) -> Household:
    household = Household(
        id=uuid.uuid4(),
        region_code=region_code,
        county_code=region_code[:6].ljust(12, "0"),
        household_number=fields.pop("household_number", household_number(region_code)),
        head_name=head_name,
        identification_standard="national",
        attribute=fields.pop("attribute", "general"),
        primary_cause=fields.pop("primary_cause", "illness"),
        other_causes=fields.pop("other_causes", []),
        status=status,
        procedure=procedure,
        procedure_step=procedure_step,
        registered_year=registered_year if status != "applicant" else None,
        phone=fields.pop("phone", "13800001234"),
        bank_account=fields.pop("bank_account", "6228480012345678"),
        **fields,
    )
    people = [
        (head_name, "head", date(1970, 1, 1), True),
        ("李秀英", "spouse", date(1972, 3, 4), False),
        ("王小明", "child", date(2005, 6, 7), True),
        ("王小红", "child", date(2008, 9, 10), False),
        ("王老汉", "parent", date(1945, 2, 3), True),
    ]
    async with db.sessionmaker() as session, session.begin():
        session.add(household)
        await session.flush()
        for name, relation, birth, male in people[:members]:
            parsed = parse_id_number(id_number(birth, male=male, region=region_code[:6]))
            session.add(
                Member(
                    household_id=household.id,
                    region_code=region_code,
                    name=name,
                    id_number=parsed.value,
                    sex=parsed.sex,
                    birth_date=parsed.birth_date,
                    relation=relation,
                    health="healthy",
                    labour_ability="ordinary",
                )
            )
    return household


async def add_income(db: Database, household: Household, year: int, per_capita: str, size: int = 2) -> None:
    net = Decimal(per_capita) * size
    async with db.sessionmaker() as session, session.begin():
        session.add(
            Income(
                household_id=household.id,
                region_code=household.region_code,
                year=year,
                wage_income=net,
                business_income=Decimal(0),
                property_income=Decimal(0),
                transfer_income=Decimal(0),
                production_costs=Decimal(0),
                household_size=size,
                net_income=net,
                per_capita_net_income=Decimal(per_capita),
            )
        )


async def verify_indicators(db: Database, household: Household, *, failing: tuple[str, ...] = ()) -> None:
    async with db.sessionmaker() as session, session.begin():
        for indicator in INDICATORS:
            session.add(
                Indicator(
                    household_id=household.id,
                    indicator=indicator,
                    region_code=household.region_code,
                    holds=indicator not in failing,
                    verified_on=date(2020, 10, 1),
                    verified_by_name="测试",
                    updated_at=utcnow(),
                )
            )
