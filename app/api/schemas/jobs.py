"""Background jobs and the per-row report of an import."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, computed_field, field_validator

from app.api.schemas.common import ReadModel


class JobRead(ReadModel):
    id: uuid.UUID
    kind: str = Field(description="`household_import`")
    status: Literal["queued", "running", "succeeded", "failed"]
    region_code: str = Field(description="The scope of the one who started it: who may follow the job")
    created_by_name: str
    params: dict[str, Any] = Field(description="What was asked: file name, `dry_run`, `mode`")
    total: int | None = Field(description="Data rows in the file (known once the file was read through)")
    processed: int = Field(description="Rows validated (and, row by row, written) so far")
    result: dict[str, Any] = Field(
        description="`phase` (validating, writing, done) and, when done, the counts: `rows`, "
        "`households_created`, `households_updated`, `households_unchanged`, `members_created`, "
        "`members_updated`, `rows_with_errors`, `rows_skipped`, `households_with_errors`, `seconds`, "
        "`rows_per_second`. In a dry run the counts say what an import would do."
    )
    error: str | None = Field(description="Why the job failed (for an import: nothing was imported)")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @field_validator("params")
    @classmethod
    def _public_params(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {key: item for key, item in value.items() if key != "runner"}

    @computed_field(description="The per-row report (rows with errors, and rows skipped with them)")  # type: ignore[prop-decorator]
    @property
    def report_url(self) -> str:
        return f"/api/v1/jobs/{self.id}/report"


class ImportRowError(ReadModel):
    column: str | None = Field(description="The layout key of the column (null: the row as a whole)")
    message: str
    code: str = Field(description="Stable: required, format, code, id_number, already_registered, …")


class ImportRowRead(ReadModel):
    row: int = Field(description="Row number in the file; the header is row 1")
    outcome: Literal["error", "skipped"] = Field(
        description="`error`: the row has errors; `skipped`: not imported because its household has errors"
    )
    household_number: str | None
    errors: list[ImportRowError]
