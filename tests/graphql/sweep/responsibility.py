"""Sweep specs of the responsibility chain (G2): work units, cadres, assignments and a household's chain, over
the records of the REST sweep (tests/api/sweep/responsibility.py: a unit and a cadre in every target region,
a village cover in every village)."""

from __future__ import annotations

from app.domain.principal import Permission
from tests.api.sweep import VILLAGES
from tests.graphql.sweep import Listing, Spec, Targeted

UNIT_FIELDS = "id regionCode name kind enterpriseClass phone createdAt updatedAt"
CADRE_FIELDS = "id regionCode name unitId unitName rank isActive createdAt updatedAt phone"
ASSIGNMENT_FIELDS = """
    id kind regionCode cadreId cadreName unitId unitName householdId isTeamLeader startsOn endsOn endReason
    assignedBy endedBy createdAt updatedAt isActive
"""
ASSIGNMENT = f"""
query($id: UUID!) {{
  assignment(id: $id) {{
    {ASSIGNMENT_FIELDS}
    cadre {{ {CADRE_FIELDS} unit {{ id regionCode }} region {{ code }} }}
    unit {{ {UNIT_FIELDS} }}
    household {{ id regionCode }}
    region {{ code name }}
  }}
}}
"""
CADRE = f"""
query($id: UUID!) {{
  cadre(id: $id) {{
    {CADRE_FIELDS}
    unit {{ {UNIT_FIELDS} }}
    region {{ code name }}
    assignments(active: null) {{ {ASSIGNMENT_FIELDS} cadre {{ id regionCode }} region {{ code }} }}
  }}
}}
"""
UNIT = f"""
query($id: UUID!) {{
  workUnit(id: $id) {{
    {UNIT_FIELDS}
    region {{ code name }}
    assignments(active: null) {{ id regionCode unit {{ id regionCode }} }}
  }}
}}
"""


def _listing(field: str) -> str:
    return f"""
query($first: Int!, $after: String) {{
  {field}(first: $first, after: $after, filter: {{}}) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ id regionCode }} }}
    nodes {{ id regionCode }}
  }}
}}
"""


CHAIN_UNIT = "id name kind enterpriseClass phone"
CHAIN_ENTRY = f"""
    assignmentId kind regionCode isTeamLeader startsOn
    cadre {{ id name rank regionCode phone }}
    cadreUnit {{ {CHAIN_UNIT} }}
    unit {{ {CHAIN_UNIT} }}
"""
CHAIN = f"""
query($id: UUID!) {{
  responsibilityChain(householdId: $id) {{
    household {{ id regionCode householdNumber headName status }}
    village {{ code name }}
    township {{ code name }}
    county {{ code name }}
    pairings {{ {CHAIN_ENTRY} }}
    firstSecretary {{ {CHAIN_ENTRY} }}
    workTeam {{ {CHAIN_ENTRY} }}
    villageCover {{ {CHAIN_ENTRY} }}
    townshipCover {{ {CHAIN_ENTRY} }}
    countyLeaders {{ id name rank regionCode phone unit {{ {CHAIN_UNIT} }} }}
    hasResponsiblePerson
  }}
}}
"""

COUNTS = """
    households householdsRegistered householdsExited householdsUncovered villages poorVillages
    villagesWithoutFirstSecretary villagesWithoutTeam cadres cadresBelowQuota cadresAboveQuota units
    unitsBelowQuota unitsAboveQuota
"""
COVERAGE = f"""
query($code: String!) {{
  responsibilityCoverage(regionCode: $code) {{
    regionCode name level rules
    totals {{ {COUNTS} }}
    children {{ regionCode name level counts {{ {COUNTS} }} }}
  }}
}}
"""

ROOTS: dict[str, Spec] = {
    "workUnit": Targeted(
        Permission.HOUSEHOLDS_READ, UNIT, lambda w, region, p: {"id": str(w.id("work_unit", region))}
    ),
    "workUnits": Listing(
        Permission.HOUSEHOLDS_READ, _listing("workUnits"), lambda w: w.id("unit_regions", "all")
    ),
    "cadre": Targeted(
        Permission.HOUSEHOLDS_READ, CADRE, lambda w, region, p: {"id": str(w.id("cadre", region))}
    ),
    "cadres": Listing(Permission.HOUSEHOLDS_READ, _listing("cadres"), lambda w: w.id("cadre_regions", "all")),
    "assignment": Targeted(
        Permission.HOUSEHOLDS_READ,
        ASSIGNMENT,
        lambda w, region, p: {"id": str(w.id("assignment", region))},
        targets=VILLAGES,
    ),
    "assignments": Listing(
        Permission.HOUSEHOLDS_READ, _listing("assignments"), lambda w: w.id("assignment_regions", "all")
    ),
    "responsibilityChain": Targeted(
        Permission.HOUSEHOLDS_READ,
        CHAIN,
        lambda w, region, p: {"id": str(w.id("household", region))},
        targets=VILLAGES,
        # Who covers the household's township and village, and the county's leaders, work above the caller
        # by design (as in REST's chain): their regions may be on the caller's chain above, never beside it.
        above_scope=(
            "pairings",
            "firstSecretary",
            "workTeam",
            "villageCover",
            "townshipCover",
            "countyLeaders",
        ),
    ),
    "responsibilityCoverage": Targeted(
        Permission.HOUSEHOLDS_READ, COVERAGE, lambda w, region, p: {"code": region}
    ),
}
