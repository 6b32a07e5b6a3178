"""Base models and the list envelope shared by every endpoint."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

T = TypeVar("T")

RegionCodeStr = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{12}$"),
    Field(description="12-digit statistical division code (统计用区划代码)", examples=["620522100201"]),
]


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error (422), never silently dropped or stored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PatchModel(InputModel):
    """Partial updates: a field left out keeps its value; an explicit null is refused."""

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")
