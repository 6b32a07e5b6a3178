"""Parsing of a region list (CSV, header ``code,name``), validating every row before anything is stored."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from app.domain.errors import FieldError, InvalidInput
from app.domain.regions import codes

MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class RegionRow:
    line: int
    code: str
    name: str


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB 18030, the encoding Chinese spreadsheet tools save CSV in."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidInput(
                "The file is neither UTF-8 nor GB 18030 text.", "region.import.encoding"
            ) from None


def parse_region_csv(data: bytes) -> list[RegionRow]:
    reader = csv.reader(io.StringIO(decode_text(data)))
    try:
        return _parse_rows(reader)
    except csv.Error as problem:  # e.g. a cell over the csv module's field limit
        raise InvalidInput(
            f"The file is not readable as CSV near line {reader.line_num}; nothing was imported.",
            "region.import.csv",
            errors=[FieldError(("file", reader.line_num), str(problem), "csv")],
        ) from None


def _parse_rows(reader: Iterator[list[str]]) -> list[RegionRow]:
    header = next(reader, None)
    if header is None or [column.strip().lower() for column in header[:2]] != ["code", "name"]:
        raise InvalidInput(
            "The first line must be the header `code,name`.",
            "region.import.header",
            errors=[FieldError(("file", 1), "expected the header code,name", "header")],
        )
    rows: list[RegionRow] = []
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != 2:
            errors.append(FieldError(("file", line), f"expected 2 columns, found {len(record)}", "columns"))
            continue
        code, name = record[0].strip(), record[1].strip()
        try:
            codes.validate_code(code)
        except codes.InvalidRegionCode as problem:
            errors.append(FieldError(("file", line, "code"), str(problem), "invalid_code"))
        if code == codes.NATIONAL_CODE:
            errors.append(
                FieldError(("file", line, "code"), "the national root cannot be imported", "invalid_code")
            )
        if not name or len(name) > MAX_NAME_LENGTH:
            errors.append(
                FieldError(("file", line, "name"), f"a name of 1 to {MAX_NAME_LENGTH} characters", "name")
            )
        if code in seen:
            errors.append(FieldError(("file", line, "code"), f"duplicate of line {seen[code]}", "duplicate"))
        seen.setdefault(code, line)
        rows.append(RegionRow(line, code, name))
    if errors:
        raise InvalidInput(
            f"{len(errors)} problem(s) in the file; nothing was imported.", "region.import", errors
        )
    if not rows:
        raise InvalidInput("The file lists no regions.", "region.import.empty")
    return rows
