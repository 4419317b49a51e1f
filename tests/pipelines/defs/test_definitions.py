"""The Dagster code location loads, forms one graph, and its sensor and schedule behave."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from dagster import (
    DagsterInstance,
    RunRequest,
    build_schedule_context,
    build_sensor_context,
    materialize,
)

from pipelines.definitions import defs
from pipelines.defs.checks import INGEST_CHECKS
from pipelines.defs.ingest import INGEST_ASSETS
from pipelines.defs.reports import PRACTICE_TZ
from pipelines.defs.resources import Progress, WarehouseResource
from pipelines.defs.schedules import daily_ingest
from pipelines.defs.sensors import landing_sensor


def test_definitions_validate_like_dagster_dev():
    """`dagster definitions validate` loads the code location the way `dagster dev` does."""
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-m", "pipelines.definitions"],
        cwd=root, capture_output=True, text=True, timeout=300, env={**os.environ, "DAGSTER_HOME": ""},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Validation successful" in out.stderr + out.stdout


def test_raw_asset_keys_match_dbt_sources():
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/remit_claims", "raw/claims", "raw/appointments", "raw/patient_payments"} <= keys
    ingest_keys = {spec.key.to_user_string() for asset in INGEST_ASSETS for spec in asset.specs}
    assert ingest_keys <= keys and all(k.startswith("raw/") for k in ingest_keys)


def test_sensor_waits_for_files_to_settle_then_requests_a_run(tmp_path, small_practice):
    claims = tmp_path / "landing" / "claims"
    claims.mkdir(parents=True)
    src = sorted((small_practice.landing / "claims").glob("*.837"))[0]
    target = claims / src.name
    shutil.copy(src, target)
    old = time.time() - 60
    os.utime(target, (old, old))
    resources = {"warehouse": WarehouseResource(data_dir=str(tmp_path))}
    with DagsterInstance.ephemeral() as instance:
        first_tick = build_sensor_context(instance=instance, resources=resources)
        first = landing_sensor(first_tick)
        assert not isinstance(first, list), "a file seen once may still be being written"
        second = landing_sensor(
            build_sensor_context(instance=instance, resources=resources, cursor=first_tick.cursor)
        )
    assert isinstance(second, list) and len(second) == 1
    request: RunRequest = second[0]
    assert request.run_key.startswith("claims:") and len(request.run_key) == len("claims:") + 64
    assert request.tags["source"] == "claims"


def test_growing_file_is_not_picked_up(tmp_path):
    remits = tmp_path / "landing" / "remits"
    remits.mkdir(parents=True)
    f = remits / "partial.835"
    f.write_text("ISA*00*")
    resources = {"warehouse": WarehouseResource(data_dir=str(tmp_path))}
    with DagsterInstance.ephemeral() as instance:
        ctx = build_sensor_context(instance=instance, resources=resources)
        landing_sensor(ctx)
        f.write_text("ISA*00*          *00*")  # still being written
        again = landing_sensor(
            build_sensor_context(instance=instance, resources=resources, cursor=ctx.cursor)
        )
    assert not isinstance(again, list)


def test_daily_schedule_targets_all_ingest_assets():
    ctx = build_schedule_context(scheduled_execution_time=datetime(2026, 3, 2, 5, 0))
    result = daily_ingest.evaluate_tick(ctx)
    assert result.run_requests and daily_ingest.cron_schedule == "0 5 * * *"
    # the practice's time zone, the one the report schedules use (RCM_PRACTICE_TZ)
    assert daily_ingest.execution_timezone == PRACTICE_TZ


def test_ingest_assets_materialise_in_process_with_checks(tmp_path, small_practice):
    shutil.copytree(small_practice.landing / "payments", tmp_path / "landing" / "payments")
    shutil.copytree(small_practice.landing / "remits", tmp_path / "landing" / "remits")
    started: list[tuple[str, int]] = []
    result = materialize(
        [*INGEST_ASSETS, *INGEST_CHECKS],
        resources={"warehouse": WarehouseResource(data_dir=str(tmp_path)), "progress": Progress(on_start=lambda s, n: started.append((s, n)))},
        run_config={"ops": {"ingest_remits_835": {"config": {"settle_seconds": 0.0, "workers": 1}},
                            "ingest_patient_payments": {"config": {"settle_seconds": 0.0}}}},
        instance=DagsterInstance.ephemeral(),
    )  # fmt: skip
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    assert ("remits", len(list((small_practice.landing / "remits").glob("*.835")))) in started
