"""Test support for the X12 writers: a tiny hand-built practice whose every row is meant to
be read, a scalable synthetic practice for timing, and a pyx12 validation helper.

The tiny practice (money in dollars in the comments, cents in the frames):

837P, two submit dates plus later ones:
- S1 CLM1001: child dependent (PAT*19) on her father's Aetna plan, two lines.
- S2 CLM1002: adult subscriber, Aetna, later denied for missing information.
- S3 CLM1002 frequency 7: the corrected claim with REF*F8 AET240304001.
- S4 CLM1003: Medicare primary, two lines.
- S5 CLM1003 to Medicaid as secondary: 2320/2330A/2330B and per line 2430 (SVD, CAS,
  DTP*573) carrying Medicare's adjudication; each line balances (charge - CAS = SVD02).

835:
- R1 Aetna ACH AET0001: CLM1001 paid (NM1*IL for the dependent), CLM1002 denied
  (CLP02 4, line CAS*CO*16, LQ*HE*N290), PLB L6 interest -1.25. BPR02 = 105 + 0 + 1.25.
- R2 Aetna CHK CHK778899: CLM1001 reversal (CLP02 22, everything negated) and reprocess,
  corrected CLM1002 paid (copay as a claim-level CAS), PLB FB forward balance 30.00 taken back. BPR02 = -105 + 110 + 120 - 30.
- R3 Medicare ACH 1MCR0001: CLM1003 processed as primary and forwarded (19), MOA*MA18.
- R4 Medicaid MCD0001: CLM1003 as secondary (2) paying nothing: BPR*H zero-pay notice.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.lib.generator.tables import SCHEMAS, Practice, conform

D = date.fromisoformat

PRACTICE = Practice(
    name="Lakeside Family Medicine",
    npi="2345678900",
    tin="591234567",
    taxonomy="207Q00000X",
    address1="100 Lake Shore Dr",
    city="Lakeland",
    state="FL",
    zip="338011234",
    contact_name="Billing Office",
    phone="8635550100",
    submitter_id="LFM0001",
    receiver_id="CLEARHOUSE01",
    receiver_name="Example Clearinghouse",
)


def _frames(rows: dict[str, list[dict]]) -> dict[str, pl.DataFrame]:
    """Every contract table, from lists of row dicts (matched by column name)."""
    return {
        name: conform(name, pl.DataFrame(rows.get(name, []), schema=schema))
        for name, schema in SCHEMAS.items()
    }


def _c(dollars: float) -> int:
    return round(dollars * 100)


def tiny_tables() -> dict[str, pl.DataFrame]:
    """Every table of the tiny practice, conformed to the contract."""
    payers = [
        dict(
            payer_id="00430",
            name="Medicare Part B",
            payer_class="medicare",
            filing_indicator="MB",
            address1="PO Box 2525",
            city="Jacksonville",
            state="FL",
            zip="32231",
            phone="8665551234",
        ),
        dict(
            payer_id="60054",
            name="Aetna",
            payer_class="commercial",
            filing_indicator="CI",
            address1="PO Box 981106",
            city="El Paso",
            state="TX",
            zip="79998",
            phone="8885550111",
        ),
        dict(
            payer_id="SKFL0",
            name="Florida Medicaid",
            payer_class="medicaid",
            filing_indicator="MC",
            address1="PO Box 7072",
            city="Tallahassee",
            state="FL",
            zip="32314",
            phone=None,
        ),
    ]
    locations = [
        dict(
            location_id="L1",
            name="Lakeside Family Medicine Main",
            npi="1122334455",
            address1="100 Lake Shore Dr",
            city="Lakeland",
            state="FL",
            zip="338011234",
        ),
    ]
    providers = [
        dict(
            provider_id="P1",
            npi="1234567893",
            last_name="Smith",
            first_name="Jane",
            credential="MD",
            taxonomy="207Q00000X",
            location_id="L1",
            start_date=D("2015-01-01"),
        ),
    ]
    patients = [
        dict(
            patient_id="PT1",
            last_name="Doe",
            first_name="John",
            dob=D("1980-05-17"),
            sex="M",
            address1="12 Oak St",
            city="Lakeland",
            state="FL",
            zip="33803",
            phone="8635550001",
            created_date=D("2020-01-02"),
            home_location_id="L1",
            pcp_provider_id="P1",
        ),
        dict(
            patient_id="PT2",
            last_name="Doe",
            first_name="Emma",
            dob=D("2016-09-01"),
            sex="F",
            address1="12 Oak St",
            city="Lakeland",
            state="FL",
            zip="33803",
            phone="8635550001",
            created_date=D("2020-01-02"),
            home_location_id="L1",
            pcp_provider_id="P1",
        ),
        dict(
            patient_id="PT3",
            last_name="Major",
            first_name="Mary",
            dob=D("1950-02-11"),
            sex="F",
            address1="4 Elm Ct",
            city="Lakeland",
            state="FL",
            zip="33805",
            phone="8635550002",
            created_date=D("2019-06-30"),
            home_location_id="L1",
            pcp_provider_id="P1",
        ),
    ]
    coverage = dict(start_date=D("2020-01-01"), end_date=None)
    coverages = [
        dict(
            coverage_id="C1",
            patient_id="PT1",
            payer_id="60054",
            priority=1,
            member_id="W123456789",
            group_number="G100",
            relationship="18",
            subscriber_last="Doe",
            subscriber_first="John",
            subscriber_dob=D("1980-05-17"),
            subscriber_sex="M",
            **coverage,
        ),
        dict(
            coverage_id="C2",
            patient_id="PT2",
            payer_id="60054",
            priority=1,
            member_id="W123456789",
            group_number="G100",
            relationship="19",
            subscriber_last="Doe",
            subscriber_first="John",
            subscriber_dob=D("1980-05-17"),
            subscriber_sex="M",
            **coverage,
        ),
        dict(
            coverage_id="C3",
            patient_id="PT3",
            payer_id="00430",
            priority=1,
            member_id="1EG4TE5MK73",
            group_number=None,
            relationship="18",
            subscriber_last="Major",
            subscriber_first="Mary",
            subscriber_dob=D("1950-02-11"),
            subscriber_sex="F",
            **coverage,
        ),
        dict(
            coverage_id="C4",
            patient_id="PT3",
            payer_id="SKFL0",
            priority=2,
            member_id="123456789012",
            group_number=None,
            relationship="18",
            subscriber_last="Major",
            subscriber_first="Mary",
            subscriber_dob=D("1950-02-11"),
            subscriber_sex="F",
            **coverage,
        ),
    ]
    claim = dict(
        provider_id="P1",
        location_id="L1",
        place_of_service="11",
        payer_claim_ref=None,
        prior_payer_id=None,
        prior_coverage_id=None,
        prior_paid_cents=None,
        prior_adjudication_date=None,
    )
    submissions = [
        dict(
            claim,
            submission_id=1,
            claim_id="CLM1001",
            patient_id="PT2",
            coverage_id="C2",
            payer_id="60054",
            payer_responsibility="P",
            frequency="1",
            submit_date=D("2024-03-04"),
            service_date=D("2024-03-01"),
            total_charge_cents=_c(190),
            diagnoses=["J069", "Z23"],
        ),
        dict(
            claim,
            submission_id=2,
            claim_id="CLM1002",
            patient_id="PT1",
            coverage_id="C1",
            payer_id="60054",
            payer_responsibility="P",
            frequency="1",
            submit_date=D("2024-03-04"),
            service_date=D("2024-03-01"),
            total_charge_cents=_c(220),
            diagnoses=["E119", "I10", "E785"],
        ),
        dict(
            claim,
            submission_id=3,
            claim_id="CLM1003",
            patient_id="PT3",
            coverage_id="C3",
            payer_id="00430",
            payer_responsibility="P",
            frequency="1",
            submit_date=D("2024-03-05"),
            service_date=D("2024-03-04"),
            total_charge_cents=_c(215),
            diagnoses=["I10", "E785"],
        ),
        dict(
            claim,
            submission_id=4,
            claim_id="CLM1002",
            patient_id="PT1",
            coverage_id="C1",
            payer_id="60054",
            payer_responsibility="P",
            frequency="7",
            payer_claim_ref="AET240304001",
            submit_date=D("2024-03-20"),
            service_date=D("2024-03-01"),
            total_charge_cents=_c(220),
            diagnoses=["E119", "I10", "E785"],
        ),
        dict(
            claim,
            submission_id=5,
            claim_id="CLM1003",
            patient_id="PT3",
            coverage_id="C4",
            payer_id="SKFL0",
            payer_responsibility="S",
            frequency="1",
            submit_date=D("2024-03-25"),
            service_date=D("2024-03-04"),
            total_charge_cents=_c(215),
            diagnoses=["I10", "E785"],
            prior_payer_id="00430",
            prior_coverage_id="C3",
            prior_paid_cents=_c(99),
            prior_adjudication_date=D("2024-03-20"),
        ),
    ]
    line = dict(modifiers=[], units=1, prior_paid_cents=None)
    lines = [
        dict(
            line,
            submission_id=1,
            line_no=1,
            line_ctrl="CLM1001-1",
            procedure="99213",
            charge_cents=_c(150),
            service_date=D("2024-03-01"),
            dx_pointers=[1, 2],
        ),
        dict(
            line,
            submission_id=1,
            line_no=2,
            line_ctrl="CLM1001-2",
            procedure="90460",
            charge_cents=_c(40),
            service_date=D("2024-03-01"),
            dx_pointers=[2],
        ),
        dict(
            line,
            submission_id=2,
            line_no=1,
            line_ctrl="CLM1002-1",
            procedure="99214",
            modifiers=["25"],
            charge_cents=_c(220),
            service_date=D("2024-03-01"),
            dx_pointers=[1, 2, 3],
        ),
        dict(
            line,
            submission_id=3,
            line_no=1,
            line_ctrl="CLM1003-1",
            procedure="99214",
            charge_cents=_c(200),
            service_date=D("2024-03-04"),
            dx_pointers=[1, 2],
        ),
        dict(
            line,
            submission_id=3,
            line_no=2,
            line_ctrl="CLM1003-2",
            procedure="36415",
            charge_cents=_c(15),
            service_date=D("2024-03-04"),
            dx_pointers=[2],
        ),
        dict(
            line,
            submission_id=4,
            line_no=1,
            line_ctrl="CLM1002-1C",
            procedure="99214",
            modifiers=["25"],
            charge_cents=_c(220),
            service_date=D("2024-03-01"),
            dx_pointers=[1, 2, 3],
        ),
        dict(
            line,
            submission_id=5,
            line_no=1,
            line_ctrl="CLM1003-1S",
            procedure="99214",
            charge_cents=_c(200),
            service_date=D("2024-03-04"),
            dx_pointers=[1, 2],
            prior_paid_cents=_c(96),
        ),
        dict(
            line,
            submission_id=5,
            line_no=2,
            line_ctrl="CLM1003-2S",
            procedure="36415",
            charge_cents=_c(15),
            service_date=D("2024-03-04"),
            dx_pointers=[2],
            prior_paid_cents=_c(3),
        ),
    ]
    prior_adjustments = [
        dict(
            submission_id=5, line_no=1, group="CO", reason="45", amount_cents=_c(80), quantity=None
        ),
        dict(
            submission_id=5, line_no=1, group="PR", reason="2", amount_cents=_c(24), quantity=None
        ),
        dict(
            submission_id=5, line_no=2, group="CO", reason="45", amount_cents=_c(12), quantity=None
        ),
    ]

    payments = [
        dict(
            payment_id=1,
            payer_id="60054",
            trace_number="AET0001",
            method="ACH",
            payment_date=D("2024-03-18"),
            production_date=D("2024-03-18"),
            total_cents=_c(106.25),
        ),
        dict(
            payment_id=2,
            payer_id="60054",
            trace_number="CHK778899",
            method="CHK",
            payment_date=D("2024-04-05"),
            production_date=D("2024-04-04"),
            total_cents=_c(95),
        ),
        dict(
            payment_id=3,
            payer_id="00430",
            trace_number="1MCR0001",
            method="ACH",
            payment_date=D("2024-03-20"),
            production_date=D("2024-03-19"),
            total_cents=_c(99),
        ),
        dict(
            payment_id=4,
            payer_id="SKFL0",
            trace_number="MCD0001",
            method="ACH",
            payment_date=D("2024-04-10"),
            production_date=D("2024-04-10"),
            total_cents=0,
        ),
    ]
    rc = dict(facility_code="11", provider_id="P1", moa_remarks=[])
    remit_claims = [
        dict(
            rc,
            payment_id=1,
            clp_seq=1,
            claim_id="CLM1001",
            status="1",
            charge_cents=_c(190),
            paid_cents=_c(105),
            patient_resp_cents=_c(20),
            filing_indicator="CI",
            payer_claim_control="AET240304000",
            frequency="1",
            patient_id="PT2",
            coverage_id="C2",
            service_date=D("2024-03-01"),
            received_date=D("2024-03-05"),
        ),
        dict(
            rc,
            payment_id=1,
            clp_seq=2,
            claim_id="CLM1002",
            status="4",
            charge_cents=_c(220),
            paid_cents=0,
            patient_resp_cents=0,
            filing_indicator="CI",
            payer_claim_control="AET240304001",
            frequency="1",
            patient_id="PT1",
            coverage_id="C1",
            service_date=D("2024-03-01"),
            received_date=D("2024-03-05"),
        ),
        dict(
            rc,
            payment_id=2,
            clp_seq=1,
            claim_id="CLM1001",
            status="22",
            charge_cents=_c(-190),
            paid_cents=_c(-105),
            patient_resp_cents=_c(-20),
            filing_indicator="CI",
            payer_claim_control="AET240304000",
            frequency="1",
            patient_id="PT2",
            coverage_id="C2",
            service_date=D("2024-03-01"),
            received_date=D("2024-03-05"),
        ),
        dict(
            rc,
            payment_id=2,
            clp_seq=2,
            claim_id="CLM1001",
            status="1",
            charge_cents=_c(190),
            paid_cents=_c(110),
            patient_resp_cents=_c(20),
            filing_indicator="CI",
            payer_claim_control="AET240403007",
            frequency="1",
            patient_id="PT2",
            coverage_id="C2",
            service_date=D("2024-03-01"),
            received_date=D("2024-03-05"),
        ),
        dict(
            rc,
            payment_id=2,
            clp_seq=3,
            claim_id="CLM1002",
            status="1",
            charge_cents=_c(220),
            paid_cents=_c(120),
            patient_resp_cents=_c(20),
            filing_indicator="CI",
            payer_claim_control="AET240321004",
            frequency="7",
            patient_id="PT1",
            coverage_id="C1",
            service_date=D("2024-03-01"),
            received_date=D("2024-03-21"),
        ),
        dict(
            rc,
            payment_id=3,
            clp_seq=1,
            claim_id="CLM1003",
            status="19",
            charge_cents=_c(215),
            paid_cents=_c(99),
            patient_resp_cents=_c(24),
            filing_indicator="MB",
            payer_claim_control="22407900123450",
            frequency="1",
            patient_id="PT3",
            coverage_id="C3",
            service_date=D("2024-03-04"),
            received_date=D("2024-03-06"),
            moa_remarks=["MA18"],
        ),
        dict(
            rc,
            payment_id=4,
            clp_seq=1,
            claim_id="CLM1003",
            status="2",
            charge_cents=_c(215),
            paid_cents=0,
            patient_resp_cents=0,
            filing_indicator="MC",
            payer_claim_control="MCD24086000017",
            frequency="1",
            patient_id="PT3",
            coverage_id="C4",
            service_date=D("2024-03-04"),
            received_date=D("2024-03-26"),
        ),
    ]
    # The corrected claim's copay is applied at claim level: its line pays 140, the claim 120.
    claim_adjustments = [
        dict(payment_id=2, clp_seq=3, group="PR", reason="3", amount_cents=_c(20), quantity=None),
    ]
    rl = dict(modifiers=[], units=1, remarks=[])
    remit_lines = [
        dict(
            rl,
            payment_id=1,
            clp_seq=1,
            svc_seq=1,
            procedure="99213",
            charge_cents=_c(150),
            paid_cents=_c(80),
            service_date=D("2024-03-01"),
            line_ctrl="CLM1001-1",
            allowed_cents=_c(100),
        ),
        dict(
            rl,
            payment_id=1,
            clp_seq=1,
            svc_seq=2,
            procedure="90460",
            charge_cents=_c(40),
            paid_cents=_c(25),
            service_date=D("2024-03-01"),
            line_ctrl="CLM1001-2",
            allowed_cents=_c(25),
        ),
        dict(
            rl,
            payment_id=1,
            clp_seq=2,
            svc_seq=1,
            procedure="99214",
            modifiers=["25"],
            charge_cents=_c(220),
            paid_cents=0,
            service_date=D("2024-03-01"),
            line_ctrl="CLM1002-1",
            allowed_cents=None,
            remarks=["N290"],
        ),
        dict(
            rl,
            payment_id=2,
            clp_seq=1,
            svc_seq=1,
            procedure="99213",
            charge_cents=_c(-150),
            paid_cents=_c(-80),
            service_date=D("2024-03-01"),
            line_ctrl="CLM1001-1",
            allowed_cents=_c(-100),
        ),
        dict(
            rl,
            payment_id=2,
            clp_seq=1,
            svc_seq=2,
            procedure="90460",
            charge_cents=_c(-40),
            paid_cents=_c(-25),
            service_date=D("2024-03-01"),
            line_ctrl="CLM1001-2",
            allowed_cents=_c(-25),
        ),
        dict(
            rl,
            payment_id=2,
            clp_seq=2,
            svc_seq=1,
            procedure="99213",
            charge_cents=_c(150),
            paid_cents=_c(85),
            service_date=D("2024-03-01"),
            line_ctrl="CLM1001-1",
            allowed_cents=_c(105),
        ),
        dict(
            rl,
            payment_id=2,
            clp_seq=2,
            svc_seq=2,
            procedure="90460",
            charge_cents=_c(40),
            paid_cents=_c(25),
            service_date=D("2024-03-01"),
            line_ctrl="CLM1001-2",
            allowed_cents=_c(25),
        ),
        dict(
            rl,
            payment_id=2,
            clp_seq=3,
            svc_seq=1,
            procedure="99214",
            modifiers=["25"],
            charge_cents=_c(220),
            paid_cents=_c(140),
            service_date=D("2024-03-01"),
            line_ctrl="CLM1002-1C",
            allowed_cents=_c(140),
        ),
        dict(
            rl,
            payment_id=3,
            clp_seq=1,
            svc_seq=1,
            procedure="99214",
            charge_cents=_c(200),
            paid_cents=_c(96),
            service_date=D("2024-03-04"),
            line_ctrl="CLM1003-1",
            allowed_cents=_c(120),
        ),
        dict(
            rl,
            payment_id=3,
            clp_seq=1,
            svc_seq=2,
            procedure="36415",
            charge_cents=_c(15),
            paid_cents=_c(3),
            service_date=D("2024-03-04"),
            line_ctrl="CLM1003-2",
            allowed_cents=_c(3),
        ),
        dict(
            rl,
            payment_id=4,
            clp_seq=1,
            svc_seq=1,
            procedure="99214",
            charge_cents=_c(200),
            paid_cents=0,
            service_date=D("2024-03-04"),
            line_ctrl="CLM1003-1S",
            allowed_cents=None,
        ),
        dict(
            rl,
            payment_id=4,
            clp_seq=1,
            svc_seq=2,
            procedure="36415",
            charge_cents=_c(15),
            paid_cents=0,
            service_date=D("2024-03-04"),
            line_ctrl="CLM1003-2S",
            allowed_cents=None,
        ),
    ]

    def adj(payment_id, clp_seq, svc_seq, group, reason, dollars, quantity=None):
        return dict(
            payment_id=payment_id,
            clp_seq=clp_seq,
            svc_seq=svc_seq,
            group=group,
            reason=reason,
            amount_cents=_c(dollars),
            quantity=quantity,
        )

    line_adjustments = [
        adj(1, 1, 1, "CO", "45", 50),
        adj(1, 1, 1, "PR", "3", 20),
        adj(1, 1, 2, "CO", "45", 15),
        # The reversal repeats the original groups with negated amounts.
        adj(2, 1, 1, "CO", "45", -50),
        adj(2, 1, 1, "PR", "3", -20),
        adj(2, 1, 2, "CO", "45", -15),
        adj(2, 2, 1, "CO", "45", 45),
        adj(2, 2, 1, "PR", "3", 20),
        adj(2, 2, 2, "CO", "45", 15),
        adj(1, 2, 1, "CO", "16", 220),
        adj(2, 3, 1, "CO", "45", 80),
        adj(3, 1, 1, "CO", "45", 80),
        adj(3, 1, 1, "PR", "2", 24),
        adj(3, 1, 2, "CO", "45", 12),
        adj(4, 1, 1, "OA", "23", 96),
        adj(4, 1, 1, "CO", "45", 104),
        adj(4, 1, 2, "OA", "23", 3),
        adj(4, 1, 2, "CO", "45", 12),
    ]
    plb = [
        dict(payment_id=1, plb_seq=1, reason="L6", reference="CLM1001", amount_cents=_c(-1.25)),
        dict(payment_id=2, plb_seq=1, reason="FB", reference="FB20240318", amount_cents=_c(30)),
    ]
    return _frames(
        {
            "payers": payers,
            "locations": locations,
            "providers": providers,
            "patients": patients,
            "coverages": coverages,
            "claim_submissions": submissions,
            "submission_lines": lines,
            "submission_line_prior_adjustments": prior_adjustments,
            "remit_payments": payments,
            "remit_claims": remit_claims,
            "remit_claim_adjustments": claim_adjustments,
            "remit_lines": remit_lines,
            "remit_line_adjustments": line_adjustments,
            "remit_plb": plb,
        }
    )


# ---------------------------------------------------------------------------------------
# A synthetic practice of any size (timing and scale checks), built column-wise
# ---------------------------------------------------------------------------------------


def synthetic_tables(
    n_claims: int, *, lines_per_claim: int = 2, claims_per_day: int = 400
) -> dict[str, pl.DataFrame]:
    """``n_claims`` primary claims (one in ten with a dependent patient, one in ten also
    billed to a secondary payer) and one remit claim per primary claim, 25 claims per
    payment, every payment with an interest PLB. Balanced by construction."""
    base = tiny_tables()
    n = n_claims
    n_patients = max(n // 3, 1)
    i = pl.int_range(n, dtype=pl.Int64, eager=True)
    start = D("2023-01-02")
    day = (i // claims_per_day).cast(pl.Int32)

    patients = pl.select(patient_id=pl.format("PT{}", pl.int_range(n_patients))).with_columns(
        last_name=pl.lit("Doe"),
        first_name=pl.lit("Pat"),
        dob=pl.lit(D("1970-01-01")),
        sex=pl.lit("F"),
        address1=pl.lit("1 Main St"),
        city=pl.lit("Lakeland"),
        state=pl.lit("FL"),
        zip=pl.lit("33801"),
        phone=pl.lit("8635550000"),
        created_date=pl.lit(D("2020-01-01")),
        home_location_id=pl.lit("L1"),
        pcp_provider_id=pl.lit("P1"),
    )
    k = pl.int_range(n_patients, eager=True)
    cov_primary = pl.DataFrame({"k": k}).with_columns(
        coverage_id=pl.format("CP{}", pl.col("k")),
        patient_id=pl.format("PT{}", pl.col("k")),
        payer_id=pl.when(pl.col("k") % 2 == 0).then(pl.lit("60054")).otherwise(pl.lit("00430")),
        priority=pl.lit(1),
        member_id=pl.format("M{}", pl.col("k")),
        group_number=pl.lit("G1"),
        relationship=pl.when(pl.col("k") % 10 == 3).then(pl.lit("19")).otherwise(pl.lit("18")),
        subscriber_last=pl.lit("Doe"),
        subscriber_first=pl.lit("Sam"),
        subscriber_dob=pl.lit(D("1960-01-01")),
        subscriber_sex=pl.lit("M"),
        start_date=pl.lit(D("2020-01-01")),
        end_date=pl.lit(None, dtype=pl.Date),
    )
    cov_secondary = cov_primary.with_columns(
        coverage_id=pl.format("CS{}", pl.col("k")),
        payer_id=pl.lit("SKFL0"),
        priority=pl.lit(2),
        member_id=pl.format("S{}", pl.col("k")),
        group_number=pl.lit(None, dtype=pl.Utf8),
    )
    coverages = conform("coverages", pl.concat([cov_primary, cov_secondary]))

    pk = i % n_patients
    payer = pl.when(pk % 2 == 0).then(pl.lit("60054")).otherwise(pl.lit("00430"))
    submit = pl.lit(start) + pl.duration(days=day + 3)
    service = pl.lit(start) + pl.duration(days=day)
    line_charge = 10_000 + (pl.col("i") % 7) * 1_000
    primary = pl.DataFrame({"i": i}).with_columns(
        submission_id=pl.col("i") + 1,
        claim_id=pl.format("CLM{}", pl.col("i")),
        patient_id=pl.format("PT{}", pl.col("i") % n_patients),
        coverage_id=pl.format("CP{}", pl.col("i") % n_patients),
        payer_id=payer,
        payer_responsibility=pl.lit("P"),
        frequency=pl.lit("1"),
        payer_claim_ref=pl.lit(None, dtype=pl.Utf8),
        submit_date=submit,
        service_date=service,
        provider_id=pl.lit("P1"),
        location_id=pl.lit("L1"),
        place_of_service=pl.lit("11"),
        total_charge_cents=line_charge * lines_per_claim,
        diagnoses=pl.lit(["I10", "E119", "E785"]),
        prior_payer_id=pl.lit(None, dtype=pl.Utf8),
        prior_coverage_id=pl.lit(None, dtype=pl.Utf8),
        prior_paid_cents=pl.lit(None, dtype=pl.Int64),
        prior_adjudication_date=pl.lit(None, dtype=pl.Date),
    )
    paid_line = line_charge * 6 // 10
    secondary = primary.filter(pl.col("i") % 10 == 5).with_columns(
        submission_id=pl.col("submission_id") + n,
        coverage_id=pl.format("CS{}", pl.col("i") % n_patients),
        prior_payer_id=pl.col("payer_id"),
        prior_coverage_id=pl.format("CP{}", pl.col("i") % n_patients),
        payer_id=pl.lit("SKFL0"),
        payer_responsibility=pl.lit("S"),
        submit_date=pl.col("submit_date") + pl.duration(days=20),
        prior_paid_cents=paid_line * lines_per_claim,
        prior_adjudication_date=pl.col("submit_date") + pl.duration(days=15),
    )
    subs = pl.concat([primary, secondary])
    sub_lines = (
        subs.select("i", "submission_id", "service_date", "prior_paid_cents")
        .with_columns(line_no=pl.int_ranges(1, lines_per_claim + 1))
        .explode("line_no")
        .with_columns(
            line_ctrl=pl.format("{}-{}", pl.col("submission_id"), pl.col("line_no")),
            procedure=pl.when(pl.col("line_no") == 1)
            .then(pl.lit("99213"))
            .otherwise(pl.lit("36415")),
            modifiers=pl.lit([], dtype=pl.List(pl.Utf8)),
            charge_cents=10_000 + (pl.col("i") % 7) * 1_000,
            units=pl.lit(1),
            dx_pointers=pl.lit([1, 2]),
            prior_paid_cents=pl.when(pl.col("prior_paid_cents").is_not_null()).then(
                (10_000 + (pl.col("i") % 7) * 1_000) * 6 // 10
            ),
        )
    )
    prior_adj = sub_lines.filter(pl.col("prior_paid_cents").is_not_null()).select(
        "submission_id",
        "line_no",
        group=pl.lit("CO"),
        reason=pl.lit("45"),
        amount_cents=pl.col("charge_cents") - pl.col("prior_paid_cents"),
        quantity=pl.lit(None, dtype=pl.Int32),
    )

    # 835: one remit claim per primary claim, 25 per payment, +0.10 interest per payment.
    rc = primary.with_columns(
        payment_id=pl.col("i") // 25 + 1,
        clp_seq=(pl.col("i") % 25 + 1).cast(pl.Int32),
        status=pl.lit("1"),
        charge_cents=pl.col("total_charge_cents"),
        paid_cents=paid_line * lines_per_claim,
        patient_resp_cents=pl.lit(0, dtype=pl.Int64),
        filing_indicator=pl.when(pl.col("payer_id") == "00430")
        .then(pl.lit("MB"))
        .otherwise(pl.lit("CI")),
        payer_claim_control=pl.format("PCC{}", pl.col("i")),
        facility_code=pl.lit("11"),
        received_date=pl.col("submit_date") + pl.duration(days=2),
        moa_remarks=pl.when(pl.col("i") % 3 == 0)
        .then(pl.lit(["MA01"]))
        .otherwise(pl.lit([], dtype=pl.List(pl.Utf8))),
    )
    # One payer per payment: the payer of the payment's first claim is used for all.
    payments = (
        rc.group_by("payment_id", maintain_order=True)
        .agg(paid=pl.col("paid_cents").sum(), day=pl.col("submit_date").max())
        .with_columns(
            payer_id=pl.when(pl.col("payment_id") % 2 == 0)
            .then(pl.lit("60054"))
            .otherwise(pl.lit("00430")),
            trace_number=pl.format("TRC{}", pl.col("payment_id")),
            method=pl.when(pl.col("payment_id") % 4 == 0)
            .then(pl.lit("CHK"))
            .otherwise(pl.lit("ACH")),
            payment_date=pl.col("day") + pl.duration(days=14),
            production_date=pl.col("day") + pl.duration(days=13),
            total_cents=pl.col("paid") + 10,
        )
    )
    remit_lines = (
        rc.select("payment_id", "clp_seq", "i", "service_date")
        .with_columns(svc_seq=pl.int_ranges(1, lines_per_claim + 1, dtype=pl.Int32))
        .explode("svc_seq")
        .with_columns(
            procedure=pl.when(pl.col("svc_seq") == 1)
            .then(pl.lit("99213"))
            .otherwise(pl.lit("36415")),
            modifiers=pl.lit([], dtype=pl.List(pl.Utf8)),
            charge_cents=10_000 + (pl.col("i") % 7) * 1_000,
            paid_cents=(10_000 + (pl.col("i") % 7) * 1_000) * 6 // 10,
            units=pl.lit(1),
            line_ctrl=pl.format("{}-{}", pl.col("i") + 1, pl.col("svc_seq")),
            allowed_cents=(10_000 + (pl.col("i") % 7) * 1_000) * 6 // 10,
            remarks=pl.lit([], dtype=pl.List(pl.Utf8)),
        )
    )
    line_adj = remit_lines.select(
        "payment_id",
        "clp_seq",
        "svc_seq",
        group=pl.lit("CO"),
        reason=pl.lit("45"),
        amount_cents=pl.col("charge_cents") - pl.col("paid_cents"),
        quantity=pl.lit(None, dtype=pl.Int32),
    )
    plb = payments.select(
        "payment_id",
        plb_seq=pl.lit(1),
        reason=pl.lit("L6"),
        reference=pl.lit(None, dtype=pl.Utf8),
        amount_cents=pl.lit(-10),
    )
    return {
        **{name: base[name] for name in ("payers", "locations", "providers")},
        "patients": conform("patients", patients),
        "coverages": coverages,
        "claim_submissions": conform("claim_submissions", subs),
        "submission_lines": conform("submission_lines", sub_lines),
        "submission_line_prior_adjustments": conform(
            "submission_line_prior_adjustments", prior_adj
        ),
        "remit_payments": conform("remit_payments", payments),
        "remit_claims": conform("remit_claims", rc),
        "remit_claim_adjustments": base["remit_claim_adjustments"].clear(),
        "remit_lines": conform("remit_lines", remit_lines),
        "remit_line_adjustments": conform("remit_line_adjustments", line_adj),
        "remit_plb": conform("remit_plb", plb),
    }


# ---------------------------------------------------------------------------------------
# pyx12
# ---------------------------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")


def pyx12_errors(path: Path) -> list[str]:
    """Validate one X12 file with pyx12's Python API; return its errors (empty when valid)."""
    import pyx12.params
    import pyx12.x12n_document

    logger = logging.getLogger("pyx12")
    handler = _Collect()
    logger.addHandler(handler)
    fd_json = io.StringIO()
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.params(),
            src_file=str(path),
            fd_997=None,
            fd_html=None,
            fd_xmldoc=None,
            fd_json=fd_json,
        )
    finally:
        logger.removeHandler(handler)
    errors = list(handler.messages)
    if not valid and not errors:
        errors.append(
            f"pyx12 rejected the file: {json.dumps(json.loads(fd_json.getvalue() or '{}'))}"
        )
    return errors
