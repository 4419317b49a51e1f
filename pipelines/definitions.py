"""The Dagster code location: gathers the definitions in ``pipelines/defs``.

dagster dev -m pipelines.definitions
"""

from __future__ import annotations

from dagster import Definitions

from pipelines.defs.checks import INGEST_CHECKS
from pipelines.defs.dbt import DBT_ASSETS, DBT_RESOURCES, build_warehouse_job
from pipelines.defs.ingest import INGEST_ASSETS
from pipelines.defs.publish import PUBLISH_ASSETS, build_and_publish_job
from pipelines.defs.reports import REPORT_ASSETS, REPORT_JOBS, REPORT_SCHEDULES
from pipelines.defs.resources import Progress, WarehouseResource
from pipelines.defs.schedules import daily_ingest, ingest_all_job
from pipelines.defs.sensors import landing_sensor

defs = Definitions(
    assets=INGEST_ASSETS,
    asset_checks=INGEST_CHECKS,
    jobs=[ingest_all_job],
    schedules=[daily_ingest],
    sensors=[landing_sensor],
    resources={"warehouse": WarehouseResource(), "progress": Progress()},
)

# dbt: every model and seed an asset downstream of raw/*, dbt tests as asset checks.
defs = Definitions.merge(
    defs,
    Definitions(assets=DBT_ASSETS, jobs=[build_warehouse_job], resources=DBT_RESOURCES),
)

# publish: the serving file readers open, after the dbt build and its tests.
defs = Definitions.merge(defs, Definitions(assets=PUBLISH_ASSETS, jobs=[build_and_publish_job]))

# reports: the owner PDFs, monthly and weekly, from the serving file, on their schedules.
defs = Definitions.merge(
    defs,
    Definitions(assets=REPORT_ASSETS, jobs=REPORT_JOBS, schedules=REPORT_SCHEDULES),
)
