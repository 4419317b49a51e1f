"""The data layer on its own: following publications, refusing what is not a warehouse."""

import os
from datetime import date

import duckdb
import pytest

from dashboards.data import Warehouse, WarehouseUnavailable, where
from dashboards.filters import Filters


def fake_publication(path, value: int) -> None:
    """A minimal published file: meta.publication plus one table, replaced atomically."""
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect(str(tmp))
    con.execute("create schema meta")
    con.execute(f"create table meta.publication as select 'p{value}' as publication_id")
    con.execute(f"create table answer as select {value} as value")
    con.close()
    os.replace(tmp, path)


def test_a_new_publication_is_read_without_restarting(tmp_path):
    path = tmp_path / "serving.duckdb"
    fake_publication(path, 1)
    warehouse = Warehouse(path)
    assert warehouse.rows("select value from answer") == [(1,)]
    fake_publication(path, 2)
    assert warehouse.rows("select value from answer") == [(2,)]
    assert warehouse.query("select publication_id from meta.publication").item() == "p2"


def test_a_missing_file_says_how_to_load_data(tmp_path):
    with pytest.raises(WarehouseUnavailable, match="rcm demo"):
        Warehouse(tmp_path / "serving.duckdb").rows("select 1")


def test_a_file_that_is_not_a_publication_is_refused(tmp_path):
    path = tmp_path / "serving.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(WarehouseUnavailable, match="not a published warehouse"):
        Warehouse(path).rows("select 1")
    path.write_bytes(b"not a database")
    with pytest.raises(WarehouseUnavailable, match="cannot be read"):
        Warehouse(path).rows("select 1")


def test_a_missing_table_is_an_error_not_a_python_variable(tmp_path):
    path = tmp_path / "serving.duckdb"
    fake_publication(path, 1)
    answer = [1, 2, 3]  # noqa: F841  DuckDB would otherwise scan this list
    with pytest.raises(duckdb.CatalogException):
        Warehouse(path).rows("select * from answer_list")


def test_where_applies_the_range_and_every_dimension_with_parameters():
    filters = Filters(date(2026, 1, 1), date(2026, 3, 1), "LOC1", None, "medicare", "X'; drop")
    clause, params = where(filters, "f.service_month", alias="f")
    assert clause == (
        "where f.service_month >= ? and f.service_month <= ? and f.location_id = ? "
        "and f.payer_class = ? and f.payer_id = ?"
    )
    assert params == [date(2026, 1, 1), date(2026, 3, 1), "LOC1", "medicare", "X'; drop"]
    assert where(Filters(), None) == ("", [])
