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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from dashboards.filters import Filters, KpiSegment
from pipelines.lib import warehouse_files
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
        try:
            # with the key of RCM_ENCRYPTION_KEY when the warehouse is encrypted
            warehouse_files.attach(connection, self.path, "serving", read_only=True)
            tables = connection.execute(
                "select count(*) from information_schema.tables "
                "where table_catalog = 'serving' and table_schema = 'meta' "
                "and table_name = 'publication'"
            ).fetchall()[0][0]
        except warehouse_files.WarehouseFileError as error:
            connection.close()  # the key is missing or wrong: say so (never the key)
            raise WarehouseUnavailable(f"The warehouse cannot be opened: {error}") from None
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

    def close(self) -> None:
        """Close the open version (the next query opens the file again)."""
        with self._lock:
            if self._version is not None:
                self._version.connection.close()
                self._version = None

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
# a warehouse chosen for the current thread or task (reading()), e.g. a report's data folder
_chosen: ContextVar[Warehouse | None] = ContextVar("rcm_chosen_warehouse", default=None)


def warehouse() -> Warehouse:
    """The warehouse the query functions read: the one chosen with :func:`reading` in this
    thread, else the process's (the path is read from the environment on first use)."""
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    global _shared
    if _shared is None:
        _shared = Warehouse()
    return _shared


@contextmanager
def reading(source: "Warehouse | Path") -> Iterator[Warehouse]:
    """Run this module's query functions against another serving file (a report of a data
    folder other than ``RCM_DATA_DIR``) in the current thread only; the dashboards' own
    warehouse is untouched."""
    chosen = source if isinstance(source, Warehouse) else Warehouse(Path(source))
    token = _chosen.set(chosen)
    try:
        yield chosen
    finally:
        _chosen.reset(token)


# ---------------------------------------------------------------- filters -> SQL

DIMENSION_COLUMNS = ("location_id", "provider_npi", "payer_class", "payer_id")


def where(
    filters: Filters, month_column: str | None, alias: str = "", skip: Sequence[str] = ()
) -> tuple[str, list[object]]:
    """``where`` clause and parameters for the global filters on a fact table: the date range
    on ``month_column`` (an expression, written as the query needs it), the dimensions on
    the columns of ``alias``."""
    prefix = f"{alias}." if alias else ""
    clauses: list[str] = []
    params: list[object] = []
    if month_column and filters.month_from:
        clauses.append(f"{month_column} >= ?")
        params.append(filters.month_from)
    if month_column and filters.month_to:
        clauses.append(f"{month_column} <= ?")
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


def month_bounds() -> tuple[date, date, date] | None:
    """First month with KPIs, the last complete month (the default end of a range) and the
    last month (the as-of month, which may still be running)."""
    first, closed, last = warehouse().rows(
        "select min(month_start), max(month_start) filter (where snapshot_date = month_end), "
        "max(month_start) from marts.fct_kpis_monthly where segment_type = 'practice'"
    )[0]
    return (first, closed or last, last) if first else None


def as_of_date() -> date | None:
    return warehouse().rows(
        "select max(snapshot_date) from marts.fct_kpis_monthly where segment_type = 'practice'"
    )[0][0]


def filter_options(payer_class: str | None = None) -> dict[str, list[dict[str, str]]]:
    """Dropdown options: label/value pairs for every global filter (payers of the chosen
    payer class only)."""
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
                "select payer_id, payer_name from marts.dim_payer "
                "where ? is null or payer_class = ? order by 2, 1",
                [payer_class, payer_class],
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


def kpi_by_segment(
    segment_type: str,
    filters: Filters,
    columns: Sequence[str],
    busiest: tuple[str, int] | None = None,
) -> pl.DataFrame:
    """One KPI mart column set for every segment of a type (e.g. every payer), by month,
    with the segment's display name. Segments outside the other filters are left out where
    the mart can tell (payers of another payer class). ``busiest`` = (volume column, n)
    keeps the n segments with the most volume over the range, so a chart stays readable."""
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
    if busiest:
        volume, n = busiest
        clause += (
            f" and k.segment_id in (select b.segment_id from marts.fct_kpis_monthly as b "
            f"where b.segment_type = k.segment_type and b.month_start between ? and ? "
            f"group by 1 order by sum(b.{volume}) desc, 1 limit {int(n)})"
        )
        params += [filters.month_from or date.min, filters.month_to or date.max]
    select = ", ".join(f"k.{c}" for c in columns)
    return warehouse().query(
        f"select k.month_start, k.segment_id, coalesce(d.{name}, k.segment_id) as segment_name, "
        f"{select} from marts.fct_kpis_monthly as k "
        f"left join {table} as d on d.{key} = k.segment_id {clause} "
        "order by k.month_start, segment_name",
        params,
    )


# the headline KPIs, in the order of the Overview cards and the owner report
HEADLINE_KPIS = (
    "net_collection_rate",
    "gross_collection_rate",
    "days_in_ar",
    "ar_over_90_pct",
    "initial_denial_rate",
    "clean_claim_rate",
    "first_pass_resolution_rate",
    "no_show_rate",
)


def kpi_targets() -> dict[str, dict[str, object]]:
    df = warehouse().query("select * from terminology.terminology__kpi_targets")
    return {row["kpi"]: row for row in df.iter_rows(named=True)}


def resolved(filters: Filters) -> Filters:
    """The filters with the date range filled: 'to' defaults to the last complete month,
    'from' to eleven months before it (a year of months), both kept within the data."""
    bounds = month_bounds()
    if bounds is None:
        return filters
    first, closed, last = bounds
    month_to = min(max(filters.month_to or closed, first), last)
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


# ---------------------------------------------------------------- denials

GRID_ROW_LIMIT = 5000


def _denial_where(
    filters: Filters, root_cause: str | None = None, carc: str | None = None
) -> tuple[str, list[object]]:
    clause, params = where(filters, "d.denial_month", alias="d")
    extra = []
    if root_cause:
        extra.append("d.root_cause = ?")
        params.append(root_cause)
    if carc:
        extra.append("d.carc_code = ?")
        params.append(carc)
    if extra:
        clause = (clause + " and " if clause else "where ") + " and ".join(extra)
    return clause, params


def denial_root_causes(filters: Filters) -> pl.DataFrame:
    """Denials (rows of fct_denials) and dollars at stake per root cause."""
    clause, params = _denial_where(filters)
    return warehouse().query(
        f"""select d.root_cause, d.root_cause_label, count(*) as denials,
                   sum(d.amount_at_stake) as amount_at_stake
            from marts.fct_denials as d {clause}
            group by 1, 2 order by amount_at_stake desc""",
        params,
    )


def denial_trend(filters: Filters) -> pl.DataFrame:
    clause, params = _denial_where(filters)
    return warehouse().query(
        f"""select d.denial_month, d.root_cause_label, count(*) as denials,
                   sum(d.amount_at_stake) as amount_at_stake
            from marts.fct_denials as d {clause}
            group by 1, 2 order by 1, 2""",
        params,
    )


def denial_payer_matrix(filters: Filters) -> pl.DataFrame:
    clause, params = _denial_where(filters)
    return warehouse().query(
        f"""select coalesce(p.payer_name, d.payer_id) as payer_name, d.root_cause_label,
                   sum(d.amount_at_stake) as amount_at_stake
            from marts.fct_denials as d
            left join marts.dim_payer as p on p.payer_id = d.payer_id {clause}
            group by 1, 2 order by 1, 2""",
        params,
    )


def denial_avoidability(filters: Filters) -> pl.DataFrame:
    clause, params = _denial_where(filters)
    return warehouse().query(
        f"""select d.avoidability, count(*) as denials, sum(d.amount_at_stake) as amount_at_stake
            from marts.fct_denials as d {clause}
            group by 1 order by 1""",
        params,
    )


def denial_reasons(filters: Filters, root_cause: str) -> pl.DataFrame:
    """The CARC/RARC breakdown of one root cause."""
    clause, params = _denial_where(filters, root_cause)
    return warehouse().query(
        f"""select d.carc_code, any_value(d.carc_description) as carc_description,
                   d.adjustment_group_code, coalesce(d.rarc_codes, '') as rarc_codes,
                   count(*) as denials, sum(d.amount_at_stake) as amount_at_stake
            from marts.fct_denials as d {clause}
            group by d.carc_code, d.adjustment_group_code, coalesce(d.rarc_codes, '')
            order by amount_at_stake desc""",
        params,
    )


def root_cause_label(root_cause: str) -> str:
    found = warehouse().rows(
        "select min(root_cause_label) from terminology.terminology__carc where root_cause = ?",
        [root_cause],
    )
    return found[0][0] if found and found[0][0] else root_cause


def denied_claims(
    filters: Filters, root_cause: str | None, carc: str | None, limit: int = GRID_ROW_LIMIT
) -> tuple[pl.DataFrame, int]:
    """The denials to work, largest at stake first (at most ``limit``), and how many match."""
    clause, params = _denial_where(filters, root_cause, carc)
    total = warehouse().rows(f"select count(*) from marts.fct_denials as d {clause}", params)
    df = warehouse().query(
        f"""with picked as (
                select d.* from marts.fct_denials as d {clause}
                order by d.amount_at_stake desc, d.denial_date desc, d.denial_id
                limit {int(limit)}
            ),
            claims as (
                select claim_id, claim_status, balance from marts.fct_claims
                where claim_id in (select claim_id from picked)
            )
            select d.claim_id, d.denial_date, d.service_date,
                   coalesce(p.payer_name, d.payer_id) as payer,
                   coalesce(v.provider_name, d.provider_npi) as provider,
                   d.denial_level, d.adjustment_group_code || '-' || d.carc_code as reason,
                   coalesce(d.rarc_codes, '') as rarc_codes, d.root_cause_label,
                   d.avoidability, d.denial_outcome, d.amount_at_stake,
                   c.claim_status, c.balance
            from picked as d
            left join marts.dim_payer as p on p.payer_id = d.payer_id
            left join marts.dim_provider as v on v.provider_npi = d.provider_npi
            left join claims as c on c.claim_id = d.claim_id
            order by d.amount_at_stake desc, d.denial_date desc, d.denial_id""",
        params,
    )
    return df, total[0][0]


# ---------------------------------------------------------------- one claim


def claim_header(claim_id: str) -> dict[str, object] | None:
    df = warehouse().query(
        """select c.*, coalesce(p.payer_name, c.payer_id) as payer_name,
                  coalesce(v.provider_name, c.provider_npi) as provider_name,
                  coalesce(l.location_name, c.location_id) as location_name
           from marts.fct_claims as c
           left join marts.dim_payer as p on p.payer_id = c.payer_id
           left join marts.dim_provider as v on v.provider_npi = c.provider_npi
           left join marts.dim_location as l on l.location_id = c.location_id
           where c.claim_id = ?""",
        [claim_id],
    )
    return df.row(0, named=True) if df.height else None


def claim_lines(claim_id: str) -> pl.DataFrame:
    return warehouse().query(
        """select line_number, procedure_code,
                  concat_ws(':', modifier_1, modifier_2, modifier_3, modifier_4) as modifiers,
                  units, charges, allowed_amount, payer_paid, contractual_amount,
                  denied_amount, patient_responsibility
           from marts.fct_claim_lines where claim_id = ? order by line_number""",
        [claim_id],
    )


def claim_submissions(claim_id: str) -> pl.DataFrame:
    return warehouse().query(
        "select * from marts.fct_claim_submissions where claim_id = ? order by submission_date",
        [claim_id],
    )


def claim_adjudications(claim_id: str) -> pl.DataFrame:
    return warehouse().query(
        """select * from marts.fct_claim_adjudications where claim_id = ?
           order by adjudication_sequence""",
        [claim_id],
    )


def claim_adjustments(claim_id: str) -> pl.DataFrame:
    return warehouse().query(
        """select * from marts.fct_claim_adjustments where claim_id = ?
           order by remit_claim_id, line_number nulls first, adjustment_group_code, carc_code""",
        [claim_id],
    )


def claim_patient_payments(claim_id: str) -> pl.DataFrame:
    return warehouse().query(
        """select posted_date, payment_type, payment_method, payment_channel,
                  is_point_of_service, amount
           from marts.fct_payments
           where claim_id = ? and payment_source = 'patient' order by posted_date""",
        [claim_id],
    )


# ---------------------------------------------------------------- A/R


def ar_snapshot_date(filters: Filters) -> date | None:
    """The A/R date of a range: the last month's end, or the as-of date in a running month
    (the KPI mart's snapshot date, which fct_ar_snapshots also carries)."""
    found = warehouse().rows(
        "select max(snapshot_date) from marts.fct_kpis_monthly "
        "where segment_type = 'practice' and month_start <= ?",
        [filters.month_to or date.max],
    )
    return found[0][0] if found else None


def _snapshot_where(filters: Filters, snapshot: date | None) -> tuple[str, list[object]]:
    clause, params = where(filters, None, alias="s")
    clause = (clause + " and " if clause else "where ") + "s.snapshot_date = ?"
    return clause, [*params, snapshot]


def ar_aging(filters: Filters, snapshot: date | None) -> pl.DataFrame:
    clause, params = _snapshot_where(filters, snapshot)
    return warehouse().query(
        f"""select coalesce(pc.payer_class_label, s.payer_class) as payer_class,
                   s.responsible_party, s.aging_bucket, s.aging_bucket_order,
                   sum(s.balance) as balance
            from marts.fct_ar_snapshots as s
            left join (select payer_class, min(payer_class_label) as payer_class_label
                       from marts.dim_payer group by 1) as pc on pc.payer_class = s.payer_class
            {clause}
            group by 1, 2, 3, 4 order by s.aging_bucket_order, 1, 2""",
        params,
    )


def ar_total(filters: Filters, snapshot: date | None) -> object:
    clause, params = _snapshot_where(filters, snapshot)
    return warehouse().rows(
        f"select coalesce(sum(s.balance), 0) from marts.fct_ar_snapshots as s {clause}", params
    )[0][0]


def oldest_open_claims(filters: Filters, snapshot: date | None, limit: int = 200) -> pl.DataFrame:
    """The claims owed longest on the snapshot date (names looked up for those rows only)."""
    clause, params = _snapshot_where(filters, snapshot)
    return warehouse().query(
        f"""with oldest as (
                select s.claim_id, s.service_date, s.days_outstanding, s.aging_bucket,
                       s.responsible_party, s.payer_id, s.provider_npi, s.balance
                from marts.fct_ar_snapshots as s {clause}
                order by s.days_outstanding desc, s.balance desc, s.claim_id
                limit {int(limit)}
            )
            select o.claim_id, o.service_date, o.days_outstanding, o.aging_bucket,
                   o.responsible_party, coalesce(p.payer_name, o.payer_id) as payer,
                   coalesce(v.provider_name, o.provider_npi) as provider,
                   c.claim_status, o.balance
            from oldest as o
            left join (
                select claim_id, claim_status from marts.fct_claims
                where claim_id in (select claim_id from oldest)
            ) as c on c.claim_id = o.claim_id
            left join marts.dim_payer as p on p.payer_id = o.payer_id
            left join marts.dim_provider as v on v.provider_npi = o.provider_npi
            order by o.days_outstanding desc, o.balance desc, o.claim_id""",
        params,
    )


# ---------------------------------------------------------------- collections


def payments_by_source(filters: Filters) -> pl.DataFrame:
    """Payments by posting month and payer (patients as one source)."""
    clause, params = where(filters, "f.posted_month", alias="f")
    return warehouse().query(
        f"""select f.posted_month,
                   case when f.payment_source = 'patient' then 'Patients'
                        else coalesce(p.payer_name, f.payer_id, 'Unknown payer') end as source,
                   sum(f.amount) as amount
            from marts.fct_payments as f
            left join marts.dim_payer as p on p.payer_id = f.payer_id
            {clause} group by 1, 2 order by 1, 2""",
        params,
    )


def patient_collections(filters: Filters) -> pl.DataFrame:
    """Patient payments by posting month, taken at the visit or after it."""
    clause, params = where(filters, "posted_month")
    clause = (clause + " and " if clause else "where ") + "payment_source = 'patient'"
    return warehouse().query(
        f"""select posted_month,
                   case when is_point_of_service then 'At the visit' else 'After the visit'
                   end as timing, sum(amount) as amount
            from marts.fct_payments {clause} group by 1, 2 order by 1, 2""",
        params,
    )


# ---------------------------------------------------------------- visit mix

FAMILY_LABELS = {
    "problem_em": "Problem visit (E/M)",
    "preventive": "Preventive",
    "wellness": "Medicare wellness",
    "chronic_care": "Chronic care",
    "transitional_care": "Transitional care",
    "other": "Other",
}


def _family_label() -> str:
    cases = " ".join(f"when '{k}' then '{v}'" for k, v in FAMILY_LABELS.items())
    return f"case visit_family {cases} else visit_family end"


def visits_by(filters: Filters, dimension: str) -> pl.DataFrame:
    """Visits by family and age band (``age``) or provider (``provider``)."""
    column = {
        "age": "f.age_band_at_visit",
        "provider": "coalesce(v.provider_name, f.provider_npi)",
    }[dimension]
    clause, params = where(filters, "f.service_month", alias="f")
    return warehouse().query(
        f"""select {column} as segment, {_family_label().replace("visit_family", "f.visit_family")}
                   as visit_family, count(*) as visits
            from marts.fct_visits as f
            left join marts.dim_provider as v on v.provider_npi = f.provider_npi
            {clause} group by 1, 2 order by 1, 2""",
        params,
    )


def em_level_curves(filters: Filters, max_providers: int = 8) -> pl.DataFrame:
    """The distribution of office E/M visits over levels, for the filtered practice and for
    each of its busiest providers, beside the family-medicine benchmark."""
    clause, params = where(filters, "f.service_month", alias="f")
    clause = (clause + " and " if clause else "where ") + "f.em_level is not null"
    return warehouse().query(
        f"""with visits as (
                select coalesce(v.provider_name, f.provider_npi) as provider, f.patient_status,
                       f.em_level
                from marts.fct_visits as f
                left join marts.dim_provider as v on v.provider_npi = f.provider_npi
                {clause}
            ),
            busiest as (
                select provider from visits group by 1
                order by count(*) desc, provider limit {int(max_providers)}
            ),
            segments as (
                select 'All selected visits' as segment_name, patient_status, em_level from visits
                union all
                select provider, patient_status, em_level from visits
                where provider in (select provider from busiest)
            ),
            counted as (
                select segment_name, patient_status, em_level, count(*) as visits
                from segments group by 1, 2, 3
            )
            select c.segment_name, c.patient_status, c.em_level, c.visits,
                   c.visits / sum(c.visits) over (partition by c.segment_name, c.patient_status)
                       as visit_share,
                   b.benchmark_share
            from counted as c
            left join terminology.terminology__em_benchmark as b
                on b.new_or_established = c.patient_status and b.em_level = c.em_level
            order by c.segment_name = 'All selected visits' desc, c.segment_name,
                     c.patient_status, c.em_level""",
        params,
    )


# ---------------------------------------------------------------- scheduling


def appointments_by(filters: Filters, dimension: str) -> pl.DataFrame:
    """Appointments by status and month, weekday or provider."""
    column = {
        "month": "a.appointment_month",
        "weekday": "a.iso_weekday",
        "provider": "coalesce(v.provider_name, a.provider_npi)",
    }[dimension]
    clause, params = where(filters, "a.appointment_month", alias="a")
    return warehouse().query(
        f"""select {column} as segment, replace(a.appointment_status, '_', '-') as appointment_status, count(*) as appointments
            from marts.fct_appointments as a
            left join marts.dim_provider as v on v.provider_npi = a.provider_npi
            {clause} group by 1, 2 order by 1, 2""",
        params,
    )


def lead_times(filters: Filters, dimension: str) -> pl.DataFrame:
    """Median and 90th-percentile booking lead time (days) of appointments that were due."""
    column = {
        "weekday": "a.iso_weekday",
        "provider": "coalesce(v.provider_name, a.provider_npi)",
    }[dimension]
    clause, params = where(filters, "a.appointment_month", alias="a")
    clause = (clause + " and " if clause else "where ") + "a.lead_time_days is not null"
    return warehouse().query(
        f"""select {column} as segment,
                   quantile_cont(a.lead_time_days, 0.5) as median_days,
                   quantile_cont(a.lead_time_days, 0.9) as p90_days
            from marts.fct_appointments as a
            left join marts.dim_provider as v on v.provider_npi = a.provider_npi
            {clause} group by 1 order by 1""",
        params,
    )


# ---------------------------------------------------------------- owner report


def locations() -> list[tuple[str, str]]:
    """(location_id, name) of every practice location, by name."""
    return [
        (lid, name or lid)
        for lid, name in warehouse().rows(
            "select location_id, location_name from marts.dim_location order by 2, 1"
        )
    ]


def denial_causes(filters: Filters) -> pl.DataFrame:
    """Denials (rows of fct_denials) and dollars at stake per root cause with its
    avoidability (yes, partly, mostly_not; unknown when unclassified), largest first."""
    clause, params = _denial_where(filters)
    return warehouse().query(
        f"""select d.root_cause, d.root_cause_label, d.avoidability, count(*) as denials,
                   sum(d.amount_at_stake) as amount_at_stake
            from marts.fct_denials as d {clause}
            group by 1, 2, 3 order by amount_at_stake desc, d.root_cause""",
        params,
    )


def denial_totals(filters: Filters) -> dict[str, object]:
    """Denials and dollars at stake, and the avoidable part (fully or partly avoidable root
    causes: fct_denials.is_avoidable, kpis.md) with its share of the dollars at stake."""
    clause, params = _denial_where(filters)
    return (
        warehouse()
        .query(
            f"""select count(*) as denials,
                   coalesce(sum(d.amount_at_stake), 0) as amount_at_stake,
                   count(*) filter (where d.is_avoidable) as avoidable_denials,
                   coalesce(sum(d.amount_at_stake) filter (where d.is_avoidable), 0)
                       as avoidable_amount,
                   sum(d.amount_at_stake) filter (where d.is_avoidable)
                       / nullif(sum(d.amount_at_stake), 0) as avoidable_share
            from marts.fct_denials as d {clause}""",
            params,
        )
        .row(0, named=True)
    )


def activity_between(first: date, last: date, location_id: str | None = None) -> dict[str, object]:
    """Money and denials dated from ``first`` to ``last`` (inclusive days), e.g. one week:
    charges by service date (fct_claims), payer and patient payments by posting date
    (fct_payments, as the charges and collections chart sums them) and denials by 835
    payment date with their dollars at stake (fct_denials)."""
    location = "and location_id = ?" if location_id else ""
    extra = [location_id] if location_id else []
    found = warehouse().query(
        f"""select
                (select count(*) from marts.fct_claims
                 where service_date between ? and ? {location}) as claims,
                (select coalesce(sum(charges), 0) from marts.fct_claims
                 where service_date between ? and ? {location}) as charges,
                (select coalesce(sum(amount), 0) from marts.fct_payments
                 where payment_source = 'payer' and posted_date between ? and ? {location})
                    as payer_payments,
                (select coalesce(sum(amount), 0) from marts.fct_payments
                 where payment_source = 'patient' and posted_date between ? and ? {location})
                    as patient_payments,
                (select count(*) from marts.fct_denials
                 where denial_date between ? and ? {location}) as denials,
                (select coalesce(sum(amount_at_stake), 0) from marts.fct_denials
                 where denial_date between ? and ? {location}) as amount_at_stake""",
        [first, last, *extra] * 6,
    )
    return found.row(0, named=True)
