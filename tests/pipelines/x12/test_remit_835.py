"""835 reader: typed tables, lineage, balancing, rejections, and every public sample."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.lib.errors import (
    BalancingError,
    EnvelopeError,
    InputError,
    SegmentError,
    UnsupportedTransactionError,
    X12SyntaxError,
)
from pipelines.lib.x12.remit_835 import parse_835_bytes, read_835

SAMPLES = Path(__file__).resolve().parents[3] / ".." / "shared" / "samples" / "x12" / "835"

# Two claims: PCN001 paid with two lines (line-level CAS, REF*6R, AMT*B6, LQ), PCN002
# denied with a claim-level CAS and MOA remarks; PLB interest (L6, negative) and a
# withholding. 120.00 − (−7.50 + 10.00) = 117.50 = BPR02.
REMIT = """\
ISA*00*          *00*          *ZZ*PAYER          *ZZ*PRACTICE       *240115*1200*^*00501*000000101*0*T*:~
GS*HP*PAYER*PRACTICE*20240115*1200*101*X*005010X221A1~
ST*835*0001~
BPR*I*117.50*C*ACH*CCP*01*999999999*DA*123456*1234567890**01*888888888*DA*654321*20240116~
TRN*1*EFT0001*1234567890~
DTM*405*20240115~
N1*PR*ACME HEALTH PLAN~
REF*2U*ACME01~
N1*PE*FAMILY CLINIC*XX*1234567893~
REF*TJ*123456789~
LX*1~
CLP*PCN001*1*200.00*120.00*20.00*12*PAYERCLM1*11*1~
NM1*QC*1*DOE*JANE*Q***MI*MEMBER1~
NM1*82*1*SMITH*JOHN****XX*1112223339~
DTM*232*20240102~
DTM*233*20240102~
SVC*HC:99213:25*150.00*90.00**1~
DTM*472*20240102~
CAS*CO*45*40.00~
CAS*PR*3*20.00~
REF*6R*LINE1~
AMT*B6*110.00~
SVC*HC:81002*50.00*30.00**2~
DTM*472*20240102~
CAS*CO*45*20.00~
LQ*HE*N130~
CLP*PCN002*4*80.00*0.00**12*PAYERCLM2*11*1~
CAS*CO*50*80.00~
NM1*QC*1*ROE*RICHARD****MI*MEMBER2~
MOA***MA01*N115~
DTM*232*20240103~
PLB*1234567893*20241231*L6:INT1*-7.50*WO:REF9*10.00~
SE*31*0001~
GE*1*101~
IEA*1*000000101~
"""


def parse(text: str):
    return parse_835_bytes(text.encode(), "remits/x.835")


def fails(text: str, cls: type[InputError] = InputError) -> InputError:
    with pytest.raises(cls) as info:
        parse(text)
    return info.value


# --------------------------------------------------------------------------- tables


def test_payments_one_row_per_transaction():
    remit = parse(REMIT)
    assert remit.payments.to_dicts() == [
        {
            "interchange_control_number": "000000101",
            "group_control_number": "101",
            "transaction_control_number": "0001",
            "transaction_index": 1,
            "segment_index": 4,
            "version": "005010X221A1",
            "sender_id": "PAYER",
            "receiver_id": "PRACTICE",
            "usage_indicator": "T",
            "handling_code": "I",
            "payment_amount": Decimal("117.50"),
            "credit_debit_flag": "C",
            "payment_method": "ACH",
            "payment_date": dt.date(2024, 1, 16),
            "trace_number": "EFT0001",
            "trace_originator_id": "1234567890",
            "production_date": dt.date(2024, 1, 15),
            "payer_name": "ACME HEALTH PLAN",
            "payer_id": "ACME01",
            "payee_name": "FAMILY CLINIC",
            "payee_id_qualifier": "XX",
            "payee_id": "1234567893",
            "payee_npi": "1234567893",
            "payee_tax_id": "123456789",
            "claim_count": 2,
        }
    ]


def test_claims_with_dates_patient_rendering_and_remarks():
    claims = parse(REMIT).claims
    first, second = claims.to_dicts()
    assert first["segment_index"] == 12
    assert first["patient_control_number"] == "PCN001"
    assert first["claim_status_code"] == "1"
    assert (first["charge_amount"], first["paid_amount"]) == (Decimal("200.00"), Decimal("120.00"))
    assert first["patient_responsibility_amount"] == Decimal("20.00")
    assert first["claim_filing_indicator"] == "12"
    assert first["payer_claim_control_number"] == "PAYERCLM1"
    assert (first["facility_type_code"], first["claim_frequency_code"]) == ("11", "1")
    assert first["statement_from"] == first["statement_to"] == dt.date(2024, 1, 2)
    assert (first["patient_last_name"], first["patient_first_name"]) == ("DOE", "JANE")
    assert (first["patient_id_qualifier"], first["patient_id"]) == ("MI", "MEMBER1")
    assert first["rendering_npi"] == "1112223339"
    assert first["remark_codes"] == []
    assert second["claim_status_code"] == "4"
    assert second["patient_responsibility_amount"] is None
    assert second["statement_to"] is None
    assert second["rendering_npi"] is None
    assert second["remark_codes"] == ["MA01", "N115"]
    assert claims.schema["charge_amount"] == pl.Decimal(18, 2)
    assert claims.schema["statement_from"] == pl.Date


def test_service_lines_split_the_procedure_composite():
    lines = parse(REMIT).service_lines.to_dicts()
    assert [(r["segment_index"], r["claim_segment_index"]) for r in lines] == [(17, 12), (23, 12)]
    first = lines[0]
    assert (first["procedure_qualifier"], first["procedure_code"], first["modifier_1"]) == (
        "HC",
        "99213",
        "25",
    )
    assert first["modifier_2"] is None
    assert (first["charge_amount"], first["paid_amount"]) == (Decimal("150.00"), Decimal("90.00"))
    assert first["units"] == 1.0
    assert first["service_date_from"] == first["service_date_to"] == dt.date(2024, 1, 2)
    assert first["line_item_control_number"] == "LINE1"
    assert first["allowed_amount"] == Decimal("110.00")
    assert lines[1]["units"] == 2.0
    assert lines[1]["allowed_amount"] is None


def test_adjustments_one_row_per_triplet_at_each_level():
    remit = parse(REMIT)
    assert remit.claim_adjustments.select(
        "segment_index", "claim_segment_index", "group_code", "reason_code", "amount"
    ).rows() == [(28, 27, "CO", "50", Decimal("80.00"))]
    assert remit.line_adjustments.select(
        "segment_index", "line_segment_index", "group_code", "reason_code", "amount"
    ).rows() == [
        (19, 17, "CO", "45", Decimal("40.00")),
        (20, 17, "PR", "3", Decimal("20.00")),
        (25, 23, "CO", "45", Decimal("20.00")),
    ]


def test_cas_with_several_triplets():
    text = REMIT.replace(
        "CAS*CO*45*40.00~\nCAS*PR*3*20.00~",
        "CAS*CO*45*40.00**253*15.00*1*A2*5.00~\nREF*ZZ*KEEPS SE01 RIGHT~",
    )
    rows = parse(text).line_adjustments.filter(pl.col("segment_index") == 19)
    assert rows.select("adjustment_position", "reason_code", "amount", "quantity").rows() == [
        (1, "45", Decimal("40.00"), None),
        (2, "253", Decimal("15.00"), 1.0),
        (3, "A2", Decimal("5.00"), None),
    ]


def test_remarks_at_claim_and_line_level():
    remarks = parse(REMIT).remarks
    assert remarks.select(
        "segment_index", "level", "source_segment", "code_list_qualifier", "remark_code"
    ).rows() == [
        (26, "line", "LQ", "HE", "N130"),
        (30, "claim", "MOA", "HE", "MA01"),
        (30, "claim", "MOA", "HE", "N115"),
    ]
    assert remarks.filter(pl.col("level") == "line")["line_segment_index"].to_list() == [23]


def test_provider_adjustments_one_row_per_pair():
    plb = parse(REMIT).provider_adjustments
    assert plb.select(
        "segment_index",
        "provider_id",
        "fiscal_period_date",
        "reason_code",
        "reference_id",
        "amount",
    ).rows() == [
        (32, "1234567893", dt.date(2024, 12, 31), "L6", "INT1", Decimal("-7.50")),
        (32, "1234567893", dt.date(2024, 12, 31), "WO", "REF9", Decimal("10.00")),
    ]


def test_every_table_carries_lineage():
    for name, frame in parse(REMIT).tables().items():
        assert frame.columns[:5] == [
            "interchange_control_number",
            "group_control_number",
            "transaction_control_number",
            "transaction_index",
            "segment_index",
        ], name
        assert frame["segment_index"].null_count() == 0


def test_money_is_exact_decimal_not_float():
    # 0.10 + 0.20 is not 0.30 in binary floating point; the balance check must still pass.
    text = (
        REMIT.replace("SVC*HC:81002*50.00*30.00**2", "SVC*HC:81002*50.00*49.70**2")
        .replace("CAS*CO*45*20.00~\nLQ", "CAS*CO*45*0.10*1*A2*0.20~\nLQ")
        .replace("CLP*PCN001*1*200.00*120.00", "CLP*PCN001*1*200.00*139.70")
        .replace("BPR*I*117.50", "BPR*I*137.20")
    )
    remit = parse(text)
    assert remit.service_lines["paid_amount"].to_list()[1] == Decimal("49.70")
    assert remit.payments["payment_amount"].item() == Decimal("137.20")


def test_reversal_and_correction_in_one_remit():
    reversal = (
        "CLP*PCN001*22*-200.00*-120.00*-20.00*12*PAYERCLM1*11*1~\n"
        "NM1*QC*1*DOE*JANE****MI*MEMBER1~\n"
        "SVC*HC:99213*-200.00*-120.00**1~\n"
        "DTM*472*20240102~\n"
        "CAS*CO*45*-60.00~\n"
        "CAS*PR*3*-20.00~\n"
    )
    text = REMIT.replace("PLB*", reversal + "PLB*").replace("SE*31*", "SE*37*")
    text = text.replace("BPR*I*117.50", "BPR*I*-2.50")
    claims = parse(text).claims
    assert claims["claim_status_code"].to_list() == ["1", "4", "22"]
    assert claims["paid_amount"].sum() == Decimal("0.00")


def test_several_transaction_sets_each_balance():
    body = REMIT[REMIT.index("ST*835") : REMIT.index("GE*")]
    second = body.replace("ST*835*0001", "ST*835*0002").replace("SE*31*0001", "SE*31*0002")
    text = REMIT.replace("GE*1*101", second + "GE*2*101")
    remit = parse(text)
    assert remit.payments["transaction_control_number"].to_list() == ["0001", "0002"]
    assert remit.claims.group_by("transaction_index").len().sort("transaction_index").rows() == [
        (1, 2),
        (2, 2),
    ]


def test_4010_remit_is_read_with_its_reversal_group_code():
    text = (
        REMIT.replace("*^*00501*", "*U*00401*")
        .replace("005010X221A1", "004010X091A1")
        .replace("CAS*CO*50*80.00", "CAS*CR*50*80.00")
    )
    remit = parse(text)
    assert remit.payments["version"].item() == "004010X091A1"
    assert remit.claim_adjustments["group_code"].to_list() == ["CR"]


def test_read_835_from_disk(tmp_path):
    path = tmp_path / "r.835"
    path.write_text(REMIT)
    assert read_835(path).claims.height == 2


# --------------------------------------------------------------------------- rejections


def test_unbalanced_service_line():
    err = fails(REMIT.replace("CAS*CO*45*40.00", "CAS*CO*45*41.00"), BalancingError)
    assert err.segment_index == 17
    assert err.rule == "835 service line balancing"
    assert str(err) == (
        "remits/x.835: segment 17 (SVC): service line does not balance: "
        "SVC02 − ΣCAS = 150.00 − 61.00 = 89.00 ≠ SVC03 = 90.00 (rule: 835 service line balancing)"
    )


def test_unbalanced_claim():
    err = fails(
        REMIT.replace("CLP*PCN001*1*200.00*120.00", "CLP*PCN001*1*200.00*110.00"), BalancingError
    )
    assert str(err) == (
        "remits/x.835: segment 12 (CLP): claim does not "
        "balance: CLP03 − ΣCAS = 200.00 − 80.00 = 120.00 ≠ CLP04 = 110.00 (rule: 835 claim balancing)"
    )


def test_claim_level_cas_counts_in_claim_balancing():
    err = fails(REMIT.replace("CAS*CO*50*80.00", "CAS*CO*50*70.00"), BalancingError)
    assert err.segment_index == 27
    assert "200.00" not in err.reason and "80.00 − 70.00 = 10.00 ≠ CLP04 = 0.00" in err.reason


def test_unbalanced_transaction():
    err = fails(REMIT.replace("BPR*I*117.50", "BPR*I*100.00"), BalancingError)
    assert err.segment_index == 4
    assert (
        err.reason
        == "transaction does not balance: ΣCLP04 − ΣPLB = 120.00 − 2.50 = 117.50 ≠ BPR02 = 100.00"
    )


@pytest.mark.parametrize(
    ("old", "new", "segment", "reason"),
    [
        (
            "CLP*PCN001*1*200.00",
            "CLP*PCN001*1*abc",
            12,
            "CLP03 (shaped 'AAA') is not a valid amount",
        ),
        (
            "SVC*HC:81002*50.00",
            "SVC*HC:81002*50.001",
            23,
            "SVC02 (shaped '99.999') is not a valid amount",
        ),
        (
            "CAS*PR*3*20.00",
            "CAS*PR*3*2O.00",
            20,
            "CAS amount (shaped '9A.99') is not a valid amount",
        ),
        (
            "PLB*1234567893*20241231*L6:INT1*-7.50",
            "PLB*1234567893*20241231*L6:INT1*-7,50",
            32,
            "(shaped '-9,99')",
        ),
        (
            "DTM*232*20240103",
            "DTM*232*20240231",
            31,
            "DTM02 (232) (shaped '99999999') is not a valid date",
        ),
        (
            "DTM*472*20240102~\nCAS*CO*45*20.00",
            "DTM*472*2024012~\nCAS*CO*45*20.00",
            24,
            "(shaped '9999999')",
        ),
        ("BPR*I*117.50", "BPR**117.50", 4, "BPR01 is required but empty"),
        ("CLP*PCN002*4", "CLP**4", 27, "CLP01 (patient control number) is required"),
        ("CAS*PR*3*20.00", "CAS*PR**20.00", 20, "CAS reason code is required but empty"),
    ],
)
def test_malformed_values_are_rejected_at_their_segment(old, new, segment, reason):
    err = fails(REMIT.replace(old, new), SegmentError)
    assert err.segment_index == segment
    assert reason in err.reason


def test_wrong_component_separator_in_svc01():
    err = fails(REMIT.replace("SVC*HC:99213:25", "SVC*HC>99213>25"), SegmentError)
    assert err.segment_index == 17
    assert "qualifier 'HC>99213>25' is not a known code" in err.reason
    assert "component separator of this file is ':' (ISA16)" in err.reason


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            "CAS*CO*50*80.00",
            "CAS*XX*50*80.00",
            "CAS01 group code 'XX' is not one of CO, OA, PI, PR",
        ),
        ("CLP*PCN002*4", "CLP*PCN002*9", "CLP02 claim status '9' is not a known code"),
        (
            "LX*1~\nCLP*PCN001",
            "LX*1~\nCAS*CO*45*1.00~\nCLP*PCN001",
            "CAS segment is not inside a claim",
        ),
    ],
)
def test_structural_problems(old, new, reason):
    text = REMIT.replace(old, new)
    if "not inside" in reason:
        text = text.replace("SE*31*", "SE*32*")
    err = fails(text, SegmentError)
    assert reason in err.reason


def test_cr_group_code_is_not_5010():
    err = fails(REMIT.replace("CAS*CO*50*80.00", "CAS*CR*50*80.00"), SegmentError)
    assert "'CR' is not one of" in err.reason


def test_missing_bpr_is_named():
    text = REMIT.replace(
        "BPR*I*117.50*C*ACH*CCP*01*999999999*DA*123456*1234567890**01*888888888*DA*654321*20240116~\n",
        "",
    )
    err = fails(text.replace("SE*31*", "SE*30*"), SegmentError)
    assert err.segment_index == 3
    assert "no BPR (financial information) segment" in err.reason


@pytest.mark.parametrize("set_id", ["837", "999"])
def test_unknown_transaction_type(set_id):
    err = fails(REMIT.replace("ST*835*0001", f"ST*{set_id}*0001"), UnsupportedTransactionError)
    assert err.reason == f"transaction set '{set_id}' is not an 835 remittance advice"
    assert err.segment_index == 3


def test_unsupported_version():
    err = fails(REMIT.replace("005010X221A1", "005010X222A1"), UnsupportedTransactionError)
    assert "835 version '005010X222A1' (GS08) is not supported" in err.reason


def test_envelope_errors_surface_through_the_parser():
    assert isinstance(fails(REMIT.replace("SE*31*", "SE*30*"), EnvelopeError), EnvelopeError)
    assert isinstance(
        fails(REMIT[: REMIT.index("CLP*PCN002") + 20], X12SyntaxError), X12SyntaxError
    )


# --------------------------------------------------------------------------- public samples

# Per sample: what loading it must do, and why (from the MANIFEST columns and notes).
LOADS = "loads"
EXPECTED: dict[str, tuple] = {
    "LinuxForHeal__demo.835": (LOADS, "implementation-guide demo: 2 claims with claim-level CAS, "
        "MIA/MOA, a PLB of -1.27; 138018.40 + 11980.33 + 1.27 = BPR02 150000.00"),
    "derived__demo_crlf.835": (LOADS, "demo.835 re-delimited with CRLF after '~' (DERIVED.txt)"),
    "derived__demo_newline_term.835": (LOADS, "demo.835 with newline as the segment terminator"),
    "derived__demo_one_line.835": (LOADS, "demo.835 on a single line"),
    "derived__demo_pipe_sep.835": (LOADS, "demo.835 with '|' element and '>' component separators"),
    "affect-thera__emedny_sample.txt": (LOADS, "3 claims, 10 lines, 4 line CAS; balances (34.25 + 0 + 11.50 = 45.75)"),
    "affect-thera__united_healthcare_legacy_sample.txt": (LOADS, "one line, no newlines, '>' "
        "component separator (ISA16 '>'); CAS with two triplets; balances to 349.99"),
    "LinuxForHeal__cob-contractural-adjustment.835": (SegmentError, "835 SVC01 procedure composite", 21,
        "SVC01 'HC>55669' uses '>' but ISA16 declares ':' as the component separator, so the "
        "procedure cannot be read (the money itself balances: MANIFEST balance_issues 0)"),
    "LinuxForHeal__secondary-payment.835": (SegmentError, "835 SVC01 procedure composite", 29,
        "same '>' versus ISA16 ':' conflict in SVC01 'HC>12345>26'"),
    "LinuxForHeal__tertiary-payment.835": (SegmentError, "835 SVC01 procedure composite", 20,
        "SVC01 is just 'HC': the code slid into SVC02, which is why MANIFEST finds the line "
        "unbalanced (24599.00 - 1766.50 != 1579.00)"),
    "LinuxForHeal__managed-care.835": (SegmentError, "X12 DT date", 4,
        "BPR16 '20002316' has month 23; a payment date that is not a date is not loaded"),
    "affect-thera__blue_cross_nc_sample.txt": (X12SyntaxError, "X12 interchange (ISA)", None,
        "bare ST..SE fragment, no ISA/GS envelope (MANIFEST notes)"),
    "affect-thera__exhaustive_sample.txt": (X12SyntaxError, "X12 interchange (ISA)", None,
        "bare ST..SE fragment, no ISA/GS envelope (MANIFEST notes)"),
    "affect-thera__nevada_medicaid.txt": (EnvelopeError, "X12 ISA13 = IEA02", 67,
        "IEA02 100000301 != ISA13 100000300 (its unpadded ISA, isa_fixed_width False, is read fine)"),
    "affect-thera__sample_835.txt": (EnvelopeError, "X12 SE01 segment count", 57,
        "MANIFEST SE01_mismatch 2 (SE*46 for 55 segments); it also carries placeholder CAS "
        "text and BPR02 != ΣCLP04 − PLB, but the first problem in the file is reported"),
    "affect-thera__sample_835_with_interests.txt": (EnvelopeError, "X12 SE01 segment count", 57,
        "same SE01 mismatch as sample_835.txt, before its PLB and stray-segment problems"),
}  # fmt: skip


def _manifest() -> dict[str, dict[str, str]]:
    with (SAMPLES / "MANIFEST.tsv").open(newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def _sample_files() -> list[str]:
    if not SAMPLES.is_dir():
        return []
    return sorted(
        p.name for p in SAMPLES.iterdir() if p.name not in ("MANIFEST.tsv", "DERIVED.txt")
    )


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared/samples/x12/835 is not present")
def test_every_sample_has_a_stated_outcome():
    assert sorted(EXPECTED) == _sample_files()


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared/samples/x12/835 is not present")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_public_sample(name):
    expected = EXPECTED[name]
    path = SAMPLES / name
    if expected[0] == LOADS:
        remit = read_835(path)
        row = _manifest().get(name)
        if row is None:  # derived files: the same content as demo.835
            demo = read_835(SAMPLES / "LinuxForHeal__demo.835")
            for table, frame in remit.tables().items():
                assert frame.equals(demo.tables()[table]), table
            return
        # The counts the MANIFEST gives for the file are what the tables hold.
        assert remit.claims.height == int(row["CLP"])
        assert remit.service_lines.height == int(row["SVC"])
        assert remit.payments.height == int(row["ST"])
        assert remit.claim_adjustments["segment_index"].n_unique() == int(row["claim_CAS"])
        assert remit.line_adjustments["segment_index"].n_unique() == int(row["line_CAS"])
        assert remit.provider_adjustments["segment_index"].n_unique() == int(row["PLB"])
        assert int(row["balance_issues"]) == 0
        return
    cls, rule, segment, _why = expected
    with pytest.raises(cls) as info:
        read_835(path)
    assert info.value.rule == rule
    assert info.value.segment_index == segment
    assert info.value.file == name


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared/samples/x12/835 is not present")
def test_nevada_with_its_iea02_repaired_loads_and_balances():
    """The envelope error hides a file that is otherwise sound: three payments, one of
    them only provider-level adjustments (ΣCLP04 0 − ΣPLB −1812.27 = BPR02 1812.27)."""
    text = (SAMPLES / "affect-thera__nevada_medicaid.txt").read_text(encoding="latin-1")
    remit = parse(text.replace("IEA*1*100000301", "IEA*1*100000300"))
    assert remit.payments.select(
        "transaction_control_number", "payment_amount", "claim_count"
    ).rows() == [
        ("0001", Decimal("0.00"), 1),
        ("0002", Decimal("0.00"), 2),
        ("0003", Decimal("1812.27"), 0),
    ]
    assert remit.claims["claim_status_code"].to_list() == ["4", "2", "4"]
    assert remit.provider_adjustments["amount"].sum() == Decimal("-1812.27")


def test_remit_without_any_cas_keeps_typed_empty_adjustment_tables():
    kept = [s for s in REMIT.split("~\n") if s and not s.startswith("CAS*")]
    text = "~\n".join(kept) + "~\n"
    for old, new in [
        ("SVC*HC:99213:25*150.00*90.00", "SVC*HC:99213:25*90.00*90.00"),
        ("SVC*HC:81002*50.00*30.00", "SVC*HC:81002*30.00*30.00"),
        ("CLP*PCN001*1*200.00*120.00", "CLP*PCN001*1*120.00*120.00"),
        ("CLP*PCN002*4*80.00*0.00", "CLP*PCN002*4*0.00*0.00"),
        ("SE*31*", "SE*27*"),
    ]:
        text = text.replace(old, new)
    remit = parse(text)
    assert remit.claim_adjustments.height == remit.line_adjustments.height == 0
    assert remit.line_adjustments.schema["amount"] == pl.Decimal(18, 2)
    assert remit.claims["paid_amount"].to_list() == [Decimal("120.00"), Decimal("0.00")]
