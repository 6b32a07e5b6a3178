"""Sweep declarations of household import and export, and of background jobs.

An import is aimed at a village through its file: a row outside the caller's scope is an error in the job's
report (tests/households/test_import.py proves it), not a 404, so the sweep aims the import only at the
village every swept principal sees, and checks the role before anything else (as for any creation).
"""

from __future__ import annotations

from app.db.base import utcnow
from app.db.models import Job
from app.db.session import Database
from app.domain.principal import Permission
from app.settings import Settings
from tests.api.sweep import TARGETS, Permitted, Spec, Targeted, World
from tests.conftest import VILLAGE_A1
from tests.households.bulk_files import household_rows, to_csv

JOB = "/api/v1/jobs/{job_id}"


async def build(db: Database, settings: Settings, world: World) -> None:
    """A finished import job started in every region."""
    async with db.sessionmaker() as session, session.begin():
        for region in TARGETS:
            job = Job(
                kind="household_import",
                status="succeeded",
                region_code=region,
                created_by_subject="user:sweep",
                created_by_name="sweep",
                params={"dry_run": True, "mode": "all_or_nothing"},
                total=0,
                processed=0,
                result={"phase": "done"},
                created_at=utcnow(),
            )
            session.add(job)
            await session.flush()
            world.add("job", region, job.id)


def _import(region: str) -> dict[str, object]:
    data = to_csv(household_rows(region, members=1))
    return {"files": {"file": ("households.csv", data), "dry_run": (None, "true")}}


SPECS: dict[tuple[str, str], Spec] = {
    ("GET", "/api/v1/households/import-template"): Permitted(Permission.HOUSEHOLDS_IMPORT),
    ("POST", "/api/v1/households/imports"): Targeted(
        Permission.HOUSEHOLDS_IMPORT,
        lambda w, region, p: _import(region),
        permission_first=True,
        targets=(VILLAGE_A1,),
    ),
    ("GET", "/api/v1/households/export"): Targeted(
        Permission.HOUSEHOLDS_EXPORT, lambda w, region, p: {"params": {"region": region}}
    ),
    ("GET", JOB): Targeted(
        Permission.HOUSEHOLDS_IMPORT, lambda w, region, p: {"path": {"job_id": w.id("job", region)}}
    ),
    ("GET", JOB + "/report"): Targeted(
        Permission.HOUSEHOLDS_IMPORT, lambda w, region, p: {"path": {"job_id": w.id("job", region)}}
    ),
}
