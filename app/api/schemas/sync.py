"""The sync feed's documented shapes (the routes write the same JSON with orjson: app/domain/sync)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Collection = Literal["households", "assignments", "plans", "projects", "fund_transfers"]


class SyncItem(BaseModel):
    op: Literal["upsert", "delete"] = Field(
        description="`upsert`: store `data` under `id` (replacing what you hold); `delete`: remove `id` "
        "(removed, or moved out of your scope or of the `region` you follow)"
    )
    id: str = Field(description="The entity's id (a UUID)")
    data: dict[str, Any] | None = Field(
        description="The entity's current state (households: with `members`, `incomes`, `indicators`; plans: "
        "with `measures`; fund transfers: with `sources`); null for `delete`"
    )


class SyncPage(BaseModel):
    items: list[SyncItem] = Field(description="At most `limit` items, one per entity, in change order")
    next_cursor: str = Field(description="Always present: send it as `cursor` next time")
    has_more: bool = Field(description="True: ask again at once; false: you are up to date, poll later")
