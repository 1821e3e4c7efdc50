"""Importing a roster from a spreadsheet's CSV export: a preview that saves nothing, then every
valid row at once. Reads what Swedish Excel writes (Windows-1252, semicolons) as well as UTF-8."""
import csv
import io
from collections import defaultdict
from dataclasses import dataclass, replace

from flask_babel import gettext as _
from sqlalchemy import select

from portal.extensions import db
from portal.i18n import number
from portal.models import Employee, EmploymentStatus, Gender, User
from portal.models.types import StrEnum
from portal.services import InvalidInput, audit
from portal.services.roster import FIELD_LABELS, FIELDS, EmployeeData, actor_company, apply, problems, tidy

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
DELIMITERS = (";", ",", "\t")

HEADERS = {
    "first_name": {"förnamn", "first name", "firstname"},
    "last_name": {"efternamn", "last name", "lastname", "surname"},
    "email": {"e-post", "epost", "e-postadress", "email", "e-mail", "mail"},
    "job_role": {"befattning", "roll", "yrkesroll", "job role", "role"},
    "employment_status": {"anställningsstatus", "status", "employment status"},
    "gender": {"kön", "gender"},
    "birth_year": {"födelseår", "birth year"},
}
COLUMN_OF = {alias: field for field, aliases in HEADERS.items() for alias in aliases}

STATUSES = {
    "": EmploymentStatus.EMPLOYED, "anställd": EmploymentStatus.EMPLOYED, "employed": EmploymentStatus.EMPLOYED,
    "permitterad": EmploymentStatus.FURLOUGHED, "furloughed": EmploymentStatus.FURLOUGHED,
    "varslad": EmploymentStatus.NOTICE, "notice": EmploymentStatus.NOTICE, "given notice": EmploymentStatus.NOTICE,
}
GENDERS = {
    "": Gender.NOT_STATED, "ej angivet": Gender.NOT_STATED, "not stated": Gender.NOT_STATED,
    "kvinna": Gender.WOMAN, "woman": Gender.WOMAN, "man": Gender.MAN, "annat": Gender.OTHER, "other": Gender.OTHER,
}


class Action(StrEnum):
    NEW = "new"
    UPDATE = "update"
    ERROR = "error"


@dataclass(frozen=True)
class ImportRow:
    line: int  # where the row starts in the file, counting the header as line 1
    action: Action
    cells: dict[str, str]  # what the file says, by field
    data: EmployeeData | None = None  # what would be saved
    errors: tuple[str, ...] = ()
    employee_id: int | None = None  # the employee an update changes
    changes: tuple[str, ...] = ()  # the fields an update changes
    reactivates: bool = False  # the employee was deactivated and comes back

    @property
    def saves(self) -> bool:
        return self.action == Action.NEW or bool(self.changes) or self.reactivates


@dataclass(frozen=True)
class ImportPreview:
    rows: list[ImportRow]
    columns: tuple[str, ...]  # the fields the file has, in its order
    ignored_columns: tuple[str, ...]  # headers the import does not know

    def count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def savable(self) -> int:
        return sum(1 for row in self.rows if row.action != Action.ERROR and row.saves)


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    skipped: int  # rows with errors, not saved


def preview_import(actor: User, raw: bytes) -> ImportPreview:
    """What importing the file would do, row by row. Nothing is saved."""
    return _classify(actor_company(actor), raw)


def confirm_import(actor: User, raw: bytes) -> ImportResult:
    """Check the file again against the roster as it is now and save every valid row; rows with
    errors are skipped. Everything is flushed in the caller's transaction: all of it or none."""
    company_id = actor_company(actor)
    preview = _classify(company_id, raw)
    existing = {e.id: e for e in db.session.scalars(
        select(Employee).where(Employee.id.in_([r.employee_id for r in preview.rows if r.employee_id]))
    )}
    added: list[Employee] = []
    updated: list[tuple[Employee, ImportRow]] = []
    for row in preview.rows:
        if row.action == Action.NEW:
            employee = Employee(company_id=company_id)
            apply(employee, row.data)
            db.session.add(employee)
            added.append(employee)
        elif row.action == Action.UPDATE and row.saves:
            employee = existing[row.employee_id]
            apply(employee, row.data)
            employee.is_active = True
            updated.append((employee, row))
    db.session.flush()
    _audit(actor, company_id, added, updated)
    return ImportResult(
        added=len(added), updated=len(updated), unchanged=preview.count(Action.UPDATE) - len(updated),
        skipped=preview.count(Action.ERROR),
    )


def _audit(actor: User, company_id: int, added: list[Employee], updated: list[tuple[Employee, ImportRow]]) -> None:
    audit.record_many(actor, "employee.created", "employee", [
        {"object_id": e.id, "company_id": company_id, "data": {"source": "import"}} for e in added
    ])
    audit.record_many(actor, "employee.updated", "employee", [
        {"object_id": e.id, "company_id": company_id, "data": {"source": "import", "fields": list(row.changes)}}
        for e, row in updated if row.changes
    ])
    audit.record_many(actor, "employee.reactivated", "employee", [
        {"object_id": e.id, "company_id": company_id, "data": {"source": "import"}} for e, row in updated if row.reactivates
    ])


# Reading the file

def _refuse(message: str) -> InvalidInput:
    return InvalidInput({"file": message})


def decode(raw: bytes) -> str:
    """The file as text: UTF-8 (with or without a byte order mark), UTF-16 as Excel's
    "Unicode text", or else Windows-1252 as Swedish Excel's "CSV (semicolon separated)"."""
    if len(raw) > MAX_BYTES:
        raise _refuse(_("The file is larger than 2 MB. Split it into smaller files and import them one at a time."))
    if raw.startswith(b"PK\x03\x04"):
        raise _refuse(_("This is an Excel workbook, not a CSV file. In Excel, choose Save as and the format CSV."))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", "cp1252"]
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise _refuse(_("The file could not be read as text. Save it from the spreadsheet as CSV and try again."))


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """The file's records with the line each starts on; blank records are left out."""
    lines_before = 0
    first_line, _newline, rest = text.partition("\n")
    delimiter = None
    if first_line.strip().lower().startswith("sep=") and len(first_line.strip()) == 5:
        delimiter, text, lines_before = first_line.strip()[4], rest, 1  # Excel's "sep=;" hint
    if delimiter is None:
        header = next((line for line in text.splitlines() if line.strip()), "")
        delimiter = max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    previous = 0
    try:
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                records.append((start + lines_before, cells))
    except csv.Error:
        raise _refuse(_("The file is not a CSV file the import can read. Save it from the spreadsheet as CSV and try again."))
    return records


def _header_name(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").replace("_", " ").casefold().split())


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored = []
    for index, cell in enumerate(header):
        field = COLUMN_OF.get(_header_name(cell))
        if field is None:
            if cell.strip():
                ignored.append(cell.strip())
        elif field in columns:
            raise _refuse(_("The column %(column)s appears twice.", column=FIELD_LABELS[field]))
        else:
            columns[field] = index
    if "first_name" not in columns or "last_name" not in columns:
        raise _refuse(_(
            "The file needs a first name column and a last name column, named for example Förnamn and Efternamn "
            "on its first line."
        ))
    return columns, ignored


def parse(raw: bytes) -> tuple[dict[str, int], list[str], list[tuple[int, dict[str, str]]]]:
    """The known columns, the ignored ones, and each row's cells by field, with its line."""
    records = _rows(decode(raw))
    if not records:
        raise _refuse(_("The file is empty."))
    header, body = records[0][1], records[1:]
    columns, ignored = _columns(header)
    if not body:
        raise _refuse(_("The file has no rows under its header."))
    if len(body) > MAX_ROWS:
        raise _refuse(_("The file has more than %(max)s rows. Split it into smaller files and import them one at a time.",
                        max=number(MAX_ROWS)))
    rows = [
        (line, {field: _cell(cells, index) for field, index in columns.items()}) for line, cells in body
    ]
    return columns, ignored, rows


def _cell(cells: list[str], index: int) -> str:
    return cells[index].replace("\x00", "").strip() if index < len(cells) else ""


# Checking each row

def _row_data(cells: dict[str, str]) -> tuple[EmployeeData, list[str]]:
    errors = []
    status = STATUSES.get(_value_name(cells.get("employment_status", "")))
    if status is None:
        errors.append(_("Unknown employment status “%(value)s”: use employed, furloughed or notice.",
                        value=cells["employment_status"]))
    gender = GENDERS.get(_value_name(cells.get("gender", "")))
    if gender is None:
        errors.append(_("Unknown gender “%(value)s”: use woman, man, other or not stated.", value=cells["gender"]))
    year_text = cells.get("birth_year", "")
    birth_year = None
    if year_text:
        if year_text.isascii() and year_text.isdigit() and len(year_text) == 4:
            birth_year = int(year_text)
        else:
            errors.append(_("Birth year “%(value)s” is not a year: give four digits, such as 1985.", value=year_text))
    data = tidy(EmployeeData(
        first_name=cells.get("first_name", ""), last_name=cells.get("last_name", ""), email=cells.get("email"),
        job_role=cells.get("job_role", ""), employment_status=status or EmploymentStatus.EMPLOYED,
        gender=gender or Gender.NOT_STATED, birth_year=birth_year,
    ))
    errors = list(problems(data).values()) + errors
    return data, errors


def _value_name(value: str) -> str:
    return " ".join(value.replace("_", " ").casefold().split())


def _name_key(first: str, last: str) -> tuple[str, str]:
    return " ".join(first.casefold().split()), " ".join(last.casefold().split())


class _Roster:
    """The company's employees as the import matches rows to them: by email, else by name."""

    def __init__(self, company_id: int):
        self.by_email: dict[str, list[Employee]] = defaultdict(list)
        self.by_name: dict[tuple[str, str], list[Employee]] = defaultdict(list)
        employees = db.session.scalars(
            select(Employee)
            .where(Employee.company_id == company_id, Employee.erased_at.is_(None))
            .order_by(Employee.is_active.desc(), Employee.id.desc())
        )
        for employee in employees:
            if employee.email:
                self.by_email[employee.email.lower()].append(employee)
            self.by_name[_name_key(employee.first_name, employee.last_name)].append(employee)

    def match(self, data: EmployeeData) -> tuple[Employee | None, str | None]:
        """The employee the row is, or none for a new one; or why it cannot be told."""
        if data.email and self.by_email.get(data.email):
            return self.by_email[data.email][0], None  # active first, then the latest
        namesakes = self.by_name.get(_name_key(data.first_name, data.last_name), [])
        if data.email:
            # A roster first imported without emails: the row gives the namesake its email.
            namesakes = [e for e in namesakes if not e.email]
        active = [e for e in namesakes if e.is_active] or namesakes
        if len(active) == 1:
            return active[0], None
        if len(active) > 1 and not data.email:
            return None, _("%(count)s employees are called %(name)s: add an email address to tell which one this is.",
                           count=len(active), name=f"{data.first_name} {data.last_name}")
        return None, None


def _classify(company_id: int, raw: bytes) -> ImportPreview:
    columns, ignored, rows = parse(raw)
    known = _Roster(company_id)
    seen_keys: dict[tuple, int] = {}
    seen_employees: dict[int, int] = {}
    result = []
    for line, cells in rows:
        data, errors = _row_data(cells)
        if data.first_name and data.last_name:
            key = ("email", data.email) if data.email else ("name", *_name_key(data.first_name, data.last_name))
            if key in seen_keys:
                errors.append(_("Same email address as line %(line)s.", line=seen_keys[key]) if data.email
                              else _("Same name as line %(line)s, and no email address to tell them apart.",
                                     line=seen_keys[key]))
            else:
                seen_keys[key] = line
        if errors:
            result.append(ImportRow(line, Action.ERROR, cells, errors=tuple(errors)))
            continue
        employee, ambiguity = known.match(data)
        if ambiguity:
            result.append(ImportRow(line, Action.ERROR, cells, errors=(ambiguity,)))
        elif employee is None:
            result.append(ImportRow(line, Action.NEW, cells, data=data))
        elif employee.id in seen_employees:
            result.append(ImportRow(line, Action.ERROR, cells, errors=(
                _("Same employee as line %(line)s.", line=seen_employees[employee.id]),
            )))
        else:
            seen_employees[employee.id] = line
            result.append(_update(line, cells, data, employee, columns))
    return ImportPreview(rows=result, columns=tuple(columns), ignored_columns=tuple(ignored))


def _update(line: int, cells: dict[str, str], data: EmployeeData, employee: Employee, columns: dict[str, int]) -> ImportRow:
    """Only the columns the file has change the employee; an empty email never clears one."""
    given = {name: getattr(data, name) for name in FIELDS if name in columns}
    if not given.get("email"):
        given.pop("email", None)
    merged = replace(EmployeeData.of(employee), **given)
    changes = tuple(name for name in FIELDS if getattr(employee, name) != getattr(merged, name))
    return ImportRow(line, Action.UPDATE, cells, data=merged, employee_id=employee.id, changes=changes,
                     reactivates=not employee.is_active)
