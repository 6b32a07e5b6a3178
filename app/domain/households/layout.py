"""The file layout of household imports and exports (CSV and XLSX): one row per member.

Household columns are repeated on each member row and the rows of one household are consecutive, grouped by
``household_number`` (户编号). The header names the columns by their English key (stable for machines) or by
one of their Chinese names; columns may come in any order, and optional columns may be left out.

============================== ========================== ===========================================
key                            Chinese names (aliases)    value
============================== ========================== ===========================================
household_number *             户编号                     letters, digits, ``-``; unique per county
region_code *                  行政区划代码, 村代码        the household's village, 12 digits
group_name                     村民小组                   text
address                        家庭住址, 住址              text
phone                          联系电话, 电话              digits, ``+``, ``-``
bank_name                      开户银行                   text
bank_account                   银行账号                   digits
identification_standard *      识别标准                   code list ``identification_standard``
attribute *                    贫困户属性                 code list ``attribute``
category                       户类别, 贫困户类别          code list ``category``
primary_cause *                主要致贫原因               code list ``cause``
other_causes                   其他致贫原因               up to two codes, separated by ``;``
housing_area                   住房面积                   square metres, 2 decimals
housing_structure              住房结构                   code list ``housing_structure``
housing_year_built             建房年份                   year
housing_safety_grade           住房安全等级               A, B, C or D
is_relocated                   是否易地扶贫搬迁            yes/no
has_electricity                是否通生活用电, 是否通电    yes/no
fuel                           主要燃料类型, 燃料类型      code list ``fuel``
drinking_water                 饮水情况                   code list ``drinking_water``
status                         贫困户状态, 状态            applicant (default), registered or exited
registered_year                识别年度                   year; required for registered and exited
exited_year                    脱贫年度                   year; required for exited
member_name *                  姓名                       text
member_id_number *             身份证号, 证件号码          18 characters, GB 11643 check character
member_relation *              与户主关系                 code list ``relation``; one ``head``
member_education               文化程度                   code list ``education``
member_schooling               在校生状况                 code list ``schooling``
member_health                  健康状况                   code list ``health``
member_labour_ability          劳动技能                   code list ``labour_ability``
member_migrant_work_months     务工时间, 务工时间（月）     0 to 12
member_has_medical_insurance   是否参加城乡居民基本医疗保险 yes/no
member_has_pension_insurance   是否参加城乡居民基本养老保险 yes/no
============================== ========================== ===========================================

``*``: required column. Yes/no cells take 是/否, true/false, 1/0 (empty: no). Coded cells take the code or
its label in the code list as it applies to the village (``illness`` or 因病). Exports write codes and
``true``/``false``, so an unmasked export imports again unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["text", "code", "int", "decimal", "bool", "causes", "status", "grade", "region", "id_number"]


@dataclass(frozen=True)
class Column:
    key: str
    aliases: tuple[str, ...]
    kind: Kind
    required: bool = False
    code_list: str | None = None
    max_length: int | None = None

    @property
    def is_member(self) -> bool:
        return self.key.startswith("member_")

    @property
    def field(self) -> str:
        """The model attribute the column fills (``member_name`` → ``Member.name``)."""
        return self.key.removeprefix("member_")


def _code(key: str, aliases: tuple[str, ...], code_list: str, *, required: bool = False) -> Column:
    return Column(key, aliases, "code", required=required, code_list=code_list)


COLUMNS: tuple[Column, ...] = (
    Column("household_number", ("户编号",), "text", required=True, max_length=32),
    Column("region_code", ("行政区划代码", "村代码"), "region", required=True),
    Column("group_name", ("村民小组",), "text", max_length=50),
    Column("address", ("家庭住址", "住址"), "text", max_length=200),
    Column("phone", ("联系电话", "电话"), "text", max_length=20),
    Column("bank_name", ("开户银行",), "text", max_length=100),
    Column("bank_account", ("银行账号",), "text", max_length=40),
    _code("identification_standard", ("识别标准",), "identification_standard", required=True),
    _code("attribute", ("贫困户属性",), "attribute", required=True),
    _code("category", ("户类别", "贫困户类别"), "category"),
    _code("primary_cause", ("主要致贫原因",), "cause", required=True),
    Column("other_causes", ("其他致贫原因",), "causes"),
    Column("housing_area", ("住房面积",), "decimal"),
    _code("housing_structure", ("住房结构",), "housing_structure"),
    Column("housing_year_built", ("建房年份",), "int"),
    Column("housing_safety_grade", ("住房安全等级",), "grade"),
    Column("is_relocated", ("是否易地扶贫搬迁",), "bool"),
    Column("has_electricity", ("是否通生活用电", "是否通电"), "bool"),
    _code("fuel", ("主要燃料类型", "燃料类型"), "fuel"),
    _code("drinking_water", ("饮水情况",), "drinking_water"),
    Column("status", ("贫困户状态", "状态"), "status"),
    Column("registered_year", ("识别年度",), "int"),
    Column("exited_year", ("脱贫年度",), "int"),
    Column("member_name", ("姓名",), "text", required=True, max_length=50),
    Column("member_id_number", ("身份证号", "证件号码"), "id_number", required=True),
    _code("member_relation", ("与户主关系",), "relation", required=True),
    _code("member_education", ("文化程度",), "education"),
    _code("member_schooling", ("在校生状况",), "schooling"),
    _code("member_health", ("健康状况",), "health"),
    _code("member_labour_ability", ("劳动技能",), "labour_ability"),
    Column("member_migrant_work_months", ("务工时间", "务工时间（月）", "务工时间(月)"), "int"),
    Column("member_has_medical_insurance", ("是否参加城乡居民基本医疗保险",), "bool"),
    Column("member_has_pension_insurance", ("是否参加城乡居民基本养老保险",), "bool"),
)
KEYS = tuple(column.key for column in COLUMNS)
BY_KEY = {column.key: column for column in COLUMNS}
HOUSEHOLD_COLUMNS = tuple(column for column in COLUMNS if not column.is_member)
MEMBER_COLUMNS = tuple(column for column in COLUMNS if column.is_member)
REQUIRED = tuple(column.key for column in COLUMNS if column.required)
IMPORTABLE_STATUSES = ("applicant", "registered", "exited")
TRUE_WORDS = frozenset({"是", "true", "1", "yes", "y"})
FALSE_WORDS = frozenset({"否", "false", "0", "no", "n", ""})
CAUSE_SEPARATORS = (";", "；")

_NAMES = {name: column.key for column in COLUMNS for name in (column.key, *column.aliases)}

# One example row, for the template (a valid household of the demo county). The ID number is the example
# printed in GB 11643 itself, not one that could belong to a resident of the county.
EXAMPLE: dict[str, str] = {
    "household_number": "620522100201001",
    "region_code": "620522100201",
    "group_name": "一组",
    "address": "王家庄村一组12号",
    "phone": "13800001234",
    "bank_name": "甘肃省农村信用社",
    "bank_account": "6228480012345678",
    "identification_standard": "national",
    "attribute": "general",
    "category": "targeted",
    "primary_cause": "illness",
    "other_causes": "lack_of_skills;lack_of_capital",
    "housing_area": "85.5",
    "housing_structure": "brick_wood",
    "housing_year_built": "1998",
    "housing_safety_grade": "B",
    "is_relocated": "否",
    "has_electricity": "是",
    "fuel": "firewood",
    "drinking_water": "tap",
    "status": "registered",
    "registered_year": "2015",
    "exited_year": "",
    "member_name": "王建国",
    "member_id_number": "11010519491231002X",
    "member_relation": "head",
    "member_education": "junior",
    "member_schooling": "none",
    "member_health": "healthy",
    "member_labour_ability": "ordinary",
    "member_migrant_work_months": "6",
    "member_has_medical_insurance": "是",
    "member_has_pension_insurance": "是",
}


@dataclass(frozen=True)
class HeaderProblem:
    position: int  # 1-based column number
    name: str
    message: str
    code: str


def column_key(name: str) -> str | None:
    """The key of a header cell (an English key in any case, or a Chinese name); None if unknown."""
    cleaned = name.strip().lstrip("\ufeff").rstrip("*").strip()
    return _NAMES.get(cleaned) or _NAMES.get(cleaned.lower())


def read_header(cells: list[str]) -> tuple[list[str | None], list[HeaderProblem]]:
    """The column key of each header cell (None for a blank trailing cell), and what is wrong with it."""
    keys: list[str | None] = []
    problems: list[HeaderProblem] = []
    seen: dict[str, int] = {}
    for position, cell in enumerate(cells, start=1):
        if not cell.strip():
            keys.append(None)
            continue
        key = column_key(cell)
        if key is None:
            problems.append(HeaderProblem(position, cell, f"unknown column {cell.strip()!r}", "unknown"))
        elif key in seen:
            problems.append(
                HeaderProblem(position, cell, f"{key} is also column {seen[key]}", "duplicate_column")
            )
        else:
            seen[key] = position
        keys.append(key)
    for key in REQUIRED:
        if key not in seen:
            problems.append(HeaderProblem(0, key, f"the required column {key} is missing", "missing_column"))
    return keys, problems
