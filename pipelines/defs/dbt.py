"""dbt assets: every dbt model and seed of ``dbt_project/`` is a Dagster asset, and every
dbt test an asset check, in the same graph as the ingest assets.

dbt's ``source('raw', '<table>')`` becomes the upstream asset key ``raw/<table>``, which
is the key of the ingest asset that loads that table, so lineage runs from landing files
to marts. Model keys are ``<schema>/<model>`` (``staging/stg_remits_835__claims``,
``terminology/terminology__carc``) and groups follow the dbt folders.

The dbt build writes the same DuckDB file as ingest, and DuckDB allows one writer, so the
dbt assets share the ingest assets' pool (``warehouse_writer``): with a pool limit of 1
(``concurrency: pools: default_limit: 1`` in the Dagster instance's dagster.yaml) a dbt
build never runs while an ingest writes, and the reverse.

``@dbt_assets`` needs dbt's manifest: it is parsed when this module is imported if it is
missing (a fresh clone has no ``target/``) or older than a file of the project.
"""

import importlib.metadata
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetSelection, define_asset_job
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError
from packaging import version

from pipelines.defs.resources import WarehouseResource, default_data_dir

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
WAREHOUSE_POOL = "warehouse_writer"  # the ingest assets' pool: one writer of the build file
BUILD_TARGET = Path("target") / "dagster"  # fixed, so dbt's partial parsing is reused
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
_NOT_PROJECT_FILES = {"target", "logs", "dbt_packages"}
# The venv's dbt, so that neither an activated venv nor PATH is needed.
_VENV_DBT = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_VENV_DBT) if _VENV_DBT.exists() else (shutil.which("dbt") or "dbt")


def warehouse_file(root: Path) -> Path:
    """The build warehouse inside a data folder (ARCHITECTURE.md: warehouse/rcm.duckdb)."""
    return root / "warehouse" / "rcm.duckdb"


def _newest_project_file(project_dir: Path) -> float:
    newest = 0.0
    for path in project_dir.rglob("*"):
        relative = path.relative_to(project_dir).parts
        if relative[0] in _NOT_PROJECT_FILES or not path.is_file():
            continue
        newest = max(newest, path.stat().st_mtime)
    return newest


def prepare_manifest(project: DbtProject) -> Path:
    """Make sure ``project.manifest_path`` describes the project as it is now: run
    ``dbt parse`` when the manifest is missing or older than a project file (a fresh
    clone, an edited model; under ``dagster dev`` this is checked on every reload).

    dbt parses into a private target folder and the manifest is moved into place with an
    atomic rename, so processes importing this module at the same time never read a
    half-written manifest. The parse starts from the build's partial-parse state and
    uses the build's warehouse path (dbt re-parses everything when the profile changes),
    and its state is handed on to the build's target folder, so a build after an edit
    parses once, not twice. Returns the manifest path."""
    manifest = project.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= _newest_project_file(project.project_dir):
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    build_state = project.project_dir / BUILD_TARGET / PARTIAL_PARSE_FILE
    with tempfile.TemporaryDirectory(prefix="parse-", dir=manifest.parent) as scratch:
        if build_state.exists():
            shutil.copy2(build_state, Path(scratch) / PARTIAL_PARSE_FILE)
        try:
            with _warehouse_env(warehouse_file(Path(default_data_dir()))):
                DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
                    ["parse", "--quiet"], target_path=Path(scratch)
                ).wait()
        except DagsterDbtCliRuntimeError as error:
            if not manifest.exists():
                raise
            # Keep the code location (and ingest) loadable while a model is being edited;
            # `rcm build` and `dbt build` report the parse error itself.
            warnings.warn(f"dbt parse failed, using the previous manifest: {error}", stacklevel=2)
            return manifest
        build_state.parent.mkdir(parents=True, exist_ok=True)
        os.replace(Path(scratch) / PARTIAL_PARSE_FILE, build_state)
        os.replace(Path(scratch) / "manifest.json", manifest)
    return manifest


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Default keys (sources ``raw/<table>``, models ``<schema>/<name>``); groups are the
    dbt schemas, i.e. the folders: staging, intermediate, marts, terminology."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or super().get_group_name(
            dbt_resource_props
        )


class WarehouseDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource, minus one slow step: it learns the dbt version by
    running ``dbt --version``, which also asks PyPI for the latest release (about 5 s on
    every build). The venv's dbt-core is the version we pinned, so read it instead."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == _VENV_DBT:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version


@contextmanager
def _warehouse_env(path: Path) -> Iterator[None]:
    """RCM_WAREHOUSE for the dbt subprocess (profiles.yml reads it), restored afterwards."""
    before = os.environ.get("RCM_WAREHOUSE")
    os.environ["RCM_WAREHOUSE"] = str(path.resolve())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("RCM_WAREHOUSE", None)
        else:
            os.environ["RCM_WAREHOUSE"] = before


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
prepare_manifest(dbt_project)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    name="dbt_warehouse",
    exclude="tag:dev_check",  # tests of our macros, not of the data (dbt build runs them)
    dagster_dbt_translator=WarehouseDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def dbt_warehouse(
    context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """``dbt build`` of the selected models and seeds with their tests, against the build
    warehouse of the data folder (RCM_DATA_DIR)."""
    path = warehouse_file(warehouse.root)
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `rcm ingest` first")
    with _warehouse_env(path):
        # The subprocess takes its environment when it starts, inside this block.
        invocation = dbt.cli(["build"], context=context, target_path=BUILD_TARGET)
    yield from invocation.stream()


DBT_ASSETS = [dbt_warehouse]
DBT_RESOURCES = {
    "dbt": WarehouseDbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
}

build_warehouse_job = define_asset_job(
    "build_warehouse",
    selection=AssetSelection.assets(*DBT_ASSETS),
    description="dbt build: staging, intermediate and marts with their tests, and the seeds",
)
