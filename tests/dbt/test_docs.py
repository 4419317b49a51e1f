"""The warehouse documents itself: `dbt docs generate` works on a built warehouse, every
mart and every mart column is described, every model's description opens with its grain,
and each KPI states its numerator, denominator and date basis."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import run_dbt  # "conftest" alone is ambiguous: tests/dashboards has one too


@pytest.fixture(scope="module")
def docs(built_small, tmp_path_factory):
    assert built_small.returncode == 0, built_small.log[-4000:]
    root = tmp_path_factory.mktemp("docs")
    warehouse = root / "rcm.duckdb"
    shutil.copy(built_small.warehouse, warehouse)  # docs generate opens it read-write
    target = root / "target"
    process = run_dbt(["docs", "generate"], warehouse, target)
    assert process.returncode == 0, process.stdout[-4000:]
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    return manifest, catalog, target


def models(manifest: dict, folder: str) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["path"].startswith(f"{folder}/")
    ]


def test_docs_generate_writes_the_site_and_a_catalog_of_every_mart(docs):
    manifest, catalog, target = docs
    assert (target / "index.html").exists()
    marts = models(manifest, "marts")
    assert len(marts) >= 15
    for node in marts:
        assert node["unique_id"] in catalog["nodes"], node["name"]


def test_every_mart_and_mart_column_is_described(docs):
    manifest, catalog, _ = docs
    for node in models(manifest, "marts"):
        assert len(node["description"]) > 40, node["name"]
        built_columns = set(catalog["nodes"][node["unique_id"]]["columns"])
        described = {name for name, c in node["columns"].items() if c.get("description")}
        assert built_columns == described, (node["name"], built_columns ^ described)


@pytest.mark.parametrize("folder", ["intermediate", "marts"])
def test_model_descriptions_open_with_their_grain(docs, folder):
    manifest, _, _ = docs
    for node in models(manifest, folder):
        assert node["description"].startswith("One row"), node["name"]


def test_each_kpi_states_numerator_denominator_and_date_basis(docs):
    manifest, _, _ = docs
    (kpis,) = [n for n in models(manifest, "marts") if n["name"] == "fct_kpis_monthly"]
    rates = [c for c in kpis["columns"].values() if c.get("data_type") == "double"]
    assert len(rates) >= 14
    for column in rates[:14]:  # the headline KPIs; the visit-mix shares follow
        text = column["description"].lower()
        assert "numerator" in text or "÷" in text or "mean days" in text, column["name"]


def test_mart_not_null_constraints_are_enforced_by_the_database(docs, built_con):
    """Mart columns that may not be null carry a contract constraint, which DuckDB
    enforces when the table is built (so they need no separate not_null test)."""
    manifest, _, _ = docs
    declared = {
        (node["name"], column)
        for node in models(manifest, "marts")
        for column, spec in node["columns"].items()
        if any(c["type"] == "not_null" for c in spec.get("constraints", []))
    }
    assert len(declared) > 80
    enforced = set(
        built_con.execute(
            """select table_name, column_name from information_schema.columns
               where table_schema = 'marts' and is_nullable = 'NO'"""
        ).fetchall()
    )
    assert declared <= enforced
