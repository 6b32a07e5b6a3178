"""CSV and XLSX tables read and written row by row: a file is never held whole in memory.

CSV is read as UTF-8 (with or without BOM) or GB 18030, the encoding Chinese spreadsheet tools save CSV in,
and written as UTF-8 with a BOM (so that Excel opens it as UTF-8). XLSX is read with openpyxl's read-only
mode and written with its write-only mode, through a temporary file.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Literal

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils.exceptions import InvalidFileException

Format = Literal["csv", "xlsx"]
ENCODINGS = ("utf-8-sig", "gb18030")
BOM = "\ufeff"
_READ_BLOCK = 1 << 20
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MAX_ROWS = 1_048_576  # Excel's limit, the header included


class UnreadableFile(ValueError):
    """The file is not a CSV or XLSX table we can read; the message says why."""


class TooManyRows(ValueError):
    """More rows than an XLSX sheet can hold."""


def detect_format(head: bytes, filename: str | None) -> Format:
    """XLSX files are zip archives; anything else is taken for CSV."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if filename and filename.lower().endswith((".xlsx", ".xlsm")):
        raise UnreadableFile("the file is named .xlsx but is not an XLSX workbook")
    return "csv"


def detect_encoding(file: IO[bytes]) -> str:
    """UTF-8 if the whole file decodes as UTF-8, else GB 18030 if it decodes as that (read in blocks)."""
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        file.seek(0)
        try:
            while block := file.read(_READ_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnreadableFile("the file is neither UTF-8 nor GB 18030 text")


def cell_text(value: Any) -> str:
    """An XLSX cell as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


@dataclass
class TableReader:
    """The rows of a table file: the header, then ``(row number, cells)`` with blank rows left out.

    Row numbers are those a spreadsheet shows: the header is row 1.
    """

    file: IO[bytes]
    format: Format
    encoding: str = "utf-8-sig"

    @classmethod
    def open(cls, file: IO[bytes], filename: str | None) -> TableReader:
        file.seek(0)
        kind = detect_format(file.read(4), filename)
        reader = cls(file, kind)
        if kind == "csv":
            reader.encoding = detect_encoding(file)
        return reader

    def header(self) -> list[str]:
        for cells in self._records():
            return cells
        raise UnreadableFile("the file is empty: the first row must be the header")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        records = self._records()
        next(records, None)
        for number, cells in enumerate(records, start=2):
            if any(cells):
                yield number, cells

    def count(self) -> int | None:
        """Data rows: a CSV file's are counted (reading it takes a fraction of importing it); an XLSX
        workbook's are read from its dimension when it has one (openpyxl reads XLSX slowly), else None."""
        if self.format == "csv":
            return sum(1 for _ in self.rows())
        self.file.seek(0)
        try:
            workbook = load_workbook(self.file, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as problem:
            raise UnreadableFile(f"the file is not a readable XLSX workbook ({problem})") from None
        try:
            rows = workbook.worksheets[0].max_row
        finally:
            workbook.close()
        return rows - 1 if rows else None

    def _records(self) -> Iterator[list[str]]:
        if self.format == "xlsx":
            yield from self._xlsx_records()
            return
        self.file.seek(0)
        text = io.TextIOWrapper(self.file, encoding=self.encoding, newline="")
        try:
            for record in csv.reader(text):
                yield [cell.strip() for cell in record]
        except csv.Error as problem:
            raise UnreadableFile(f"the file is not readable as CSV: {problem}") from None
        finally:
            text.detach()  # the caller owns the file: do not close it with the wrapper

    def _xlsx_records(self) -> Iterator[list[str]]:
        self.file.seek(0)
        try:
            workbook = load_workbook(self.file, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as problem:
            raise UnreadableFile(f"the file is not a readable XLSX workbook ({problem})") from None
        try:
            sheet = workbook.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                yield [cell_text(value) for value in values]
        finally:
            workbook.close()


# Writing ------------------------------------------------------------------------------------------------


def text_of(value: Any) -> str:
    """A value as a cell of the import layout: codes, ``true``/``false``, causes joined with ``;``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


class CsvEncoder:
    """Rows to UTF-8 bytes, a batch at a time (the first batch starts with the BOM)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self._buffer.write(BOM)

    def encode(self, rows: Iterable[Iterable[Any]]) -> bytes:
        self._writer.writerows([text_of(value) for value in row] for row in rows)
        data = self._buffer.getvalue().encode("utf-8")
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


class XlsxWriter:
    """A write-only workbook of one sheet: rows go to a temporary file as they are appended."""

    def __init__(self, title: str) -> None:
        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet(title)
        self._rows = 0

    def append(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self._rows += 1
            if self._rows > XLSX_MAX_ROWS:
                # Better no file than one Excel cannot open.
                raise TooManyRows(f"an XLSX sheet holds {XLSX_MAX_ROWS:,} rows at most: use CSV or NDJSON")
            self._sheet.append([self._cell(value) for value in row])

    def _cell(self, value: Any) -> Any:
        text = text_of(value)
        if text.startswith("="):
            # openpyxl would store it as a formula: keep it the text it is.
            cell = WriteOnlyCell(self._sheet, text)
            cell.data_type = "s"
            return cell
        return text

    def discard(self) -> None:
        """Drop an unfinished workbook (an export that failed or was abandoned) and its temporary file,
        which openpyxl would otherwise keep until the process ends."""
        self._sheet.close()
        writer = getattr(self._sheet, "_writer", None)
        if writer is not None:
            writer.cleanup()

    def save(self) -> IO[bytes]:
        """The finished workbook in a temporary file, positioned at its start (the caller closes it)."""
        target = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
        self._workbook.save(target)
        target.seek(0)
        return target


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    return CsvEncoder().encode(rows)


def xlsx_bytes(rows: Iterable[Iterable[Any]], title: str) -> bytes:
    writer = XlsxWriter(title)
    writer.append(rows)
    with writer.save() as file:
        return file.read()
