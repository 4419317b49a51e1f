"""The only module of the dashboards that talks to DuckDB.

It reads the published serving file (``warehouse/serving.duckdb``), read-only, and notices a
new publication: publish replaces the file atomically (``os.replace``), so a changed inode,
size or modification time means a new version. Each version is ATTACHed to a fresh in-memory
DuckDB: a plain ``duckdb.connect(path)`` would hand back the process's cached instance of the
old file. Queries in flight keep the version they started on; the next query gets the new one.

Every function returns a polars DataFrame (or plain values) and takes the global
:class:`~dashboards.filters.Filters`. Rates come from ``fct_kpis_monthly``; other functions
only sum money and count rows of the facts, so no page derives a KPI of its own.
"""

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from dashboards.filters import Filters, KpiSegment
from pipelines.lib.publish import serving_file

HOW_TO_LOAD = (
    "Run `rcm demo` to generate, load and publish a demo practice, or `rcm ingest` and "
    "`rcm build` to load your own extracts from the landing folder."
)


class WarehouseUnavailable(Exception):
    """No usable published warehouse: the message says what to do."""


def default_serving_path() -> Path:
    return serving_file(Path(os.environ.get("RCM_DATA_DIR", "data")))


@dataclass(frozen=True)
class _Version:
    connection: duckdb.DuckDBPyConnection
    identity: tuple[int, int, int]


class Warehouse:
    """Read-only access to the serving file that follows new publications."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_serving_path()
        self._lock = threading.Lock()
        self._version: _Version | None = None

    def _identity(self) -> tuple[int, int, int]:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            raise WarehouseUnavailable(
                f"No published warehouse yet at {self.path}. {HOW_TO_LOAD}"
            ) from None
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns)

    def _current(self) -> _Version:
        identity = self._identity()
        version = self._version
        if version is None or version.identity != identity:
            with self._lock:
                if self._version is None or self._version.identity != identity:
                    self._version = self._open(identity)
                version = self._version
        return version

    def _open(self, identity: tuple[int, int, int]) -> _Version:
        # no Python replacement scans: a missing table must be an error, not a local variable
        connection = duckdb.connect(":memory:", config={"python_enable_replacements": False})
        literal = str(self.path).replace("'", "''")
        try:
            connection.execute(f"ATTACH '{literal}' AS serving (READ_ONLY)")
            tables = connection.execute(
                "select count(*) from information_schema.tables "
                "where table_catalog = 'serving' and table_schema = 'meta' "
                "and table_name = 'publication'"
            ).fetchall()[0][0]
        except duckdb.Error as error:
            connection.close()
            raise WarehouseUnavailable(
                f"The warehouse at {self.path} cannot be read ({type(error).__name__}). "
                f"{HOW_TO_LOAD}"
            ) from None
        if not tables:
            connection.close()
            raise WarehouseUnavailable(f"{self.path} is not a published warehouse. {HOW_TO_LOAD}")
        return _Version(connection, identity)

    def query(self, sql: str, params: Sequence[object] = ()) -> pl.DataFrame:
        cursor = self._current().connection.cursor()
        try:
            cursor.execute("use serving")
            return cursor.sql(sql, params=list(params) or None).pl()
        finally:
            cursor.close()

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        cursor = self._current().connection.cursor()
        try:
            cursor.execute("use serving")
            return cursor.execute(sql, list(params)).fetchall()
        finally:
            cursor.close()


_shared: Warehouse | None = None


def warehouse() -> Warehouse:
    """The process's warehouse (the path is read from the environment on first use)."""
    global _shared
    if _shared is None:
        _shared = Warehouse()
    return _shared


# ---------------------------------------------------------------- filters -> SQL

DIMENSION_COLUMNS = ("location_id", "provider_npi", "payer_class", "payer_id")


def where(
    filters: Filters, month_column: str | None, alias: str = "", skip: Sequence[str] = ()
) -> tuple[str, list[object]]:
    """``where`` clause and parameters for the global filters on a fact table."""
    prefix = f"{alias}." if alias else ""
    clauses: list[str] = []
    params: list[object] = []
    if month_column and filters.month_from:
        clauses.append(f"{prefix}{month_column} >= ?")
        params.append(filters.month_from)
    if month_column and filters.month_to:
        clauses.append(f"{prefix}{month_column} <= ?")
        params.append(filters.month_to)
    for column, value in filters.dimension_filters().items():
        if column in skip:
            continue
        clauses.append(f"{prefix}{column} = ?")
        params.append(value)
    return ("where " + " and ".join(clauses)) if clauses else "", params


# ---------------------------------------------------------------- shared look-ups


def publication() -> dict[str, object]:
    df = warehouse().query("select * from meta.publication")
    return df.row(0, named=True) if df.height else {}


def month_bounds() -> tuple[date, date] | None:
    """First and last month with KPIs (the last is the as-of month, possibly running)."""
    first, last = warehouse().rows(
        "select min(month_start), max(month_start) from marts.fct_kpis_monthly "
        "where segment_type = 'practice'"
    )[0]
    return (first, last) if first else None


def as_of_date() -> date | None:
    return warehouse().rows(
        "select max(snapshot_date) from marts.fct_kpis_monthly where segment_type = 'practice'"
    )[0][0]


def filter_options() -> dict[str, list[dict[str, str]]]:
    """Dropdown options: label/value pairs for every global filter."""
    w = warehouse()
    months = w.rows(
        "select distinct month_start from marts.fct_kpis_monthly "
        "where segment_type = 'practice' order by 1"
    )
    return {
        "months": [
            {"label": m.strftime("%b %Y"), "value": f"{m.year:04d}-{m.month:02d}"}
            for (m,) in months
        ],
        "locations": [
            {"label": name or lid, "value": lid}
            for lid, name in w.rows(
                "select location_id, location_name from marts.dim_location order by 2, 1"
            )
        ],
        "providers": [
            {"label": name or npi, "value": npi}
            for npi, name in w.rows(
                "select provider_npi, provider_name from marts.dim_provider order by 2, 1"
            )
        ],
        "payer_classes": [
            {"label": label or pclass, "value": pclass}
            for pclass, label in w.rows(
                "select payer_class, min(payer_class_label) from marts.dim_payer "
                "group by 1 order by 2"
            )
        ],
        "payers": [
            {"label": name or pid, "value": pid}
            for pid, name in w.rows(
                "select payer_id, payer_name from marts.dim_payer order by 2, 1"
            )
        ],
    }


def segment_label(segment: KpiSegment) -> str:
    """'Practice', or the provider's, payer's, payer class's or location's name."""
    lookups = {
        "provider": "select provider_name from marts.dim_provider where provider_npi = ?",
        "payer": "select payer_name from marts.dim_payer where payer_id = ?",
        "payer_class": "select min(payer_class_label) from marts.dim_payer where payer_class = ?",
        "location": "select location_name from marts.dim_location where location_id = ?",
    }
    if segment.segment_type == "practice":
        return "Whole practice"
    found = warehouse().rows(lookups[segment.segment_type], [segment.segment_id])
    name = found[0][0] if found and found[0][0] else segment.segment_id
    return f"{segment.segment_type.replace('_', ' ').capitalize()}: {name}"


# ---------------------------------------------------------------- KPIs


def kpi_months(segment: KpiSegment, filters: Filters) -> pl.DataFrame:
    """``fct_kpis_monthly`` rows of one segment over the date range, oldest first."""
    clause, params = where(filters, "month_start", skip=DIMENSION_COLUMNS)
    clause = (clause + " and " if clause else "where ") + "segment_type = ? and segment_id = ?"
    return warehouse().query(
        f"select * from marts.fct_kpis_monthly {clause} order by month_start",
        [*params, segment.segment_type, segment.segment_id],
    )


def kpi_by_segment(segment_type: str, filters: Filters, columns: Sequence[str]) -> pl.DataFrame:
    """One KPI mart column set for every segment of a type (e.g. every payer), by month,
    with the segment's display name. Segments outside the other filters are left out where
    the mart can tell (payers of another payer class)."""
    names = {
        "payer": (
            "marts.dim_payer",
            "payer_id",
            "payer_name",
            "payer_class",
        ),
        "provider": ("marts.dim_provider", "provider_npi", "provider_name", None),
        "location": ("marts.dim_location", "location_id", "location_name", None),
    }
    table, key, name, class_column = names[segment_type]
    clause, params = where(filters, "k.month_start", skip=DIMENSION_COLUMNS)
    extra = ["k.segment_type = ?"]
    params.append(segment_type)
    if class_column and filters.payer_class:
        extra.append(f"d.{class_column} = ?")
        params.append(filters.payer_class)
    own = {"payer": filters.payer_id, "provider": filters.provider_npi}.get(segment_type)
    if own:
        extra.append("k.segment_id = ?")
        params.append(own)
    clause = (clause + " and " if clause else "where ") + " and ".join(extra)
    select = ", ".join(f"k.{c}" for c in columns)
    return warehouse().query(
        f"select k.month_start, k.segment_id, coalesce(d.{name}, k.segment_id) as segment_name, "
        f"{select} from marts.fct_kpis_monthly as k "
        f"left join {table} as d on d.{key} = k.segment_id {clause} "
        "order by k.month_start, segment_name",
        params,
    )


def kpi_targets() -> dict[str, dict[str, object]]:
    df = warehouse().query("select * from terminology.kpi_targets")
    return {row["kpi"]: row for row in df.iter_rows(named=True)}


def resolved(filters: Filters) -> Filters:
    """The filters with the date range filled: 'to' defaults to the latest month with data,
    'from' to eleven months before it (a year of months), both kept within the data."""
    bounds = month_bounds()
    if bounds is None:
        return filters
    first, last = bounds
    month_to = min(max(filters.month_to or last, first), last)
    default_from = _add_months(month_to, -11)
    month_from = filters.month_from or max(default_from, first)
    month_from = min(max(month_from, first), month_to)
    return Filters(
        month_from,
        month_to,
        filters.location_id,
        filters.provider_npi,
        filters.payer_class,
        filters.payer_id,
    )


def _add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def previous_month(month: date) -> date:
    return _add_months(month, -1)


# ---------------------------------------------------------------- overview


def charges_and_collections(filters: Filters) -> pl.DataFrame:
    """Charges by service month (fct_claims) and payments by posting month (fct_payments:
    payers and patients), in long form: month_start, series, amount."""
    claims_where, claims_params = where(filters, "date_trunc('month', service_date)")
    pay_where, pay_params = where(filters, "posted_month")
    return warehouse().query(
        f"""
        select cast(date_trunc('month', service_date) as date) as month_start,
               'Charges' as series, sum(charges) as amount
        from marts.fct_claims {claims_where} group by 1
        union all
        select posted_month, case payment_source when 'payer' then 'Payer payments'
               else 'Patient payments' end, sum(amount)
        from marts.fct_payments {pay_where} group by 1, 2
        order by 1, 2
        """,
        [*claims_params, *pay_params],
    )
