"""Sweep specs of the funds ledger and its report (G2), over the records of the REST sweep
(tests/api/sweep/funds.py: a pool in every target region, funded by its county; source accounts and
appropriations in every county)."""

from __future__ import annotations

from app.domain.principal import Permission
from tests.graphql.sweep import Listing, Spec, Targeted

ACCOUNT_FIELDS = """
    id kind regionCode name source projectId payeeKind householdId contractorCode balance reserved available
    createdAt
"""
TRANSFER_FIELDS = """
    id kind status debitAccountId creditAccountId amount regionCode debitRegionCode creditRegionCode
    fiscalYear
    documentNumber purpose category source sources { source amount } reversesId reversedById createdByName
    createdAt decidedByName decidedAt decisionNote
"""
ACCOUNT = f"""
query($id: UUID!) {{
  fundAccount(id: $id) {{
    {ACCOUNT_FIELDS}
    sources {{ source balance reserved available }}
    project {{ id regionCode }}
    household {{ id regionCode }}
    region {{ code name }}
    entries(first: 5, fiscalYear: 2020) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      edges {{
        cursor
        node {{
          id transferId accountId regionCode source amount fiscalYear postedAt kind documentNumber
          transfer {{ id regionCode }}
        }}
      }}
      nodes {{ id regionCode }}
    }}
  }}
}}
"""
TRANSFER = f"""
query($id: UUID!) {{
  fundTransfer(id: $id) {{
    {TRANSFER_FIELDS}
    debitAccount {{ id regionCode }}
    creditAccount {{ id regionCode }}
    reverses {{ id regionCode }}
    reversedBy {{ id regionCode }}
  }}
}}
"""
FIGURES = """
    received allocatedOn disbursed returned sentDown reserved balance balanceRatio disbursementProgress
"""
REPORT = f"""
query($code: String!) {{
  fundReport(regionCode: $code, fiscalYear: 2020) {{
    regionCode name fiscalYear
    total {{ {FIGURES} }}
    ownLevel {{ {FIGURES} }}
    bySource {{ source figures {{ {FIGURES} }} }}
    byCategory {{ category figures {{ {FIGURES} }} }}
    children {{ regionCode name figures {{ {FIGURES} }} }}
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


ROOTS: dict[str, Spec] = {
    "fundAccount": Targeted(
        Permission.FUNDS_READ, ACCOUNT, lambda w, region, p: {"id": str(w.id("fund_account", region))}
    ),
    "fundAccounts": Listing(
        Permission.FUNDS_READ, _listing("fundAccounts"), lambda w: w.records["fund_account_regions"]["list"]
    ),
    "fundTransfer": Targeted(
        Permission.FUNDS_READ, TRANSFER, lambda w, region, p: {"id": str(w.id("fund_transfer", region))}
    ),
    "fundTransfers": Listing(
        Permission.FUNDS_READ, _listing("fundTransfers"), lambda w: w.records["fund_transfer_regions"]["list"]
    ),
    "fundReport": Targeted(Permission.FUNDS_READ, REPORT, lambda w, region, p: {"code": region}),
}
