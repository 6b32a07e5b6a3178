"""Pure rules of the registry: income arithmetic, the exit conditions, the shape of a household."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

INDICATORS = ("food", "clothing", "education", "medical", "housing", "water")
INDICATOR_LABELS = {
    "food": "不愁吃",
    "clothing": "不愁穿",
    "education": "义务教育有保障",
    "medical": "基本医疗有保障",
    "housing": "住房安全有保障",
    "water": "饮水安全有保障",
}
MAX_OTHER_CAUSES = 2
CENT = Decimal("0.01")


@dataclass(frozen=True)
class IncomeParts:
    wage_income: Decimal  # 工资性收入
    business_income: Decimal  # 家庭经营性收入
    property_income: Decimal  # 财产性收入
    transfer_income: Decimal  # 转移性收入
    production_costs: Decimal  # 生产经营性支出

    def quantized(self) -> IncomeParts:
        """The parts to the fen (分), as stored."""
        return IncomeParts(*(value.quantize(CENT, ROUND_HALF_UP) for value in self.__dict__.values()))

    @property
    def net_income(self) -> Decimal:
        gross = self.wage_income + self.business_income + self.property_income + self.transfer_income
        return (gross - self.production_costs).quantize(CENT, ROUND_HALF_UP)

    def per_capita(self, household_size: int) -> Decimal:
        """人均纯收入 = net income / members (a household of none counts as one, to stay defined)."""
        return (self.net_income / max(household_size, 1)).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class ExitCondition:
    code: str
    message: str


def exit_conditions_unmet(
    *,
    year: int,
    per_capita_income: Decimal | None,
    poverty_line: Decimal | None,
    indicators: dict[str, bool],
) -> list[ExitCondition]:
    """Why a household cannot leave poverty for ``year``: empty when it can (seed 001: income above that
    year's line and every 两不愁三保障 indicator, with safe water, holding)."""
    unmet: list[ExitCondition] = []
    if poverty_line is None:
        unmet.append(ExitCondition("poverty_line_missing", f"no poverty line is set for {year}"))
    if per_capita_income is None:
        unmet.append(ExitCondition("income_missing", f"no income is recorded for {year}"))
    elif poverty_line is not None and per_capita_income <= poverty_line:
        unmet.append(
            ExitCondition(
                "income_below_line",
                f"per-capita net income {per_capita_income} yuan is not above "
                f"the {year} line of {poverty_line} yuan",
            )
        )
    for indicator in INDICATORS:
        if indicator not in indicators:
            unmet.append(
                ExitCondition(
                    f"{indicator}_unverified", f"{INDICATOR_LABELS[indicator]} has not been verified"
                )
            )
        elif not indicators[indicator]:
            unmet.append(
                ExitCondition(f"{indicator}_not_met", f"{INDICATOR_LABELS[indicator]} does not hold")
            )
    return unmet
