"""CSV extracts from the practice-management system: a declared schema per column, and a
reader that refuses a file with a clear reason rather than guessing.

Kinds: ``appointments`` and ``patients`` (scheduling folder), ``patient_payments``
(payments folder). A file is read as text first, then every column is parsed by its
declared type; a missing or unknown column, an empty required value, a value that does not
parse or is not in its code set is reported with the file, the line (1-based, the header is
line 1) and the column. Money is parsed from its text to DECIMAL(18,2), never via float.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.lib.errors import InputError, value_shape

MONEY = pl.Decimal(18, 2)
_MONEY_TEXT = re.compile(r"^-?\d{1,16}(\.\d{1,2})?$")
_COLUMN_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # text, int, date, datetime, money, code
    required: bool = True
    codes: tuple[str, ...] = ()  # for kind "code"


@dataclass(frozen=True)
class ExtractSchema:
    kind: str
    folder: str
    pattern: str  # file name glob within the folder
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


APPOINTMENT_STATUSES = ("completed", "no_show", "cancelled", "rescheduled", "scheduled")
VISIT_TYPES = ("preventive", "acute", "chronic", "transitional")
PAYMENT_METHODS = ("cash", "card", "check", "online", "ach")
PAYMENT_CHANNELS = ("point_of_service", "statement", "online", "payment_plan", "refund")

SCHEMAS: dict[str, ExtractSchema] = {
    "appointments": ExtractSchema(
        "appointments",
        "scheduling",
        "appointments_*.csv",
        (
            Column("appointment_id", "text"),
            Column("patient_id", "text"),
            Column("provider_npi", "text"),
            Column("location_id", "text"),
            Column("booked_at", "datetime"),
            Column("appointment_start", "datetime"),
            Column("duration_min", "int"),
            Column("visit_type", "code", codes=VISIT_TYPES),
            Column("status", "code", codes=APPOINTMENT_STATUSES),
            Column("rescheduled_to", "text", required=False),
            Column("encounter_id", "text", required=False),
        ),
    ),
    "patients": ExtractSchema(
        "patients",
        "scheduling",
        "patients_*.csv",
        (
            Column("patient_id", "text"),
            Column("last_name", "text"),
            Column("first_name", "text"),
            Column("dob", "date"),
            Column("sex", "code", codes=("F", "M", "U")),
            Column("address1", "text", required=False),
            Column("city", "text", required=False),
            Column("state", "text", required=False),
            Column("zip", "text", required=False),
            Column("phone", "text", required=False),
            Column("created_date", "date"),
            Column("home_location_id", "text"),
            Column("pcp_npi", "text", required=False),
            Column("primary_payer_id", "text", required=False),
            Column("primary_member_id", "text", required=False),
            Column("secondary_payer_id", "text", required=False),
            Column("secondary_member_id", "text", required=False),
        ),
    ),
    "patient_payments": ExtractSchema(
        "patient_payments",
        "payments",
        "patient_payments_*.csv",
        (
            Column("payment_id", "text"),
            Column("patient_id", "text"),
            Column("encounter_id", "text", required=False),
            Column("payment_date", "date"),
            Column("posted_date", "date"),
            Column("amount", "money"),
            Column("method", "code", codes=PAYMENT_METHODS),
            Column("channel", "code", codes=PAYMENT_CHANNELS),
            Column("reference", "text", required=False),
        ),
    ),
}


def kind_of(path: Path) -> str | None:
    """Which extract a landing file is, from its folder and name (None if not a CSV extract)."""
    for schema in SCHEMAS.values():
        if path.parent.name == schema.folder and path.match(schema.pattern):
            return schema.kind
    return None


def _parse(col: Column, values: pl.Expr) -> pl.Expr:
    if col.kind in ("text", "code"):
        return values
    if col.kind == "int":
        return values.cast(pl.Int32, strict=False)
    if col.kind == "date":
        return values.str.to_date("%Y-%m-%d", strict=False)
    if col.kind == "datetime":
        return values.str.to_datetime("%Y-%m-%d %H:%M", strict=False, time_unit="us")
    if col.kind == "money":
        ok = values.str.contains(_MONEY_TEXT.pattern)
        return pl.when(ok).then(values).cast(MONEY, strict=False)
    raise ValueError(f"unknown column kind {col.kind!r}")


def read_extract(path: Path, kind: str, *, name: str | None = None) -> pl.DataFrame:
    """Read and validate one CSV extract; typed columns in the declared order plus
    ``line_number`` (the line in the file, for lineage). Raises InputError."""
    schema = SCHEMAS[kind]
    label = name or path.name
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise InputError("the file is empty", file=label, rule="CSV header", line=1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", file=label, rule="CSV encoding", line=line) from None
    header = text.split("\n", 1)[0].rstrip("\r").split(",")
    missing = [c for c in schema.names if c not in header]
    unknown = [c for c in header if c not in schema.names]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        # Header cells are echoed only when the first line is a header with a stray
        # column: when it is mostly wrong it may be a data row (a patient's name).
        header_like = len(missing) < len(schema.names) / 2
        named = [c for c in unknown if _COLUMN_NAME.fullmatch(c)] if header_like else []
        if named:
            parts.append(f"unknown column(s) {', '.join(named)}")
        if len(unknown) > len(named):
            parts.append(
                f"{len(unknown) - len(named)} other unknown header cell(s)"
                if header_like
                else f"{len(unknown)} cell(s) of the first line are not column names "
                "(is the header missing?)"
            )
        raise InputError("; ".join(parts), file=label, rule=f"{kind} CSV columns", line=1)
    try:
        df = pl.read_csv(raw, infer_schema=False)
    except pl.exceptions.PolarsError:
        # Polars' message quotes the offending text (it may be a patient's row): say
        # where and what instead, from our own pass over the records.
        line, what = _malformed_record(text, len(header))
        raise InputError(
            f"not a well-formed CSV: {what}", file=label, rule="CSV syntax", line=line
        ) from None
    df = df.with_row_index("line_number", offset=2)
    typed = df.select(
        "line_number",
        *(
            _parse(c, pl.col(c.name).str.strip_chars().replace("", None)).alias(c.name)
            for c in schema.columns
        ),
    )
    for col in schema.columns:
        given = df[col.name].str.strip_chars().replace("", None)
        parsed = typed[col.name]
        if col.required:
            bad = given.is_null()
            if bad.any():
                _fail(label, kind, df, bad, col, "is empty but required")
        bad = given.is_not_null() & parsed.is_null()
        if bad.any():
            _fail(label, kind, df, bad, col, f"is not a valid {col.kind}", given)
        if col.kind == "code":
            bad = parsed.is_not_null() & ~parsed.is_in(list(col.codes))
            if bad.any():
                _fail(label, kind, df, bad, col, f"is not one of {', '.join(col.codes)}", given)
    return typed


def _malformed_record(text: str, fields: int) -> tuple[int | None, str]:
    """The first record that a CSV reader cannot take: its line and what is wrong with it
    (never its text)."""
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    start = 1  # the line the record being read starts on
    try:
        for record in reader:
            if record and len(record) != fields:
                return start, f"{len(record)} fields where the header has {fields}"
            start = reader.line_num + 1
    except csv.Error:
        return start, "a quote is not closed or is followed by text"
    return None, "the CSV reader could not split it into records"


def _fail(
    label: str,
    kind: str,
    df: pl.DataFrame,
    bad: pl.Series,
    col: Column,
    what: str,
    given: pl.Series | None = None,
) -> None:
    first = int(bad.arg_true()[0])
    line = int(df["line_number"][first])
    column = df.columns.index(col.name)  # line_number is column 0, so this is 1-based in the file
    # The value's shape, never the value: a bad date may be a birth date, and a row with
    # a stray comma shifts a name into any column.
    value = f" (shaped {value_shape(given[first])!r})" if given is not None else ""
    count = int(bad.sum())
    more = f"; {count - 1} more row(s) like it" if count > 1 else ""
    raise InputError(
        f"column {col.name}{value} {what}{more}",
        file=label,
        rule=f"{kind} CSV values",
        line=line,
        column=column,
    )
