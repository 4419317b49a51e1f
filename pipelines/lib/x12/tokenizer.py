"""X12 tokenizer: bytes → one columnar table of segments, with envelopes validated.

What it accepts (see ``shared/reference/x12-notes.md``):

- an optional UTF-8 byte-order mark and leading blank lines;
- delimiters read from the ISA segment: the element separator is the byte after ``ISA``,
  the component separator is ISA16 and the segment terminator is the byte right after it.
  The ISA is normally 106 bytes wide; an ISA whose fields are not padded is accepted too,
  because its sixteen element separators still locate ISA16;
- CR and/or LF after terminators (or a newline as the terminator itself);
- several interchanges per file (with the same delimiters), several groups per
  interchange and several transaction sets per group.

What it checks: every segment id is two or three upper-case letters/digits; ISA/IEA,
GS/GE and ST/SE nest; ISA13 = IEA02, GS06 = GE02, ST02 = SE02; SE01 is the number of
segments from ST to SE; GE01 is the number of transaction sets; IEA01 the number of
groups; no data segment stands outside ST..SE; the file does not end inside a segment.

The output is columnar, never a Python object per segment. NumPy finds the separator
and terminator positions block by block on two threads and keeps, per element, its byte
start and length (int32) and, per segment, its id, first element and element count.
Element values are made on demand (:meth:`X12Document.take`) as Arrow string views that
point into the file's bytes, which Polars adopts without copying. The helpers at the end
(typed conversion, loop keys, child lookup) are shared by the 835 and 837P parsers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import polars as pl
import pyarrow as pa

from pipelines.lib.errors import (
    EnvelopeError,
    InputError,
    SegmentError,
    X12SyntaxError,
    segment_shape,
    value_shape,
)

T = TypeVar("T")
ENVELOPE_IDS: tuple[str, ...] = ("ISA", "GS", "ST", "SE", "GE", "IEA")
_BOM = b"\xef\xbb\xbf"
_WS = b" \t\r\n"
_CRLF = b"\r\n"
_ISA_ELEMENTS = 16
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


@dataclass(frozen=True)
class Delimiters:
    """The delimiters of an interchange, as single characters.

    ``repetition`` is None when ISA11 is not a repetition separator (4010 files carry the
    standards identifier ``U`` there).
    """

    element: str
    component: str
    repetition: str | None
    segment: str


@dataclass(frozen=True)
class X12Document:
    """A tokenized, envelope-validated X12 file.

    Attributes:
        file_name: the name used in error messages.
        delimiters: delimiters of the (first) interchange; all interchanges share them.
        size_bytes: size of the input in bytes.
        segments: one row per segment, in file order:
            ``segment_index`` (Int64, 1-based, ISA = 1), ``byte_offset`` (Int64, offset of
            the segment's first byte in the file), ``segment_id`` (String, e.g. ``CLP``),
            ``transaction_index`` (Int32, 1-based ordinal of the ST..SE the segment is in;
            null for envelope segments outside one). Element values come from
            :meth:`take` (chosen segments and elements, fast) or :meth:`elements` (all).
        transactions: one row per ST..SE: ``transaction_index``, ``interchange_index``,
            ``interchange_control_number`` (ISA13), ``group_control_number`` (GS06),
            ``transaction_control_number`` (ST02), ``functional_id`` (GS01), ``version``
            (GS08), ``transaction_set_id`` (ST01), ``implementation_reference`` (ST03),
            ``sender_id`` / ``receiver_id`` (ISA06/ISA08, trimmed), ``usage_indicator``
            (ISA15, P or T), ``st_segment_index``, ``se_segment_index``.
    """

    file_name: str
    delimiters: Delimiters
    size_bytes: int
    segments: pl.DataFrame
    transactions: pl.DataFrame
    # Element index of the whole file: byte start and length of every element in
    # ``buffer``, and per segment row the position of its first element and its count.
    element_start: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))
    element_length: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))
    first_element: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))
    element_count: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.int64))
    buffer: bytes = field(repr=False, default=b"")
    segment_keys: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, np.uint32))

    def rows(self, segment_id: str) -> np.ndarray:
        """0-based row numbers (``segment_index - 1``) of the segments with this id."""
        if len(self.segment_keys) != self.segments.height:
            return (self.segments["segment_id"] == segment_id).arg_true().to_numpy()
        return np.flatnonzero(self.segment_keys == _segment_key(segment_id))

    def take(
        self,
        rows: np.ndarray,
        elements: dict[str, int | np.ndarray],
        extra: dict[str, np.ndarray] | None = None,
        present: np.ndarray | None = None,
    ) -> pl.DataFrame:
        """A frame with one row per segment in ``rows``: ``segment_index``, the named
        elements (name → element number, 1-based as in CLP01; empty or absent → null) and
        ``extra`` per-segment arrays gathered at ``rows``. Where ``present`` is False the
        row's elements are null (for rows that stand for "no such segment").

        Columns are Arrow string views into the file's bytes, made only for the elements
        asked for, so this costs O(len(rows)) per column whatever the file size.
        """
        rows = np.asarray(rows, dtype=np.int64)
        columns: dict[str, pl.Series] = {
            "segment_index": pl.Series("segment_index", rows + 1, dtype=pl.Int64)
        }
        first = self.first_element[rows]
        count = self.element_count[rows]
        for name, k in elements.items():
            has = count > k
            if present is not None:
                has &= present
            if not has.any():
                columns[name] = (
                    pl.Series(name, [None], dtype=pl.String).extend_constant(None, len(rows) - 1)
                    if len(rows)
                    else pl.Series(name, [], dtype=pl.String)
                )
                continue
            index = np.where(has, first + k, 0)
            lengths = np.where(has, self.element_length[index], 0)
            columns[name] = _view_series(name, self.buffer, self.element_start[index], lengths)
        for name, values in (extra or {}).items():
            columns[name] = pl.Series(name, values[rows])
        return pl.DataFrame(columns)

    def element_keys(self, rows: np.ndarray, k: int) -> np.ndarray:
        """Per row, a number that identifies short values of element ``k`` (first three
        bytes and the length, as :func:`value_key` computes; 0 when absent). Comparing
        keys selects segments by a qualifier (DTM01, REF01, NM101) in one vectorised pass."""
        rows = np.asarray(rows, dtype=np.int64)
        present = self.element_count[rows] > k
        index = np.where(present, self.first_element[rows] + k, 0)
        lengths = np.where(present, self.element_length[index], 0)
        return np.where(present, _segment_keys(self.buffer, self.element_start[index], lengths), 0)

    def element_equals(self, rows: np.ndarray, k: int, value: str) -> np.ndarray:
        """Boolean mask: element ``k`` of each segment in ``rows`` is exactly ``value``.

        Compares bytes in NumPy, so qualifiers (DTM01, REF01, NM101 ...) can select
        segments before any string column is made.
        """
        raw = value.encode("latin-1")
        rows = np.asarray(rows, dtype=np.int64)
        index = self.first_element[rows] + k
        ok = self.element_count[rows] > k
        index = np.where(ok, index, 0)
        ok &= self.element_length[index] == len(raw)
        starts = self.element_start[index]
        data = np.frombuffer(self.buffer, dtype=np.uint8)
        last = len(data) - 1
        for j, byte in enumerate(raw):
            ok &= data[np.minimum(starts + j, last)] == byte
        return ok

    def elements(self) -> pl.Series:
        """All elements as one List[String] per segment (index 0 is the segment id).

        Built on demand: the parsers use :meth:`take`, which reads only what they need.
        """
        views = np.empty((len(self.element_start), 2), dtype=np.uint64)
        _string_views(self.buffer, self.element_start, self.element_length, views)
        values = pa.Array.from_buffers(
            pa.string_view(),
            len(views),
            [None, pa.py_buffer(views), pa.py_buffer(self.buffer)],
        )
        offsets = np.append(self.first_element, self.first_element[-1] + self.element_count[-1])
        if not np.array_equal(offsets[1:], self.first_element + self.element_count):
            # Blank segments were dropped: list each kept segment's elements explicitly.
            return pl.Series(
                "elements",
                [
                    self.segment_text(i + 1).split(self.delimiters.element)
                    for i in range(len(self.first_element))
                ],
                dtype=pl.List(pl.String),
            )
        lists = pa.LargeListArray.from_arrays(
            pa.Array.from_buffers(pa.int64(), len(offsets), [None, pa.py_buffer(offsets)]),
            values,
        )
        return pl.Series("elements", lists)

    def table(self) -> pl.DataFrame:
        """Every segment with its elements and control numbers, one row per segment:
        ``segment_index``, ``byte_offset``, ``segment_id``, ``elements`` (List[String]),
        ``transaction_index`` and the interchange, group and transaction control numbers
        (null outside ST..SE). A convenience for inspection; parsers use :meth:`take`."""
        return self.segments.with_columns(elements=self.elements()).join(
            self.control_numbers(), on="transaction_index", how="left", maintain_order="left"
        )

    def segment_text(self, segment_index: int) -> str:
        """The text of one segment as in the file (elements joined by the separator)."""
        row = segment_index - 1
        first = int(self.first_element[row])
        last = first + int(self.element_count[row]) - 1
        begin = int(self.element_start[first])
        end = int(self.element_start[last] + self.element_length[last])
        return self.buffer[begin:end].decode("utf-8", "replace")

    def error(
        self,
        cls: type[InputError],
        segment_index: int | None,
        reason: str,
        rule: str,
    ) -> InputError:
        """An error of class ``cls`` located at ``segment_index`` of this file. The error
        carries the segment's shape (its id, and each element as ``A``/``9``), never its
        text: a segment can hold a patient's name or member id."""
        text = (
            segment_shape(self.segment_text(segment_index), self.delimiters.element)
            if segment_index is not None
            else None
        )
        return cls(
            reason,
            file=self.file_name,
            rule=rule,
            segment_index=segment_index,
            segment_text=text,
        )

    def control_numbers(self) -> pl.DataFrame:
        """``transaction_index`` → the three control numbers, for joining onto parsed rows."""
        return self.transactions.select(
            "transaction_index",
            "interchange_control_number",
            "group_control_number",
            "transaction_control_number",
        )


def read_x12(path: str | Path, file_name: str | None = None) -> X12Document:
    """Read and tokenize an X12 file from disk (see :func:`tokenize`)."""
    path = Path(path)
    return tokenize(path.read_bytes(), file_name=file_name or path.name)


def tokenize(data: bytes, file_name: str = "<bytes>") -> X12Document:
    """Split X12 bytes into a segment table and validate the envelopes.

    Raises:
        X12SyntaxError: empty or binary input, no ISA (e.g. a bare ST..SE fragment), bad
            delimiters, bad segment ids, truncated file.
        EnvelopeError: envelopes that do not nest, count or match.
    """
    start = _find_isa(data, file_name)
    delims = _read_isa_delimiters(data, start, file_name)
    body = _as_utf8(data[start:])
    split = _split(body, start, delims, file_name)
    doc = X12Document(
        file_name=file_name,
        delimiters=delims,
        size_bytes=len(data),
        segments=split.segments,
        transactions=pl.DataFrame(),
        element_start=split.element_start,
        element_length=split.element_length,
        first_element=split.first_element,
        element_count=split.element_count,
        buffer=split.buffer,
        segment_keys=split.segment_keys,
    )
    transactions, transaction_index = _validate_envelopes(doc, _first_bad_segment_id(doc))
    return X12Document(
        file_name=file_name,
        delimiters=delims,
        size_bytes=len(data),
        segments=split.segments.with_columns(transaction_index=transaction_index),
        transactions=transactions,
        element_start=split.element_start,
        element_length=split.element_length,
        first_element=split.first_element,
        element_count=split.element_count,
        buffer=split.buffer,
        segment_keys=split.segment_keys,
    )


def _view_series(name: str, buffer: bytes, starts: np.ndarray, lengths: np.ndarray) -> pl.Series:
    """A Polars String series of byte ranges of ``buffer`` (zero length → null), no copy."""
    n = len(starts)
    valid = lengths > 0
    present = np.flatnonzero(valid)
    null_count = n - len(present)
    if null_count == 0:
        views = np.empty((n, 2), dtype=np.uint64)
        _string_views(buffer, starts, lengths, views)
        validity = None
    else:
        views = np.zeros((n, 2), dtype=np.uint64)
        if len(present):
            part = np.empty((len(present), 2), dtype=np.uint64)
            _string_views(buffer, starts[present], lengths[present], part)
            views[present] = part
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    array = pa.Array.from_buffers(
        pa.string_view(),
        n,
        [validity, pa.py_buffer(views), pa.py_buffer(buffer)],
        null_count=null_count,
    )
    return pl.Series(name, array)


@dataclass(frozen=True)
class _Split:
    segments: pl.DataFrame
    element_start: np.ndarray
    element_length: np.ndarray
    first_element: np.ndarray
    element_count: np.ndarray
    buffer: bytes
    segment_keys: np.ndarray


# --------------------------------------------------------------------------- ISA


def _syntax(file_name: str, reason: str, rule: str = "X12 interchange syntax") -> X12SyntaxError:
    return X12SyntaxError(reason, file=file_name, rule=rule)


def _find_isa(data: bytes, file_name: str) -> int:
    """Offset of the ISA segment, after an optional BOM and leading whitespace."""
    if re.search(rb"[^ \t\r\n]", data) is None:
        raise _syntax(file_name, "file is empty", "X12 interchange (ISA)")
    start = len(_BOM) if data.startswith(_BOM) else 0
    while start < len(data) and data[start] in _WS:
        start += 1
    if data[start : start + 3] == b"ISA":
        return start
    head = data[start : start + 64]
    printable = sum(32 <= b < 127 or b in _WS for b in head)
    if b"\x00" in head or printable < 0.9 * len(head):
        raise _syntax(
            file_name, "not an X12 file: binary data, no ISA segment", "X12 interchange (ISA)"
        )
    fragment = re.match(rb"(ST|GS)[^A-Za-z0-9 ]", head)
    if fragment:
        raise _syntax(
            file_name,
            f"no ISA interchange header (the file starts with {fragment.group(1).decode()}): "
            "a bare fragment has no sender, receiver or interchange control number, so it "
            "cannot be traced or de-duplicated",
            "X12 interchange (ISA)",
        )
    shown = value_shape(head[:20].decode("latin-1"))
    raise _syntax(
        file_name,
        f"not an X12 file: it starts with text shaped {shown!r}, not an ISA segment",
        "X12 interchange (ISA)",
    )


def _read_isa_delimiters(data: bytes, start: int, file_name: str) -> Delimiters:
    """Delimiters from the ISA segment that begins at ``start``."""
    rule = "X12 ISA delimiters"
    if len(data) - start < 4:
        raise _syntax(file_name, "file ends inside the ISA segment (truncated)", rule)
    sep = data[start + 3]
    # Locate ISA16 by counting element separators, so unpadded ISAs work as well.
    pos = start + 3
    for _ in range(_ISA_ELEMENTS - 1):
        pos = data.find(bytes([sep]), pos + 1, start + 200)
        if pos < 0:
            break
    if pos < 0 or pos + 2 >= len(data):
        if len(data) - start < 106:
            raise _syntax(file_name, "file ends inside the ISA segment (truncated)", rule)
        raise _syntax(file_name, "ISA segment does not have 16 elements", rule)
    comp, term = data[pos + 1], data[pos + 2]
    elements = data[start : pos + 1].split(bytes([sep]))
    isa11 = elements[11].decode("latin-1")
    isa12 = elements[12].decode("latin-1").strip()
    chars = {
        "element separator": sep,
        "component separator (ISA16)": comp,
        "segment terminator": term,
    }
    for name, ch in chars.items():
        if chr(ch).isalnum() or ch == 0x20:
            raise _syntax(
                file_name,
                f"{name} {chr(ch)!r} is a letter, digit or space: the ISA is malformed or truncated",
                rule,
            )
    if len(set(chars.values())) < 3:
        raise _syntax(
            file_name,
            "element separator, component separator and segment terminator must differ",
            rule,
        )
    if term in _CRLF and sep in _CRLF:
        raise _syntax(file_name, "element separator cannot be a line break", rule)
    repetition = isa11 if (len(isa11) == 1 and not isa11.isalnum() and isa12 >= "00501") else None
    return Delimiters(
        element=chr(sep), component=chr(comp), repetition=repetition, segment=chr(term)
    )


def _as_utf8(body: bytes) -> bytes:
    """The bytes as valid UTF-8 (X12 files are ASCII; Latin-1 extras are transcoded)."""
    if body.isascii():
        return body
    try:
        body.decode("utf-8")
        return body
    except UnicodeDecodeError:
        # Byte offsets after a non-ASCII Latin-1 byte then shift by one per such byte.
        return body.decode("latin-1").encode("utf-8")


# --------------------------------------------------------------------------- split


_MASK64 = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_MASK32 = np.array([(1 << (8 * k)) - 1 for k in range(5)], dtype=np.uint64)
_MAX_BYTES = 2**31 - 64  # Arrow string views address a buffer with 32-bit offsets
_BLOCK = 1 << 21  # bytes per block: temporaries stay in cache and are reused, not page-faulted
_THREADS = 2


def _split(body: bytes, start: int, delims: Delimiters, file_name: str) -> _Split:
    """Split ``body`` (which begins with ISA) into segments and elements, vectorised.

    The positions of element separators and terminators give every element's start and
    length. The elements become an Arrow *string view* array that points into ``body``
    itself (short values inline, as the format requires), so Polars takes it without
    copying: no per-segment Python objects and no second copy of the text. The work is
    done in blocks of a few MB on two threads (NumPy releases the GIL), which keeps the
    temporaries in cache. Line breaks after a terminator are skipped at the start of the
    next segment; when the terminator is LF, a CR before it ends an (empty) extra element.
    """
    if len(body) > _MAX_BYTES:
        raise _syntax(file_name, "file is larger than 2 GiB: split it into several files")
    sep, term = ord(delims.element), ord(delims.segment)
    cr_is_boundary = term == 0x0A and body.find(b"\r") >= 0
    buf = body  # no copy: the element index and the string views point into the input
    arr = np.frombuffer(buf, dtype=np.uint8)
    n_bytes = len(body)
    blocks = [(lo, min(lo + _BLOCK, n_bytes)) for lo in range(0, n_bytes, _BLOCK)]

    def boundaries(block: tuple[int, int]) -> tuple[np.ndarray, ...]:
        """Element ends, terminator flags, starts and lengths of one block (in cache).

        The block's first element starts in an earlier block: it is fixed up after."""
        lo, hi = block
        chunk = arr[lo:hi]
        mask = chunk == sep
        is_term = chunk == term
        mask |= is_term
        if cr_is_boundary:
            mask |= chunk == 0x0D
        pos = np.flatnonzero(mask)
        # int32 halves the memory of the element index (files are < 2 GiB).
        ends = (pos + lo).astype(np.int32)
        flags = is_term[pos]
        starts = np.empty_like(ends)
        if len(ends):
            starts[0] = lo
            np.add(ends[:-1], 1, out=starts[1:])
            # Line breaks after a terminator belong to no segment: skip them.
            heads = np.flatnonzero(flags[:-1]) + 1
            for _ in range(8):
                c = arr[starts[heads]]
                heads = heads[((c == 0x0D) | (c == 0x0A)) & (starts[heads] < ends[heads])]
                if heads.size == 0:
                    break
                starts[heads] += 1
        return ends, flags, starts, ends - starts

    with ThreadPoolExecutor(_THREADS) as pool:
        found = list(pool.map(boundaries, blocks))
    term_flags = np.concatenate([f[1] for f in found]) if found else np.zeros(0, dtype=bool)
    term_rank = np.flatnonzero(term_flags)
    if len(term_rank) == 0:
        raise _syntax(file_name, "no segment terminator after the ISA segment (truncated file)")
    last_term = _last_terminator(found, term)
    if body[last_term + 1 :].strip(_WS):
        tail = body[last_term + 1 :].strip(_WS)[:60].decode("utf-8", "replace")
        shown = segment_shape(tail, delims.element)
        raise _syntax(
            file_name,
            f"file ends inside a segment: the last segment (shaped {shown!r}) has no segment "
            "terminator (truncated file)",
        )
    n_elements = int(term_rank[-1]) + 1
    n_segments = len(term_rank)
    starts = np.concatenate([f[2] for f in found])[:n_elements]
    lengths = np.concatenate([f[3] for f in found])[:n_elements]
    # Fix the first element of every block: it starts after the previous boundary. The
    # element ends are read from their blocks (they are not needed as one array).
    block_ends = [f[0] for f in found]
    del found
    offsets = np.cumsum([0, *[len(e) for e in block_ends]])

    for b in offsets[:-1]:
        b = int(b)
        if b >= n_elements:
            break
        end = _end_at(block_ends, offsets, b)
        begin = _end_at(block_ends, offsets, b - 1) + 1 if b > 0 else 0
        if b > 0 and term_flags[b - 1]:
            while begin < end and arr[begin] in (0x0D, 0x0A):
                begin += 1
        starts[b] = begin
        lengths[b] = end - begin
    del block_ends
    seg_off = np.empty(n_segments + 1, dtype=np.int64)
    seg_off[0] = 0
    seg_off[1:] = term_rank
    seg_off[1:] += 1
    first_element = seg_off[:-1]
    element_count = np.diff(seg_off)

    seg_start = starts[first_element]
    seg_len = lengths[first_element]
    keys = _segment_keys(buf, seg_start, seg_len)
    frame = pl.DataFrame(
        {
            "segment_index": pl.Series(np.arange(1, n_segments + 1, dtype=np.int64)),
            "byte_offset": pl.Series(seg_start.astype(np.int64) + start),
            "segment_id": _segment_ids(keys),
        }
    )
    # Blank pieces between two terminators ("~~", "~\n~") are not segments.
    empty = (seg_len == 0) & (element_count == 1)
    if empty.any():
        frame = frame.filter(~pl.Series(empty)).with_columns(
            segment_index=pl.int_range(1, pl.len() + 1, dtype=pl.Int64)
        )
        first_element = first_element[~empty]
        element_count = element_count[~empty]
        keys = keys[~empty]
    return _Split(frame, starts, lengths, first_element, element_count, buf, keys)


def _end_at(block_ends: list[np.ndarray], offsets: np.ndarray, i: int) -> int:
    """The end of element ``i`` (numbered over the whole file), read from its block."""
    block = int(np.searchsorted(offsets, i, side="right")) - 1
    return int(block_ends[block][i - offsets[block]])


def value_key(value: str) -> int:
    """The key :meth:`X12Document.element_keys` gives a value of at most three bytes."""
    if len(value.encode("latin-1")) > 3:
        raise ValueError(f"{value!r}: keys identify values of at most three bytes")
    return _segment_key(value)


def _segment_key(segment_id: str) -> int:
    """The numeric key of a segment id (bytes little-endian, length in the top byte)."""
    raw = segment_id.encode("latin-1")
    return int.from_bytes(raw[:3].ljust(3, b"\0"), "little") | (min(len(raw), 255) << 24)


_ID_MASK = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF], dtype=np.uint32)


def _read16(buf: bytes, starts: np.ndarray) -> np.ndarray:
    """The 16 bytes at each start as two little-endian uint64 (zeros past the end of buf).

    A complex128 view at every byte position reads them in one unaligned load; starts in
    the last 15 bytes read from a small zero-padded copy of the tail, so the whole file
    never needs a padded copy."""
    n = len(buf)
    tail_from = max(n - 15, 0)
    near = starts >= tail_from
    out = np.empty(len(starts), dtype=np.complex128)
    if tail_from > 0:
        words = np.ndarray((tail_from,), dtype=np.complex128, buffer=buf, strides=(1,))
        if near.any():
            out[~near] = words[starts[~near]]
        else:
            out = words[starts]
    if near.any():
        tail = bytes(buf[tail_from:]) + b"\x00" * 16
        tail_words = np.ndarray((len(tail) - 15,), dtype=np.complex128, buffer=tail, strides=(1,))
        out[near] = tail_words[starts[near] - tail_from]
    return out.view(np.uint64).reshape(-1, 2)


def _read4(buf: bytes, starts: np.ndarray) -> np.ndarray:
    """The 4 bytes at each start as a little-endian uint32 (zeros past the end of buf)."""
    n = len(buf)
    tail_from = max(n - 3, 0)
    near = starts >= tail_from
    if tail_from > 0:
        words = np.ndarray((tail_from,), dtype="<u4", buffer=buf, strides=(1,))
        if not near.any():
            return words[starts]
        out = np.zeros(len(starts), dtype=np.uint32)
        out[~near] = words[starts[~near]]
    else:
        out = np.zeros(len(starts), dtype=np.uint32)
    tail = bytes(buf[tail_from:]) + b"\x00" * 4
    tail_words = np.ndarray((len(tail) - 3,), dtype="<u4", buffer=tail, strides=(1,))
    out[near] = tail_words[starts[near] - tail_from]
    return out


def _segment_keys(buf: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per segment: its id's first three bytes (little-endian) | min(length, 255) << 24."""
    key = _read4(buf, starts)
    short = np.minimum(lengths, 255).astype(np.uint32)
    key &= _ID_MASK[np.minimum(short, 3)]
    short <<= np.uint32(24)
    key |= short
    return key


def _segment_ids(keys: np.ndarray) -> pl.Series:
    """Segment ids as a String series built from the numeric keys (no per-row decoding).

    Each id is at most three bytes, so its Arrow string view holds it inline: the view is
    computed arithmetically from the key. Keys that are not a valid id (2-3 upper-case
    letters or digits) become null; the caller reports them.
    """
    distinct = pl.Series(keys).unique().to_list()
    invalid = []
    for value in distinct:
        length = value >> 24
        text = (value & 0xFFFFFF).to_bytes(3, "little")[: min(length, 3)].decode("latin-1")
        if length not in (2, 3) or not _SEGMENT_ID.fullmatch(text):
            invalid.append(value)
    n = len(keys)
    views = np.zeros((n, 2), dtype=np.uint64)
    low = (keys & np.uint32(0xFFFFFF)).astype(np.uint64)
    low <<= np.uint64(32)
    low |= keys >> np.uint32(24)
    views[:, 0] = low
    validity = None
    null_count = 0
    if invalid:
        valid = ~np.isin(keys, np.array(invalid, dtype=np.uint32))
        views[~valid] = 0
        null_count = int(n - np.count_nonzero(valid))
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    array = pa.Array.from_buffers(
        pa.string_view(),
        n,
        [validity, pa.py_buffer(views), pa.py_buffer(b"")],
        null_count=null_count,
    )
    return pl.Series("segment_id", array)


def _last_terminator(found: list[tuple[np.ndarray, ...]], term: int) -> int:
    for pos, is_term, *_ in reversed(found):
        hits = np.flatnonzero(is_term)
        if hits.size:
            return int(pos[hits[-1]])
    return -1


def _string_views(buf: bytes, starts: np.ndarray, lengths: np.ndarray, out: np.ndarray) -> None:
    """Write Arrow string-view structs (16 bytes each) for byte ranges of ``buf`` to ``out``.

    Layout (little-endian): int32 length, then either the value inline (length <= 12,
    zero-padded) or a 4-byte prefix, buffer index 0 and the int32 offset into ``buf``.
    Bytes past the end of ``buf`` read as zeros.
    """
    # One unaligned 16-byte read per element: bytes 0-7 and 8-15 of the value. Element
    # reads are cache misses, so one beats two.
    read = _read16(buf, starts)
    head = read[:, 0] & _MASK64[np.minimum(lengths, 8)]
    tail = read[:, 1] & _MASK32[np.clip(lengths - 8, 0, 4)]
    low = head << np.uint64(32)
    low |= lengths.astype(np.uint64)
    out[:, 0] = low
    head >>= np.uint64(32)
    tail <<= np.uint64(32)
    head |= tail
    long = lengths > 12
    head[long] = starts[long].astype(np.uint64) << np.uint64(32)
    out[:, 1] = head


def _first_bad_segment_id(doc: X12Document) -> InputError | None:
    bad = doc.segments.filter(pl.col("segment_id").is_null()).head(1)
    if bad.height == 0:
        return None
    idx = int(bad["segment_index"][0])
    sid = doc.segment_text(idx).split(doc.delimiters.element)[0]
    if sid.startswith("ISA"):
        reason = "an interchange uses other delimiters than the first one (not supported)"
    elif sid == "":
        reason = "segment has no segment id (it starts with the element separator)"
    else:
        reason = (
            f"bad segment id (shaped {value_shape(sid)!r}): expected 2-3 upper-case letters "
            "or digits"
        )
    return doc.error(X12SyntaxError, idx, reason, "X12 segment syntax")


# --------------------------------------------------------------------------- envelopes


def _validate_envelopes(
    doc: X12Document, syntax_error: InputError | None
) -> tuple[pl.DataFrame, pl.Series]:
    """Check nesting, counts and control numbers; number the transaction sets.

    Only the envelope segments are walked in Python (a few per transaction set); the
    per-segment work (which transaction a segment is in, strays outside ST..SE) is columnar.
    Of all problems found (including ``syntax_error``), the one earliest in the file is
    raised, so the reason names the first thing a person would trip over.
    """
    seg = doc.segments
    sid = seg["segment_id"]
    keys = doc.segment_keys
    is_st = keys == _segment_key("ST")
    is_se = keys == _segment_key("SE")
    is_envelope = np.isin(keys, [_segment_key(e) for e in ENVELOPE_IDS])
    st_count = np.cumsum(is_st, dtype=np.int32)
    se_before = np.cumsum(is_se, dtype=np.int32) - is_se
    inside = st_count > se_before
    valid_id = sid.is_not_null().to_numpy()
    strays = np.flatnonzero(~inside & ~is_envelope & valid_id)
    first_stray = int(strays[0]) + 1 if strays.size else None

    env_rows = np.flatnonzero(is_envelope)
    env = doc.take(env_rows, {f"e{k}": k for k in (1, 2, 3, 6, 8, 13, 15)}).select(
        "segment_index",
        pl.Series("segment_id", sid.gather(env_rows)),
        *[pl.col(f"e{k}").fill_null("") for k in (1, 2, 3, 6, 8, 13, 15)],
    )
    rows: list[dict[str, object]] = []
    problem: tuple[int, str, str] | None = None
    state = "outside"  # outside → isa → gs → st
    isa: dict[str, object] = {}
    gs: dict[str, object] = {}
    st: dict[str, object] = {}
    n_interchanges = 0
    last_index = int(seg["segment_index"][-1])

    def fail(idx: int, reason: str, rule: str) -> tuple[int, str, str]:
        return (idx, reason, rule)

    for idx, s, e1, e2, e3, e6, e8, e13, e15 in env.iter_rows():
        if s == "ISA":
            if state != "outside":
                problem = fail(
                    idx, "ISA before the previous interchange ended (no IEA)", "X12 ISA/IEA"
                )
                break
            n_interchanges += 1
            isa = {
                "index": idx,
                "control": (e13 or "").strip(),
                "sender": (e6 or "").strip(),
                "receiver": (e8 or "").strip(),
                "usage": (e15 or "").strip(),
                "groups": 0,
                "interchange_index": n_interchanges,
            }
            state = "isa"
        elif s == "GS":
            if state != "isa":
                problem = fail(idx, f"GS where {_expected(state)} was expected", "X12 GS/GE")
                break
            isa["groups"] = int(isa["groups"]) + 1  # type: ignore[call-overload]
            gs = {
                "index": idx,
                "control": (e6 or "").strip(),
                "functional_id": e1,
                "version": e8,
                "sets": 0,
            }
            state = "gs"
        elif s == "ST":
            if state != "gs":
                problem = fail(idx, f"ST where {_expected(state)} was expected", "X12 ST/SE")
                break
            gs["sets"] = int(gs["sets"]) + 1  # type: ignore[call-overload]
            st = {"index": idx, "control": (e2 or "").strip(), "set_id": e1, "reference": e3}
            state = "st"
        elif s == "SE":
            if state != "st":
                problem = fail(idx, f"SE where {_expected(state)} was expected", "X12 ST/SE")
                break
            count = idx - int(st["index"]) + 1  # type: ignore[call-overload]
            if (e2 or "").strip() != st["control"]:
                problem = fail(
                    idx,
                    f"SE02 {e2!r} does not match ST02 {st['control']!r}",
                    "X12 ST02 = SE02",
                )
                break
            if not (e1 or "").strip().isdigit() or int(e1) != count:  # type: ignore[arg-type]
                problem = fail(
                    idx,
                    f"SE01 says {e1!r} segments but the transaction set has {count} (ST to SE)",
                    "X12 SE01 segment count",
                )
                break
            rows.append(
                {
                    "transaction_index": len(rows) + 1,
                    "interchange_index": isa["interchange_index"],
                    "interchange_control_number": isa["control"],
                    "group_control_number": gs["control"],
                    "transaction_control_number": st["control"],
                    "functional_id": gs["functional_id"],
                    "version": gs["version"],
                    "transaction_set_id": st["set_id"],
                    "implementation_reference": st["reference"],
                    "sender_id": isa["sender"],
                    "receiver_id": isa["receiver"],
                    "usage_indicator": isa["usage"],
                    "st_segment_index": st["index"],
                    "se_segment_index": idx,
                }
            )
            state = "gs"
        elif s == "GE":
            if state != "gs":
                problem = fail(idx, f"GE where {_expected(state)} was expected", "X12 GS/GE")
                break
            if (e2 or "").strip() != gs["control"]:
                problem = fail(
                    idx, f"GE02 {e2!r} does not match GS06 {gs['control']!r}", "X12 GS06 = GE02"
                )
                break
            if not (e1 or "").strip().isdigit() or int(e1) != gs["sets"]:  # type: ignore[arg-type]
                problem = fail(
                    idx,
                    f"GE01 says {e1!r} transaction sets but the group has {gs['sets']}",
                    "X12 GE01 transaction set count",
                )
                break
            state = "isa"
        else:  # IEA
            if state != "isa":
                problem = fail(idx, f"IEA where {_expected(state)} was expected", "X12 ISA/IEA")
                break
            if (e2 or "").strip() != isa["control"]:
                problem = fail(
                    idx,
                    f"IEA02 {e2!r} does not match ISA13 {isa['control']!r}",
                    "X12 ISA13 = IEA02",
                )
                break
            if not (e1 or "").strip().isdigit() or int(e1) != isa["groups"]:  # type: ignore[arg-type]
                problem = fail(
                    idx,
                    f"IEA01 says {e1!r} functional groups but the interchange has {isa['groups']}",
                    "X12 IEA01 group count",
                )
                break
            state = "outside"
    if problem is None and state != "outside":
        problem = fail(
            last_index,
            f"file ends before the interchange is closed: {_expected(state)} missing (truncated file)",
            "X12 ISA/IEA",
        )
    found: list[InputError] = []
    if syntax_error is not None:
        found.append(syntax_error)
    if first_stray is not None:
        found.append(
            doc.error(
                EnvelopeError,
                first_stray,
                "segment outside a transaction set (not between ST and SE)",
                "X12 envelope nesting",
            )
        )
    if problem is not None:
        found.append(doc.error(EnvelopeError, *problem))
    if found:
        raise min(found, key=lambda e: e.segment_index or 0)

    transactions = pl.DataFrame(rows, schema=_TRANSACTION_SCHEMA)
    transaction_index = pl.Series(
        "transaction_index", np.where(inside, st_count, 0), dtype=pl.Int32
    ).replace(0, None)
    return transactions, transaction_index


def _expected(state: str) -> str:
    return {
        "outside": "ISA",
        "isa": "GS or IEA",
        "gs": "ST or GE",
        "st": "SE",
    }[state]


_TRANSACTION_SCHEMA: dict[str, pl.DataType] = {
    "transaction_index": pl.Int32(),
    "interchange_index": pl.Int32(),
    "interchange_control_number": pl.String(),
    "group_control_number": pl.String(),
    "transaction_control_number": pl.String(),
    "functional_id": pl.String(),
    "version": pl.String(),
    "transaction_set_id": pl.String(),
    "implementation_reference": pl.String(),
    "sender_id": pl.String(),
    "receiver_id": pl.String(),
    "usage_indicator": pl.String(),
    "st_segment_index": pl.Int64(),
    "se_segment_index": pl.Int64(),
}


# --------------------------------------------------------------------------- typed elements
# Shared by the transaction parsers: element access as Polars expressions and checked
# conversion of element text to Decimal / Date / Float, reporting the first bad value.

MONEY_PATTERN = r"^-?(?:\d+(?:\.\d{0,2})?|\.\d{1,2})$"
NUMBER_PATTERN = r"^-?(?:\d+(?:\.\d*)?|\.\d+)$"
DATE_PATTERN = r"^\d{8}$"
MONEY = pl.Decimal(18, 2)


def component(composite: pl.Expr, k: int, separator: str) -> pl.Expr:
    """Component ``k`` (1-based) of a composite element; empty or absent → null."""
    value = composite.str.split(separator).list.get(k - 1, null_on_oob=True)
    return pl.when(value != "").then(value)


def with_lineage(doc: X12Document, frame: pl.DataFrame, first: Sequence[str]) -> pl.DataFrame:
    """``frame`` with the control numbers of its ``transaction_index`` added and the
    ``first`` columns moved to the front. A gather by transaction ordinal, not a join."""
    numbers = doc.control_numbers().sort("transaction_index")
    position = (frame["transaction_index"].cast(pl.Int64) - 1).to_numpy()
    added = {
        name: numbers[name].gather(position)
        for name in (
            "interchange_control_number",
            "group_control_number",
            "transaction_control_number",
        )
    }
    frame = frame.with_columns(**added)
    return frame.select(*first, *[c for c in frame.columns if c not in first])


def run_parallel(*tasks: Callable[[], T]) -> list[T]:
    """Run independent table builders on two threads; results in order.

    If several fail, the exception of the first task (in argument order) is raised, so
    the error reported does not depend on thread timing.
    """
    with ThreadPoolExecutor(_THREADS) as pool:
        futures = [pool.submit(task) for task in tasks]
    results: list[T] = []
    for future in futures:
        results.append(future.result())
    return results


def forward_fill_marks(
    doc: X12Document, starts: Sequence[str], resets: Sequence[str]
) -> np.ndarray:
    """Per segment row: the segment index of the latest segment whose id is in ``starts``,
    or 0 when a segment in ``resets`` (or nothing) came after it. Loop keys in NumPy:
    e.g. starts=("CLP",), resets=("LX", "SE") gives each segment its loop-2100 CLP."""
    keys = doc.segment_keys
    n = len(keys)
    start_keys = np.array([_segment_key(s) for s in starts], dtype=np.uint32)
    mark_keys = np.array([_segment_key(s) for s in (*starts, *resets)], dtype=np.uint32)
    result = np.zeros(n, dtype=np.int64)
    if n == 0 or len(mark_keys) == 0:
        return result
    # Marks are sparse: find them, then repeat each one's value up to the next mark.
    is_mark = keys == mark_keys[0]
    for key in mark_keys[1:]:
        is_mark |= keys == key
    marks = np.flatnonzero(is_mark)
    if marks.size == 0:
        return result
    values = np.where(np.isin(keys[marks], start_keys), marks + 1, 0)
    result[marks[0] :] = np.repeat(values, np.diff(marks, append=n))
    return result


def first_children(
    doc: X12Document,
    parent_index: np.ndarray,
    child_rows: np.ndarray,
    child_keys: np.ndarray,
    elements: dict[str, int],
) -> pl.DataFrame:
    """For each parent (by segment index) the elements of its first child segment.

    ``child_rows`` are row numbers of candidate children in file order and ``child_keys``
    the parent segment index each belongs to (non-decreasing). The result is aligned row
    by row with ``parent_index`` (elements null where a parent has no child) and has a
    ``child_segment_index`` column (null where none). A searchsorted, not a join.
    """
    parent_index = np.asarray(parent_index, dtype=np.int64)
    pos = np.searchsorted(child_keys, parent_index, side="left")
    if len(child_rows):
        pos = np.minimum(pos, len(child_rows) - 1)
        has = child_keys[pos] == parent_index
        rows = np.where(has, child_rows[pos], 0)
    else:
        has = np.zeros(len(parent_index), dtype=bool)
        rows = np.zeros(len(parent_index), dtype=np.int64)
    frame = doc.take(rows, elements, present=has)
    return frame.with_columns(
        pl.when(pl.Series(has)).then(pl.col("segment_index")).alias("child_segment_index")
    ).drop("segment_index")


def split_composite(values: pl.Series, separator: str, names: list[str]) -> pl.DataFrame:
    """Split a composite element into one column per component (empty or absent → null)."""
    parts = values.str.splitn(separator, len(names)).struct.rename_fields(names)
    frame = parts.to_frame().unnest(parts.name)
    return frame.with_columns(pl.when(pl.col(n) != "").then(pl.col(n)).alias(n) for n in names)


@dataclass(frozen=True)
class Field:
    """A text column of a segment frame to check and convert.

    kind: ``money`` (Decimal(18,2), at most 2 decimals, never via float), ``number``
    (Float64, for quantities and units), ``date`` (CCYYMMDD → Date) or ``text``.
    label: how the element is called in messages (``CLP03``).
    """

    column: str
    label: str
    kind: str = "text"
    required: bool = False


_KIND_RULES = {
    "money": ("is not a valid amount (digits, optional minus, at most 2 decimals)", "X12 R amount"),
    "number": ("is not a valid number", "X12 R number"),
    "date": ("is not a valid date (CCYYMMDD)", "X12 DT date"),
}


def convert(
    doc: X12Document,
    frame: pl.DataFrame,
    fields: list[Field],
    context: str = "",
    index_column: str = "segment_index",
) -> pl.DataFrame:
    """Check ``fields`` of ``frame`` and convert their types.

    ``index_column`` holds the segment index the values come from (used in messages);
    where it is null the row stands for an absent segment and is not checked.

    Raises:
        SegmentError: at the first segment (in file order) with a missing required value
            or a value of the wrong format, naming the element and the value.
    """
    if frame.height == 0:
        return frame.with_columns(_cast(f) for f in fields if f.kind != "text")
    # Convert first (non-strict: bad text becomes null), then check text and result in
    # the same pass, so each value is parsed once.
    typed = {f.column: f"__typed_{f.column}" for f in fields if f.kind != "text"}
    work = frame.with_columns(_cast(f).alias(typed[f.column]) for f in fields if f.kind != "text")
    checks: list[pl.Expr] = []
    for f in fields:
        col = pl.col(f.column)
        bad = pl.lit(False)
        if f.required:
            bad = bad | (col.is_null() & pl.col(index_column).is_not_null())
        if f.kind == "money":
            # A null after conversion catches amounts too large for Decimal(18,2).
            converted = pl.col(typed[f.column])
            bad = bad | (
                col.is_not_null() & (~col.str.contains(MONEY_PATTERN) | converted.is_null())
            )
        elif f.kind == "number":
            converted = pl.col(typed[f.column])
            bad = bad | (
                col.is_not_null() & (~col.str.contains(NUMBER_PATTERN) | converted.is_null())
            )
        elif f.kind == "date":
            parsed = pl.col(typed[f.column])
            bad = bad | (col.is_not_null() & (~col.str.contains(DATE_PATTERN) | parsed.is_null()))
        checks.append(bad.alias(f"__bad_{f.column}"))
    # One pass answers "is anything wrong?"; the per-field detail is only worked out when so.
    if work.select(pl.any_horizontal(*checks).any()).item():
        flags = work.select(*checks)
        first: tuple[int, Field, object] | None = None
        for f in fields:
            hit = frame.filter(flags[f"__bad_{f.column}"]).select(index_column, f.column)
            if hit.height:
                idx = int(hit[index_column].min())  # type: ignore[arg-type]
                value = hit.filter(pl.col(index_column) == idx)[f.column][0]
                if first is None or idx < first[0]:
                    first = (idx, f, value)
        assert first is not None
        idx, f, value = first
        where = f" {context}" if context else ""
        if value is None:
            raise doc.error(
                SegmentError, idx, f"{f.label}{where} is required but empty", "X12 required element"
            )
        reason, rule = _KIND_RULES[f.kind]
        # The value's shape, not the value: a bad date may be a birth date.
        shape = value_shape(value)
        raise doc.error(SegmentError, idx, f"{f.label}{where} (shaped {shape!r}) {reason}", rule)
    return work.drop(typed.keys()).rename({v: k for k, v in typed.items()}).select(frame.columns)


def _cast(f: Field) -> pl.Expr:
    col = pl.col(f.column)
    # Non-strict: text that does not convert becomes null; convert() reports it.
    if f.kind == "money":
        return col.cast(MONEY, strict=False)
    if f.kind == "number":
        return col.cast(pl.Float64, strict=False)
    return col.str.strptime(pl.Date, "%Y%m%d", strict=False)
