"""Sweep specs of the region tree and the household registry (G1)."""

from __future__ import annotations

from app.domain.principal import Permission
from tests.api.sweep import VILLAGES
from tests.conftest import TREE
from tests.graphql.sweep import Listing, Spec, Targeted

REGION_FIELDS = "code name level parentCode"
STATS = """
    regionCode year households people poorHouseholds poorPeople ruralPopulation povertyIncidence
    byStatus { key households people } byAttribute { key households people } byCause { key households people }
    byCategory { key households people } monitoring { key households people }
    exits { year households people } returns { year households people }
    coverage { households covered uncovered ratio } funds { received disbursed balance balanceRatio }
"""
REGION = f"""
query($code: String!) {{
  region(code: $code) {{
    {REGION_FIELDS}
    stats(year: 2020) {{ {STATS} }}
    parent {{ {REGION_FIELDS} }}
    children {{ {REGION_FIELDS} }}
    ancestors {{ {REGION_FIELDS} }}
  }}
}}
"""
REGIONS = f"""
query($first: Int!, $after: String) {{
  regions(first: $first, after: $after) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ {REGION_FIELDS} }} }}
    nodes {{ {REGION_FIELDS} }}
  }}
}}
"""
HOUSEHOLD_FIELDS = """
    id regionCode countyCode householdNumber groupName headName address phone bankName bankAccount
    identificationStandard attribute category primaryCause otherCauses housingArea housingStructure
    housingYearBuilt housingSafetyGrade isRelocated hasElectricity fuel drinkingWater status procedure
    procedureStep procedureStartedOn monitoringKind monitoringSince hasReturnedToPoverty registeredYear
    exitedYear version createdAt updatedAt
"""
HOUSEHOLD = f"""
query($id: UUID!) {{
  household(id: $id) {{
    {HOUSEHOLD_FIELDS}
    region {{ code name }}
    members(includeLeft: true) {{
      id householdId regionCode name idNumber sex birthDate relation education schooling health
      labourAbility migrantWorkMonths hasMedicalInsurance hasPensionInsurance isActive leftOn leftReason
    }}
    incomes {{
      householdId regionCode year wageIncome businessIncome propertyIncome transferIncome productionCosts
      householdSize netIncome perCapitaNetIncome updatedAt
    }}
    indicators {{ householdId regionCode indicator holds verifiedOn verifiedByName note updatedAt }}
    history {{
      id householdId regionCode procedure action fromStatus toStatus fromStep toStep actorName actorRoles at
      comment documentNumbers details publicityId
      publicity {{
        id householdId regionCode procedure step level startsOn endsOn
        objections {{
          id householdId regionCode publicityId raisedOn raisedBy content status resolution resolvedAt
          createdAt
        }}
      }}
    }}
  }}
}}
"""
HOUSEHOLDS = """
query($first: Int!, $after: String) {
  households(first: $first, after: $after, sort: REGION, filter: {}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id regionCode } }
    nodes { id regionCode }
  }
}
"""

ROOTS: dict[str, Spec] = {
    # With its statistics, which need households:read (admin reads regions, not their figures).
    "region": Targeted(Permission.HOUSEHOLDS_READ, REGION, lambda w, region, p: {"code": region}),
    "regions": Listing(None, REGIONS, lambda w: list(TREE), region_key="code"),
    "household": Targeted(
        Permission.HOUSEHOLDS_READ,
        HOUSEHOLD,
        lambda w, region, p: {"id": str(w.id("household", region))},
        targets=VILLAGES,
    ),
    "households": Listing(
        Permission.HOUSEHOLDS_READ, HOUSEHOLDS, lambda w: [*w.regions("household"), *w.extra_households]
    ),
}
