"""X12 5010 syntax shared by the 837P and 835 writers: separators, the ISA/GS/ST..SE/GE/IEA
envelope, and segment rendering (as Python strings for the few header segments, as polars
expressions for the millions of detail segments).

Separators are fixed: element ``*``, component ``:``, repetition ``^`` (ISA11), segment
terminator ``~`` followed by a newline so files diff and grep well. Output is deterministic:
control numbers are passed in by the caller (a counter) and ISA09/10 and GS04/05 come from
an explicit creation timestamp, never from the clock.

Text data must be printable ASCII without any separator character; ``check_text`` rejects
anything else rather than silently rewriting it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from pipelines.lib.generator.tables import Practice, cents_to_text

ELEMENT_SEP = "*"
COMPONENT_SEP = ":"
REPETITION_SEP = "^"
SEGMENT_TERMINATOR = "~"
TERMINATOR = SEGMENT_TERMINATOR + "\n"  # what ends every written segment

# Anything outside printable ASCII, or one of the four separators, cannot be written as data.
_BAD_TEXT = r"[^\x20-\x7E]|[*:^~]"
ISA_LENGTH = 106


class X12WriteError(ValueError):
    """Input frames cannot be written as valid X12. The message names the table, the rows
    (by key) and the rule that failed, so the simulation can be fixed at the source."""


# ---------------------------------------------------------------------------------------
# Python-side segments (envelope and per-transaction headers: a handful per file)
# ---------------------------------------------------------------------------------------


def segment_text(tag: str, *elements: str | None) -> str:
    """One segment with its terminator; ``None`` elements are empty, trailing empties dropped."""
    body = ELEMENT_SEP.join([tag, *("" if e is None else e for e in elements)])
    return body.rstrip(ELEMENT_SEP) + TERMINATOR


def cents_text(cents: int) -> str:
    """Cents as exact X12 decimal text, the Python twin of ``tables.cents_to_text``."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def d8(day: date) -> str:
    """A date as CCYYMMDD (X12 D8)."""
    return day.strftime("%Y%m%d")


@dataclass(frozen=True)
class Interchange:
    """The fixed parts of the envelope for one kind of file (who sends what to whom)."""

    sender_id: str  # ISA06
    receiver_id: str  # ISA08
    app_sender: str  # GS02
    app_receiver: str  # GS03
    functional_id: str  # GS01: HC claims, HP remittance advice
    transaction_set: str  # ST01: 837, 835
    version: str  # GS08, e.g. 005010X222A1
    st03: bool  # repeat the version in ST03 (837 yes; the 835 TR3 does not use ST03)
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    usage: str = "P"  # ISA15: P production, T test


def _check_id(value: str, what: str, lo: int, hi: int) -> None:
    if not (lo <= len(value) <= hi) or value.strip() != value:
        raise X12WriteError(f"{what} {value!r} must be {lo}..{hi} characters without padding")
    check_text_value(value, what)


def check_text_value(value: str, what: str) -> None:
    """Raise when a single (Python-side) text value cannot be written as X12 data."""
    if re.search(_BAD_TEXT, value):
        raise X12WriteError(
            f"{what} {value!r} holds a separator (* : ^ ~) or a non-printable/non-ASCII character"
        )


def isa_segment(ic: Interchange, created: datetime, control_number: int) -> str:
    """The fixed-width (106 character) ISA segment, without the trailing newline."""
    _check_id(ic.sender_id, "ISA06 sender id", 1, 15)
    _check_id(ic.receiver_id, "ISA08 receiver id", 1, 15)
    if not 1 <= control_number <= 999_999_999:
        raise X12WriteError(f"interchange control number {control_number} is not 1..999999999")
    fields = [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        ic.sender_qualifier,
        ic.sender_id.ljust(15),
        ic.receiver_qualifier,
        ic.receiver_id.ljust(15),
        created.strftime("%y%m%d"),
        created.strftime("%H%M"),
        REPETITION_SEP,
        "00501",
        f"{control_number:09d}",
        "0",
        ic.usage,
        COMPONENT_SEP,
    ]
    text = ELEMENT_SEP.join(fields) + SEGMENT_TERMINATOR
    assert len(text) == ISA_LENGTH, text
    return text


def render_interchange(
    ic: Interchange,
    bodies: Sequence[str],
    *,
    control_number: int,
    created: datetime,
) -> str:
    """A whole interchange: ISA, one GS, one ST..SE per body, GE, IEA.

    ``bodies`` are the transaction sets' segments between ST and SE, each segment already
    ending in ``TERMINATOR``. ST02 counts 0001, 0002, ... within the group; GS06 repeats the
    interchange control number; SE01 counts the segments from ST to SE inclusive.
    """
    _check_id(ic.app_sender, "GS02 application sender", 2, 15)
    _check_id(ic.app_receiver, "GS03 application receiver", 2, 15)
    if not bodies:
        raise X12WriteError("an interchange needs at least one transaction set")
    group = str(control_number)
    parts = [
        isa_segment(ic, created, control_number) + "\n",
        segment_text(
            "GS",
            ic.functional_id,
            ic.app_sender,
            ic.app_receiver,
            created.strftime("%Y%m%d"),
            created.strftime("%H%M"),
            group,
            "X",
            ic.version,
        ),
    ]
    for i, body in enumerate(bodies, start=1):
        st_control = f"{i:04d}"
        parts.append(
            segment_text("ST", ic.transaction_set, st_control, ic.version if ic.st03 else None)
        )
        parts.append(body)
        n_segments = body.count(SEGMENT_TERMINATOR) + 2
        parts.append(segment_text("SE", str(n_segments), st_control))
    parts.append(segment_text("GE", str(len(bodies)), group))
    parts.append(segment_text("IEA", "1", f"{control_number:09d}"))
    return "".join(parts)


# ---------------------------------------------------------------------------------------
# Polars-side segments (one row per claim, line, adjustment, ...)
# ---------------------------------------------------------------------------------------

Element = pl.Expr | str | None


def _element(e: Element) -> pl.Expr:
    if e is None:
        return pl.lit("")
    if isinstance(e, str):
        return pl.lit(e)
    return e.cast(pl.Utf8).fill_null("")


def segment(tag: str, *elements: Element) -> pl.Expr:
    """One segment per row, terminator included. Null elements are written empty and
    trailing empty elements are dropped (X12 forbids trailing separators). The result is
    never null; wrap it in ``pl.when(...).then(...)`` for a situational segment."""
    body = pl.concat_str([pl.lit(tag), *(_element(e) for e in elements)], separator=ELEMENT_SEP)
    if any(not isinstance(e, str) for e in elements):
        body = body.str.strip_chars_end(ELEMENT_SEP)
    return body + pl.lit(TERMINATOR)


def procedure_composite(code: pl.Expr, modifiers: pl.Expr, qualifier: str = "HC") -> pl.Expr:
    """HC:code:mod1:mod2... (SV101, SVD03, SVC01) from a code and a list of modifiers."""
    with_modifiers = pl.when(modifiers.list.len() > 0).then(
        pl.lit(COMPONENT_SEP) + modifiers.list.join(COMPONENT_SEP)
    )
    return pl.concat_str(
        [pl.lit(qualifier + COMPONENT_SEP), code, with_modifiers], ignore_nulls=True
    )


def d8_expr(col: pl.Expr) -> pl.Expr:
    """A date column as CCYYMMDD text."""
    return col.dt.strftime("%Y%m%d")


def money(col: pl.Expr) -> pl.Expr:
    """Int64 cents as exact X12 decimal text (R type)."""
    return cents_to_text(col)


def blocks(*segments: pl.Expr | str) -> pl.Expr:
    """Concatenate segments (expressions, or fixed text from ``segment_text``); null ones
    (situational segments not sent) vanish."""
    return pl.concat_str(
        [pl.lit(s) if isinstance(s, str) else s for s in segments], ignore_nulls=True
    )


def count_segments(text: pl.Expr) -> pl.Expr:
    """Number of segments in rendered text."""
    return text.str.count_matches(SEGMENT_TERMINATOR, literal=True)


def cas_segments(
    adjustments: pl.DataFrame,
    keys: Sequence[str],
    *,
    per_segment: int = 6,
) -> pl.DataFrame:
    """CAS segments per key: one segment per group code (in order of first appearance),
    split into further segments of the same group beyond ``per_segment`` reason/amount/
    quantity triplets. Returns ``keys`` + ``cas`` (the concatenated segments) + ``n_cas``.

    ``adjustments`` has ``keys`` + group, reason, amount_cents, quantity (null = not given).
    """
    keys = list(keys)
    per_group = (
        adjustments.select(
            *keys,
            "group",
            triplet=pl.concat_str(
                [
                    pl.col("reason"),
                    money(pl.col("amount_cents")),
                    pl.col("quantity").cast(pl.Utf8).fill_null(""),
                ],
                separator=ELEMENT_SEP,
            ),
        )
        .group_by([*keys, "group"], maintain_order=True)
        .agg(pl.col("triplet"))
    )
    # Slice each group's triplets into segments column-wise: as many slices as the
    # longest group needs (almost always one).
    n = pl.col("triplet").list.len()
    longest = per_group.select(n.max()).item() or 0
    chunks = [
        pl.when(n > i * per_segment).then(
            segment(
                "CAS",
                pl.col("group"),
                pl.col("triplet").list.slice(i * per_segment, per_segment).list.join(ELEMENT_SEP),
            )
        )
        for i in range(max(1, -(-longest // per_segment)))
    ]
    return (
        per_group.select(*keys, cas=blocks(*chunks), n_cas=(n + per_segment - 1) // per_segment)
        .group_by(keys, maintain_order=True)
        .agg(pl.col("cas").str.join(""), pl.col("n_cas").sum())
    )


# ---------------------------------------------------------------------------------------
# Input checks shared by the writers
# ---------------------------------------------------------------------------------------


def check_practice(practice: Practice) -> None:
    """Raise when a Practice field is empty or cannot be carried in X12."""
    for field, value in practice.__dict__.items():
        if not value:
            raise X12WriteError(f"Practice.{field} is empty")
        check_text_value(value, f"Practice.{field}")
    for field, digits in (("npi", 10), ("tin", 9)):
        value = getattr(practice, field)
        if not (value.isdigit() and len(value) == digits):
            raise X12WriteError(f"Practice.{field} {value!r} must be {digits} digits")


def check_text(df: pl.DataFrame, table: str, columns: Iterable[str] | None = None) -> None:
    """Raise when a text (or list-of-text) column holds a value X12 cannot carry."""
    cols = list(columns) if columns is not None else list(df.columns)
    for c in cols:
        dtype = df.schema[c]
        if dtype == pl.Utf8:
            values = df.get_column(c)
        elif dtype == pl.List(pl.Utf8):
            values = df.get_column(c).explode()
        else:
            continue
        bad = values.drop_nulls().filter(values.drop_nulls().str.contains(_BAD_TEXT))
        if len(bad):
            raise X12WriteError(
                f"{table}.{c}: {len(bad)} value(s) hold a separator (* : ^ ~) or a "
                f"non-printable/non-ASCII character, e.g. {bad[0]!r}"
            )


def require_keys(
    child: pl.DataFrame,
    parent: pl.DataFrame,
    on: Sequence[str] | str,
    *,
    child_table: str,
    parent_table: str,
    parent_on: Sequence[str] | str | None = None,
) -> None:
    """Raise when non-null keys of ``child`` have no row in ``parent`` (they would be
    dropped or written with empty required elements)."""
    left = [on] if isinstance(on, str) else list(on)
    right = (
        left
        if parent_on is None
        else ([parent_on] if isinstance(parent_on, str) else list(parent_on))
    )
    probe = child.select(left).drop_nulls().unique(maintain_order=True)
    missing = probe.join(
        parent.select(right).unique(), left_on=left, right_on=right, how="anti", nulls_equal=False
    )
    if missing.height:
        raise X12WriteError(
            f"{child_table}: {missing.height} key(s) {left} not found in {parent_table} "
            f"{right}, e.g. {missing.row(0)}"
        )


def fail_rows(bad: pl.DataFrame, table: str, rule: str, limit: int = 5) -> None:
    """Raise naming the rule and the first offending rows when ``bad`` is not empty."""
    if bad.height:
        rows = "; ".join(str(r) for r in bad.head(limit).to_dicts())
        more = f" (and {bad.height - limit} more)" if bad.height > limit else ""
        raise X12WriteError(f"{table}: {rule} fails for {bad.height} row(s): {rows}{more}")


def subscriber_nm1(member_id: pl.Expr, last: pl.Expr, first: pl.Expr) -> pl.Expr:
    """NM1*IL: the insured (subscriber) by name with the member id (MI), as both the 837P
    (2010BA) and the 835 (2100 insured, when not the patient) write it."""
    return segment("NM1", "IL", "1", last, first, None, None, None, "MI", member_id)
