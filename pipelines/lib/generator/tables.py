"""The tables a simulated practice is made of: the contract between the simulation and the
writers (X12 837P/835, CSV extracts, truth ledger).

Conventions
- Money is integer cents (Int64, column suffix ``_cents``): exact and vectorisable. Writers
  turn cents into decimal text; the ledger turns them into DECIMAL(18,2).
- Dates are ``pl.Date``; timestamps ``pl.Datetime("us")`` in practice local time.
- Codes are strings (leading zeros matter). ICD-10-CM codes are stored without the dot
  ("E119"), as X12 carries them.
- Every frame is sorted by its key before it is handed over, so output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

Money = pl.Int64
Codes = pl.List(pl.Utf8)


@dataclass(frozen=True)
class Practice:
    """The billing entity (loop 2010AA in the 837P, the payee N1*PE in the 835)."""

    name: str
    npi: str  # group (type 2) NPI
    tin: str  # federal tax id, 9 digits, no dash
    taxonomy: str  # 207Q00000X family medicine
    address1: str
    city: str
    state: str
    zip: str  # 9 digits, as 5010 requires for the billing provider
    contact_name: str
    phone: str  # 10 digits
    submitter_id: str  # ETIN the clearinghouse assigned (ISA06 / 1000A NM109)
    receiver_id: str  # clearinghouse id (ISA08 / 1000B NM109)
    receiver_name: str


SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    # One row per payer (health plan). payer_class: medicare, medicare_advantage,
    # medicaid, commercial. filing_indicator is SBR09 / CLP06 (MB, 16, MC, CI, BL, HM).
    "payers": {
        "payer_id": pl.Utf8,  # electronic payer id (2010BB NM109, 835 N1*PR REF*2U)
        "name": pl.Utf8,
        "payer_class": pl.Utf8,
        "filing_indicator": pl.Utf8,
        "address1": pl.Utf8,
        "city": pl.Utf8,
        "state": pl.Utf8,
        "zip": pl.Utf8,
        "phone": pl.Utf8,
    },
    "locations": {
        "location_id": pl.Utf8,
        "name": pl.Utf8,
        "npi": pl.Utf8,
        "address1": pl.Utf8,
        "city": pl.Utf8,
        "state": pl.Utf8,
        "zip": pl.Utf8,  # 9 digits
    },
    "providers": {
        "provider_id": pl.Utf8,
        "npi": pl.Utf8,  # type 1 NPI, valid Luhn check digit
        "last_name": pl.Utf8,
        "first_name": pl.Utf8,
        "credential": pl.Utf8,  # MD, DO, NP, PA
        "taxonomy": pl.Utf8,
        "location_id": pl.Utf8,
        "start_date": pl.Date,
    },
    "patients": {
        "patient_id": pl.Utf8,  # practice MRN
        "last_name": pl.Utf8,
        "first_name": pl.Utf8,
        "dob": pl.Date,
        "sex": pl.Utf8,  # F, M
        "address1": pl.Utf8,
        "city": pl.Utf8,
        "state": pl.Utf8,
        "zip": pl.Utf8,
        "phone": pl.Utf8,
        "created_date": pl.Date,
        "home_location_id": pl.Utf8,
        "pcp_provider_id": pl.Utf8,
    },
    # One row per coverage period. priority 1 = primary, 2 = secondary. relationship is
    # the patient's relationship to the subscriber: "18" self, "19" child.
    "coverages": {
        "coverage_id": pl.Utf8,
        "patient_id": pl.Utf8,
        "payer_id": pl.Utf8,
        "priority": pl.Int8,
        "member_id": pl.Utf8,
        "group_number": pl.Utf8,  # may be null (Medicare, Medicaid)
        "relationship": pl.Utf8,
        "subscriber_last": pl.Utf8,
        "subscriber_first": pl.Utf8,
        "subscriber_dob": pl.Date,
        "subscriber_sex": pl.Utf8,
        "start_date": pl.Date,
        "end_date": pl.Date,  # null = open ended
    },
    # ---- 837P: one row per claim sent (original, corrected, void, secondary) ----
    "claim_submissions": {
        "submission_id": pl.Int64,
        "claim_id": pl.Utf8,  # CLM01 patient control number (one per encounter)
        "patient_id": pl.Utf8,  # practice MRN, 2300 REF*EA medical record number
        "coverage_id": pl.Utf8,  # the coverage billed (subscriber, member id)
        "payer_id": pl.Utf8,
        "payer_responsibility": pl.Utf8,  # SBR01: P primary, S secondary
        "frequency": pl.Utf8,  # CLM05-3: 1 original, 7 replacement, 8 void
        "payer_claim_ref": pl.Utf8,  # REF*F8 original payer claim number (7/8 only)
        "submit_date": pl.Date,  # the 837 batch date (one file per day)
        "service_date": pl.Date,
        "provider_id": pl.Utf8,  # rendering provider (2310B)
        "location_id": pl.Utf8,  # service facility (2310C)
        "place_of_service": pl.Utf8,  # CLM05-1, "11" office
        "total_charge_cents": Money,  # CLM02 = sum of its lines
        "diagnoses": Codes,  # HI: first is principal (ABK), rest ABF; max 12
        "prior_payer_id": pl.Utf8,  # secondary claims: the primary payer (2330B)
        "prior_coverage_id": pl.Utf8,  # secondary claims: the primary coverage (2320/2330A)
        "prior_paid_cents": Money,  # 2320 AMT*D
        "prior_adjudication_date": pl.Date,  # 2430 DTP*573 / 2330B DTP*573
    },
    "submission_lines": {
        "submission_id": pl.Int64,
        "line_no": pl.Int16,  # LX01, 1..50
        "line_ctrl": pl.Utf8,  # REF*6R line item control number, echoed by the 835
        "procedure": pl.Utf8,  # CPT/HCPCS
        "modifiers": Codes,  # up to 4
        "charge_cents": Money,
        "units": pl.Int32,
        "service_date": pl.Date,  # DTP*472
        "dx_pointers": pl.List(pl.Int8),  # 1-based into the claim's diagnoses, up to 4
        "prior_paid_cents": Money,  # secondary claims: SVD02 of the primary (else null)
    },
    # Secondary claims: the primary payer's line adjustments (2430 CAS). Empty otherwise.
    "submission_line_prior_adjustments": {
        "submission_id": pl.Int64,
        "line_no": pl.Int16,
        "group": pl.Utf8,
        "reason": pl.Utf8,
        "amount_cents": Money,
        "quantity": pl.Int32,  # null when not given
    },
    # ---- 835: one row per payment (one 835 file each) ----
    "remit_payments": {
        "payment_id": pl.Int64,
        "payer_id": pl.Utf8,
        "trace_number": pl.Utf8,  # TRN02, unique per payer
        "method": pl.Utf8,  # BPR04: ACH or CHK
        "payment_date": pl.Date,  # BPR16
        "production_date": pl.Date,  # DTM*405
        "total_cents": Money,  # BPR02 = sum(CLP04) - sum(PLB)
    },
    "remit_claims": {
        "payment_id": pl.Int64,
        "clp_seq": pl.Int32,  # order within the 835
        "claim_id": pl.Utf8,  # CLP01
        "status": pl.Utf8,  # CLP02: 1, 2, 4, 19, 22
        "charge_cents": Money,  # CLP03
        "paid_cents": Money,  # CLP04
        "patient_resp_cents": Money,  # CLP05
        "filing_indicator": pl.Utf8,  # CLP06
        "payer_claim_control": pl.Utf8,  # CLP07
        "facility_code": pl.Utf8,  # CLP08, "11"
        "frequency": pl.Utf8,  # CLP09
        "patient_id": pl.Utf8,
        "coverage_id": pl.Utf8,  # NM1*QC patient, NM1*IL subscriber when different
        "provider_id": pl.Utf8,  # NM1*82 rendering
        "service_date": pl.Date,  # DTM*232 / DTM*233
        "received_date": pl.Date,  # DTM*050
        "moa_remarks": Codes,  # MOA remark codes (may be empty)
    },
    "remit_claim_adjustments": {
        "payment_id": pl.Int64,
        "clp_seq": pl.Int32,
        "group": pl.Utf8,  # CO, PR, OA, PI, CR
        "reason": pl.Utf8,  # CARC
        "amount_cents": Money,
        "quantity": pl.Int32,
    },
    "remit_lines": {
        "payment_id": pl.Int64,
        "clp_seq": pl.Int32,
        "svc_seq": pl.Int32,
        "procedure": pl.Utf8,
        "modifiers": Codes,
        "charge_cents": Money,  # SVC02
        "paid_cents": Money,  # SVC03
        "units": pl.Int32,  # SVC05
        "service_date": pl.Date,  # DTM*472
        "line_ctrl": pl.Utf8,  # REF*6R
        "allowed_cents": Money,  # AMT*B6 (null when not reported)
        "remarks": Codes,  # LQ*HE
    },
    "remit_line_adjustments": {
        "payment_id": pl.Int64,
        "clp_seq": pl.Int32,
        "svc_seq": pl.Int32,
        "group": pl.Utf8,
        "reason": pl.Utf8,
        "amount_cents": Money,
        "quantity": pl.Int32,
    },
    # Provider-level adjustments. Positive reduces the payment, negative (interest L6,
    # a forward balance taken back) increases it.
    "remit_plb": {
        "payment_id": pl.Int64,
        "plb_seq": pl.Int32,
        "reason": pl.Utf8,  # L6 interest, FB forward balance, WO overpayment recovery
        "reference": pl.Utf8,  # PLB03-2: claim id or balance reference
        "amount_cents": Money,
    },
}


def empty(name: str) -> pl.DataFrame:
    """An empty frame with the schema of table ``name``."""
    return pl.DataFrame(schema=SCHEMAS[name])


def conform(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """Select and cast ``df`` to the schema of table ``name`` (fails on a missing column)."""
    schema = SCHEMAS[name]
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def cents_to_text(col: pl.Expr) -> pl.Expr:
    """Cents as plain decimal text ("-12.05", "0.00"), exact, for X12 and CSV writers."""
    magnitude = col.abs()
    sign = pl.when(col < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str(
        [
            sign,
            (magnitude // 100).cast(pl.Utf8),
            pl.lit("."),
            (magnitude % 100).cast(pl.Utf8).str.zfill(2),
        ]
    )
