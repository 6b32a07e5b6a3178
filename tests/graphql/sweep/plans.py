"""Sweep specs of assistance plans (G2): plans with their measures, measures, visits, and a household's
links to the other areas (its assignments, plans, visits, projects and payee accounts), over the records of
the REST sweep (tests/api/sweep/plans.py: in every village a household with a plan, a measure and a visit)."""

from __future__ import annotations

from app.domain.principal import Permission
from tests.api.sweep import VILLAGES
from tests.graphql.sweep import Listing, Spec, Targeted

PLAN_FIELDS = "id householdId regionCode year goalIncome plannedExitYear notes version createdAt updatedAt"
MEASURE_FIELDS = """
    id planId householdId regionCode year category description responsibleCadreId plannedStart plannedEnd
    actualStart actualEnd status expectedBenefit actualBenefit projectRef fundTransferRef version createdAt
    updatedAt
"""
VISIT_FIELDS = "id regionCode householdId cadreId visitedOn kind content createdByName createdAt"
PLAN = f"""
query($id: UUID!) {{
  plan(id: $id) {{
    {PLAN_FIELDS}
    measures {{ {MEASURE_FIELDS} }}
    household {{
      id regionCode
      assignments(active: null) {{ id regionCode }}
      plans {{ id regionCode }}
      visits(latest: 5) {{ {VISIT_FIELDS} household {{ id regionCode }} cadre {{ id regionCode }} }}
      projects {{ id regionCode }}
      fundAccounts {{ id regionCode }}
    }}
  }}
}}
"""
MEASURE = f"""
query($id: UUID!) {{
  measure(id: $id) {{
    {MEASURE_FIELDS}
    plan {{ id regionCode }}
    household {{ id regionCode }}
    responsibleCadre {{ id regionCode }}
  }}
}}
"""
VISITS = """
query($first: Int!, $after: String) {
  visits(first: $first, after: $after, filter: {}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id regionCode } }
    nodes { id regionCode }
  }
}
"""

COVERAGES = " ".join(
    f"{name} {{ eligible lacking }}"
    for name in ("education", "medicalInsurance", "houseRenovation", "employment", "photovoltaic")
)
FIVE_COVERAGES = f"""
query($code: String!) {{
  fiveCoverages(regionCode: $code, year: 2020, includeExited: true) {{
    regionCode name year includeExited households
    coverages {{ {COVERAGES} }}
    children {{ regionCode name households coverages {{ {COVERAGES} }} }}
  }}
}}
"""

ROOTS: dict[str, Spec] = {
    "plan": Targeted(
        Permission.HOUSEHOLDS_READ,
        PLAN,
        lambda w, region, p: {"id": str(w.id("plan", region))},
        targets=VILLAGES,
    ),
    "measure": Targeted(
        Permission.HOUSEHOLDS_READ,
        MEASURE,
        lambda w, region, p: {"id": str(w.id("measure", region))},
        targets=VILLAGES,
    ),
    "visits": Listing(Permission.HOUSEHOLDS_READ, VISITS, lambda w: w.regions("visit")),
    "fiveCoverages": Targeted(
        Permission.HOUSEHOLDS_READ, FIVE_COVERAGES, lambda w, region, p: {"code": region}
    ),
}
