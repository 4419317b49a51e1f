"""Shared fixtures: a small generated practice, written once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.lib.generator.config import preset_config
from pipelines.lib.generator.practice import SimulatedPractice, simulate, write_practice


@dataclass
class GeneratedFiles:
    practice: SimulatedPractice
    landing: Path
    truth: Path


@pytest.fixture(scope="session")
def small_practice(tmp_path_factory: pytest.TempPathFactory) -> GeneratedFiles:
    root = tmp_path_factory.mktemp("small")
    sp = simulate(preset_config("small", seed=7))
    write_practice(sp, root / "landing", root / "truth")
    return GeneratedFiles(sp, root / "landing", root / "truth")


@dataclass
class IngestedPractice:
    files: GeneratedFiles
    data_dir: Path
    outcomes: list


@pytest.fixture(scope="session")
def ingested_small(
    small_practice: GeneratedFiles, tmp_path_factory: pytest.TempPathFactory
) -> IngestedPractice:
    """The small practice's landing files loaded into a fresh warehouse (a copy, so the
    generated files stay in place for other tests)."""
    import shutil

    from pipelines.lib.ingest.run import run_ingest

    data_dir = tmp_path_factory.mktemp("ingested")
    shutil.copytree(small_practice.landing, data_dir / "landing")
    summary = run_ingest(data_dir, settle_seconds=0.0)
    return IngestedPractice(small_practice, data_dir, summary.outcomes)


DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def run_dbt(args: list[str], warehouse: Path, target: Path, vars_: dict | None = None):
    """The venv's dbt on the project with its own warehouse and target folder, so a test
    never touches dbt_project/target or another test's warehouse."""
    import json
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "RCM_WAREHOUSE": str(warehouse),
        "DBT_LOG_PATH": str(target / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    extra = ["--vars", json.dumps(vars_)] if vars_ else []
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args, *extra,
         "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
         "--target-path", str(target)],
        env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip


@dataclass
class BuiltPractice:
    ingested: IngestedPractice
    warehouse: Path
    target: Path
    returncode: int
    log: str
    results: list[dict]


@pytest.fixture(scope="session")
def built_small(
    ingested_small: IngestedPractice, tmp_path_factory: pytest.TempPathFactory
) -> BuiltPractice:
    """A full `dbt build` (seeds, every model, every test) on a copy of the ingested small
    practice's warehouse, once per session; tests read it and never write to it."""
    import json
    import shutil

    root = tmp_path_factory.mktemp("built")
    warehouse = root / "rcm.duckdb"
    shutil.copy(ingested_small.data_dir / "warehouse" / "rcm.duckdb", warehouse)
    target = root / "target"
    process = run_dbt(["build"], warehouse, target)
    results_file = target / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    return BuiltPractice(
        ingested_small, warehouse, target, process.returncode, process.stdout, results
    )


@pytest.fixture(scope="session")
def built_con(built_small: BuiltPractice):
    """A read-only connection to the session's built warehouse (the build must pass),
    opened as every reader opens it (pipelines.lib.warehouse_files)."""
    from pipelines.lib.warehouse_files import connect

    assert built_small.returncode == 0, built_small.log[-4000:]
    con = connect(built_small.warehouse, read_only=True)
    yield con
    con.close()
