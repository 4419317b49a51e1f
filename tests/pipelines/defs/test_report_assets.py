"""The report assets and their schedules: downstream of the serving file, partitioned by
month and by week, each schedule asking for the partition that has just closed in the
practice's time zone; materialised in process, an asset writes its PDFs."""

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import AssetKey, DagsterInstance, build_schedule_context, materialize

from pipelines.definitions import defs
from pipelines.defs.publish import SERVING_KEY
from pipelines.defs.reports import (
    MONTHLY_KEY,
    PRACTICE_TZ,
    WEEKLY_KEY,
    owner_monthly_report,
    owner_weekly_flash,
)
from pipelines.defs.resources import WarehouseResource

REPO = Path(__file__).resolve().parents[3]


def requested(schedule_name: str, when: datetime) -> list[str]:
    schedule = defs.resolve_schedule_def(schedule_name)
    result = schedule.evaluate_tick(build_schedule_context(scheduled_execution_time=when))
    return [request.partition_key for request in result.run_requests or []]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(PRACTICE_TZ))


def test_schedules_fire_at_six_in_the_practice_time_zone():
    monthly = defs.resolve_schedule_def("monthly_owner_report")
    weekly = defs.resolve_schedule_def("weekly_flash_report")
    assert monthly.cron_schedule == "0 6 1 * *"
    assert weekly.cron_schedule == "0 6 * * 1"
    assert monthly.execution_timezone == weekly.execution_timezone == PRACTICE_TZ
    assert monthly.job_name == "owner_monthly_report"
    assert weekly.job_name == "owner_weekly_flash"


@pytest.mark.parametrize(
    ("when", "partition"),
    [
        (at(2026, 4, 1, 6, 0), "2026-03-01"),
        (at(2026, 1, 1, 6, 0), "2025-12-01"),  # over the year end
        (at(2024, 3, 1, 6, 0), "2024-02-01"),
    ],
)
def test_the_monthly_schedule_asks_for_the_month_that_ended(when, partition):
    assert requested("monthly_owner_report", when) == [partition]


@pytest.mark.parametrize(
    ("when", "partition"),
    [
        (at(2026, 3, 9, 6, 0), "2026-03-02"),  # Monday: the week Monday 2 to Sunday 8 March
        (at(2026, 1, 5, 6, 0), "2025-12-29"),  # a week across the year end
    ],
)
def test_the_weekly_schedule_asks_for_the_week_that_ended(when, partition):
    assert requested("weekly_flash_report", when) == [partition]


def test_report_assets_read_the_serving_file():
    graph = defs.resolve_asset_graph()
    for key in (MONTHLY_KEY, WEEKLY_KEY):
        node = graph.get(key)
        assert node.parent_keys == {SERVING_KEY}
        assert node.group_name == "reports"
    assert AssetKey(["reports", "owner_monthly"]) == MONTHLY_KEY
    monthly = owner_monthly_report.partitions_def
    assert monthly.get_partition_keys()[0] == "2024-01-01"


def test_the_practice_time_zone_comes_from_the_environment():
    """RCM_PRACTICE_TZ and RCM_REPORTS_START, read as the code location loads."""
    code = (
        "from pipelines.definitions import defs; "
        "s = defs.resolve_schedule_def('monthly_owner_report'); "
        "from pipelines.defs.reports import monthly_partitions as p; "
        "print(s.execution_timezone, p.get_first_partition_window().start.isoformat())"
    )
    env = {**os.environ, "RCM_PRACTICE_TZ": "Europe/Paris", "RCM_REPORTS_START": "2023-07"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["Europe/Paris", "2023-07-01T06:00:00+02:00"]


def test_the_assets_write_their_reports_in_process(
    published_small, chart_browser, tmp_path, monkeypatch
):
    monkeypatch.delenv("RCM_REPORT_LOCATIONS", raising=False)
    monkeypatch.delenv("RCM_REPORT_EMAIL", raising=False)
    root = tmp_path / "data"
    shutil.copytree(published_small / "warehouse", root / "warehouse")
    resources = {"warehouse": WarehouseResource(data_dir=str(root))}
    with DagsterInstance.ephemeral() as instance:
        monthly = materialize(
            [owner_monthly_report],
            partition_key="2024-03-01",
            resources=resources,
            instance=instance,
        )
        weekly = materialize(
            [owner_weekly_flash], partition_key="2024-03-18", resources=resources, instance=instance
        )
    assert monthly.success and weekly.success
    (event,) = monthly.asset_materializations_for_node(owner_monthly_report.node_def.name)
    meta = {k: v.value for k, v in event.metadata.items()}
    assert meta["path"] == str(root / "reports" / "owner-report-2024-03.pdf")
    assert meta["has_data"] is True and 2 <= meta["pages"] <= 4
    assert meta["emailed_to"] == "not emailed"
    assert "In March 2024 the practice billed" in meta["summary"]
    assert (root / "reports" / "owner-flash-2024-03-18.pdf").is_file()


def test_a_month_without_data_materialises_a_report_that_says_so(published_small, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(published_small / "warehouse", root / "warehouse")
    result = materialize(
        [owner_monthly_report],
        partition_key="2026-10-01",
        resources={"warehouse": WarehouseResource(data_dir=str(root))},
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    (event,) = result.asset_materializations_for_node(owner_monthly_report.node_def.name)
    assert event.metadata["has_data"].value is False
    assert event.metadata["pages"].value == 1
