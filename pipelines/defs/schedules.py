"""Schedules."""

from __future__ import annotations

from dagster import AssetSelection, ScheduleDefinition, define_asset_job

from pipelines.defs.ingest import INGEST_ASSETS
from pipelines.defs.reports import PRACTICE_TZ

ingest_all_job = define_asset_job(
    "ingest_all",
    selection=AssetSelection.assets(*INGEST_ASSETS),
    description="Load everything waiting in the landing folders",
)

daily_ingest = ScheduleDefinition(
    name="daily_ingest",
    job=ingest_all_job,
    cron_schedule="0 5 * * *",  # every day at 05:00, before the practice opens
    execution_timezone=PRACTICE_TZ,  # RCM_PRACTICE_TZ, as the report schedules
    description="A daily sweep of the landing folders, in case the sensor was off",
)
