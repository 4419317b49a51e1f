"""837P reader: claims, diagnoses and lines with the hierarchy resolved; rejections; samples."""

from __future__ import annotations

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
from pipelines.lib.x12.claim_837p import parse_837p_bytes, read_837p

SAMPLES = Path(__file__).resolve().parents[3] / ".." / "shared" / "samples" / "x12" / "837"

# PCN001: the subscriber is the patient (HL 22), rendering provider in 2310B, service
# facility in 2310C, and a 2320/2330 other-payer loop whose NM1*IL/NM1*PR must not be
# taken for the subscriber or payer. PCN002: a child (HL 23 under HL 22), no 2310B.
CLAIMS = """\
ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240115*1200*^*00501*000000201*0*T*:~
GS*HC*SUBMITTER*RECEIVER*20240115*1200*201*X*005010X222A1~
ST*837*0001*005010X222A1~
BHT*0019*00*BATCH1*20240115*1200*CH~
NM1*41*2*FAMILY CLINIC*****46*SUB001~
PER*IC*BILLING DESK*TE*5555551234~
NM1*40*2*CLEARINGHOUSE*****46*CH01~
HL*1**20*1~
NM1*85*2*FAMILY CLINIC*****XX*1234567893~
N3*1 MAIN ST~
N4*LAKEVIEW*FL*338010000~
REF*EI*123456789~
HL*2*1*22*0~
SBR*P*18*GRP100******CI~
NM1*IL*1*DOE*JANE****MI*MEMBER1~
DMG*D8*19800101*F~
NM1*PR*2*ACME HEALTH PLAN*****PI*ACME01~
CLM*PCN001*200.00***11:B:1*Y*A*Y*Y~
REF*F8*PAYERCLM0~
HI*ABK:E119*ABF:I10~
NM1*82*1*SMITH*JOHN****XX*1112223339~
NM1*77*2*LAKEVIEW OFFICE*****XX*1497758544~
SBR*S*18*******MC~
NM1*IL*1*DOE*JANE****MI*OTHER9~
NM1*PR*2*OTHER PLAN*****PI*OTHER1~
LX*1~
SV1*HC:99213:25*150.00*UN*1***1:2~
DTP*472*D8*20240102~
REF*6R*LINE1~
LX*2~
SV1*HC:81002*50.00*UN*2***1~
DTP*472*RD8*20240102-20240103~
HL*3*1*22*1~
SBR*P**GRP200******CI~
NM1*IL*1*ROE*RICHARD****MI*MEMBER2~
DMG*D8*19700505*M~
NM1*PR*2*ACME HEALTH PLAN*****PI*ACME01~
HL*4*3*23*0~
PAT*19~
NM1*QC*1*ROE*KID~
DMG*D8*20150202*M~
CLM*PCN002*80.00***11:B:1*Y*A*Y*Y~
HI*ABK:J069~
LX*1~
SV1*HC:99392*80.00*UN*1***1~
DTP*472*D8*20240103~
SE*45*0001~
GE*1*201~
IEA*1*000000201~
"""


def parse(text: str):
    return parse_837p_bytes(text.encode(), "claims/c.837")


def fails(text: str, cls: type[InputError] = InputError) -> InputError:
    with pytest.raises(cls) as info:
        parse(text)
    return info.value


def recount(text: str) -> str:
    """Fix SE01 after a test removed or added segments (one transaction set, '~' ends)."""
    segments = [s.strip() for s in text.split("~") if s.strip()]
    st = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    segments[se] = f"SE*{se - st + 1}*{segments[se].split('*')[2]}"
    return "~\n".join(segments) + "~\n"


# --------------------------------------------------------------------------- tables


def test_claims_resolve_billing_rendering_facility_payer_subscriber_and_patient():
    first, second = parse(CLAIMS).claims.to_dicts()
    assert first == {
        "interchange_control_number": "000000201",
        "group_control_number": "201",
        "transaction_control_number": "0001",
        "transaction_index": 1,
        "segment_index": 18,
        "patient_control_number": "PCN001",
        "total_charge_amount": Decimal("200.00"),
        "place_of_service": "11",
        "facility_code_qualifier": "B",
        "claim_frequency_code": "1",
        "provider_signature": "Y",
        "assignment_code": "A",
        "benefits_assignment": "Y",
        "release_of_information": "Y",
        "payer_claim_control_number": "PAYERCLM0",
        "medical_record_number": None,  # no REF*EA in this fixture
        "submission_date": dt.date(2024, 1, 15),
        "billing_provider_name": "FAMILY CLINIC",
        "billing_provider_npi": "1234567893",
        "billing_provider_tax_id": "123456789",
        "billing_provider_tax_id_qualifier": "EI",
        "rendering_provider_npi": "1112223339",
        "rendering_provider_source": "2310B",
        "rendering_provider_last_name": "SMITH",
        "rendering_provider_first_name": "JOHN",
        "rendering_provider_taxonomy": None,  # no PRV*PE in this 2310B
        "service_facility_name": "LAKEVIEW OFFICE",
        "service_facility_npi": "1497758544",
        "payer_name": "ACME HEALTH PLAN",
        "payer_id": "ACME01",
        "payer_responsibility": "P",
        "claim_filing_indicator": "CI",
        "group_number": "GRP100",
        "subscriber_member_id": "MEMBER1",
        "subscriber_last_name": "DOE",
        "subscriber_first_name": "JANE",
        "subscriber_birth_date": dt.date(1980, 1, 1),
        "subscriber_sex": "F",
        "patient_relationship": "18",
        "patient_last_name": "DOE",
        "patient_first_name": "JANE",
        "patient_birth_date": dt.date(1980, 1, 1),
        "patient_sex": "F",
        "line_count": 2,
    }
    assert second["segment_index"] == 42
    assert second["rendering_provider_npi"] == "1234567893"
    assert second["rendering_provider_source"] == "billing provider"
    # The billing-provider fallback lends its NPI only: no rendering name or taxonomy
    assert (
        second["rendering_provider_last_name"],
        second["rendering_provider_first_name"],
        second["rendering_provider_taxonomy"],
    ) == (None, None, None)
    assert second["service_facility_npi"] is None
    assert (second["subscriber_member_id"], second["subscriber_last_name"]) == ("MEMBER2", "ROE")
    assert (second["patient_last_name"], second["patient_first_name"]) == ("ROE", "KID")
    assert second["patient_relationship"] == "19"
    assert second["patient_birth_date"] == dt.date(2015, 2, 2)
    assert second["line_count"] == 1


def test_rendering_provider_taxonomy_from_prv_pe_in_2310b():
    """PRV*PE after NM1*82 is the rendering taxonomy; the billing provider's PRV*BI (2000A)
    and a line-level 2420A rendering provider are not taken for it."""
    text = CLAIMS.replace(
        "NM1*82*1*SMITH*JOHN****XX*1112223339~\n",
        "NM1*82*1*SMITH*JOHN****XX*1112223339~\nPRV*PE*PXC*207Q00000X~\n",
    ).replace("HL*1**20*1~\n", "HL*1**20*1~\nPRV*BI*PXC*261QP2300X~\n")
    text = text.replace(
        "SV1*HC:81002*50.00*UN*2***1~\nDTP*472*RD8*20240102-20240103~\n",
        "SV1*HC:81002*50.00*UN*2***1~\nDTP*472*RD8*20240102-20240103~\n"
        "NM1*82*1*LINE*LUCY****XX*1999999992~\nPRV*PE*PXC*208D00000X~\n",
    )
    first, second = parse(recount(text)).claims.to_dicts()
    assert (
        first["rendering_provider_npi"],
        first["rendering_provider_last_name"],
        first["rendering_provider_first_name"],
        first["rendering_provider_taxonomy"],
    ) == ("1112223339", "SMITH", "JOHN", "207Q00000X")
    assert second["rendering_provider_taxonomy"] is None
    assert second["rendering_provider_last_name"] is None


def test_medical_record_number_from_2300_ref_ea():
    """REF*EA in loop 2300 is the patient's MRN at the practice; a claim without one reads
    null, and a REF*EA outside 2300 (here in a 2400 line) is not taken for it."""
    text = CLAIMS.replace("REF*F8*PAYERCLM0~\n", "REF*F8*PAYERCLM0~\nREF*EA*MRN0001914~\n")
    text = text.replace("DTP*472*D8*20240103~\n", "DTP*472*D8*20240103~\nREF*EA*LINEREF~\n")
    claims = parse(recount(text)).claims
    assert claims.schema["medical_record_number"] == pl.Utf8
    first, second = claims.to_dicts()
    assert (first["medical_record_number"], first["payer_claim_control_number"]) == (
        "MRN0001914",
        "PAYERCLM0",
    )
    assert second["medical_record_number"] is None

    # The dependent's claim (HL 23) reads its own REF*EA, not the claim before it
    text = text.replace(
        "CLM*PCN002*80.00***11:B:1*Y*A*Y*Y~\n",
        "CLM*PCN002*80.00***11:B:1*Y*A*Y*Y~\nREF*EA*MRN0000042~\n",
    )
    claims = parse(recount(text)).claims
    assert claims["medical_record_number"].to_list() == ["MRN0001914", "MRN0000042"]


def test_diagnoses_in_order_with_pointer_numbers():
    dx = parse(CLAIMS).diagnoses
    assert dx.select(
        "segment_index",
        "claim_segment_index",
        "position",
        "pointer",
        "qualifier",
        "code",
        "is_principal",
    ).rows() == [
        (20, 18, 1, 1, "ABK", "E119", True),
        (20, 18, 2, 2, "ABF", "I10", False),
        (43, 42, 1, 1, "ABK", "J069", True),
    ]


def test_service_lines():
    lines = parse(CLAIMS).service_lines
    assert lines.select("segment_index", "claim_segment_index", "line_number").rows() == [
        (27, 18, "1"),
        (31, 18, "2"),
        (45, 42, "1"),
    ]
    first, second, _ = lines.to_dicts()
    assert (first["procedure_qualifier"], first["procedure_code"], first["modifier_1"]) == (
        "HC",
        "99213",
        "25",
    )
    assert first["charge_amount"] == Decimal("150.00")
    assert (first["unit_basis"], first["units"]) == ("UN", 1.0)
    assert (
        first["diagnosis_pointer_1"],
        first["diagnosis_pointer_2"],
        first["diagnosis_pointer_3"],
    ) == (1, 2, None)
    assert first["service_date_from"] == first["service_date_to"] == dt.date(2024, 1, 2)
    assert first["line_item_control_number"] == "LINE1"
    assert second["units"] == 2.0
    assert (second["service_date_from"], second["service_date_to"]) == (
        dt.date(2024, 1, 2),
        dt.date(2024, 1, 3),
    )
    assert second["line_item_control_number"] is None
    assert lines.schema["charge_amount"] == pl.Decimal(18, 2)


def test_every_table_carries_lineage():
    for name, frame in parse(CLAIMS).tables().items():
        assert frame.columns[:5] == [
            "interchange_control_number",
            "group_control_number",
            "transaction_control_number",
            "transaction_index",
            "segment_index",
        ], name


def test_a2_errata_label_and_other_separators_read_the_same():
    text = CLAIMS.replace("005010X222A1", "005010X222A2").translate(
        str.maketrans({"*": "|", ":": ">"})
    )
    claims = parse(text).claims
    assert claims["patient_control_number"].to_list() == ["PCN001", "PCN002"]
    assert claims["place_of_service"].to_list() == ["11", "11"]


def test_read_837p_from_disk(tmp_path):
    path = tmp_path / "c.837"
    path.write_text(CLAIMS)
    assert read_837p(path).service_lines.height == 3


# --------------------------------------------------------------------------- rejections


def test_claim_charge_must_equal_the_line_charges():
    err = fails(CLAIMS.replace("CLM*PCN001*200.00", "CLM*PCN001*210.00"), BalancingError)
    assert str(err) == (
        "claims/c.837: segment 18 (CLM): claim charge does not "
        "balance: CLM02 = 210.00 ≠ ΣSV102 = 200.00 (rule: 837P CLM02 = Σ SV102)"
    )


@pytest.mark.parametrize(
    ("old", "new", "segment", "reason"),
    [
        (
            "SV1*HC:81002*50.00",
            "SV1*HC:81002*5O.00",
            31,
            "SV102 (line charge) (shaped '9A.99') is not a valid amount",
        ),
        (
            "CLM*PCN002*80.00",
            "CLM*PCN002*eighty",
            42,
            "CLM02 (total claim charge) (shaped 'AAAAAA') is not a valid amount",
        ),
        (
            "DTP*472*D8*20240103~\nSE",
            "DTP*472*D8*20240230~\nSE",
            46,
            "DTP03 (service date) (shaped '99999999') is not a valid date",
        ),
        (
            "RD8*20240102-20240103",
            "RD8*20240102",
            32,
            "is not D8 CCYYMMDD or RD8 CCYYMMDD-CCYYMMDD",
        ),
        (
            "DMG*D8*19800101",
            "DMG*D8*19801301",
            16,
            "DMG02 (birth date) (shaped '99999999') is not a valid date",
        ),
        ("CLM*PCN002", "CLM*", 42, "CLM01 (patient control number) is required but empty"),
        (
            "SV1*HC:99392*80.00*UN*1***1",
            "SV1*HC:99392*80.00*UN*1***2",
            45,
            "points past the claim's 1 diagnosis codes",
        ),
        (
            "SV1*HC:81002*50.00*UN*2***1",
            "SV1*HC:81002*50.00*UN*2***A",
            31,
            "diagnosis pointers must be numbers 1 to 12",
        ),
        (
            "SV1*HC:81002*50.00*UN*2",
            "SV1*HC:81002*50.00*UN*",
            31,
            "SV104 (units) is required but empty",
        ),
        ("SV1*HC:81002", "SV1*XX:81002", 31, "SV101 'XX:81002' is not a procedure composite"),
        ("HI*ABK:E119*ABF:I10", "HI*ABK*E119", 20, "HI01 'ABK' is not qualifier:code"),
        (
            "HL*4*3*23*0",
            "HL*4*9*23*0",
            38,
            "HL02 parent '9' is not an HL01 of this transaction set",
        ),
    ],
)
def test_malformed_values_are_rejected_at_their_segment(old, new, segment, reason):
    err = fails(CLAIMS.replace(old, new), SegmentError)
    assert reason in err.reason
    assert err.segment_index == segment


def test_clm05_with_the_wrong_component_separator():
    err = fails(CLAIMS.replace("11:B:1", "11>B>1", 1), SegmentError)
    assert err.segment_index == 18
    assert "split by the component separator ':' (ISA16)" in err.reason


def test_missing_service_date():
    err = fails(recount(CLAIMS.replace("DTP*472*D8*20240103~\n", "")), SegmentError)
    assert err.reason == "service line has no DTP*472 service date"
    assert err.segment_index == 44


def test_claim_without_lines():
    text = CLAIMS.replace("LX*1~\nSV1*HC:99392*80.00*UN*1***1~\nDTP*472*D8*20240103~\n", "")
    err = fails(recount(text), SegmentError)
    assert err.reason == "claim has no service lines (loop 2400 LX/SV1)"
    assert err.segment_index == 42


def test_lx_without_sv1():
    err = fails(recount(CLAIMS.replace("SV1*HC:99392*80.00*UN*1***1~\n", "")), SegmentError)
    assert "has no SV1" in err.reason


def test_missing_billing_provider():
    err = fails(
        CLAIMS.replace("NM1*85*2*FAMILY CLINIC*****XX*1234567893", "NM1*87*2"), SegmentError
    )
    assert (
        err.reason == "the claim at segment 18 (CLM) has no billing provider (loop 2010AA NM1*85)"
    )
    assert err.segment_index == 8


def test_missing_payer():
    text = CLAIMS.replace("NM1*PR*2*ACME HEALTH PLAN*****PI*ACME01~\nCLM*PCN001", "CLM*PCN001")
    err = fails(recount(text), SegmentError)
    assert "has no payer (loop 2010BB NM1*PR)" in err.reason


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("ST*837*0001*005010X222A1", "ST*835*0001", "transaction set '835' is not an 837 claim"),
        ("005010X222A1", "005010X223A2", "'005010X223A2' (ST03/GS08) is institutional (837I)"),
        ("005010X222A1", "004010X098A1", "'004010X098A1' (ST03/GS08) is an unsupported guide"),
    ],
)
def test_unsupported_transactions(old, new, reason):
    assert reason in fails(CLAIMS.replace(old, new), UnsupportedTransactionError).reason


def test_envelope_and_syntax_errors_surface_through_the_parser():
    assert isinstance(fails(CLAIMS.replace("SE*45*", "SE*44*"), EnvelopeError), EnvelopeError)
    assert isinstance(fails(CLAIMS[CLAIMS.index("ST*") :], X12SyntaxError), X12SyntaxError)
    assert isinstance(fails(b"\x00\x01binary".decode("latin-1"), X12SyntaxError), X12SyntaxError)


# --------------------------------------------------------------------------- public samples

SE01 = "X12 SE01 segment count"
CLM05 = "837P CLM05 health care service location"
# Per sample: expected outcome and why (MANIFEST columns and notes).
LOADS = "loads"
IMSWEB_SE01 = "imsweb writes SE*25 whatever the set's length (MANIFEST SE01_mismatch 1)"
EXPECTED: dict[str, tuple] = {
    **{
        f"LinuxForHeal__demo.{name}.837": (LOADS, "well-formed 005010X222A2 example; CLM02 = ΣSV102")
        for name in [
            "ambulance.example5", "autoaccident", "cob.example3.A", "cob.example3.B",
            "cob.example3.C", "cob.example4", "drug.example10.1", "drug.example10.2",
            "drug.example10.3", "example1", "example2", "example7", "example8",
        ]
    },
    "LinuxForHeal__demo.837": (LOADS, "the LinuxForHealth demo claim; 4 lines sum to CLM02 100"),
    **{
        f"LinuxForHeal__demo.{name}.837": (SegmentError, CLM05, segment,
            "CLM05 is written '..>B>1' but ISA16 declares ':' as the component separator")
        for name, segment in [("cob.2ndary.example4", 21), ("example11", 21), ("example12", 26), ("example9", 20)]
    },
    "imsweb__x12_no_isa_line.txt": (X12SyntaxError, "X12 interchange (ISA)", None,
        "starts at GS: no ISA envelope (MANIFEST: bare fragment)"),
    "imsweb__x12_bad_segment_identifier.txt": (X12SyntaxError, "X12 segment syntax", 6,
        "segment 6 has no id ('*IC*DAVID...'); it comes before the SE01 mismatch"),
    **{
        f"imsweb__x12_{name}.txt": (EnvelopeError, SE01, segment, IMSWEB_SE01)
        for name, segment in [
            ("ambiguous_loop", 35), ("bad_first_line", 36), ("bad_valid_code", 36), ("complex", 149),
            ("loop_errors1_exceeds_max_1_parent", 33),
            ("loop_errors2_exceeds_max_repeats_multiple_parents", 52),
            ("loop_errors3_missing_loops", 21), ("many_claims", 11488), ("missing_elements", 36),
            ("missing_required_loop_in_one_repeat", 42), ("missing_required_loops_mult_repeats", 61),
            ("multiple_gs", 36), ("multiple_isa", 36), ("multiple_st", 36),
            ("multiple_transactions", 36), ("no_errors", 43), ("segment_errors", 25),
            ("segments_out_of_order", 36), ("valid", 36), ("valid_different_separators", 36),
            ("writer_test", 33),
        ]
    },
}  # fmt: skip


def _sample_files() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if p.name != "MANIFEST.tsv")


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared/samples/x12/837 is not present")
def test_every_sample_has_a_stated_outcome():
    assert sorted(EXPECTED) == _sample_files()


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared/samples/x12/837 is not present")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_public_sample(name):
    expected = EXPECTED[name]
    path = SAMPLES / name
    if expected[0] == LOADS:
        claims = read_837p(path)
        text = path.read_text(encoding="latin-1")
        # Independent count from the raw text: one claim per CLM, one line per SV1.
        assert claims.claims.height == text.count("~CLM*") + text.count("\nCLM*")
        assert claims.service_lines.height == text.count("SV1*")
        assert claims.claims["billing_provider_npi"].null_count() == 0
        assert claims.diagnoses.height >= claims.claims.height
        return
    cls, rule, segment, _why = expected
    with pytest.raises(cls) as info:
        read_837p(path)
    assert info.value.rule == rule
    assert info.value.segment_index == segment
    assert info.value.file == name


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared/samples/x12/837 is not present")
def test_imsweb_valid_with_its_se01_repaired_still_fails_deeper_checks():
    """With SE01 corrected in memory, the parser finds what the envelope error hid: the
    second subscriber HL*2*3*22*1 names a parent HL 3 that does not exist."""
    text = (SAMPLES / "imsweb__x12_valid.txt").read_text(encoding="latin-1")
    err = fails(recount(text), SegmentError)
    assert err.reason == "HL02 parent '3' is not an HL01 of this transaction set"
    assert err.segment_text == "HL*9*9*99*9"
