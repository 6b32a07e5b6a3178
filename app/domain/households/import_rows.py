"""Rows of an import file, parsed and grouped into households: the checks that need no database.

A cell is parsed by the kind of its column (see :mod:`layout`); a problem becomes a :class:`RowError` naming
the column, so the report can say "row 7, member_id_number: …". Coded cells stay as written here: whether a
code (or its label) is in the code list depends on the village, which the importer checks with the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.households import layout
from app.domain.households.idnumbers import InvalidIdNumber, parse_id_number
from app.domain.households.layout import Column
from app.domain.regions import codes

PATTERNS = {
    "household_number": (re.compile(r"[0-9A-Za-z-]{1,32}"), "letters, digits and - (at most 32)"),
    "phone": (re.compile(r"[0-9+\- ]{5,20}"), "5 to 20 digits, + or -"),
    "bank_account": (re.compile(r"[0-9 ]{6,40}"), "6 to 40 digits"),
}
MASKABLE = ("phone", "bank_account", "member_id_number")
YEAR_RANGES = {
    "housing_year_built": (1900, 2100),
    "registered_year": (1980, 2100),
    "exited_year": (1980, 2100),
    "member_migrant_work_months": (0, 12),
}
MAX_HOUSING_AREA = Decimal("999999.99")
CENT = Decimal("0.01")
CHUNK_ROWS = 1000


@dataclass(frozen=True)
class RowError:
    column: str | None  # a layout key; None for the row as a whole
    message: str
    code: str

    def as_dict(self) -> dict[str, Any]:
        return {"column": self.column, "message": self.message, "code": self.code}


@dataclass
class ParsedRow:
    number: int  # the row number in the file (header = 1)
    household: dict[str, Any]  # household columns present in the file (key → parsed value), first row only
    member: dict[str, Any]  # member fields (model attribute → parsed value)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class Group:
    """The consecutive rows of one household number; ``household`` holds the first row's values."""

    household_number: str | None
    rows: list[ParsedRow]

    @property
    def first(self) -> ParsedRow:
        return self.rows[0]

    @property
    def household(self) -> dict[str, Any]:
        return self.first.household

    @property
    def has_errors(self) -> bool:
        return any(row.errors for row in self.rows)


class CellError(ValueError):
    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def cell_parser(column: Column) -> Callable[[str], Any]:
    """The parser of a column's non-empty cells (built once per file: a file has millions of cells)."""
    parse = _KIND_PARSERS[column.kind](column)
    if column.key not in MASKABLE:
        return parse

    def unmasked(text: str) -> Any:
        if "*" in text:
            raise CellError(
                "a masked value: import only an export made with the personal-data grant", "masked"
            )
        return parse(text)

    return unmasked


def _text(column: Column) -> Callable[[str], Any]:
    longest = column.max_length or 10_000
    pattern = PATTERNS.get(column.key)

    def parse(text: str) -> str:
        if len(text) > longest:
            raise CellError(f"at most {longest} characters", "too_long")
        if pattern is not None and not pattern[0].fullmatch(text):
            raise CellError(pattern[1], "format")
        return text

    return parse


def _id_number(column: Column) -> Callable[[str], Any]:
    # The check character (GB 11643) is checked with the household, by the domain's member validation
    # (or by id_number_errors when the household has no village to check against): once per person.
    def parse(text: str) -> str:
        return text.upper()

    return parse


def id_number_errors(group: Group) -> None:
    """The ID number check of rows that are not checked against their village (it was not found)."""
    for row in group.rows:
        number = row.member.get("id_number")
        if number and not any(error.column == "member_id_number" for error in row.errors):
            try:
                parse_id_number(number)
            except InvalidIdNumber as problem:
                row.errors.append(RowError("member_id_number", str(problem), "id_number"))


def _region(column: Column) -> Callable[[str], Any]:
    def parse(text: str) -> str:
        if not codes.is_valid_code(text):
            raise CellError("a region code is 12 digits", "format")
        return text

    return parse


def _int(column: Column) -> Callable[[str], Any]:
    low, high = YEAR_RANGES[column.key]

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise CellError("a whole number", "format") from None
        if not low <= number <= high:
            raise CellError(f"between {low} and {high}", "range")
        return number

    return parse


def _decimal(column: Column) -> Callable[[str], Any]:
    def parse(text: str) -> Decimal:
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise CellError("a number such as 85.5", "format") from None
        if not amount.is_finite() or not 0 <= amount <= MAX_HOUSING_AREA:
            raise CellError(f"between 0 and {MAX_HOUSING_AREA}", "range")
        if amount != amount.quantize(CENT):
            raise CellError("at most 2 decimals", "format")
        return amount

    return parse


def _bool(column: Column) -> Callable[[str], Any]:
    def parse(text: str) -> bool:
        word = text.lower()
        if word in layout.TRUE_WORDS:
            return True
        if word in layout.FALSE_WORDS:
            return False
        raise CellError("是/否, true/false or 1/0", "format")

    return parse


def _causes(column: Column) -> Callable[[str], Any]:
    first, *others = layout.CAUSE_SEPARATORS

    def parse(text: str) -> list[str]:
        for separator in others:
            text = text.replace(separator, first)
        return [part.strip() for part in text.split(first) if part.strip()]

    return parse


def _choice(values: tuple[str, ...], message: str, normal: Callable[[str], str]) -> Callable[[Column], Any]:
    def build(column: Column) -> Callable[[str], str]:
        def parse(text: str) -> str:
            value = normal(text)
            if value not in values:
                raise CellError(message, "format")
            return value

        return parse

    return build


_KIND_PARSERS: dict[str, Callable[[Column], Callable[[str], Any]]] = {
    "text": _text,
    "code": _text,
    "id_number": _id_number,
    "region": _region,
    "int": _int,
    "decimal": _decimal,
    "bool": _bool,
    "causes": _causes,
    "status": _choice(
        ("applicant", "registered", "exited", "removed", "rejected"),
        f"one of {', '.join(layout.IMPORTABLE_STATUSES)}",
        str.lower,
    ),
    "grade": _choice(("A", "B", "C", "D"), "A, B, C or D", str.upper),
}


def empty_value(column: Column) -> Any:
    """What an empty cell means: no for the yes/no columns that cannot be unknown, else nothing."""
    if column.key in ("is_relocated", "member_has_medical_insurance", "member_has_pension_insurance"):
        return False
    if column.kind == "causes":
        return []
    return None


@dataclass(frozen=True)
class Slot:
    """A column of the file: where its cells are and how they are read."""

    position: int
    column: Column
    name: str  # the model attribute
    parse: Callable[[str], Any]
    empty: Any


class RowParser:
    """Reads the rows of one file, whose header gave ``keys`` (the key of each column, None if blank)."""

    def __init__(self, keys: list[str | None]) -> None:
        slots = [
            Slot(position, column, column.field, cell_parser(column), empty_value(column))
            for position, key in enumerate(keys)
            if key is not None and (column := layout.BY_KEY[key])
        ]
        self.width = len(keys)
        self.household = [slot for slot in slots if not slot.column.is_member]
        self.member = [slot for slot in slots if slot.column.is_member]
        self.number_at = next(slot.position for slot in slots if slot.column.key == "household_number")

    def first_row(self, number: int, cells: list[str]) -> ParsedRow:
        """The first row of a household: household cells and member cells."""
        row = ParsedRow(number, {}, {})
        width = len(cells)
        for slot in self.household:
            text = cells[slot.position] if slot.position < width else ""
            key = slot.name
            if not text:
                if slot.column.required:
                    row.errors.append(RowError(key, "required", "required"))
                row.household[key] = slot.empty
                continue
            try:
                row.household[key] = slot.parse(text)
            except CellError as problem:
                row.errors.append(RowError(key, str(problem), problem.code))
        self._member(row, cells)
        return row

    def next_row(self, number: int, cells: list[str], first: ParsedRow, first_cells: list[str]) -> ParsedRow:
        """A following row of the same household: its household cells are empty or repeat the first row's
        (only a cell written differently is read, and then it must mean the same)."""
        row = ParsedRow(number, {}, {})
        width, first_width = len(cells), len(first_cells)
        for slot in self.household:
            position = slot.position
            text = cells[position] if position < width else ""
            if not text or (position < first_width and text == first_cells[position]):
                continue
            key = slot.name
            try:
                value = slot.parse(text)
            except CellError as problem:
                row.errors.append(RowError(key, str(problem), problem.code))
                continue
            if key in first.household and value != first.household[key]:
                row.errors.append(
                    RowError(key, f"differs from row {first.number} of the same household", "inconsistent")
                )
        self._member(row, cells)
        return row

    def _member(self, row: ParsedRow, cells: list[str]) -> None:
        width = len(cells)
        for slot in self.member:
            text = cells[slot.position] if slot.position < width else ""
            name = slot.name
            if not text:
                if slot.column.required:
                    row.errors.append(RowError(slot.column.key, "required", "required"))
                row.member[name] = slot.empty
                continue
            try:
                row.member[name] = slot.parse(text)
            except CellError as problem:
                row.errors.append(RowError(slot.column.key, str(problem), problem.code))
        if width > self.width and any(cells[self.width :]):
            row.errors.append(RowError(None, "more cells than the header has columns", "columns"))


def groups(rows: Iterable[tuple[int, list[str]]], keys: list[str | None]) -> Iterator[Group]:
    """Consecutive rows of the same household number, as one group each."""
    parser = RowParser(keys)
    current: Group | None = None
    first_cells: list[str] = []
    for number, cells in rows:
        text = cells[parser.number_at] if parser.number_at < len(cells) else ""
        if current is not None and text and text == current.household_number:
            current.rows.append(parser.next_row(number, cells, current.first, first_cells))
            continue
        if current is not None:
            yield current
        row = parser.first_row(number, cells)
        current, first_cells = Group(row.household.get("household_number"), [row]), cells
    if current is not None:
        yield current


def chunks(all_groups: Iterable[Group], size: int = CHUNK_ROWS) -> Iterator[list[Group]]:
    """Groups in chunks of about ``size`` rows; a household is never split between chunks."""
    chunk: list[Group] = []
    rows = 0
    for group in all_groups:
        chunk.append(group)
        rows += len(group.rows)
        if rows >= size:
            yield chunk
            chunk, rows = [], 0
    if chunk:
        yield chunk


@dataclass
class FileState:
    """What the importer remembers of the rows already read: one short entry per household number and per
    ID number (a few MB for 100,000 rows), never the rows. The checks are idempotent, so a chunk can be
    processed again after a rollback."""

    first_rows: dict[str, int] = field(default_factory=dict)  # household number → its first row
    people: dict[str, tuple[str, int]] = field(default_factory=dict)  # ID number → (household number, row)

    def check(self, group: Group) -> None:
        number = group.household_number
        if number is None:
            return
        first = self.first_rows.setdefault(number, group.first.number)
        if first != group.first.number:
            group.first.errors.append(
                RowError(
                    "household_number",
                    f"household {number} already started at row {first}: a household's rows are consecutive",
                    "not_consecutive",
                )
            )
            return
        for row in group.rows:
            id_number = row.member.get("id_number")
            if not id_number:
                continue
            owner = self.people.setdefault(id_number.upper(), (number, row.number))
            if owner[0] != number:
                row.errors.append(
                    RowError(
                        "member_id_number",
                        f"the same person is in household {owner[0]} at row {owner[1]}",
                        "duplicate_person",
                    )
                )
