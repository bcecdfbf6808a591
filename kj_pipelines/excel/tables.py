"""Finding a table in a worksheet: the header row among the first rows, matched by aliases (a
header is read after trimming, full-width forms and a trailing note in brackets: ``本期值（当月）``
is ``本期值``).

The one header finder of every reader: the monthly workbook's 填报 and list sheets (任务进展,
项目进展, 问题清单), the bureau's plan and target lists (``plans/<year>/``), so every table is
located and its cells addressed the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kj_pipelines.excel.cleaning import FORMULA_WITHOUT_VALUE, header_key, is_blank

HEADER_SEARCH_ROWS = 30


@dataclass
class Table:
    sheet: str
    header_row: int
    columns: dict[str, int]  # field → 0-based column index
    labels: dict[str, str]  # field → header text as written
    rows: list[tuple[int, tuple[Any, ...]]]

    def cell(self, values: tuple[Any, ...], fld: str) -> Any:
        i = self.columns.get(fld)
        return values[i] if i is not None and i < len(values) else None

    def label(self, fld: str, default: str) -> str:
        return self.labels.get(fld, default)

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(Excel row, field → raw cell) for every row below the header with a known cell set."""
        for excel_row, values in self.rows:
            record = {f: self.cell(values, f) for f in self.columns}
            if all(is_blank(v) for v in record.values()):
                continue
            yield excel_row, record


def header_row(rows: list[tuple[int, tuple[Any, ...]]], aliases: dict[str, str],
               required: tuple[str, ...] = ()) -> tuple[int, dict[str, int], dict[str, str]]:
    """(position among ``rows``, field → column, field → header as written) of the row naming
    most of the fields (``aliases``: header → field) among those naming every ``required`` one,
    the earliest on a tie; position -1 (and nothing found) if none does."""
    best: tuple[int, dict[str, int], dict[str, str]] = (-1, {}, {})
    for position, (_, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        for i, value in enumerate(values):
            if value is None or value is FORMULA_WITHOUT_VALUE:
                continue
            fld = aliases.get(header_key(value))
            if fld and fld not in columns:
                columns[fld], labels[fld] = i, str(value).strip()
        if all(f in columns for f in required) and len(columns) > len(best[1]):
            best = (position, columns, labels)
    return best


def find_table(sheet: str, rows: list[tuple[int, tuple[Any, ...]]], aliases: dict[str, str],
               required: tuple[str, ...]) -> Table | None:
    """The sheet's table: its header row (:func:`header_row`) and the rows below it."""
    position, columns, labels = header_row(rows, aliases, required)
    if position < 0:
        return None
    return Table(sheet, rows[position][0], columns, labels, rows[position + 1:])
