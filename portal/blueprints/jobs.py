"""The scheduled jobs' last runs, for the programme office."""
from flask import Blueprint, render_template

from portal.jobs.scheduler import JOBS
from portal.models import Role
from portal.security import gate_blueprint
from portal.services.job_runs import last_runs

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
gate_blueprint(bp, Role.PM)


@bp.route("")
def index():
    runs = last_runs([job.name for job in JOBS])
    return render_template("jobs/index.html", jobs=[(job, runs[job.name]) for job in JOBS])
