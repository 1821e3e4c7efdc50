"""Command-line tasks: reference data, the demo programme and synthetic programmes at scale."""
import time
from datetime import date, timedelta

import click
from flask import Flask
from sqlalchemy import inspect, select, text

from portal.extensions import db
from portal.models import Programme


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def register_cli(app: Flask) -> None:
    @app.cli.group("portal")
    def portal_group():
        """Portal tasks."""

    @portal_group.command("reference")
    def reference_command():
        """Load regions, municipalities and competence areas (safe to run again)."""
        from portal.services.reference import load_reference_data

        load_reference_data()
        db.session.commit()
        click.echo("Reference data loaded.")

    @portal_group.command("demo")
    @click.option("--reset", is_flag=True, help="Empty the database first (destroys all data).")
    @click.option("--if-empty", is_flag=True, help="Do nothing, successfully, when data exists.")
    @click.option("--anchor", type=click.DateTime(["%Y-%m-%d"]), help="Lay dates out around this day.")
    def demo_command(reset: bool, if_empty: bool, anchor):
        """Fill the database with the demo programme "Ett kompetenslyft för Sverige"."""
        from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, build_demo_programme

        if not inspect(db.engine).has_table(Programme.__tablename__):
            raise click.ClickException("The database has no tables: run `flask db upgrade` first.")
        if db.session.scalar(select(Programme.id).limit(1)) is not None:
            if if_empty:
                click.echo("The database already holds a programme; demo data not added.")
                return
            if not reset:
                raise click.ClickException("The database is not empty. Use --reset to replace everything.")
            _empty_all_tables()
        build_demo_programme(_monday_of(anchor.date() if anchor else date.today()))
        db.session.commit()
        click.echo("Demo programme created. Accounts (password %s):" % DEMO_PASSWORD)
        for email, what in DEMO_ACCOUNTS:
            click.echo(f"  {email:<24} {what}")

    @portal_group.command("generate")
    @click.option("--scale", type=float, default=1.0, show_default=True,
                  help="1 is 1,000 companies, 50,000 employees, 10,000 sessions; every count scales with it.")
    @click.option("--seed", type=int, default=1, show_default=True, help="The same seed and anchor give the same data.")
    @click.option("--anchor", type=click.DateTime(["%Y-%m-%d"]), help="Lay dates out around this day's Monday.")
    @click.option("--reset", is_flag=True, help="Empty every table except the reference data first.")
    def generate_command(scale: float, seed: int, anchor, reset: bool):
        """Build a synthetic programme at a chosen scale, bulk-loaded, for performance work."""
        from portal.generate import (
            GenerationError, build_scaled_programme, empty_programme_tables, holds_programme_data, settle_after_load,
        )

        started = time.perf_counter()
        if not inspect(db.engine).has_table(Programme.__tablename__):
            raise click.ClickException("The database has no tables: run `flask db upgrade` first.")
        if holds_programme_data():
            if not reset:
                raise click.ClickException("The database is not empty. Use --reset to empty it (reference data stays).")
            empty_programme_tables()
        try:
            counts = build_scaled_programme(scale, seed, _monday_of(anchor.date() if anchor else date.today()))
        except GenerationError as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
        settle_after_load()
        for name, count in counts.items():
            click.echo(f"  {name:<24} {count:>10,}")
        click.echo(f"Built in {time.perf_counter() - started:.1f} s.")

    @portal_group.command("rebuild-tallies")
    def rebuild_tallies_command():
        """Rebuild every person's hours tallies and the programme's totals from the hours entries: after a
        restore, or if hours were written by code that did not keep them. Hours wait while it runs."""
        from portal.services.tallies import rebuild_all

        started = time.perf_counter()
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            # Readers go on; whatever would change hours waits, so nothing changes between the reading and
            # the writing (SQLite's first write below takes the whole database's lock).
            connection.execute(text("LOCK TABLE hours_entries IN SHARE MODE"))
            connection.execute(text("LOCK TABLE hours_tallies, hours_totals IN EXCLUSIVE MODE"))
        rebuild_all(connection)
        db.session.commit()
        click.echo(f"Hours tallies and totals rebuilt in {time.perf_counter() - started:.1f} s.")

    @portal_group.command("scheduler")
    def scheduler_command():
        """Run the scheduled jobs (mail, seat caps, rescheduling, reminders, retention, totals) until stopped; run
        exactly one."""
        from portal.jobs.scheduler import run_scheduler

        run_scheduler(app)

    @portal_group.command("run-job")
    @click.argument("name")
    def run_job_command(name: str):
        """Run one scheduled job once now: send_outbox, release_caps, reschedule_postponed, send_meeting_reminders,
        purge_attendance, compact_totals."""
        from portal.jobs.scheduler import JOBS_BY_NAME
        from portal.models import JobRun, RunOutcome

        job = JOBS_BY_NAME.get(name)
        if job is None:
            raise click.BadParameter(f"choose one of: {', '.join(JOBS_BY_NAME)}", param_hint="NAME")
        job.function(app)
        run = db.session.scalars(select(JobRun).where(JobRun.job == name).order_by(JobRun.id.desc()).limit(1)).one()
        counts = ", ".join(f"{key} {value}" for key, value in run.counts.items())
        click.echo(f"{name}: {run.outcome} {counts} {run.message}".rstrip())
        if run.outcome != RunOutcome.OK:
            raise click.exceptions.Exit(1)


def _empty_all_tables() -> None:
    """Delete every row, and restart the ids so a reset demo is the same as a fresh one."""
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.flush()
