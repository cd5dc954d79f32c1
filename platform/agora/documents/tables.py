"""Spreadsheet exports as French town halls open them: CSV with ``;`` in UTF-8 with a BOM
(Excel then reads accents right).

Cells come from residents (petition titles, subjects), and a spreadsheet runs a cell that
starts with ``=``, ``+``, ``-`` or ``@`` as a formula: such text cells are written with a
leading ``'`` (OWASP's advice against CSV injection); numbers are written as they are."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from flask import Response

#: What a spreadsheet reads as the start of a formula (tab and carriage return too, which
#: some strip before looking).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: object) -> object:
    """``cell`` as a spreadsheet shows it and never runs it: text that would start a formula
    gets a leading ``'``; numbers (a negative one included) and other values are kept."""
    if isinstance(cell, int | float | Decimal):
        return cell
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralised(cell) for cell in header])
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return attachment(buffer.getvalue(), filename, "text/csv; charset=utf-8")


def attachment(content: bytes | str, filename: str, content_type: str) -> Response:
    """A file the browser saves as ``filename`` (a PDF, a CSV, a JSON record…)."""
    response = Response(content, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
