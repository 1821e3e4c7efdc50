"""The report for the funder as files: CSV the way Swedish Excel opens it, and XLSX.

CSV is UTF-8 with a byte-order mark, semicolon-separated, decimals with a comma. XLSX is written
with openpyxl's write-only mode, so a large participant list never sits whole in memory.
"""
import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from portal.services.reports import STATUS_LABELS, Participant, Report

BOM = "\ufeff"
CHUNK = 64 * 1024
# A cell starting with one of these is a formula to a spreadsheet: names typed by users must not run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def headline_rows(report: Report, applied: list[tuple[str, str]]) -> list[tuple[str, object]]:
    """(figure, value) pairs: what the report covers, then its headline figures. Hours as numbers."""
    rows: list[tuple[str, object]] = [(label, value) for label, value in applied]
    rows += [
        (_("Individuals reached"), report.individuals),
        (_("Training hours"), hours_of(report.minutes)),
        (_("Hours per individual"), hours_of(report.minutes_per_individual)),
        (_("Sessions run"), report.sessions),
        (_("Hours awaiting verification (not counted)"), hours_of(report.pending_minutes)),
    ]
    if report.target_individuals is not None:
        rows.append((_("Target: individuals (whole programme)"), report.target_individuals))
    if report.target_hours is not None:
        rows.append((_("Target: training hours (whole programme)"), report.target_hours))
    if report.planned_minutes is not None:
        rows.append((_("Planned hours in the company's training plan"), hours_of(report.planned_minutes)))
    return rows


def hours_of(minutes: float) -> float:
    return round(minutes / 60, 2)


def breakdown_header(column: str) -> list[str]:
    return [column, _("Individuals"), _("Hours"), _("Minutes")]


# CSV


def _csv_line(values: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow([_csv_value(v) for v in values])
    return buffer.getvalue()


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")  # 1.5 -> "1,5", as Swedish Excel reads
    if isinstance(value, int):
        return str(value)
    return _safe_text(str(value))


def _safe_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def figures_csv(report: Report, applied: list[tuple[str, str]]) -> bytes:
    """Headline figures, then one block per breakdown, blocks apart by an empty line."""
    lines = [BOM, _csv_line([_("Figure"), _("Value")])]
    lines += [_csv_line(row) for row in headline_rows(report, applied)]
    for breakdown in report.breakdowns:
        lines.append("\r\n")
        lines.append(_csv_line(breakdown_header(str(breakdown.column))))
        lines += [_csv_line([row.label, row.individuals, hours_of(row.minutes), row.minutes]) for row in breakdown.rows]
        if breakdown.note:
            lines.append(_csv_line([str(breakdown.note)]))
    return "".join(lines).encode("utf-8")


def participant_header(personal: bool) -> list[str]:
    header = [_("Name"), _("Company"), _("Hours"), _("Minutes"), _("Sessions attended")]
    if personal:
        header += [_("Employment status")]
    return header


def participant_rows(people: Iterable[Participant], personal: bool) -> Iterator[list[object]]:
    """Each person's row, the labels translated once for the whole list. The employment status only for
    the programme office, never of an erased person; gender and birth year never (totals only)."""
    erased = _("Erased person")
    statuses = {key: str(label) for key, label in STATUS_LABELS.items()}
    for person in people:
        values: list[object] = [
            erased if person.erased else person.name, person.company, hours_of(person.minutes), person.minutes,
            person.sessions,
        ]
        if personal:
            values.append(None if person.erased else statuses[person.employment_status])
        yield values


def participants_csv(people: Iterable[Participant], personal: bool) -> Iterator[bytes]:
    """The participant list as CSV, a batch of lines at a time."""
    batch = [BOM, _csv_line(participant_header(personal))]
    for values in participant_rows(people, personal):
        batch.append(_csv_line(values))
        if len(batch) >= 200:
            yield "".join(batch).encode("utf-8")
            batch = []
    yield "".join(batch).encode("utf-8")


# XLSX


def _cell(sheet, value: object, bold: bool = False, number_format: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text, even when it starts with "="
    if bold:
        cell.font = Font(bold=True)
    if number_format and isinstance(value, float):  # hours; counts and minutes are whole numbers
        cell.number_format = number_format
    return cell


HOURS_FORMAT = "#,##0.0#"


def _sheet_name(title: str, taken: set[str]) -> str:
    base = title.translate(SHEET_NAME_FORBIDDEN).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f" {n}"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.casefold())
    return name


def figures_xlsx(report: Report, applied: list[tuple[str, str]]) -> bytes:
    """A headline sheet, then one sheet per breakdown."""
    book = Workbook(write_only=True)
    taken: set[str] = set()
    sheet = book.create_sheet(_sheet_name(_("Headline figures"), taken))
    sheet.append([_cell(sheet, _("Figure"), bold=True), _cell(sheet, _("Value"), bold=True)])
    for label, value in headline_rows(report, applied):
        sheet.append([_cell(sheet, label), _cell(sheet, value, number_format=HOURS_FORMAT)])
    for breakdown in report.breakdowns:
        sheet = book.create_sheet(_sheet_name(str(breakdown.column), taken))
        sheet.append([_cell(sheet, text, bold=True) for text in breakdown_header(str(breakdown.column))])
        for row in breakdown.rows:
            sheet.append([
                _cell(sheet, row.label), _cell(sheet, row.individuals),
                _cell(sheet, hours_of(row.minutes), number_format=HOURS_FORMAT), _cell(sheet, row.minutes),
            ])
        if breakdown.note:
            sheet.append([])
            sheet.append([_cell(sheet, str(breakdown.note))])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def participants_xlsx(people: Iterable[Participant], personal: bool) -> IO[bytes]:
    """The participant list as XLSX in a temporary file, written row by row; the caller streams and closes it."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_name(_("Participants"), set()))
    sheet.append([_cell(sheet, text, bold=True) for text in participant_header(personal)])
    for values in participant_rows(people, personal):
        # Whole numbers and blanks go in as they are; text and hours need a cell of their own.
        sheet.append([value if value is None or type(value) is int else _cell(sheet, value, number_format=HOURS_FORMAT)
                      for value in values])
    file = tempfile.TemporaryFile()
    try:
        book.save(file)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file


def chunks(file: IO[bytes]) -> Iterator[bytes]:
    """A file's bytes in pieces for a streamed response; the file is closed at the end, or if the client goes."""
    try:
        while piece := file.read(CHUNK):
            yield piece
    finally:
        file.close()
