"""X12 tokenizer: delimiters, line breaks, envelopes, and the errors a person can act on."""

from __future__ import annotations

import pickle
import string

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.lib.errors import (
    EnvelopeError,
    InputError,
    X12SyntaxError,
    segment_shape,
    value_shape,
)
from pipelines.lib.x12.tokenizer import Field, convert, read_x12, tokenize


def isa(control: str = "000000101", sep: str = "*", rep: str = "^", comp: str = ":") -> str:
    """A fixed-width (106-character) ISA segment without its terminator."""
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ",
        "RECEIVER".ljust(15), "240115", "1200", rep, "00501", control, "0", "T", comp,
    ]  # fmt: skip
    return sep.join(fields)


# One interchange, one group, one transaction set of four segments (ST..SE).
BASIC = "\n".join(
    [
        isa() + "~",
        "GS*HP*SENDER*RECEIVER*20240115*1200*101*X*005010X221A1~",
        "ST*835*0001~",
        "BPR*I*10.00*C*CHK************20240116~",
        "REF*EV*A:B~",
        "SE*4*0001~",
        "GE*1*101~",
        "IEA*1*000000101~",
    ]
)


def elements_of(doc) -> list[list[str]]:
    return doc.elements().to_list()


# --------------------------------------------------------------------------- delimiters


def test_basic_interchange_is_one_row_per_segment_with_elements():
    doc = tokenize(BASIC.encode(), "basic.835")
    assert doc.segments["segment_id"].to_list() == [
        "ISA",
        "GS",
        "ST",
        "BPR",
        "REF",
        "SE",
        "GE",
        "IEA",
    ]
    assert doc.segments["segment_index"].to_list() == list(range(1, 9))
    assert elements_of(doc)[4] == ["REF", "EV", "A:B"]
    assert doc.delimiters.element == "*"
    assert doc.delimiters.component == ":"
    assert doc.delimiters.repetition == "^"
    assert doc.delimiters.segment == "~"
    # Envelope segments outside ST..SE belong to no transaction set.
    assert doc.segments["transaction_index"].to_list() == [None, None, 1, 1, 1, 1, None, None]


def test_byte_offsets_point_at_each_segment():
    data = BASIC.encode()
    doc = tokenize(data)
    for offset, sid in doc.segments.select("byte_offset", "segment_id").iter_rows():
        assert data[offset:].startswith(sid.encode())


def test_take_reads_chosen_elements_and_turns_empty_or_absent_into_null():
    doc = tokenize(BASIC.encode())
    frame = doc.take(
        doc.rows("BPR"), {"handling": 1, "amount": 2, "empty": 5, "date": 16, "past_end": 30}
    )
    assert frame.row(0, named=True) == {
        "segment_index": 4,
        "handling": "I",
        "amount": "10.00",
        "empty": None,
        "date": "20240116",
        "past_end": None,
    }


def test_element_equals_compares_bytes():
    doc = tokenize(BASIC.encode())
    rows = doc.rows("REF")
    assert doc.element_equals(rows, 1, "EV").tolist() == [True]
    assert doc.element_equals(rows, 1, "E").tolist() == [False]
    assert doc.element_equals(rows, 1, "EVX").tolist() == [False]
    assert doc.element_equals(rows, 9, "EV").tolist() == [False]


@pytest.mark.parametrize(
    ("sep", "comp", "rep", "term"),
    [
        ("*", ":", "^", "~"),
        ("|", ">", "^", "~"),
        ("~", "^", "U", "_"),  # like imsweb's "different separators" sample (4010-style ISA11)
        ("!", "\\", "{", "'"),
        ("*", ":", "^", "\n"),  # newline as the segment terminator
    ],
)
def test_any_legal_delimiters_are_read_from_the_isa(sep, comp, rep, term):
    text = BASIC.replace("\n", "")
    table = str.maketrans({"*": sep, ":": comp, "^": rep, "~": term})
    doc = tokenize(text.translate(table).encode())
    assert doc.delimiters.element == sep
    assert doc.delimiters.component == comp
    assert doc.delimiters.segment == term
    assert doc.delimiters.repetition == (None if rep.isalnum() else rep)
    assert elements_of(doc)[4] == ["REF", "EV", f"A{comp}B"]
    assert doc.transactions.height == 1


def test_crlf_after_terminators_bom_and_leading_blank_lines():
    data = b"\xef\xbb\xbf\r\n" + BASIC.replace("\n", "\r\n").encode() + b"\r\n\r\n"
    doc = tokenize(data)
    assert doc.segments["segment_id"].to_list() == [
        "ISA",
        "GS",
        "ST",
        "BPR",
        "REF",
        "SE",
        "GE",
        "IEA",
    ]
    assert elements_of(doc)[2] == ["ST", "835", "0001"]
    assert data[doc.segments["byte_offset"][2] :].startswith(b"ST*835")


def test_one_line_file():
    doc = tokenize(BASIC.replace("\n", "").encode())
    assert doc.segments.height == 8
    assert doc.segment_text(6) == "SE*4*0001"


def test_crlf_line_ends_as_terminators():
    # ISA16 is followed by CR: CR is the terminator and the LF after it is a line break.
    text = BASIC.replace("~\n", "\r\n").replace("~", "\r\n")
    doc = tokenize(text.encode())
    assert doc.delimiters.segment == "\r"
    frame = doc.take(doc.rows("REF"), {"qualifier": 1, "value": 2})
    assert frame.row(0, named=True) == {"segment_index": 5, "qualifier": "EV", "value": "A:B"}


def test_newline_terminator_tolerates_a_stray_cr_before_it():
    lines = BASIC.replace("~", "").split("\n")
    text = lines[0] + "\n" + "\r\n".join(lines[1:]) + "\r\n"
    doc = tokenize(text.encode())
    assert doc.delimiters.segment == "\n"
    frame = doc.take(doc.rows("REF"), {"qualifier": 1, "value": 2})
    assert frame.row(0, named=True) == {"segment_index": 5, "qualifier": "EV", "value": "A:B"}
    assert doc.transactions.height == 1


def test_blank_pieces_between_terminators_are_not_segments():
    doc = tokenize(BASIC.replace("~\n", "~\n~\n", 1).encode())
    assert doc.segments["segment_id"].to_list()[:3] == ["ISA", "GS", "ST"]
    assert doc.transactions.height == 1


def test_unpadded_isa_fields_are_accepted():
    text = BASIC.replace(
        isa(), "ISA*00**00**ZZ*SENDER*ZZ*RECEIVER*240115*1200*^*00501*000000101*0*T*:"
    )
    doc = tokenize(text.encode())
    assert doc.transactions["sender_id"].to_list() == ["SENDER"]
    assert doc.transactions["interchange_control_number"].to_list() == ["000000101"]


def test_several_interchanges_groups_and_transaction_sets():
    def group(gs: str, sts: list[str]) -> list[str]:
        out = [f"GS*HP*S*R*20240115*1200*{gs}*X*005010X221A1~"]
        for st_ in sts:
            out += [f"ST*835*{st_}~", "BPR*I*0*C*NON************20240116~", f"SE*3*{st_}~"]
        return [*out, f"GE*{len(sts)}*{gs}~"]

    first = [isa("000000001") + "~", *group("1", ["0001", "0002"]), *group("2", ["0003"])]
    second = [isa("000000002") + "~", *group("7", ["0001"]), "IEA*1*000000002~"]
    text = "\n".join([*first, "IEA*2*000000001~", *second])
    doc = tokenize(text.encode())
    tx = doc.transactions.select(
        "transaction_index",
        "interchange_control_number",
        "group_control_number",
        "transaction_control_number",
    )
    assert tx.rows() == [
        (1, "000000001", "1", "0001"),
        (2, "000000001", "1", "0002"),
        (3, "000000001", "2", "0003"),
        (4, "000000002", "7", "0001"),
    ]
    bpr = doc.take(doc.rows("BPR"), {}, {"tx": doc.segments["transaction_index"].to_numpy()})
    assert bpr["tx"].to_list() == [1, 2, 3, 4]


def test_transactions_table_has_envelope_metadata():
    doc = tokenize(BASIC.encode())
    row = doc.transactions.row(0, named=True)
    assert row == {
        "transaction_index": 1,
        "interchange_index": 1,
        "interchange_control_number": "000000101",
        "group_control_number": "101",
        "transaction_control_number": "0001",
        "functional_id": "HP",
        "version": "005010X221A1",
        "transaction_set_id": "835",
        "implementation_reference": "",
        "sender_id": "SENDER",
        "receiver_id": "RECEIVER",
        "usage_indicator": "T",
        "st_segment_index": 3,
        "se_segment_index": 6,
    }


def test_table_has_elements_and_control_numbers_per_segment():
    table = tokenize(BASIC.encode()).table()
    assert table.columns == [
        "segment_index",
        "byte_offset",
        "segment_id",
        "transaction_index",
        "elements",
        "interchange_control_number",
        "group_control_number",
        "transaction_control_number",
    ]
    row = table.row(3, named=True)
    assert row["elements"] == ["BPR", "I", "10.00", "C", "CHK", *[""] * 11, "20240116"]
    assert (row["interchange_control_number"], row["group_control_number"]) == ("000000101", "101")
    assert row["transaction_control_number"] == "0001"
    assert table.row(0, named=True)["transaction_control_number"] is None


@pytest.mark.parametrize("block", [1, 2, 3, 5, 7, 16, 64])
def test_block_boundaries_do_not_change_the_result(monkeypatch, block):
    """Large files are split in blocks on two threads; a block may end anywhere (inside an
    element, on a separator, between a terminator and its line break)."""
    from pipelines.lib.x12 import tokenizer

    lines = BASIC.replace("~", "").split("\n")
    variants = [
        BASIC.replace("\n", "\r\n") + "\r\n",  # '~' then CRLF
        lines[0] + "\n" + "\r\n".join(lines[1:]) + "\r\n",  # LF terminator, stray CR
    ]
    for text in variants:
        expected = tokenize(text.encode())
        monkeypatch.setattr(tokenizer, "_BLOCK", block)
        got = tokenize(text.encode())
        monkeypatch.undo()
        assert got.table().equals(expected.table())
        assert np.array_equal(got.element_start, expected.element_start)
        assert np.array_equal(got.element_length, expected.element_length)


def test_read_x12_from_disk_uses_the_file_name(tmp_path):
    path = tmp_path / "x.835"
    path.write_bytes(BASIC.encode())
    assert read_x12(path).file_name == "x.835"


safe_text = st.text(
    alphabet=string.ascii_uppercase + string.digits + " .-", min_size=0, max_size=14
)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.lists(safe_text, min_size=1, max_size=8), min_size=1, max_size=12),
    delimiters=st.sampled_from(
        [("*", ":", "~"), ("|", ">", "~"), ("!", "@", "\n"), ("^", "}", "'")]
    ),
    newline=st.booleans(),
)
def test_round_trip_of_generated_segments(values, delimiters, newline):
    """Whatever the values and delimiters, the elements read back are the ones written."""
    sep, comp, term = delimiters
    after = "\n" if newline and term != "\n" else ""
    body = [["ST", "835", "0001"], *[["REF", *v] for v in values]]
    body.append(["SE", str(len(body) + 1), "0001"])
    segments = [
        isa(sep=sep, comp=comp, rep="U").split("*"),  # built with '*', re-joined below
        ["GS", "HP", "S", "R", "20240115", "1200", "1", "X", "005010X221A1"],
        *body,
        ["GE", "1", "1"],
        ["IEA", "1", "000000101"],
    ]
    segments[0] = isa(sep=sep, comp=comp, rep="U").split(sep)
    text = "".join(sep.join(s) + term + after for s in segments)
    doc = tokenize(text.encode())
    got = elements_of(doc)
    for written, read in zip(segments[3:-3], got[3:-3], strict=True):
        assert read == written


# --------------------------------------------------------------------------- errors


def raises(data: bytes | str, cls: type[InputError] = InputError) -> InputError:
    with pytest.raises(cls) as info:
        tokenize(data.encode() if isinstance(data, str) else data, "remits/x.835")
    return info.value


def test_empty_file():
    err = raises(b"", X12SyntaxError)
    assert "empty" in err.reason
    assert str(err) == "remits/x.835: file is empty (rule: X12 interchange (ISA))"
    assert raises(b" \r\n\t", X12SyntaxError).reason == "file is empty"


def test_binary_garbage():
    rng = np.random.default_rng(3)
    err = raises(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(), X12SyntaxError)
    assert "not an X12 file" in err.reason


def test_text_that_is_not_x12():
    err = raises("patient_id,amount\n1,2\n", X12SyntaxError)
    assert "not an ISA segment" in err.reason


@pytest.mark.parametrize("start", ["ST", "GS"])
def test_bare_fragment_without_isa_is_rejected_with_the_reason(start):
    fragment = BASIC[BASIC.index(start + "*") :]
    err = raises(fragment, X12SyntaxError)
    assert f"no ISA interchange header (the file starts with {start})" in err.reason
    assert "cannot be traced" in err.reason


def test_truncated_inside_a_segment():
    err = raises(BASIC[: BASIC.index("SE*4") + 3], X12SyntaxError)
    assert "file ends inside a segment" in err.reason
    assert "(shaped 'SE*')" in err.reason


def test_truncated_after_a_segment_misses_the_trailer():
    err = raises(BASIC[: BASIC.index("GE*")], EnvelopeError)
    assert "file ends before the interchange is closed" in err.reason
    assert err.segment_index == 6


def test_truncated_inside_the_isa():
    assert "truncated" in raises(BASIC[:40], X12SyntaxError).reason


def test_isa_with_a_letter_where_the_terminator_should_be():
    err = raises(BASIC.replace(":~", ":X", 1), X12SyntaxError)
    assert "segment terminator 'X'" in err.reason


def test_wrong_se_segment_count_names_the_segment_and_the_count():
    err = raises(BASIC.replace("SE*4*", "SE*5*"), EnvelopeError)
    assert err.segment_index == 6
    assert err.segment_text == "SE*9*9999"  # the segment's shape, never its text
    assert err.rule == "X12 SE01 segment count"
    assert str(err) == (
        "remits/x.835: segment 6 (SE): SE01 says '5' segments but the transaction "
        "set has 4 (ST to SE) (rule: X12 SE01 segment count)"
    )


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("SE*4*0001", "SE*4*0002", "X12 ST02 = SE02"),
        ("GE*1*101", "GE*1*102", "X12 GS06 = GE02"),
        ("IEA*1*000000101", "IEA*1*000000102", "X12 ISA13 = IEA02"),
        ("GE*1*101", "GE*2*101", "X12 GE01 transaction set count"),
        ("IEA*1*000000101", "IEA*3*000000101", "X12 IEA01 group count"),
    ],
)
def test_mismatched_control_numbers_and_counts(old, new, rule):
    err = raises(BASIC.replace(old, new), EnvelopeError)
    assert err.rule == rule
    assert err.segment_id == new.split("*")[0]
    assert err.segment_text == segment_shape(new, "*")


def test_segments_out_of_envelope_order():
    assert (
        "GE where SE was expected"
        in raises(BASIC.replace("SE*4*0001~\n", ""), EnvelopeError).reason
    )
    text = BASIC.replace("ST*835*0001~", "GS*HP*S*R*20240115*1200*5*X*005010X221A1~\nST*835*0001~")
    assert "GS where ST or GE was expected" in raises(text, EnvelopeError).reason


def test_data_segment_outside_a_transaction_set():
    err = raises(BASIC.replace("GE*1*101~", "REF*ZZ*STRAY~\nGE*1*101~"), EnvelopeError)
    assert err.segment_text == "REF*AA*AAAAA"
    assert "outside a transaction set" in err.reason


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("Nd4*A", "bad segment id (shaped 'AA9')"),
        ("NM31*A", "bad segment id (shaped 'AA99')"),
        ("*A", "no segment id"),
    ],
)
def test_bad_segment_ids(bad, reason):
    err = raises(BASIC.replace("REF*EV*A:B", bad), X12SyntaxError)
    assert reason in err.reason
    assert err.segment_index == 5


def test_the_earliest_problem_in_the_file_is_reported():
    text = BASIC.replace("REF*EV*A:B", "Nd4*A").replace("IEA*1*000000101", "IEA*1*9")
    assert raises(text).segment_index == 5


def test_second_interchange_with_other_delimiters_is_rejected_clearly():
    other = BASIC.replace("\n", "").translate(str.maketrans({"*": "|"}))
    err = raises(BASIC + "\n" + other, X12SyntaxError)
    assert "other delimiters" in err.reason


# --------------------------------------------------------------------------- typed values


def test_convert_reports_the_first_bad_value_by_segment():
    doc = tokenize(BASIC.encode())
    frame = doc.take(doc.rows("BPR"), {"amount": 2, "date": 16, "flag": 3})
    typed = convert(
        doc, frame, [Field("amount", "BPR02", "money", True), Field("date", "BPR16", "date")]
    )
    assert typed.schema["amount"] == pl.Decimal(18, 2)
    assert typed.schema["date"] == pl.Date

    bad = frame.with_columns(amount=pl.lit("12.345"))
    with pytest.raises(InputError, match=r"BPR02 \(shaped '99\.999'\) is not a valid amount"):
        convert(doc, bad, [Field("amount", "BPR02", "money")])
    bad = frame.with_columns(amount=pl.lit("12345678901234567.00"))
    with pytest.raises(InputError, match="is not a valid amount"):
        convert(doc, bad, [Field("amount", "BPR02", "money")])
    bad = frame.with_columns(date=pl.lit("20241301"))
    with pytest.raises(
        InputError, match=r"BPR16 \(shaped '99999999'\) is not a valid date \(CCYYMMDD\)"
    ):
        convert(doc, bad, [Field("date", "BPR16", "date")])
    bad = frame.with_columns(flag=pl.lit(None, dtype=pl.String))
    with pytest.raises(InputError, match="BPR03 is required but empty"):
        convert(doc, bad, [Field("flag", "BPR03", required=True)])


# --------------------------------------------------------------------------- InputError


def test_input_error_for_csv_positions_and_pickling():
    err = InputError(
        "amount 'x' is not a number", file="payments/p.csv", rule="CSV amount", line=3, column=7
    )
    assert (
        str(err)
        == "payments/p.csv: line 3, column 7: amount 'x' is not a number (rule: CSV amount)"
    )
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is InputError
    assert again.as_dict() == err.as_dict()


def test_long_segment_text_is_shortened_in_the_sidecar_and_kept_out_of_the_message():
    err = EnvelopeError("x", file="f", rule="r", segment_index=1, segment_text="NM1*" + "A" * 500)
    assert str(err) == "f: segment 1 (NM1): x (rule: r)"
    assert len(err.as_dict()["segment_text"]) == 120


def test_no_value_of_a_segment_reaches_the_error():
    """A segment with a patient's name and member id: the error says where and which
    segment, and the segment's shape, never the values."""
    text = BASIC.replace("REF*EV*A:B", "NM1*QC*1*Quaxley*Zebulon****MI*XJK123456789")
    tokenize(text.encode())  # the segment itself is fine
    err = raises(text.replace("NM1*QC", "Quaxley*QC"), X12SyntaxError)
    assert err.segment_index == 5
    for said in (str(err), repr(err.as_dict())):
        assert "Quaxley" not in said and "Zebulon" not in said and "123456789" not in said
    assert err.segment_text == "AAAAAAA*AA*9*AAAAAAA*AAAAAAA****AA*AAA999999999"


@pytest.mark.parametrize(
    ("value", "shape"),
    [("12.345", "99.999"), ("1990/07/04", "9999/99/99"), ("Zébulon O'Neil", "AAAAAAA A'AAAA")],
)
def test_value_shape_keeps_the_format_not_the_value(value, shape):
    assert value_shape(value) == shape


def test_unaligned_reads_near_the_end_of_the_buffer_pad_with_zeros():
    from pipelines.lib.x12.tokenizer import _read4, _read16

    buf = bytes(range(1, 41))
    starts = np.arange(len(buf))
    for width, read in ((4, _read4), (16, _read16)):
        got = read(buf, starts)
        raw = got.view(np.uint8).reshape(len(buf), width)
        for s in starts:
            expected = buf[s : s + width].ljust(width, b"\x00")
            assert raw[s].tobytes() == expected, (width, s)
