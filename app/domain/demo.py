"""Demo data: 秦安县 (Gansu) with its 17 townships and a few villages each, and one user per role.

Loaded only on request (`fupin serve --demo`, `fupin demo load`). Idempotent: loading twice changes nothing.
Township and village codes below the real county code are synthetic but well formed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.db.models import User
from app.domain.auth.passwords import hash_password
from app.domain.demo_funds import load_demo_funds
from app.domain.demo_households import load_demo_households
from app.domain.demo_responsibility import load_demo_responsibility
from app.domain.plans.demo import load_demo_plans
from app.domain.principal import Role
from app.domain.regions.importer import RegionRow
from app.domain.regions.service import import_regions
from app.domain.stats import rollups
from app.domain.system import system_principal

DEMO_PASSWORD = "demo"  # noqa: S105  the documented password of the demo users
PROVINCE, PREFECTURE, COUNTY = "620000000000", "620500000000", "620522000000"

TOWNSHIPS = (
    "兴国镇", "郭嘉镇", "莲花镇", "陇城镇", "西川镇", "中山镇", "千户镇", "五营镇", "叶堡镇",
    "王尹镇", "安伏镇", "刘坪镇", "魏店镇", "云山镇", "兴丰镇", "王铺镇", "王窑镇",
)  # fmt: skip
_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
_PLACES = ("家庄", "家湾", "家沟", "家河", "家坪", "家岘", "家山", "家川")


def village_name(township_index: int, village_index: int) -> str:
    surname = _SURNAMES[(township_index * 5 + village_index) % len(_SURNAMES)]
    return f"{surname}{_PLACES[(township_index + village_index) % len(_PLACES)]}村"


def villages_per_township(township_index: int) -> int:
    return 4 + township_index % 3  # 4 to 6 villages


def demo_regions() -> list[RegionRow]:
    rows = [
        RegionRow(0, PROVINCE, "甘肃省"),
        RegionRow(0, PREFECTURE, "天水市"),
        RegionRow(0, COUNTY, "秦安县"),
    ]
    for t, township in enumerate(TOWNSHIPS):
        township_code = f"620522{100 + t:03d}"
        rows.append(RegionRow(0, township_code + "000", township))
        for v in range(villages_per_township(t)):
            rows.append(RegionRow(0, f"{township_code}{201 + v:03d}", village_name(t, v)))
    return rows


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    region_code: str
    roles: tuple[Role, ...]
    has_personal_data_grant: bool = False


DEMO_USERS = (
    DemoUser(
        "admin",
        "县管理员 (admin)",
        COUNTY,
        (Role.ADMIN, Role.COUNTY_OFFICER, Role.FINANCE_OFFICER, Role.INSPECTOR, Role.DATA_CONSUMER),
    ),
    DemoUser("county", "县扶贫办 (county officer)", COUNTY, (Role.COUNTY_OFFICER,)),
    DemoUser("finance", "县财政局 (finance officer)", COUNTY, (Role.FINANCE_OFFICER,)),
    DemoUser("inspector", "县督查组 (inspector)", COUNTY, (Role.INSPECTOR,)),
    DemoUser("township", "兴国镇审核员 (township reviewer)", "620522100000", (Role.TOWNSHIP_REVIEWER,)),
    DemoUser("township2", "郭嘉镇审核员 (township reviewer)", "620522101000", (Role.TOWNSHIP_REVIEWER,)),
    DemoUser("village", f"{village_name(0, 0)}录入员 (village clerk)", "620522100201", (Role.VILLAGE_CLERK,)),
    DemoUser(
        "village2", f"{village_name(1, 0)}录入员 (village clerk)", "620522101201", (Role.VILLAGE_CLERK,)
    ),
    DemoUser("province", "甘肃省扶贫系统 (data consumer)", PROVINCE, (Role.DATA_CONSUMER,)),
)


async def load_demo(session: AsyncSession) -> int:
    """Store the demo regions and users; return how many users were created."""
    await import_regions(session, system_principal(), demo_regions())
    existing = set(await session.scalars(select(User.username)))  # scope: the operator's demo loader
    password_hash = hash_password(DEMO_PASSWORD)
    created = 0
    for demo in DEMO_USERS:
        if demo.username in existing:
            continue
        session.add(
            User(
                username=demo.username,
                display_name=demo.display_name,
                region_code=demo.region_code,
                roles=sorted(demo.roles),
                has_personal_data_grant=demo.has_personal_data_grant,
                password_hash=password_hash,
                password_changed_at=utcnow(),
            )
        )
        created += 1
    await session.flush()
    await load_demo_households(session)
    await load_demo_responsibility(session)
    await load_demo_funds(session)
    await load_demo_plans(session)  # keep last: plans name the pairing cadres of the responsibility demo
    await rollups.rebuild_all(session)  # the demo's rows went in by Core statements
    return created
