"""Programme reports: the figures with their charts for the programme office and HR, and the funder's files.

The programme office sees every company; HR sees its own company's figures, whatever the URL asks for.
"""
from dataclasses import replace
from datetime import date

from flask import Blueprint, Response, render_template, request, send_file, stream_with_context
from flask_login import current_user

from portal.blueprints.reports.forms import ReportFilterForm
from portal.models import Role
from portal.security import gate_blueprint
from portal.services import report_export, reports

bp = Blueprint("reports", __name__)
gate_blueprint(bp, Role.PM, Role.HR)

CSV = "text/csv"  # Werkzeug adds "; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filtered() -> tuple[ReportFilterForm, reports.ReportFilters]:
    """The filter form read from the query string, and the filters the user may have."""
    form = ReportFilterForm(formdata=request.args)
    if current_user.role == Role.PM:
        form.fill_choices(reports.region_choices(), reports.company_choices())
    else:
        form.fill_choices([], None)
    form.validate()
    filters = form.filters()
    if current_user.role != Role.PM:
        filters = replace(filters, region_id=None, company_id=current_user.company_id)
    return form, filters


def _is_pm() -> bool:
    return current_user.role == Role.PM


def _applied(form: ReportFilterForm) -> list[tuple[str, str]]:
    return form.applied(None if _is_pm() else current_user.company.name)


def _filename(name: str, extension: str) -> str:
    return f"{name}-{date.today().isoformat()}.{extension}"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # figures and people's names: not for shared caches
    return response


def _download(body, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return _no_store(response)


@bp.route("/reports")
def index():
    form, filters = _filtered()
    report = reports.programme_report(filters)
    return render_template(
        "reports/index.html", form=form, report=report, download_args=form.query_args(),
        progress=report.progress(programme_targets=_is_pm()),
        company_name=None if _is_pm() else current_user.company.name,
    )


@bp.route("/reports/figures.csv")
def figures_csv():
    form, filters = _filtered()
    body = report_export.figures_csv(reports.programme_report(filters), _applied(form))
    return _download(body, CSV, _filename("figures", "csv"))


@bp.route("/reports/figures.xlsx")
def figures_xlsx():
    form, filters = _filtered()
    body = report_export.figures_xlsx(reports.programme_report(filters), _applied(form))
    return _download(body, XLSX, _filename("figures", "xlsx"))


@bp.route("/reports/participants.csv")
def participants_csv():
    _, filters = _filtered()
    # Streamed: the rows are read from the database while the file goes out.
    lines = report_export.participants_csv(reports.participants(filters), personal=_is_pm())
    return _download(stream_with_context(lines), CSV, _filename("participants", "csv"))


@bp.route("/reports/participants.xlsx")
def participants_xlsx():
    _, filters = _filtered()
    file = report_export.participants_xlsx(reports.participants(filters), personal=_is_pm())
    response = send_file(file, mimetype=XLSX, as_attachment=True, download_name=_filename("participants", "xlsx"))
    return _no_store(response)
