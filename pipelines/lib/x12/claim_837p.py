"""837 professional claim (005010X222A1) → typed Polars tables: claims, diagnoses, lines.

Loops are recovered columnar, as in the 835 reader: every segment gets the segment index
of its HL (2000A/B/C), CLM (2300), first SBR inside the claim (2320, other payers) and LX
(2400) by forward fills, and attributes are read from the first matching child segment
by a searchsorted on those keys. The hierarchy (billing provider 20 → subscriber 22 →
patient 23) is resolved through HL01/HL02 per transaction set.

Every row carries the interchange, group and transaction control numbers,
``transaction_index`` and the ``segment_index`` (1-based, ISA = 1) of the segment that
said it. Money is Decimal(18,2) parsed from text; dates are Date; codes are strings.

Checked (a file that fails is rejected with the segment named): the transaction set is an
837 of 005010X222 (A1; the A2 errata label is read the same); HL parents exist; billing
provider (NM1*85), subscriber (NM1*IL) and payer (NM1*PR) are present; CLM01, CLM02,
CLM05 place of service and frequency are present and well formed; each claim has lines,
each LX an SV1 with procedure, charge and units, and a DTP*472 service date; dates are
valid; diagnosis pointers point at a diagnosis; and CLM02 equals the sum of SV102
(TR3: the total claim charge must balance to the line charges).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.lib.errors import (
    BalancingError,
    SegmentError,
    UnsupportedTransactionError,
    value_shape,
)
from pipelines.lib.x12.tokenizer import (
    Field,
    X12Document,
    convert,
    first_children,
    forward_fill_marks,
    read_x12,
    run_parallel,
    split_composite,
    tokenize,
    with_lineage,
)

VERSIONS = ("005010X222A1", "005010X222A2", "005010X222")
PROCEDURE_QUALIFIERS = ("ER", "HC", "IV", "WK")
DIAGNOSIS_QUALIFIERS = ("ABK", "ABF", "BK", "BF")
LINEAGE = (
    "interchange_control_number",
    "group_control_number",
    "transaction_control_number",
    "transaction_index",
    "segment_index",
)
_HI_ELEMENTS = 12
_MAX_POINTERS = 4


@dataclass(frozen=True)
class Claims837P:
    """The tables of one 837P file. Every table starts with the lineage columns.

    claims: one row per CLM (loop 2300), with billing provider, rendering provider (2310B
        NPI, name and PRV*PE taxonomy; when 2310B is absent the billing provider's NPI,
        with null name and taxonomy), service facility (2310C), payer (2010BB),
        subscriber (2000B/2010BA) and patient (2000C/2010CA, or the subscriber), and the
        patient's medical record number (2300 REF*EA; null when the claim has none).
        ``segment_index`` is the CLM's.
    diagnoses: one row per HI code of a claim, in order (``position`` 1-based over the
        claim's HI segments; ``pointer`` is the number SV107 uses for diagnosis codes).
    service_lines: one row per LX (loop 2400) with its SV1, DTP*472 and REF*6R;
        ``segment_index`` is the SV1's, ``claim_segment_index`` the CLM's.
    """

    claims: pl.DataFrame
    diagnoses: pl.DataFrame
    service_lines: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        """Table name → frame, in load order."""
        return {
            "claims": self.claims,
            "diagnoses": self.diagnoses,
            "service_lines": self.service_lines,
        }


def read_837p(path: str | Path, file_name: str | None = None) -> Claims837P:
    """Read, tokenize and parse an 837P file (see :func:`parse_837p`)."""
    return parse_837p(read_x12(path, file_name=file_name))


def parse_837p_bytes(data: bytes, file_name: str = "<bytes>") -> Claims837P:
    """Tokenize and parse 837P bytes (see :func:`parse_837p`)."""
    return parse_837p(tokenize(data, file_name=file_name))


def parse_837p(doc: X12Document) -> Claims837P:
    """Parse every transaction set of ``doc`` as an 837P.

    Raises:
        UnsupportedTransactionError: not an 837, or not 005010X222 (e.g. 837I, 4010).
        SegmentError: a required segment or element missing, a malformed value, a broken
            HL hierarchy or a dangling diagnosis pointer.
        BalancingError: CLM02 differs from the sum of the claim's SV102.
    """
    _check_transactions(doc)
    loops = _Loops.of(doc)

    def claims_part() -> pl.DataFrame:
        return _claims(doc, loops, _hierarchy(doc, loops))

    def lines_part() -> tuple[pl.DataFrame, pl.DataFrame]:
        diagnoses = _diagnoses(doc, loops)
        return diagnoses, _service_lines(doc, loops, diagnoses)

    # Independent until the final checks; errors surface in this order (claims first).
    claims, (diagnoses, lines) = run_parallel(claims_part, lines_part)
    _check_claims_have_lines(doc, claims, lines)
    _balance(doc, claims, lines)

    def lineage(frame: pl.DataFrame) -> pl.DataFrame:
        return with_lineage(doc, frame, LINEAGE)

    counts = lines.group_by("claim_segment_index").agg(line_count=pl.len())
    claims = claims.join(
        counts, left_on="segment_index", right_on="claim_segment_index", how="left"
    ).with_columns(pl.col("line_count").fill_null(0).cast(pl.Int64))
    return Claims837P(
        claims=lineage(claims), diagnoses=lineage(diagnoses), service_lines=lineage(lines)
    )


# --------------------------------------------------------------------------- structure


def _check_transactions(doc: X12Document) -> None:
    tx = doc.transactions
    if tx.height == 0:
        raise SegmentError("the file has no transaction sets", file=doc.file_name, rule="X12 ST")
    for row in tx.iter_rows(named=True):
        if row["transaction_set_id"] != "837":
            raise doc.error(
                UnsupportedTransactionError,
                row["st_segment_index"],
                f"transaction set {row['transaction_set_id']!r} is not an 837 claim",
                "837P transaction set (ST01 = 837)",
            )
        version = row["implementation_reference"] or row["version"]
        if version not in VERSIONS:
            kind = "institutional (837I)" if "X223" in (version or "") else "an unsupported guide"
            raise doc.error(
                UnsupportedTransactionError,
                row["st_segment_index"],
                f"837 version {version!r} (ST03/GS08) is {kind}: expected 005010X222A1 (837P)",
                "837P implementation guide version",
            )


@dataclass(frozen=True)
class _Loops:
    """Per segment row: transaction, HL, CLM, in-claim SBR (2320) and LX segment index
    (0 when none)."""

    transaction: np.ndarray
    hl: np.ndarray
    claim: np.ndarray
    cob: np.ndarray
    line: np.ndarray

    @staticmethod
    def of(doc: X12Document) -> _Loops:
        claim = forward_fill_marks(doc, ("CLM",), ("HL", "ST", "SE"))
        sbr = forward_fill_marks(doc, ("SBR",), ("HL", "CLM", "LX", "ST", "SE"))
        return _Loops(
            transaction=doc.segments["transaction_index"].fill_null(0).to_numpy(),
            hl=forward_fill_marks(doc, ("HL",), ("ST", "SE")),
            claim=claim,
            # An SBR after the CLM opens loop 2320 (other subscriber); before it, 2000B.
            cob=np.where(sbr > claim, sbr, 0) * (claim > 0),
            line=forward_fill_marks(doc, ("LX",), ("HL", "CLM", "ST", "SE")),
        )

    def rows(
        self,
        doc: X12Document,
        segment_id: str,
        level: str,
        qualifier: tuple[int, str] | None = None,
    ) -> np.ndarray:
        """Rows of a segment id at ``level``: ``hl`` (2000A/B/C before any claim),
        ``claim`` (2300/2310), ``line`` (2400/2420); optionally with a qualifier."""
        rows = doc.rows(segment_id)
        if level == "hl":
            rows = rows[(self.claim[rows] == 0) & (self.hl[rows] > 0)]
        elif level == "claim":
            rows = rows[(self.claim[rows] > 0) & (self.cob[rows] == 0) & (self.line[rows] == 0)]
        elif level == "line":
            rows = rows[self.line[rows] > 0]
        if qualifier is not None:
            rows = rows[doc.element_equals(rows, *qualifier)]
        return rows

    def take(
        self,
        doc: X12Document,
        segment_id: str,
        elements: dict[str, int],
        level: str,
        qualifier: tuple[int, str] | None = None,
    ) -> pl.DataFrame:
        rows = self.rows(doc, segment_id, level, qualifier)
        frame = doc.take(
            rows,
            elements,
            {
                "transaction_index": self.transaction,
                "hl_segment_index": self.hl,
                "claim_segment_index": self.claim,
                "line_segment_index": self.line,
            },
        )
        return frame.with_columns(pl.col("transaction_index").cast(pl.Int32))

    def child(
        self,
        doc: X12Document,
        parent_index: np.ndarray,
        segment_id: str,
        level: str,
        qualifier: tuple[int, str] | None,
        elements: dict[str, int],
    ) -> pl.DataFrame:
        """Elements of the first ``segment_id`` child of each parent (HL, CLM or LX)."""
        rows = self.rows(doc, segment_id, level, qualifier)
        keys = {"hl": self.hl, "claim": self.claim, "line": self.line}[level][rows]
        return first_children(doc, parent_index, rows, keys, elements)


# --------------------------------------------------------------------------- hierarchy


def _hierarchy(doc: X12Document, loops: _Loops) -> pl.DataFrame:
    """One row per HL with its level's data: billing provider (20), subscriber and payer
    (22), patient (23); ``parent_segment_index`` resolves HL02 within the transaction."""
    hl = doc.take(
        doc.rows("HL"),
        {"hl_id": 1, "parent_id": 2, "level_code": 3},
        {"transaction_index": loops.transaction},
    ).with_columns(pl.col("transaction_index").cast(pl.Int32))
    bad = hl.filter(pl.col("hl_id").is_null() | pl.col("level_code").is_null())
    if bad.height:
        raise doc.error(
            SegmentError,
            int(bad["segment_index"][0]),
            "HL01 (id) and HL03 (level code) are required",
            "837P HL hierarchy",
        )
    parents = hl.select(
        "transaction_index",
        pl.col("hl_id").alias("parent_id"),
        pl.col("segment_index").alias("parent_segment_index"),
        pl.col("level_code").alias("parent_level_code"),
    )
    hl = hl.join(parents, on=["transaction_index", "parent_id"], how="left")
    dangling = hl.filter(
        pl.col("parent_id").is_not_null() & pl.col("parent_segment_index").is_null()
    )
    if dangling.height:
        row = dangling.row(0, named=True)
        raise doc.error(
            SegmentError,
            row["segment_index"],
            f"HL02 parent {row['parent_id']!r} is not an HL01 of this transaction set",
            "837P HL hierarchy",
        )
    index = hl["segment_index"].to_numpy()

    def child(
        sid: str, qualifier: tuple[int, str] | None, elements: dict[str, int]
    ) -> pl.DataFrame:
        return loops.child(doc, index, sid, "hl", qualifier, elements)

    billing = child(
        "NM1", (1, "85"), {"billing_provider_name": 3, "billing_id_qualifier": 8, "billing_id": 9}
    ).rename({"child_segment_index": "billing_nm1"})
    ein = child("REF", (1, "EI"), {"billing_ein": 2}).drop("child_segment_index")
    ssn = child("REF", (1, "SY"), {"billing_ssn": 2}).drop("child_segment_index")
    sbr = child(
        "SBR",
        None,
        {
            "payer_responsibility": 1,
            "sbr_relationship": 2,
            "group_number": 3,
            "claim_filing_indicator": 9,
        },
    ).rename({"child_segment_index": "sbr_segment_index"})
    subscriber = child(
        "NM1",
        (1, "IL"),
        {"subscriber_last_name": 3, "subscriber_first_name": 4, "subscriber_member_id": 9},
    ).rename({"child_segment_index": "subscriber_nm1"})
    payer = child("NM1", (1, "PR"), {"payer_name": 3, "payer_id": 9}).rename(
        {"child_segment_index": "payer_nm1"}
    )
    patient = child("NM1", (1, "QC"), {"patient_last_name": 3, "patient_first_name": 4}).rename(
        {"child_segment_index": "patient_nm1"}
    )
    pat = child("PAT", None, {"pat_relationship": 1}).drop("child_segment_index")
    dmg = convert(
        doc,
        child("DMG", (1, "D8"), {"birth_date": 2, "sex": 3}),
        [Field("birth_date", "DMG02 (birth date)", "date", required=True)],
        index_column="child_segment_index",
    ).drop("child_segment_index")
    return pl.concat(
        [hl, billing, ein, ssn, sbr, subscriber, payer, patient, pat, dmg], how="horizontal"
    )


# --------------------------------------------------------------------------- claims


def _claims(doc: X12Document, loops: _Loops, hl: pl.DataFrame) -> pl.DataFrame:
    clm = loops.take(
        doc,
        "CLM",
        {
            "patient_control_number": 1,
            "total_charge_amount": 2,
            "clm05": 5,
            "provider_signature": 6,
            "assignment_code": 7,
            "benefits_assignment": 8,
            "release_of_information": 9,
        },
        "claim",
    )
    clm = convert(
        doc,
        clm,
        [
            Field("patient_control_number", "CLM01 (patient control number)", required=True),
            Field("total_charge_amount", "CLM02 (total claim charge)", "money", required=True),
            Field("clm05", "CLM05 (place of service : qualifier : frequency)", required=True),
        ],
    )
    clm = pl.concat(
        [
            clm,
            split_composite(
                clm["clm05"],
                doc.delimiters.component,
                ["place_of_service", "facility_code_qualifier", "claim_frequency_code"],
            ),
        ],
        how="horizontal",
    )
    bad = clm.filter(
        ~pl.col("place_of_service").fill_null("").str.contains(r"^\d{2}$")
        | pl.col("claim_frequency_code").is_null()
    )
    if bad.height:
        row = bad.row(0, named=True)
        raise doc.error(
            SegmentError,
            row["segment_index"],
            f"CLM05 {row['clm05']!r} needs a two-digit place of service and a frequency code "
            f"split by the component separator {doc.delimiters.component!r} (ISA16), e.g. "
            f"11{doc.delimiters.component}B{doc.delimiters.component}1",
            "837P CLM05 health care service location",
        )
    index = clm["segment_index"].to_numpy()
    f8 = loops.child(doc, index, "REF", "claim", (1, "F8"), {"payer_claim_control_number": 2})
    # REF*EA: the patient's medical record number at the practice (situational, max 1)
    mrn = loops.child(doc, index, "REF", "claim", (1, "EA"), {"medical_record_number": 2})
    rendering = loops.child(
        doc,
        index,
        "NM1",
        "claim",
        (1, "82"),
        {"r_last_name": 3, "r_first_name": 4, "r_qual": 8, "r_id": 9},
    )
    # PRV*PE in 2310B: the rendering provider's taxonomy (PRV02 PXC, PRV03 the code)
    taxonomy = loops.child(doc, index, "PRV", "claim", (1, "PE"), {"r_taxonomy": 3})
    facility = loops.child(
        doc, index, "NM1", "claim", (1, "77"), {"service_facility_name": 3, "f_qual": 8, "f_id": 9}
    )
    clm = pl.concat(
        [
            clm,
            f8.drop("child_segment_index"),
            mrn.drop("child_segment_index"),
            rendering.rename({"child_segment_index": "rendering_nm1"}),
            taxonomy.drop("child_segment_index"),
            facility.drop("child_segment_index"),
        ],
        how="horizontal",
    )

    # The claim's HL is a subscriber (22, patient = subscriber) or a patient (23).
    own = hl.select(
        pl.col("segment_index").alias("hl_segment_index"),
        pl.col("level_code").alias("claim_hl_level"),
        "parent_segment_index",
        *[pl.col(c).alias(f"own_{c}") for c in _PERSON_COLUMNS],
    )
    clm = clm.join(own, on="hl_segment_index", how="left")
    wrong = clm.filter(~pl.col("claim_hl_level").is_in(["22", "23"]).fill_null(False))
    if wrong.height:
        row = wrong.row(0, named=True)
        raise doc.error(
            SegmentError,
            row["segment_index"],
            f"claim is under an HL of level {row['claim_hl_level']!r}; it must be under a "
            "subscriber (22) or patient (23) HL",
            "837P HL hierarchy",
        )
    clm = clm.with_columns(
        subscriber_hl=pl.when(pl.col("claim_hl_level") == "22")
        .then(pl.col("hl_segment_index"))
        .otherwise(pl.col("parent_segment_index"))
    )
    sub = hl.select(
        pl.col("segment_index").alias("subscriber_hl"),
        pl.col("parent_segment_index").alias("billing_hl"),
        *_SUBSCRIBER_COLUMNS,
    )
    bill = hl.select(
        pl.col("segment_index").alias("billing_hl"),
        "billing_provider_name",
        "billing_id_qualifier",
        "billing_id",
        "billing_ein",
        "billing_ssn",
        "billing_nm1",
    )
    clm = clm.join(sub, on="subscriber_hl", how="left").join(bill, on="billing_hl", how="left")
    for column, what, rule_segment in (
        ("billing_nm1", "billing provider (loop 2010AA NM1*85)", "billing_hl"),
        ("subscriber_nm1", "subscriber (loop 2010BA NM1*IL)", "subscriber_hl"),
        ("payer_nm1", "payer (loop 2010BB NM1*PR)", "subscriber_hl"),
    ):
        missing = clm.filter(pl.col(column).is_null())
        if missing.height:
            row = missing.row(0, named=True)
            raise doc.error(
                SegmentError,
                row[rule_segment] or row["segment_index"],
                # The CLM's place, not its CLM01: a patient account number is PHI.
                f"the claim at segment {row['segment_index']} (CLM) has no {what}",
                "837P required loop",
            )
    # BHT04: the day the batch was created, i.e. when the practice submitted the claims
    bht = doc.take(
        doc.rows("BHT"), {"submission_date": 4}, {"transaction_index": loops.transaction}
    )
    bht = convert(
        doc,
        bht,
        [Field("submission_date", "BHT04 (transaction creation date)", "date", required=True)],
    )
    clm = clm.join(
        bht.select(pl.col("transaction_index").cast(pl.Int32), "submission_date").unique(
            "transaction_index", keep="first"
        ),
        on="transaction_index",
        how="left",
    )
    is_patient_hl = pl.col("claim_hl_level") == "23"
    return clm.select(
        "transaction_index",
        "segment_index",
        "patient_control_number",
        "total_charge_amount",
        "place_of_service",
        "facility_code_qualifier",
        "claim_frequency_code",
        "provider_signature",
        "assignment_code",
        "benefits_assignment",
        "release_of_information",
        "payer_claim_control_number",
        "medical_record_number",
        "submission_date",
        "billing_provider_name",
        pl.when(pl.col("billing_id_qualifier") == "XX")
        .then(pl.col("billing_id"))
        .alias("billing_provider_npi"),
        pl.coalesce("billing_ein", "billing_ssn").alias("billing_provider_tax_id"),
        pl.when(pl.col("billing_ein").is_not_null())
        .then(pl.lit("EI"))
        .when(pl.col("billing_ssn").is_not_null())
        .then(pl.lit("SY"))
        .alias("billing_provider_tax_id_qualifier"),
        pl.coalesce(
            pl.when(pl.col("r_qual") == "XX").then(pl.col("r_id")),
            pl.when(pl.col("billing_id_qualifier") == "XX").then(pl.col("billing_id")),
        ).alias("rendering_provider_npi"),
        pl.when(pl.col("rendering_nm1").is_not_null())
        .then(pl.lit("2310B"))
        .otherwise(pl.lit("billing provider"))
        .alias("rendering_provider_source"),
        # Names and taxonomy only from 2310B: a billing-provider fallback has neither
        pl.col("r_last_name").alias("rendering_provider_last_name"),
        pl.col("r_first_name").alias("rendering_provider_first_name"),
        pl.col("r_taxonomy").alias("rendering_provider_taxonomy"),
        "service_facility_name",
        pl.when(pl.col("f_qual") == "XX").then(pl.col("f_id")).alias("service_facility_npi"),
        "payer_name",
        "payer_id",
        "payer_responsibility",
        "claim_filing_indicator",
        "group_number",
        "subscriber_member_id",
        "subscriber_last_name",
        "subscriber_first_name",
        pl.col("birth_date").alias("subscriber_birth_date"),
        pl.col("sex").alias("subscriber_sex"),
        # Relationship of patient to subscriber: PAT01 in 2000C, else SBR02 (18 = self).
        pl.when(is_patient_hl)
        .then(pl.col("own_pat_relationship"))
        .otherwise(pl.col("sbr_relationship"))
        .alias("patient_relationship"),
        # The patient is the 2000C person when there is one, else the subscriber
        *(
            pl.when(is_patient_hl).then(pl.col(own)).otherwise(pl.col(sub)).alias(out)
            for own, sub, out in (
                ("own_patient_last_name", "subscriber_last_name", "patient_last_name"),
                ("own_patient_first_name", "subscriber_first_name", "patient_first_name"),
                ("own_birth_date", "birth_date", "patient_birth_date"),
                ("own_sex", "sex", "patient_sex"),
            )
        ),
    )


_PERSON_COLUMNS = (
    "patient_last_name",
    "patient_first_name",
    "pat_relationship",
    "birth_date",
    "sex",
)
_SUBSCRIBER_COLUMNS = (
    "payer_responsibility",
    "sbr_relationship",
    "group_number",
    "claim_filing_indicator",
    "subscriber_last_name",
    "subscriber_first_name",
    "subscriber_member_id",
    "subscriber_nm1",
    "payer_name",
    "payer_id",
    "payer_nm1",
    "birth_date",
    "sex",
)


# --------------------------------------------------------------------------- diagnoses


def _diagnoses(doc: X12Document, loops: _Loops) -> pl.DataFrame:
    """One row per HI composite of a claim, in order, with its diagnosis pointer number."""
    hi = loops.take(doc, "HI", {f"hi{k:02d}": k for k in range(1, _HI_ELEMENTS + 1)}, "claim")
    comp = doc.delimiters.component
    frames = []
    for k in range(1, _HI_ELEMENTS + 1):
        parts = split_composite(hi[f"hi{k:02d}"], comp, ["qualifier", "code"])
        frames.append(
            pl.concat(
                [
                    hi.select(
                        "transaction_index",
                        "segment_index",
                        "claim_segment_index",
                        pl.lit(k, dtype=pl.Int8).alias("element_position"),
                        pl.col(f"hi{k:02d}").alias("composite"),
                    ),
                    parts,
                ],
                how="horizontal",
            ).filter(pl.col("composite").is_not_null())
        )
    dx = pl.concat(frames).sort("segment_index", "element_position")
    bad = dx.filter(pl.col("qualifier").is_null() | pl.col("code").is_null())
    if bad.height:
        row = bad.row(0, named=True)
        raise doc.error(
            SegmentError,
            row["segment_index"],
            f"HI{row['element_position']:02d} {row['composite']!r} is not qualifier{comp}code",
            "837P HI health care code composite",
        )
    is_dx = pl.col("qualifier").is_in(DIAGNOSIS_QUALIFIERS)
    return dx.with_columns(
        position=pl.int_range(1, pl.len() + 1, dtype=pl.Int16).over("claim_segment_index"),
        pointer=pl.when(is_dx)
        .then(is_dx.cast(pl.Int16).cum_sum().over("claim_segment_index"))
        .cast(pl.Int16),
        is_principal=pl.col("qualifier").is_in(["ABK", "BK"]),
    ).select(
        "transaction_index",
        "segment_index",
        "claim_segment_index",
        "position",
        "pointer",
        "qualifier",
        "code",
        "is_principal",
    )


# --------------------------------------------------------------------------- lines


def _service_lines(doc: X12Document, loops: _Loops, diagnoses: pl.DataFrame) -> pl.DataFrame:
    lx = loops.take(doc, "LX", {"line_number": 1}, "line")
    index = lx["segment_index"].to_numpy()
    sv1 = loops.child(
        doc,
        index,
        "SV1",
        "line",
        None,
        {
            "sv101": 1,
            "charge_amount": 2,
            "unit_basis": 3,
            "units": 4,
            "place_of_service": 5,
            "sv107": 7,
            "emergency_indicator": 9,
        },
    ).rename({"child_segment_index": "sv1_segment_index"})
    missing = lx.filter(sv1["sv1_segment_index"].is_null())
    if missing.height:
        raise doc.error(
            SegmentError,
            int(missing["segment_index"][0]),
            "service line (LX) has no SV1 professional service segment",
            "837P required segment",
        )
    lines = pl.concat([lx, sv1], how="horizontal")
    lines = convert(
        doc,
        lines,
        [
            Field("sv101", "SV101 (procedure)", required=True),
            Field("charge_amount", "SV102 (line charge)", "money", required=True),
            Field("units", "SV104 (units)", "number", required=True),
            Field("sv107", "SV107 (diagnosis pointers)", required=True),
        ],
        index_column="sv1_segment_index",
    )
    comp = doc.delimiters.component
    procedure = split_composite(
        lines["sv101"],
        comp,
        [
            "procedure_qualifier",
            "procedure_code",
            "modifier_1",
            "modifier_2",
            "modifier_3",
            "modifier_4",
            "procedure_description",
        ],
    )
    pointers = split_composite(
        lines["sv107"], comp, [f"diagnosis_pointer_{k}" for k in range(1, _MAX_POINTERS + 1)]
    )
    lines = pl.concat([lines, procedure, pointers], how="horizontal")
    bad = lines.filter(
        ~pl.col("procedure_qualifier").is_in(PROCEDURE_QUALIFIERS)
        | pl.col("procedure_code").is_null()
    )
    if bad.height:
        row = bad.row(0, named=True)
        raise doc.error(
            SegmentError,
            row["sv1_segment_index"],
            f"SV101 {row['sv101']!r} is not a procedure composite (qualifier "
            f"{'/'.join(PROCEDURE_QUALIFIERS)}{comp}code{comp}modifiers)",
            "837P SV101 procedure composite",
        )
    pointer_columns = [f"diagnosis_pointer_{k}" for k in range(1, _MAX_POINTERS + 1)]
    bad = lines.filter(
        pl.any_horizontal(
            pl.col(c).is_not_null() & ~pl.col(c).str.contains(r"^(?:[1-9]|1[0-2])$")
            for c in pointer_columns
        )
    )
    if bad.height:
        row = bad.row(0, named=True)
        raise doc.error(
            SegmentError,
            row["sv1_segment_index"],
            f"SV107 {row['sv107']!r}: diagnosis pointers must be numbers 1 to 12",
            "837P SV107 diagnosis code pointers",
        )
    lines = lines.with_columns(pl.col(c).cast(pl.Int8) for c in pointer_columns)
    dx_count = diagnoses.group_by("claim_segment_index").agg(dx_count=pl.col("pointer").max())
    lines = lines.join(dx_count, on="claim_segment_index", how="left")
    dangling = lines.filter(pl.max_horizontal(*pointer_columns) > pl.col("dx_count").fill_null(0))
    if dangling.height:
        row = dangling.row(0, named=True)
        raise doc.error(
            SegmentError,
            row["sv1_segment_index"],
            f"SV107 {row['sv107']!r} points past the claim's {row['dx_count'] or 0} diagnosis codes",
            "837P SV107 diagnosis code pointers",
        )

    dtp = loops.child(doc, index, "DTP", "line", (1, "472"), {"date_format": 2, "date_value": 3})
    ref = loops.child(doc, index, "REF", "line", (1, "6R"), {"line_item_control_number": 2})
    lines = pl.concat(
        [
            lines,
            dtp.rename({"child_segment_index": "dtp_segment_index"}),
            ref.drop("child_segment_index"),
        ],
        how="horizontal",
    )
    no_date = lines.filter(pl.col("dtp_segment_index").is_null())
    if no_date.height:
        raise doc.error(
            SegmentError,
            int(no_date["segment_index"][0]),
            "service line has no DTP*472 service date",
            "837P required segment",
        )
    lines = lines.with_columns(
        date_from=pl.col("date_value").str.slice(0, 8),
        date_to=pl.when(pl.col("date_format") == "RD8")
        .then(pl.col("date_value").str.slice(9, 8))
        .otherwise(pl.col("date_value").str.slice(0, 8)),
    )
    bad_format = lines.filter(
        ~(
            ((pl.col("date_format") == "D8") & pl.col("date_value").str.contains(r"^\d{8}$"))
            | (
                (pl.col("date_format") == "RD8")
                & pl.col("date_value").str.contains(r"^\d{8}-\d{8}$")
            )
        )
    )
    if bad_format.height:
        row = bad_format.row(0, named=True)
        raise doc.error(
            SegmentError,
            row["dtp_segment_index"],
            f"DTP*472 {row['date_format']!r} (date shaped {value_shape(row['date_value'])!r}) "
            "is not D8 CCYYMMDD or RD8 CCYYMMDD-CCYYMMDD",
            "X12 DT date",
        )
    lines = convert(
        doc,
        lines,
        [
            Field("date_from", "DTP03 (service date)", "date", required=True),
            Field("date_to", "DTP03 (service date)", "date", required=True),
        ],
        index_column="dtp_segment_index",
    )
    return lines.select(
        "transaction_index",
        pl.col("sv1_segment_index").alias("segment_index"),
        "claim_segment_index",
        pl.col("segment_index").alias("lx_segment_index"),
        "line_number",
        "procedure_qualifier",
        "procedure_code",
        "modifier_1",
        "modifier_2",
        "modifier_3",
        "modifier_4",
        "procedure_description",
        "charge_amount",
        "unit_basis",
        "units",
        "place_of_service",
        *pointer_columns,
        "emergency_indicator",
        pl.col("date_from").alias("service_date_from"),
        pl.col("date_to").alias("service_date_to"),
        "line_item_control_number",
    )


# --------------------------------------------------------------------------- checks


def _check_claims_have_lines(doc: X12Document, claims: pl.DataFrame, lines: pl.DataFrame) -> None:
    without = claims.join(
        lines.select("claim_segment_index").unique(),
        left_on="segment_index",
        right_on="claim_segment_index",
        how="anti",
    )
    if without.height:
        raise doc.error(
            SegmentError,
            int(without["segment_index"][0]),
            "claim has no service lines (loop 2400 LX/SV1)",
            "837P required loop",
        )
    stray = lines.filter(pl.col("claim_segment_index") == 0)
    if stray.height:
        raise doc.error(
            SegmentError,
            int(stray["lx_segment_index"][0]),
            "service line (LX) outside a claim",
            "837P loop structure",
        )


def _balance(doc: X12Document, claims: pl.DataFrame, lines: pl.DataFrame) -> None:
    sums = lines.group_by("claim_segment_index").agg(lines_total=pl.col("charge_amount").sum())
    check = claims.join(sums, left_on="segment_index", right_on="claim_segment_index", how="left")
    bad = check.filter(pl.col("lines_total") != pl.col("total_charge_amount")).head(1)
    if bad.height:
        row = bad.row(0, named=True)
        total: Decimal = row["total_charge_amount"]
        lines_total: Decimal = row["lines_total"]
        raise doc.error(
            BalancingError,
            row["segment_index"],
            f"claim charge does not balance: CLM02 = {total:.2f} ≠ ΣSV102 = {lines_total:.2f}",
            "837P CLM02 = Σ SV102",
        )
