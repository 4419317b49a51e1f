"""The ingest asset when something other than a bad file goes wrong: Dagster's event log
(which keeps every message for good) gets the exception's type and place, never its
message, and a failure no retry can mend is not retried."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance, materialize

from pipelines.defs import ingest
from pipelines.defs.resources import Progress, WarehouseResource
from pipelines.lib.warehouse_files import WarehouseFileError

NAME = "Quaxley"


def _run_failing_with(error: Exception, tmp_path, monkeypatch):
    def failing_run_ingest(*args, **kwargs):
        raise error

    monkeypatch.setattr(ingest, "run_ingest", failing_run_ingest)
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [next(a for a in ingest.INGEST_ASSETS if a.op.name == "ingest_patient_payments")],
            resources={
                "warehouse": WarehouseResource(data_dir=str(tmp_path)),
                "progress": Progress(),
            },
            instance=instance,
            raise_on_error=False,
        )
        logged = [str(record) for record in instance.all_logs(result.run_id)]
    assert not result.success
    return result, logged


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            duckdb.ConversionException(f"Could not convert string '{NAME}' to DATE"),
            "ingest of landing/payments/ failed: ConversionException at test_ingest_asset.py:",
        ),
        (
            WarehouseFileError(
                "rcm.duckdb is encrypted: set RCM_ENCRYPTION_KEY to open it", Path("rcm.duckdb")
            ),
            "rcm.duckdb is encrypted: set RCM_ENCRYPTION_KEY to open it",
        ),
    ],
    ids=["unexpected", "key"],
)
def test_a_failed_ingest_logs_no_value_and_is_not_retried(error, expected, tmp_path, monkeypatch):
    result, logged = _run_failing_with(error, tmp_path, monkeypatch)
    (failure,) = result.get_step_failure_events()
    assert expected in failure.step_failure_data.error.message
    assert not any(NAME in text for text in logged)
    assert not any(e.event_type == DagsterEventType.STEP_UP_FOR_RETRY for e in result.all_events)
