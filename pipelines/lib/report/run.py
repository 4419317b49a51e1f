"""Write owner reports: gather → commentary → PDF (→ email), for the practice and the
configured locations, from a data folder's published warehouse.

The ``rcm report`` command and the Dagster report assets both call :func:`write_reports`.
Files go to ``<data dir>/reports/``:

- monthly: ``owner-report-YYYY-MM.pdf`` and ``owner-report-YYYY-MM-<location>.pdf``;
- weekly flash: ``owner-flash-YYYY-MM-DD.pdf`` (the week's Monday), ``…-<location>.pdf``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from dashboards import data
from pipelines.lib import audit
from pipelines.lib.publish import serving_file
from pipelines.lib.report import commentary, deliver
from pipelines.lib.report.charts import ChartRenderer
from pipelines.lib.report.gather import gather
from pipelines.lib.report.model import Report, ReportKind, Sentence
from pipelines.lib.report.render import render_pdf
from pipelines.lib.report.settings import ReportSettings, SmtpSettings


class ReportError(RuntimeError):
    """A report cannot be written as asked (no warehouse, an unknown location): the
    message says what to do."""


@dataclass(frozen=True)
class ReportFile:
    """One PDF written: where, for what, how big and how long it took (seconds)."""

    path: Path
    kind: ReportKind
    month: date
    location_id: str | None
    scope: str
    has_data: bool
    pages: int
    bytes: int
    seconds: float
    commentary: tuple[Sentence, ...]


def reports_dir(root: Path) -> Path:
    return root / "reports"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "location"


def report_path(
    root: Path,
    kind: ReportKind,
    month: date,
    location_id: str | None = None,
    week_start: date | None = None,
) -> Path:
    suffix = f"-{_slug(location_id)}" if location_id else ""
    if kind == "flash":
        monday = week_start or month
        return reports_dir(root) / f"owner-flash-{monday:%Y-%m-%d}{suffix}.pdf"
    return reports_dir(root) / f"owner-report-{month:%Y-%m}{suffix}.pdf"


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def flash_month(week: tuple[date, date]) -> date:
    """The month a weekly flash reports: the one the week starts in (to date, or just
    closed when the week runs into the next month: on the first Monday of a month the
    flash reports the month that ended)."""
    return week[0].replace(day=1)


def _open(root: Path) -> data.Warehouse:
    path = serving_file(root)
    warehouse = data.Warehouse(path)
    try:
        warehouse.rows("select 1")
    except data.WarehouseUnavailable as error:
        raise ReportError(str(error)) from None
    return warehouse


def latest_complete_month(root: Path) -> date | None:
    """The last month of the published warehouse whose data is complete (the default
    month of ``rcm report``), or None when it holds no KPIs."""
    warehouse = _open(root)
    try:
        with data.reading(warehouse):
            bounds = data.month_bounds()
    finally:
        warehouse.close()
    return bounds[1] if bounds else None


def latest_as_of(root: Path) -> date | None:
    """The data's as-of date (the default week of the flash report)."""
    warehouse = _open(root)
    try:
        with data.reading(warehouse):
            return data.as_of_date()
    finally:
        warehouse.close()


def _scopes(locations: Sequence[str] | str | None, include_practice: bool) -> list[str | None]:
    """None (the practice) and the location ids, checked against dim_location."""
    known = dict(data.locations())
    if locations == "all":
        chosen = list(known)
    else:
        chosen = list(dict.fromkeys(locations or ()))
        unknown = [loc for loc in chosen if loc not in known]
        if unknown:
            raise ReportError(
                f"unknown location{'s' * (len(unknown) > 1)} {', '.join(unknown)}: the "
                f"warehouse has {', '.join(f'{k} ({v})' for k, v in known.items()) or 'none'}"
            )
    return ([None] if include_practice else []) + chosen


def write_reports(
    root: Path,
    month: date,
    *,
    kind: ReportKind = "monthly",
    week: tuple[date, date] | None = None,
    locations: Sequence[str] | str | None = None,
    include_practice: bool = True,
    settings: ReportSettings | None = None,
    smtp: SmtpSettings | None = None,
) -> list[ReportFile]:
    """Write the report of ``month`` (or, for a flash, of ``week``'s month to date) for the
    practice and each location (a list of ids, or ``"all"``), with one Chromium for all
    charts; then email them all in one message when ``smtp`` is given.

    A month without data gives a PDF that says so. Raises :class:`ReportError` when the
    data folder has no published warehouse or a location is unknown."""
    settings = settings or ReportSettings()
    if kind == "flash":
        week = week or week_of(month)
        month = flash_month(week)
    month = month.replace(day=1)
    warehouse = _open(root)
    written: list[ReportFile] = []
    try:
        with data.reading(warehouse):
            scopes = _scopes(locations, include_practice)
            with ChartRenderer() as renderer:
                for location_id in scopes:
                    started = time.perf_counter()
                    report = gather(
                        month,
                        kind=kind,
                        location_id=location_id,
                        name=settings.practice_name,
                        week=week,
                    )
                    report.commentary = commentary.write(report)
                    path = report_path(root, kind, month, location_id, week[0] if week else None)
                    pages = render_pdf(report, path, renderer)
                    written.append(_written(report, path, pages, started))
    finally:
        warehouse.close()
    if smtp is not None and written:
        deliver.send(_message(written, smtp), smtp)
    for report_file in written:  # aggregates only, but who got what is worth a record
        audit.append(
            root,
            "report_written",
            "system",
            path=report_file.path.name,
            kind=report_file.kind,
            month=f"{report_file.month:%Y-%m}",
            emailed_to=", ".join(smtp.recipients) if smtp is not None else None,
        )
    return written


def _written(report: Report, path: Path, pages: int, started: float) -> ReportFile:
    return ReportFile(
        path=path,
        kind=report.kind,
        month=report.month,
        location_id=report.location_id,
        scope=report.scope,
        has_data=report.has_data,
        pages=pages,
        bytes=path.stat().st_size,
        seconds=time.perf_counter() - started,
        commentary=report.commentary,
    )


def _message(files: list[ReportFile], smtp: SmtpSettings):
    first = files[0]
    what = "weekly flash report" if first.kind == "flash" else "monthly owner report"
    subject = f"{what.capitalize()}, {first.month:%B %Y}"
    lines = [f"The {what} for {first.month:%B %Y} is attached.", ""]
    for f in files:
        lines.append(f"{f.scope} ({f.path.name}):")
        lines += [f"  - {s.text}" for s in f.commentary]
        lines.append("")
    lines.append("Numbers from the published warehouse; the PDFs carry aggregates only.")
    return deliver.build_message(subject, "\n".join(lines), [f.path for f in files], smtp)
