"""Owner reports: a PDF per month and a weekly flash, downstream of the serving file.

``reports/owner_monthly`` (monthly partitions) and ``reports/owner_weekly_flash`` (weekly
partitions, Monday to Sunday) call :func:`pipelines.lib.report.run.write_reports`, which
writes ``<data dir>/reports/`` for the practice and the locations of
``RCM_REPORT_LOCATIONS``, and emails them when ``RCM_REPORT_EMAIL`` is on (or the run's
config says ``email: true``). Each schedule fires in the practice's time zone
(``RCM_PRACTICE_TZ``) and asks for the partition that has just closed: on the 1st at
06:00, the month before; on Monday at 06:00, the week before.

Partitions start at ``RCM_REPORTS_START`` (YYYY-MM, default 2024-01). Both are read when
the code location loads: a bad value stops it loading, with the variable named.
"""

from datetime import date

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    MonthlyPartitionsDefinition,
    WeeklyPartitionsDefinition,
    asset,
    build_schedule_from_partitioned_job,
    define_asset_job,
)
from pydantic import Field

from pipelines.defs.publish import SERVING_KEY
from pipelines.defs.resources import WarehouseResource
from pipelines.lib.report.deliver import DeliveryError
from pipelines.lib.report.model import ReportKind
from pipelines.lib.report.run import ReportError, ReportFile, week_of, write_reports
from pipelines.lib.report.settings import ReportSettings, ReportSettingsError, SmtpSettings

SETTINGS = ReportSettings.from_env()
PRACTICE_TZ = SETTINGS.timezone
START = SETTINGS.reports_start.isoformat()

MONTHLY_KEY = AssetKey(["reports", "owner_monthly"])
WEEKLY_KEY = AssetKey(["reports", "owner_weekly_flash"])

# A month's partition runs from the 1st at 06:00 to the next 1st at 06:00 (practice time),
# a week's from Monday 06:00 to Monday 06:00. The schedules take their cron strings from
# these offsets, so each fires as a partition closes and asks for that partition:
#   monthly: "0 6 1 * *", 06:00 on the 1st of every month -> the month that just ended
#   weekly:  "0 6 * * 1", 06:00 every Monday -> the week (Monday to Sunday) that just ended
monthly_partitions = MonthlyPartitionsDefinition(
    start_date=START, timezone=PRACTICE_TZ, day_offset=1, hour_offset=6
)
weekly_partitions = WeeklyPartitionsDefinition(
    start_date=START, timezone=PRACTICE_TZ, day_offset=1, hour_offset=6
)


class ReportConfig(Config):
    """Run configuration of the report assets."""

    email: bool | None = Field(
        default=None,
        description="Email the reports (SMTP settings from RCM_SMTP_*); default RCM_REPORT_EMAIL",
    )


def _write(
    context: AssetExecutionContext,
    config: ReportConfig,
    warehouse: WarehouseResource,
    kind: ReportKind,
) -> MaterializeResult:
    """Write one partition's reports and record what was written."""
    first = date.fromisoformat(context.partition_key)
    try:
        settings = ReportSettings.from_env()
        email = settings.email if config.email is None else config.email
        smtp = SmtpSettings.from_env() if email else None
        files = write_reports(
            warehouse.root,
            first,
            kind=kind,
            week=week_of(first) if kind == "flash" else None,
            locations="all" if settings.all_locations else settings.locations,
            settings=settings,
            smtp=smtp,
        )
    except (ReportError, ReportSettingsError, DeliveryError) as error:
        raise Failure(f"no report for {context.partition_key}: {error}") from error
    for f in files:
        context.log.info(f"wrote {f.path} ({f.pages} pages, {f.bytes:,} bytes, {f.seconds:.1f} s)")
    return MaterializeResult(metadata=_metadata(files, smtp))


def _metadata(files: list[ReportFile], smtp: SmtpSettings | None) -> dict[str, object]:
    practice = files[0]
    summary = "\n".join(f"- {s.text}" for s in practice.commentary)
    return {
        "path": MetadataValue.path(str(practice.path)),
        "files": MetadataValue.json(
            [{"path": str(f.path), "scope": f.scope, "pages": f.pages} for f in files]
        ),
        "has_data": practice.has_data,
        "pages": practice.pages,
        "bytes": sum(f.bytes for f in files),
        "seconds": round(sum(f.seconds for f in files), 2),
        "summary": MetadataValue.md(summary),
        "emailed_to": ", ".join(smtp.recipients) if smtp else "not emailed",
    }


@asset(
    key=MONTHLY_KEY,
    deps=[SERVING_KEY],
    partitions_def=monthly_partitions,
    group_name="reports",
    kinds={"pdf"},
    description=(
        "The monthly owner report: reports/owner-report-YYYY-MM.pdf for the practice (and "
        "each location of RCM_REPORT_LOCATIONS) from the published warehouse"
    ),
)
def owner_monthly_report(
    context: AssetExecutionContext, config: ReportConfig, warehouse: WarehouseResource
) -> MaterializeResult:
    return _write(context, config, warehouse, "monthly")


@asset(
    key=WEEKLY_KEY,
    deps=[SERVING_KEY],
    partitions_def=weekly_partitions,
    group_name="reports",
    kinds={"pdf"},
    description=(
        "The weekly flash report: reports/owner-flash-YYYY-MM-DD.pdf (the week's Monday): "
        "the week's charges, payments and denials, and its month to date"
    ),
)
def owner_weekly_flash(
    context: AssetExecutionContext, config: ReportConfig, warehouse: WarehouseResource
) -> MaterializeResult:
    return _write(context, config, warehouse, "flash")


REPORT_ASSETS = [owner_monthly_report, owner_weekly_flash]

owner_monthly_report_job = define_asset_job(
    "owner_monthly_report",
    selection=AssetSelection.assets(owner_monthly_report),
    description="The monthly owner report PDFs for one month",
)
owner_weekly_flash_job = define_asset_job(
    "owner_weekly_flash",
    selection=AssetSelection.assets(owner_weekly_flash),
    description="The weekly flash report PDFs for one week",
)

monthly_owner_report_schedule = build_schedule_from_partitioned_job(
    owner_monthly_report_job,
    name="monthly_owner_report",  # cron "0 6 1 * *": 06:00 on the 1st, practice time
    description="On the 1st at 06:00 practice time, the report of the month that ended",
)
weekly_flash_schedule = build_schedule_from_partitioned_job(
    owner_weekly_flash_job,
    name="weekly_flash_report",  # cron "0 6 * * 1": Mondays at 06:00, practice time
    description="On Mondays at 06:00 practice time, the flash report of the week that ended",
)

REPORT_JOBS = [owner_monthly_report_job, owner_weekly_flash_job]
REPORT_SCHEDULES = [monthly_owner_report_schedule, weekly_flash_schedule]
