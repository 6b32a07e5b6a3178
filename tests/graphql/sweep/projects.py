"""Sweep specs of the project library (G2), over the records of the REST sweep (tests/api/sweep/projects.py:
in every village a completed project with the plans sweep's household as its beneficiary and money in its
account, and pools of planned and approved projects)."""

from __future__ import annotations

from app.domain.principal import Permission
from tests.api.sweep import VILLAGES
from tests.api.sweep.projects import POOL_SIZE
from tests.graphql.sweep import Listing, Spec, Targeted

PROJECT = """
query($id: UUID!) {
  project(id: $id) {
    id regionCode countyCode fiscalYear name category constructionType content location plannedStart
    plannedEnd actualStart actualEnd responsibleUnitId responsibleUnitName budget
    financing { source amount }
    performanceTargets { kind indicator target }
    benefitMechanism status acceptsFunds approvalDocument approvedBy approvedAt acceptedAt incomeSharingBasis
    expectedAnnualIncome incomeShared version createdAt updatedAt
    region { code name }
    responsibleUnit { id regionCode }
    account { id regionCode }
    beneficiaries(first: 10) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          householdId householdNumber regionCode householdStatus shareWeight addedAt
          household { id regionCode }
        }
      }
      nodes { householdId regionCode }
    }
  }
}
"""
PROJECTS = """
query($first: Int!, $after: String) {
  projects(first: $first, after: $after, filter: {}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id regionCode } }
    nodes { id regionCode }
  }
}
"""

ROOTS: dict[str, Spec] = {
    "project": Targeted(
        Permission.FUNDS_READ,
        PROJECT,
        lambda w, region, p: {"id": str(w.id("j_project", region))},
        targets=VILLAGES,
    ),
    "projects": Listing(
        Permission.FUNDS_READ,
        PROJECTS,
        lambda w: [region for region in VILLAGES for _ in range(2 * POOL_SIZE + 1)],
    ),
}
