"""Parse many small X12 files in one pass.

A columnar parser has a fixed cost per call (a few hundred small table operations), which
dominates for the thousands of small 835s a practice receives (one per payment). The
tokenizer already reads several interchanges per file, so small files of one kind are
concatenated, parsed once, and the tables split back per file by segment position, with
``segment_index`` and ``transaction_index`` re-based so every row reads exactly as if its
file had been parsed alone (a test holds the two paths equal).

If anything about the group is unusual (a BOM, a file that does not start with ISA, a
segment count that does not add up) or the group fails to parse, the caller gets None
and parses the files one by one, so a bad file is always reported on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from pipelines.lib.errors import InputError
from pipelines.lib.x12.tokenizer import X12Document, tokenize

Tables = dict[str, pl.DataFrame]


def _segment_count(data: bytes) -> int | None:
    """Segments in one file by counting its terminator (read from a well-formed ISA)."""
    if not data.startswith(b"ISA") or len(data) < 108:
        return None
    sep = data[3:4]
    pos = 3  # the separator before ISA01; fifteen more lead to the one before ISA16
    for _ in range(15):
        pos = data.find(sep, pos + 1)
        if pos < 0:
            return None
    # pos is the separator before ISA16: ISA16 is one byte, the terminator follows
    terminator = data[pos + 2 : pos + 3]
    if not terminator or terminator in (sep, b"\r", b"\n", b" "):
        return None
    return data.count(terminator)


def parse_many(
    blobs: Sequence[bytes],
    parse_doc: Callable[[X12Document], object],
) -> list[Tables] | None:
    """Tables per blob, as if each were parsed alone; None when the group must be parsed
    one file at a time."""
    counts = [_segment_count(b) for b in blobs]
    if not blobs or any(c is None for c in counts):
        return None
    try:
        doc = tokenize(b"\n".join(blobs), "group")
        tables: Tables = parse_doc(doc).tables()  # type: ignore[attr-defined]
    except InputError:
        return None
    ends = np.cumsum(counts)
    starts = ends - np.asarray(counts)
    segments = doc.segments
    if segments.height != int(ends[-1]):
        return None
    first_ids = segments["segment_id"].gather(starts.tolist())
    if not (first_ids == "ISA").all():
        return None
    # transaction_index re-based per file: its transactions' first index becomes 1
    st = doc.transactions.select("transaction_index", "st_segment_index").to_numpy()
    st_file = np.searchsorted(ends, st[:, 1], side="left")
    first_tx = np.full(len(blobs), 1, dtype=np.int64)
    for f in range(len(blobs) - 1, -1, -1):
        hit = st[st_file == f, 0]
        if len(hit):
            first_tx[f] = hit.min()

    out: list[Tables] = [{} for _ in blobs]
    for name, frame in tables.items():
        which = np.searchsorted(ends, frame["segment_index"].to_numpy(), side="left")
        seg_shift = pl.Series(starts[which], dtype=pl.Int64)
        tx_shift = pl.Series(first_tx[which] - 1, dtype=pl.Int64)
        frame = frame.with_columns(
            *(
                (pl.col(c) - seg_shift).cast(frame.schema[c])
                for c in frame.columns
                if c.endswith("segment_index")
            ),
            *(
                [(pl.col("transaction_index") - tx_shift).cast(frame.schema["transaction_index"])]
                if "transaction_index" in frame.columns
                else []
            ),
            _file=pl.Series(which, dtype=pl.Int64),
        )
        parts = frame.partition_by("_file", as_dict=True, include_key=False, maintain_order=True)
        empty = frame.head(0).drop("_file")
        for f in range(len(blobs)):
            out[f][name] = parts.get((f,), empty)
    return out
