"""The household book (一户一册): one printable HTML document in Chinese with everything the registry holds
about a household: its record, members, incomes, 两不愁三保障, responsibility chain, plans and measures, and
visits.

Personal data is masked exactly as in a household read (ID numbers, phones, bank accounts; cadres' phones
too) unless the caller holds the personal-data permission, and an unmasked book is audited like an unmasked
read. Every value is escaped. There is no PDF library among the dependencies: the document carries print
styles, and a browser prints it or saves it as PDF.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AssistancePlan, Member, PlanMeasure
from app.domain import audit, clock
from app.domain.households import masking
from app.domain.households import service as households
from app.domain.households.lifecycle_rules import PROCEDURE_LABELS
from app.domain.households.rules import INDICATOR_LABELS, INDICATORS
from app.domain.plans import chain as responsibility
from app.domain.plans.rules import CATEGORY_LABELS, STATUS_LABELS, VISIT_KIND_LABELS
from app.domain.plans.visits import household_visits
from app.domain.principal import Principal
from app.domain.reference.service import CodeBook, code_book
from app.domain.regions.service import ancestors_of, get_region
from app.domain.scope import scoped

HOUSEHOLD_STATUS_LABELS = {
    "applicant": "申请中",
    "registered": "建档立卡贫困户",
    "exited": "已脱贫",
    "removed": "已清退",
    "rejected": "未通过识别",
}
STYLE = """
body { font-family: "Songti SC", "SimSun", "Noto Serif CJK SC", serif; margin: 2em; color: #000; }
h1 { text-align: center; font-size: 22pt; margin-bottom: 0.2em; }
p.meta { text-align: center; color: #444; margin-top: 0; }
h2 { font-size: 14pt; border-bottom: 2px solid #000; margin-top: 1.6em; }
h3 { font-size: 12pt; margin-bottom: 0.3em; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; font-size: 10.5pt; }
th, td { border: 1px solid #000; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #eee; white-space: nowrap; }
table.fields th { width: 16%; }
p.empty { color: #666; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { margin: 0; }
  h2 { page-break-after: avoid; }
  tr, td, th { page-break-inside: avoid; }
  section.plan { page-break-inside: avoid; }
}
"""


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _cell(value: Any) -> str:
    return escape(_text(value))


def _table(headings: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str) -> str:
    rows = list(rows)
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(heading)}</th>" for heading in headings)
    body = "".join("<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fields(pairs: Sequence[tuple[str, Any]]) -> str:
    cells = [f"<th>{escape(label)}</th><td>{_cell(value)}</td>" for label, value in pairs]
    rows = ["<tr>" + "".join(cells[index : index + 2]) + "</tr>" for index in range(0, len(cells), 2)]
    return f'<table class="fields"><tbody>{"".join(rows)}</tbody></table>'


async def household_book(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> str:
    household = await households.get_household(session, principal, household_id)
    unmasked = masking.may_see_personal_data(principal)
    members = list(
        (
            await session.scalars(
                scoped(Member, principal)
                .where(Member.household_id == household.id, Member.is_active)
                .order_by(Member.relation != "head", Member.birth_date)
            )
        ).all()
    )
    record = masking.household_dict(household, unmasked=unmasked)
    people = [masking.member_dict(member, unmasked=unmasked) for member in members]
    book = await code_book(session, household.region_code, clock.today().year)
    village = await get_region(session, principal, household.region_code)
    place = "".join(region.name for region in (await ancestors_of(session, village))[-3:]) + village.name
    incomes = await households.list_incomes(session, principal, household.id)
    indicators = {
        row.indicator: row for row in await households.list_indicators(session, principal, household.id)
    }
    chain = await responsibility.chain_rows(session, principal, household)
    plans = list(
        (
            await session.scalars(
                scoped(AssistancePlan, principal)
                .where(AssistancePlan.household_id == household.id)
                .order_by(AssistancePlan.year)
            )
        ).all()
    )
    measures: dict[uuid.UUID, list[PlanMeasure]] = {}
    for measure in (
        await session.scalars(
            scoped(PlanMeasure, principal)
            .where(PlanMeasure.household_id == household.id)
            .order_by(PlanMeasure.created_at, PlanMeasure.id)
        )
    ).all():
        measures.setdefault(measure.plan_id, []).append(measure)
    cadre_names = await responsibility.cadre_names(
        session, {m.responsible_cadre_id for ms in measures.values() for m in ms if m.responsible_cadre_id}
    )
    visits = await household_visits(session, principal, household.id)

    if unmasked:
        # Cadres' phones in the chain are audited by the chain itself.
        await audit.record(
            session,
            principal,
            action="read_personal_data",
            record_type="household_book",
            record_ids=[str(household.id)],
            region_code=household.region_code,
            fields=masking.revealed_fields(household, members),
        )

    title = f"一户一册 · {record['household_number']} · {record['head_name']}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        "<h1>贫困户帮扶手册（一户一册）</h1>",
        f'<p class="meta">{escape(place)} · 户编号 {escape(record["household_number"])} · '
        f"户主 {escape(record['head_name'])}<br>打印日期 {clock.today().isoformat()} · "
        f"打印人 {escape(principal.name)}{'' if unmasked else ' · 个人信息已脱敏'}</p>",
        "<h2>一、家庭基本情况</h2>",
        _household_section(record, book),
        "<h2>二、家庭成员</h2>",
        _members_section(people, book),
        "<h2>三、家庭收入</h2>",
        _table(
            [
                "年度",
                "工资性收入",
                "家庭经营性收入",
                "财产性收入",
                "转移性收入",
                "生产经营性支出",
                "纯收入",
                "人口",
                "人均纯收入",
            ],
            (
                (
                    income.year,
                    income.wage_income,
                    income.business_income,
                    income.property_income,
                    income.transfer_income,
                    income.production_costs,
                    income.net_income,
                    income.household_size,
                    income.per_capita_net_income,
                )
                for income in incomes
            ),
            empty="尚无收入记录。",
        ),
        "<h2>四、“两不愁三保障”及饮水安全</h2>",
        _table(
            ["指标", "是否达标", "核验日期", "核验人", "备注"],
            (
                (INDICATOR_LABELS[name], row.holds, row.verified_on, row.verified_by_name, row.note)
                for name in INDICATORS
                if (row := indicators.get(name)) is not None
            ),
            empty="尚未核验。",
        ),
        "<h2>五、帮扶责任人</h2>",
        _table(
            ["职责", "姓名", "职级", "帮扶单位", "联系电话", "起始日期"],
            (
                (row["role"], row["name"], row["rank"], row["unit"], row["phone"], row["since"])
                for row in chain
            ),
            empty="尚无帮扶责任人。",
        ),
        "<h2>六、帮扶计划与措施</h2>",
        _plans_section(plans, measures, cadre_names),
        "<h2>七、走访记录与工作日志</h2>",
        _table(
            ["日期", "类型", "帮扶干部", "内容"],
            (
                (
                    visit["visited_on"],
                    VISIT_KIND_LABELS.get(visit["kind"], visit["kind"]),
                    visit["cadre_name"],
                    visit["content"],
                )
                for visit in visits
            ),
            empty="尚无走访记录。",
        ),
        "</body></html>",
    ]
    return "\n".join(parts)


def _label(book: CodeBook, list_name: str, code: str | None) -> str | None:
    if code is None:
        return None
    return book.label(list_name, code) or code


def _household_section(record: dict[str, Any], book: CodeBook) -> str:
    causes = "、".join(_label(book, "cause", cause) or "" for cause in record["other_causes"]) or None
    return _fields(
        [
            ("户编号", record["household_number"]),
            ("村民小组", record["group_name"]),
            ("户主", record["head_name"]),
            ("联系电话", record["phone"]),
            ("家庭住址", record["address"]),
            ("开户银行", record["bank_name"]),
            ("银行账号", record["bank_account"]),
            ("识别标准", _label(book, "identification_standard", record["identification_standard"])),
            ("贫困户属性", _label(book, "attribute", record["attribute"])),
            ("户类别", _label(book, "category", record["category"])),
            ("主要致贫原因", _label(book, "cause", record["primary_cause"])),
            ("其他致贫原因", causes),
            ("状态", HOUSEHOLD_STATUS_LABELS.get(record["status"], record["status"])),
            ("办理中事项", PROCEDURE_LABELS.get(record["procedure"] or "", record["procedure"])),
            ("建档年度", record["registered_year"]),
            ("脱贫年度", record["exited_year"]),
            ("防返贫监测", _label(book, "monitoring_kind", record["monitoring_kind"])),
            ("返贫", record["has_returned_to_poverty"]),
            ("住房面积 (㎡)", record["housing_area"]),
            ("住房结构", _label(book, "housing_structure", record["housing_structure"])),
            ("建房年份", record["housing_year_built"]),
            ("住房安全等级", record["housing_safety_grade"]),
            ("易地扶贫搬迁", record["is_relocated"]),
            ("通生活用电", record["has_electricity"]),
            ("主要燃料", _label(book, "fuel", record["fuel"])),
            ("饮水情况", _label(book, "drinking_water", record["drinking_water"])),
        ]
    )


def _members_section(people: list[dict[str, Any]], book: CodeBook) -> str:
    return _table(
        [
            "姓名",
            "与户主关系",
            "性别",
            "出生日期",
            "身份证号",
            "文化程度",
            "在校生状况",
            "健康状况",
            "劳动技能",
            "务工月数",
            "医保",
            "养老保险",
        ],
        (
            (
                person["name"],
                _label(book, "relation", person["relation"]),
                "男" if person["sex"] == "M" else "女",
                person["birth_date"],
                person["id_number"],
                _label(book, "education", person["education"]),
                _label(book, "schooling", person["schooling"]),
                _label(book, "health", person["health"]),
                _label(book, "labour_ability", person["labour_ability"]),
                person["migrant_work_months"],
                person["has_medical_insurance"],
                person["has_pension_insurance"],
            )
            for person in people
        ),
        empty="无在册成员。",
    )


def _plans_section(
    plans: list[AssistancePlan],
    measures: dict[uuid.UUID, list[PlanMeasure]],
    cadre_names: dict[uuid.UUID, str],
) -> str:
    if not plans:
        return '<p class="empty">尚无帮扶计划。</p>'
    sections = []
    for plan in plans:
        rows = (
            (
                CATEGORY_LABELS.get(m.category, m.category),
                m.description,
                cadre_names.get(m.responsible_cadre_id) if m.responsible_cadre_id else None,
                _period(m.planned_start, m.planned_end),
                _period(m.actual_start, m.actual_end),
                STATUS_LABELS.get(m.status, m.status),
                m.expected_benefit,
                m.actual_benefit,
            )
            for m in measures.get(plan.id, [])
        )
        sections.append(
            '<section class="plan">'
            f"<h3>{plan.year} 年度帮扶计划</h3>"
            + _fields(
                [
                    ("目标人均纯收入 (元)", plan.goal_income),
                    ("计划脱贫年度", plan.planned_exit_year),
                    ("备注", plan.notes),
                ]
            )
            + _table(
                [
                    "类别",
                    "措施内容",
                    "责任人",
                    "计划时间",
                    "实际时间",
                    "状态",
                    "预期收益 (元)",
                    "实际收益 (元)",
                ],
                rows,
                empty="本年度尚无帮扶措施。",
            )
            + "</section>"
        )
    return "".join(sections)


def _period(start: date | None, end: date | None) -> str | None:
    if start is None and end is None:
        return None
    return f"{_text(start)} 至 {_text(end)}"
