"""835 remittance advice (005010X221A1) → typed Polars tables, balanced or rejected.

The loops of the 835 are recovered columnar: every segment gets the segment index of the
CLP (loop 2100) and SVC (loop 2110) it belongs to by a forward fill that LX, CLP, PLB and
SE reset, and each table is then a filter of one segment id joined to its children. No
Python object is made per segment or per claim.

Every row carries ``transaction_index`` plus the interchange, group and transaction
control numbers and the ``segment_index`` of the segment that said it (1-based, ISA = 1),
so any number traces back to its place in the file. Money is Decimal(18,2) parsed from
the text (never via float); dates are Date; codes are strings.

Balancing (TR3 005010X221A1, ``shared/reference/x12-notes.md``; positive adjustments
reduce the payment) is enforced, and a file that does not balance is rejected:

1. service line ``SVC02 − Σ CAS(line) = SVC03``;
2. claim ``CLP03 − Σ CAS(claim and its lines) = CLP04``;
3. transaction ``Σ CLP04 − Σ PLB amounts = BPR02``.

004010X091A1 files are read too: for what is parsed here the only difference is that
4010 allows the reversal group code ``CR`` (and has no repetition separator in ISA11).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.lib.errors import BalancingError, SegmentError, UnsupportedTransactionError
from pipelines.lib.x12.tokenizer import (
    MONEY,
    Field,
    X12Document,
    component,
    convert,
    first_children,
    forward_fill_marks,
    read_x12,
    run_parallel,
    split_composite,
    tokenize,
    value_key,
    with_lineage,
)

VERSIONS_5010 = ("005010X221A1", "005010X221")
VERSIONS_4010 = ("004010X091A1", "004010X091")
GROUP_CODES_5010 = ("CO", "OA", "PI", "PR")
CLAIM_STATUS_CODES = ("1", "2", "3", "4", "19", "20", "21", "22", "23", "25")
PRODUCT_QUALIFIERS = ("AD", "ER", "HC", "HP", "IV", "N4", "N6", "NU", "UI", "WK")
LINEAGE = (
    "interchange_control_number",
    "group_control_number",
    "transaction_control_number",
    "transaction_index",
    "segment_index",
)
_CAS_TRIPLETS = 6
_PLB_PAIRS = 6
_MOA_REMARKS = (3, 4, 5, 6, 7)
_MIA_REMARKS = (5, 20, 21, 22, 23)


@dataclass(frozen=True)
class Remit835:
    """The tables of one 835 file. Every table starts with the lineage columns
    ``interchange_control_number``, ``group_control_number``,
    ``transaction_control_number``, ``transaction_index`` and ``segment_index``.

    payments: one row per transaction set (one payment or advice): BPR, TRN, DTM*405,
        payer (N1*PR, REF*2U), payee (N1*PE, REF*TJ). ``segment_index`` is the BPR's.
    claims: one row per CLP (claim payment). ``segment_index`` is the CLP's.
    claim_adjustments: one row per claim-level CAS reason/amount/quantity triplet.
    service_lines: one row per SVC; ``claim_segment_index`` points to its claim.
    line_adjustments: one row per line-level CAS triplet; ``line_segment_index`` → SVC.
    remarks: one row per remark code: LQ (line), MOA and MIA (claim).
    provider_adjustments: one row per PLB reason/amount pair.
    """

    payments: pl.DataFrame
    claims: pl.DataFrame
    claim_adjustments: pl.DataFrame
    service_lines: pl.DataFrame
    line_adjustments: pl.DataFrame
    remarks: pl.DataFrame
    provider_adjustments: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        """Table name → frame, in load order."""
        return {
            "payments": self.payments,
            "claims": self.claims,
            "claim_adjustments": self.claim_adjustments,
            "service_lines": self.service_lines,
            "line_adjustments": self.line_adjustments,
            "remarks": self.remarks,
            "provider_adjustments": self.provider_adjustments,
        }


def read_835(path: str | Path, file_name: str | None = None) -> Remit835:
    """Read, tokenize, parse and balance an 835 file (see :func:`parse_835`)."""
    return parse_835(read_x12(path, file_name=file_name))


def parse_835_bytes(data: bytes, file_name: str = "<bytes>") -> Remit835:
    """Tokenize and parse 835 bytes (see :func:`parse_835`)."""
    return parse_835(tokenize(data, file_name=file_name))


def parse_835(doc: X12Document) -> Remit835:
    """Parse every transaction set of ``doc`` as an 835 and check balancing.

    Raises:
        UnsupportedTransactionError: a transaction set that is not an 835, or an 835 of
            another implementation guide version.
        SegmentError: a required segment or element missing, or a malformed value.
        BalancingError: a service line, claim or transaction that does not balance.
    """
    group_codes = _check_transactions(doc)
    comp = doc.delimiters.component
    loops = _Loops.of(doc)

    # The tables are independent until balancing; NumPy gathers and Polars release the
    # GIL, so two threads use both cores. Errors are raised in this fixed order.
    claim_core, claim_details, line_core, line_details, cas = run_parallel(
        lambda: _claim_core(doc, loops),
        lambda: _claim_details(doc, loops),
        lambda: _line_core(doc, loops, comp),
        lambda: _line_details(doc, loops),
        lambda: _adjustments(doc, loops, group_codes),
    )
    claims = _claim_columns(pl.concat([claim_core, claim_details], how="horizontal"))
    service_lines = _line_columns(pl.concat([line_core, line_details], how="horizontal"))
    claim_adjustments = cas.filter(pl.col("line_segment_index").is_null()).drop(
        "line_segment_index"
    )
    line_adjustments = cas.filter(pl.col("line_segment_index").is_not_null())
    remarks, provider_adjustments, payments, *_ = run_parallel(
        lambda: _remarks(doc, loops),
        lambda: _provider_adjustments(doc, loops, comp),
        lambda: _payments(doc, loops, claims),
        lambda: _balance_lines(doc, service_lines, line_adjustments),
        lambda: _balance_claims(doc, claims, cas),
    )
    _balance_transactions(doc, payments, claims, provider_adjustments)

    claims = claims.join(
        remarks.filter(pl.col("level") == "claim")
        .group_by("claim_segment_index", maintain_order=True)
        .agg(remark_codes=pl.col("remark_code")),
        left_on="segment_index",
        right_on="claim_segment_index",
        how="left",
    ).with_columns(pl.col("remark_codes").fill_null(pl.lit([], dtype=pl.List(pl.String))))

    def lineage(frame: pl.DataFrame) -> pl.DataFrame:
        return with_lineage(doc, frame, LINEAGE)

    return Remit835(
        payments=lineage(payments),
        claims=lineage(claims),
        claim_adjustments=lineage(claim_adjustments),
        service_lines=lineage(service_lines),
        line_adjustments=lineage(line_adjustments),
        remarks=lineage(remarks),
        provider_adjustments=lineage(provider_adjustments),
    )


# --------------------------------------------------------------------------- structure


def _check_transactions(doc: X12Document) -> tuple[str, ...]:
    """Every transaction set must be an 835 of a version we read; returns the group codes."""
    tx = doc.transactions
    if tx.height == 0:
        raise SegmentError("the file has no transaction sets", file=doc.file_name, rule="X12 ST")
    other = tx.filter(pl.col("transaction_set_id") != "835")
    if other.height:
        row = other.row(0, named=True)
        raise doc.error(
            UnsupportedTransactionError,
            row["st_segment_index"],
            f"transaction set {row['transaction_set_id']!r} is not an 835 remittance advice",
            "835 transaction set (ST01 = 835)",
        )
    known = set(VERSIONS_5010) | set(VERSIONS_4010)
    for row in tx.iter_rows(named=True):
        if row["version"] not in known:
            raise doc.error(
                UnsupportedTransactionError,
                row["st_segment_index"],
                f"835 version {row['version']!r} (GS08) is not supported: expected "
                "005010X221A1 (or 004010X091A1)",
                "835 implementation guide version",
            )
    if set(tx["version"].to_list()) & set(VERSIONS_4010):
        return (*GROUP_CODES_5010, "CR")
    return GROUP_CODES_5010


@dataclass(frozen=True)
class _Loops:
    """Per segment row: its transaction and the CLP / SVC segment index of the loop 2100 /
    2110 it is in (0 when none). LX, PLB, SE and ST end a claim; CLP ends a line."""

    transaction: np.ndarray
    claim: np.ndarray
    line: np.ndarray
    cache: dict = field(default_factory=dict)  # (segment id, level[, element]) → rows / keys

    @staticmethod
    def of(doc: X12Document) -> _Loops:
        ends_claim = ("LX", "PLB", "SE", "ST")
        claim, line = run_parallel(
            lambda: forward_fill_marks(doc, ("CLP",), ends_claim),
            lambda: forward_fill_marks(doc, ("SVC",), (*ends_claim, "CLP")),
        )
        return _Loops(
            transaction=doc.segments["transaction_index"].fill_null(0).to_numpy(),
            claim=claim,
            line=line,
        )

    def rows(
        self,
        doc: X12Document,
        segment_id: str,
        level: str | None = None,
        qualifier: tuple[int, str] | None = None,
    ) -> np.ndarray:
        """Row numbers of one segment id, optionally only at ``level`` (``header``:
        outside claims; ``claim``: in a claim but not in a line; ``line``: in a service
        line) and only where element ``qualifier[0]`` equals ``qualifier[1]``."""
        cache_key = (segment_id, level)
        if cache_key not in self.cache:
            rows = doc.rows(segment_id) if level is None else self.rows(doc, segment_id)
            if level == "header":
                rows = rows[self.claim[rows] == 0]
            elif level == "claim":
                rows = rows[(self.claim[rows] > 0) & (self.line[rows] == 0)]
            elif level == "line":
                rows = rows[self.line[rows] > 0]
            self.cache[cache_key] = rows
        rows = self.cache[cache_key]
        if qualifier is None:
            return rows
        k, value = qualifier
        keys_key = (segment_id, level, k)
        if keys_key not in self.cache:
            self.cache[keys_key] = doc.element_keys(rows, k)
        return rows[self.cache[keys_key] == value_key(value)]

    def take(
        self,
        doc: X12Document,
        segment_id: str,
        elements: dict[str, int],
        level: str | None = None,
        qualifier: tuple[int, str] | None = None,
    ) -> pl.DataFrame:
        """Rows of one segment id (see :meth:`rows`) with the named elements and loop keys."""
        frame = doc.take(
            self.rows(doc, segment_id, level, qualifier),
            elements,
            {
                "transaction_index": self.transaction,
                "claim_segment_index": self.claim,
                "line_segment_index": self.line,
            },
        )
        return frame.with_columns(
            pl.col("transaction_index").cast(pl.Int32),
            _nonzero("claim_segment_index"),
            _nonzero("line_segment_index"),
        )

    def child(
        self,
        doc: X12Document,
        parents: np.ndarray,
        segment_id: str,
        level: str,
        qualifier: tuple[int, str],
        elements: dict[str, int],
    ) -> pl.DataFrame:
        """For each parent segment index (CLP for level ``claim``, SVC for ``line``)
        the elements of its first child segment with that qualifier, aligned row by row
        (null where there is none), plus ``child_segment_index`` — no join needed."""
        child_rows = self.rows(doc, segment_id, level, qualifier)
        keys = (self.claim if level == "claim" else self.line)[child_rows]
        return first_children(doc, parents, child_rows, keys, elements)


def _nonzero(name: str) -> pl.Expr:
    return pl.when(pl.col(name) > 0).then(pl.col(name)).alias(name)


def _first_per(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """The first row (in file order) per value of ``key``."""
    return frame.filter(pl.col(key).is_first_distinct())


# --------------------------------------------------------------------------- payments


def _payments(doc: X12Document, loops: _Loops, claims: pl.DataFrame) -> pl.DataFrame:
    tx = doc.transactions.select(
        "transaction_index",
        "st_segment_index",
        "version",
        "sender_id",
        "receiver_id",
        "usage_indicator",
    )
    bpr = convert(
        doc,
        _first_per(
            loops.take(
                doc,
                "BPR",
                {
                    "handling_code": 1,
                    "payment_amount": 2,
                    "credit_debit_flag": 3,
                    "payment_method": 4,
                    "payment_date": 16,
                },
            ),
            "transaction_index",
        ).drop("claim_segment_index", "line_segment_index"),
        [
            Field("handling_code", "BPR01", required=True),
            Field("payment_amount", "BPR02", "money", required=True),
            Field("credit_debit_flag", "BPR03", required=True),
            Field("payment_date", "BPR16", "date"),
        ],
    )
    trn = convert(
        doc,
        _first_per(
            loops.take(doc, "TRN", {"trace_number": 2, "trace_originator_id": 3}),
            "transaction_index",
        ),
        [Field("trace_number", "TRN02", required=True)],
    ).select("transaction_index", "trace_number", "trace_originator_id")
    dtm = loops.take(doc, "DTM", {"qualifier": 1, "production_date": 2}, "header").filter(
        pl.col("qualifier") == "405"
    )
    production = convert(
        doc,
        _first_per(dtm, "transaction_index"),
        [Field("production_date", "DTM02 (405)", "date", required=True)],
    ).select("transaction_index", "production_date")
    n1 = loops.take(doc, "N1", {"party": 1, "name": 2, "id_qualifier": 3, "id": 4}, "header")
    payer = _first_per(n1.filter(pl.col("party") == "PR"), "transaction_index").select(
        "transaction_index",
        pl.col("name").alias("payer_name"),
        pl.col("id").alias("payer_n1_id"),
    )
    payee = _first_per(n1.filter(pl.col("party") == "PE"), "transaction_index").select(
        "transaction_index",
        pl.col("name").alias("payee_name"),
        pl.col("id_qualifier").alias("payee_id_qualifier"),
        pl.col("id").alias("payee_id"),
    )
    # A header REF belongs to the N1 loop (1000A payer, 1000B payee) that precedes it.
    ref = (
        pl.concat(
            [
                n1.select("segment_index", "transaction_index", "party"),
                loops.take(doc, "REF", {"ref_qualifier": 1, "ref_value": 2}, "header"),
            ],
            how="diagonal",
        )
        .sort("segment_index")
        .with_columns(pl.col("party").forward_fill().over("transaction_index"))
        .filter(pl.col("ref_qualifier").is_not_null())
    )
    payer_2u = _first_per(
        ref.filter((pl.col("party") == "PR") & (pl.col("ref_qualifier") == "2U")),
        "transaction_index",
    ).select("transaction_index", pl.col("ref_value").alias("payer_ref_2u"))
    payee_tj = _first_per(
        ref.filter((pl.col("party") == "PE") & (pl.col("ref_qualifier") == "TJ")),
        "transaction_index",
    ).select("transaction_index", pl.col("ref_value").alias("payee_ref_tj"))
    counts = claims.group_by("transaction_index").agg(claim_count=pl.len())

    out = tx
    for part in (bpr, trn, production, payer, payee, payer_2u, payee_tj, counts):
        out = out.join(part, on="transaction_index", how="left")
    for column, segment in (
        ("segment_index", "BPR (financial information)"),
        ("trace_number", "TRN (reassociation trace number)"),
        ("payer_name", "N1*PR (payer identification)"),
        ("payee_name", "N1*PE (payee identification)"),
    ):
        missing = out.filter(pl.col(column).is_null())
        if missing.height:
            raise doc.error(
                SegmentError,
                int(missing["st_segment_index"][0]),
                f"transaction set has no {segment} segment",
                "835 required segment",
            )
    return out.select(
        "transaction_index",
        "segment_index",
        "version",
        "sender_id",
        "receiver_id",
        "usage_indicator",
        "handling_code",
        "payment_amount",
        "credit_debit_flag",
        "payment_method",
        "payment_date",
        "trace_number",
        "trace_originator_id",
        "production_date",
        "payer_name",
        pl.coalesce("payer_ref_2u", "payer_n1_id").alias("payer_id"),
        "payee_name",
        "payee_id_qualifier",
        "payee_id",
        pl.when(pl.col("payee_id_qualifier") == "XX").then(pl.col("payee_id")).alias("payee_npi"),
        pl.coalesce(
            "payee_ref_tj",
            pl.when(pl.col("payee_id_qualifier") == "FI").then(pl.col("payee_id")),
        ).alias("payee_tax_id"),
        pl.col("claim_count").fill_null(0).cast(pl.Int64),
    )


# --------------------------------------------------------------------------- claims


def _claim_core(doc: X12Document, loops: _Loops) -> pl.DataFrame:
    """One row per CLP with its elements checked and typed (loop 2100 header)."""
    clp = loops.take(doc, "CLP", {f"clp{k:02d}": k for k in range(1, 10)})
    clp = convert(
        doc,
        clp,
        [
            Field("clp01", "CLP01 (patient control number)", required=True),
            Field("clp02", "CLP02 (claim status)", required=True),
            Field("clp03", "CLP03", "money", required=True),
            Field("clp04", "CLP04", "money", required=True),
            Field("clp05", "CLP05", "money"),
        ],
    )
    bad_status = clp.filter(~pl.col("clp02").is_in(CLAIM_STATUS_CODES))
    if bad_status.height:
        raise doc.error(
            SegmentError,
            int(bad_status["segment_index"][0]),
            f"CLP02 claim status {bad_status['clp02'][0]!r} is not a known code "
            f"({', '.join(CLAIM_STATUS_CODES)})",
            "835 CLP02 claim status code",
        )
    for sid in ("CAS", "MIA", "MOA", "SVC", "LQ"):
        rows = loops.rows(doc, sid)
        stray = rows[loops.claim[rows] == 0]
        if stray.size:
            raise doc.error(
                SegmentError,
                int(stray[0]) + 1,
                f"{sid} segment is not inside a claim (loop 2100 starts at a CLP; "
                "LX, PLB and SE end it)",
                "835 loop structure",
            )
    return clp


def _claim_details(doc: X12Document, loops: _Loops) -> pl.DataFrame:
    """Per CLP row (in order): statement and received dates, patient, rendering provider."""
    clp = loops.rows(doc, "CLP") + 1
    dates: list[pl.Series] = []
    for qualifier, name in (
        ("232", "statement_from"),
        ("233", "statement_to"),
        ("050", "received_date"),
    ):
        converted = convert(
            doc,
            loops.child(doc, clp, "DTM", "claim", (1, qualifier), {name: 2}),
            [Field(name, f"DTM02 ({qualifier})", "date", required=True)],
            index_column="child_segment_index",
        )
        dates.append(converted[name])
    patient = loops.child(
        doc,
        clp,
        "NM1",
        "claim",
        (1, "QC"),
        {
            "patient_last_name": 3,
            "patient_first_name": 4,
            "patient_middle_name": 5,
            "patient_id_qualifier": 8,
            "patient_id": 9,
        },
    )
    rendering = loops.child(
        doc,
        clp,
        "NM1",
        "claim",
        (1, "82"),
        {"rendering_provider_id_qualifier": 8, "rendering_provider_id": 9},
    )
    return pl.concat(
        [
            pl.DataFrame(dates),
            patient.drop("child_segment_index"),
            rendering.drop("child_segment_index"),
        ],
        how="horizontal",
    )


def _claim_columns(out: pl.DataFrame) -> pl.DataFrame:
    return out.select(
        "transaction_index",
        "segment_index",
        pl.col("clp01").alias("patient_control_number"),
        pl.col("clp02").alias("claim_status_code"),
        pl.col("clp03").alias("charge_amount"),
        pl.col("clp04").alias("paid_amount"),
        pl.col("clp05").alias("patient_responsibility_amount"),
        pl.col("clp06").alias("claim_filing_indicator"),
        pl.col("clp07").alias("payer_claim_control_number"),
        pl.col("clp08").alias("facility_type_code"),
        pl.col("clp09").alias("claim_frequency_code"),
        "statement_from",
        "statement_to",
        "received_date",
        "patient_last_name",
        "patient_first_name",
        "patient_middle_name",
        "patient_id_qualifier",
        "patient_id",
        "rendering_provider_id_qualifier",
        "rendering_provider_id",
        pl.when(pl.col("rendering_provider_id_qualifier") == "XX")
        .then(pl.col("rendering_provider_id"))
        .alias("rendering_npi"),
    )


# --------------------------------------------------------------------------- lines


def _line_core(doc: X12Document, loops: _Loops, comp: str) -> pl.DataFrame:
    """One row per SVC with its elements checked and typed, SVC01 split (loop 2110)."""
    lines = loops.take(
        doc,
        "SVC",
        {
            "svc01": 1,
            "charge_amount": 2,
            "paid_amount": 3,
            "revenue_code": 4,
            "units": 5,
            "submitted_procedure": 6,
            "submitted_units": 7,
        },
    )
    lines = convert(
        doc,
        lines,
        [
            Field("svc01", "SVC01 (procedure)", required=True),
            Field("charge_amount", "SVC02", "money", required=True),
            Field("paid_amount", "SVC03", "money", required=True),
            Field("units", "SVC05", "number"),
            Field("submitted_units", "SVC07", "number"),
        ],
    )
    names = [
        "procedure_qualifier",
        "procedure_code",
        "modifier_1",
        "modifier_2",
        "modifier_3",
        "modifier_4",
        "procedure_description",
    ]
    lines = pl.concat([lines, split_composite(lines["svc01"], comp, names)], how="horizontal")
    bad = lines.filter(
        ~pl.col("procedure_qualifier").is_in(PRODUCT_QUALIFIERS)
        | pl.col("procedure_code").is_null()
    )
    if bad.height:
        row = bad.row(0, named=True)
        if row["procedure_qualifier"] not in PRODUCT_QUALIFIERS:
            reason = (
                f"SVC01 product/service qualifier {row['procedure_qualifier']!r} is not a known "
                f"code; the component separator of this file is {comp!r} (ISA16)"
            )
        else:
            reason = f"SVC01 {row['svc01']!r} has no procedure code (SVC01-2)"
        raise doc.error(SegmentError, row["segment_index"], reason, "835 SVC01 procedure composite")
    return lines


def _line_details(doc: X12Document, loops: _Loops) -> pl.DataFrame:
    """Per SVC row (in order): service dates, line item control number, allowed amount."""
    lines = loops.rows(doc, "SVC") + 1
    dates: list[pl.Series] = []
    for qualifier in ("472", "150", "151"):
        name = f"date_{qualifier}"
        converted = convert(
            doc,
            loops.child(doc, lines, "DTM", "line", (1, qualifier), {name: 2}),
            [Field(name, f"DTM02 ({qualifier})", "date", required=True)],
            index_column="child_segment_index",
        )
        dates.append(converted[name])
    ref = loops.child(doc, lines, "REF", "line", (1, "6R"), {"line_item_control_number": 2})
    amt = convert(
        doc,
        loops.child(doc, lines, "AMT", "line", (1, "B6"), {"allowed_amount": 2}),
        [Field("allowed_amount", "AMT02 (B6)", "money", required=True)],
        index_column="child_segment_index",
    )
    return pl.DataFrame([*dates, ref["line_item_control_number"], amt["allowed_amount"]])


def _line_columns(out: pl.DataFrame) -> pl.DataFrame:
    return out.select(
        "transaction_index",
        "segment_index",
        "claim_segment_index",
        "procedure_qualifier",
        "procedure_code",
        "modifier_1",
        "modifier_2",
        "modifier_3",
        "modifier_4",
        "procedure_description",
        "charge_amount",
        "paid_amount",
        "revenue_code",
        # SVC05 absent means one unit (TR3).
        pl.col("units").fill_null(1.0),
        "submitted_procedure",
        "submitted_units",
        pl.coalesce("date_472", "date_150").alias("service_date_from"),
        pl.coalesce("date_472", "date_151", "date_150").alias("service_date_to"),
        "line_item_control_number",
        "allowed_amount",
    )


# --------------------------------------------------------------------------- adjustments


def _adjustments(doc: X12Document, loops: _Loops, group_codes: tuple[str, ...]) -> pl.DataFrame:
    """One row per CAS triplet (claim or line level); ``line_segment_index`` null at claim level.

    Triplet k is read only from the CAS segments long enough to have it (most have one)."""
    rows = loops.rows(doc, "CAS")
    count = doc.element_count[rows]
    groups = loops.take(doc, "CAS", {"group_code": 1})
    bad_group = groups.filter(
        ~pl.col("group_code").is_in(group_codes) | pl.col("group_code").is_null()
    )
    if bad_group.height:
        row = bad_group.row(0, named=True)
        raise doc.error(
            SegmentError,
            row["segment_index"],
            f"CAS01 group code {row['group_code']!r} is not one of {', '.join(group_codes)}",
            "835 CAS01 claim adjustment group code",
        )
    columns = [
        "transaction_index",
        "segment_index",
        "claim_segment_index",
        "line_segment_index",
        "adjustment_position",
        "group_code",
        "reason_code",
        "amount",
        "quantity",
    ]
    # Triplet k (0-based) is elements 2+3k .. 4+3k; a CAS has it when count > 2+3k.
    n_triplets = np.clip((count - 3) // 3 + 1, 0, _CAS_TRIPLETS)
    total = int(n_triplets.sum())
    if total:
        # One row per (CAS, triplet), segment-major: already in file order, no sort.
        owner = np.repeat(np.arange(len(rows)), n_triplets)
        k = np.arange(total) - np.repeat(np.cumsum(n_triplets) - n_triplets, n_triplets)
        first = 2 + 3 * k
        triplets = (
            doc.take(
                rows[owner],
                {"reason_code": first, "amount": first + 1, "quantity": first + 2},
                {
                    "transaction_index": loops.transaction,
                    "claim_segment_index": loops.claim,
                    "line_segment_index": loops.line,
                },
            )
            .with_columns(
                pl.Series("adjustment_position", k + 1, dtype=pl.Int8),
                groups["group_code"].gather(owner).alias("group_code"),
            )
            .filter(pl.col("reason_code").is_not_null() | pl.col("amount").is_not_null())
            .select(columns)
        )
    else:
        triplets = groups.select(
            "transaction_index",
            "segment_index",
            "claim_segment_index",
            "line_segment_index",
            pl.lit(None, dtype=pl.Int8).alias("adjustment_position"),
            "group_code",
            *[
                pl.lit(None, dtype=pl.String).alias(c)
                for c in ("reason_code", "amount", "quantity")
            ],
        ).clear()
    triplets = triplets.with_columns(
        pl.col("transaction_index").cast(pl.Int32),
        _nonzero("claim_segment_index"),
        _nonzero("line_segment_index"),
    )
    return convert(
        doc,
        triplets,
        [
            Field("reason_code", "CAS reason code", required=True),
            Field("amount", "CAS amount", "money", required=True),
            Field("quantity", "CAS quantity", "number"),
        ],
    )


def _remarks(doc: X12Document, loops: _Loops) -> pl.DataFrame:
    """One row per remark code: LQ at line level, MOA/MIA remark elements at claim level."""
    columns = (
        "transaction_index",
        "segment_index",
        "claim_segment_index",
        "line_segment_index",
        "level",
        "source_segment",
        "element_position",
        "code_list_qualifier",
        "remark_code",
    )
    lq = loops.take(doc, "LQ", {"code_list_qualifier": 1, "remark_code": 2})
    frames = [
        lq.with_columns(
            pl.lit("line").alias("level"),
            pl.lit("LQ").alias("source_segment"),
            pl.lit(2, dtype=pl.Int8).alias("element_position"),
        ).select(columns)
    ]
    for sid, positions in (("MOA", _MOA_REMARKS), ("MIA", _MIA_REMARKS)):
        frame = loops.take(doc, sid, {f"r{k}": k for k in positions})
        for k in positions:
            frames.append(
                frame.select(
                    "transaction_index",
                    "segment_index",
                    "claim_segment_index",
                    pl.lit(None, dtype=pl.Int64).alias("line_segment_index"),
                    pl.lit("claim").alias("level"),
                    pl.lit(sid).alias("source_segment"),
                    pl.lit(k, dtype=pl.Int8).alias("element_position"),
                    pl.lit("HE").alias("code_list_qualifier"),
                    pl.col(f"r{k}").alias("remark_code"),
                )
            )
    return (
        pl.concat(frames)
        .filter(pl.col("remark_code").is_not_null())
        .sort("segment_index", "element_position")
    )


def _provider_adjustments(doc: X12Document, loops: _Loops, comp: str) -> pl.DataFrame:
    """One row per PLB adjustment reason/amount pair (PLB03/04 … PLB13/14)."""
    names = {"provider_id": 1, "fiscal_period_date": 2}
    for k in range(_PLB_PAIRS):
        names[f"reason_{k + 1}"] = 3 + 2 * k
        names[f"amount_{k + 1}"] = 4 + 2 * k
    plb = convert(
        doc,
        loops.take(doc, "PLB", names),
        [
            Field("provider_id", "PLB01 (provider identifier)", required=True),
            Field("fiscal_period_date", "PLB02 (fiscal period date)", "date", required=True),
        ],
    )
    pairs = pl.concat(
        [
            plb.select(
                "transaction_index",
                "segment_index",
                "provider_id",
                "fiscal_period_date",
                pl.lit(k + 1, dtype=pl.Int8).alias("adjustment_position"),
                pl.col(f"reason_{k + 1}").alias("reason"),
                pl.col(f"amount_{k + 1}").alias("amount"),
            ).filter(pl.col("reason").is_not_null() | pl.col("amount").is_not_null())
            for k in range(_PLB_PAIRS)
        ]
    ).sort("segment_index", "adjustment_position")
    pairs = convert(
        doc,
        pairs.with_columns(
            component(pl.col("reason"), 1, comp).alias("reason_code"),
            component(pl.col("reason"), 2, comp).alias("reference_id"),
        ),
        [
            Field("reason_code", "PLB adjustment reason (PLB03-1 …)", required=True),
            Field("amount", "PLB adjustment amount (PLB04 …)", "money", required=True),
        ],
    )
    return pairs.select(
        "transaction_index",
        "segment_index",
        "provider_id",
        "fiscal_period_date",
        "adjustment_position",
        "reason_code",
        "reference_id",
        "amount",
    )


# --------------------------------------------------------------------------- balancing


def _fmt(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)):.2f}"


def _cents(values: pl.Series) -> np.ndarray:
    """Decimal(18,2) amounts as int64 cents (the Decimal's own integer, no float)."""
    return values.to_physical().cast(pl.Int64).fill_null(0).to_numpy()


def _first_unbalanced(
    parent_index: np.ndarray,
    charge: np.ndarray,
    paid: np.ndarray,
    child_key: np.ndarray,
    child_amount: np.ndarray,
) -> tuple[int, int] | None:
    """Position of the first parent whose charge − Σ child amounts ≠ paid, and that sum.

    Children are in file order, so their parent keys are sorted: the sums come from a
    cumulative sum and two searchsorted, in exact integer cents."""
    running = np.concatenate([[0], np.cumsum(child_amount)])
    lo = np.searchsorted(child_key, parent_index, side="left")
    hi = np.searchsorted(child_key, parent_index, side="right")
    adjusted = running[hi] - running[lo]
    bad = np.flatnonzero(charge - adjusted != paid)
    if bad.size == 0:
        return None
    return int(bad[0]), int(adjusted[bad[0]])


def _balance(
    doc: X12Document,
    parents: pl.DataFrame,
    adjustments: pl.DataFrame,
    key: str,
    what: str,
    labels: tuple[str, str],
    rule: str,
) -> None:
    found = _first_unbalanced(
        parents["segment_index"].to_numpy(),
        _cents(parents["charge_amount"]),
        _cents(parents["paid_amount"]),
        adjustments[key].to_numpy(),
        _cents(adjustments["amount"]),
    )
    if found is None:
        return
    position, cents = found
    row = parents.row(position, named=True)
    cas = Decimal(cents).scaleb(-2)
    charge, paid = row["charge_amount"], row["paid_amount"]
    raise doc.error(
        BalancingError,
        row["segment_index"],
        f"{what} does not balance: {labels[0]} − ΣCAS = {_fmt(charge)} − {_fmt(cas)} = "
        f"{_fmt(charge - cas)} ≠ {labels[1]} = {_fmt(paid)}",
        rule,
    )


def _balance_lines(doc: X12Document, lines: pl.DataFrame, adjustments: pl.DataFrame) -> None:
    _balance(
        doc,
        lines,
        adjustments,
        "line_segment_index",
        "service line",
        ("SVC02", "SVC03"),
        "835 service line balancing",
    )


def _balance_claims(doc: X12Document, claims: pl.DataFrame, adjustments: pl.DataFrame) -> None:
    _balance(
        doc,
        claims,
        adjustments,
        "claim_segment_index",
        "claim",
        ("CLP03", "CLP04"),
        "835 claim balancing",
    )


def _balance_transactions(
    doc: X12Document, payments: pl.DataFrame, claims: pl.DataFrame, plb: pl.DataFrame
) -> None:
    paid = claims.group_by("transaction_index").agg(paid=pl.col("paid_amount").sum())
    adjusted = plb.group_by("transaction_index").agg(plb=pl.col("amount").sum())
    zero = pl.lit(0, dtype=MONEY)
    check = (
        payments.join(paid, on="transaction_index", how="left")
        .join(adjusted, on="transaction_index", how="left")
        .with_columns(pl.col("paid").fill_null(zero), pl.col("plb").fill_null(zero))
    )
    bad = check.filter(pl.col("paid") - pl.col("plb") != pl.col("payment_amount")).head(1)
    if bad.height:
        r = bad.row(0, named=True)
        net = r["paid"] - r["plb"]
        raise doc.error(
            BalancingError,
            r["segment_index"],
            "transaction does not balance: ΣCLP04 − ΣPLB = "
            f"{_fmt(r['paid'])} − {_fmt(r['plb'])} = {_fmt(net)} ≠ BPR02 = {_fmt(r['payment_amount'])}",
            "835 transaction balancing",
        )
