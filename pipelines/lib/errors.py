"""One exception hierarchy for problems in the files we are given.

Every input problem is an :class:`InputError`: it names the file, the place in it (the
X12 segment number and text, or the CSV line and column) and the rule that was broken,
so a person can open the file, find the spot and know what to fix. The ingest layer
turns it into the quarantine sidecar and the registry's ``reason``.

Subclasses only say which stage found the problem; callers that just want "is this file
bad?" catch ``InputError``.

No PHI in errors: a message goes to logs, Dagster's event log, the registry and the
quarantine sidecar, so it never quotes a value from the file that could name a person
(a name, birth date, address, member or account id). It quotes only code values (segment
ids, qualifiers, code-list values, control numbers) and amounts; any other offending value
is described by its :func:`value_shape` ("9999-99-99", "AAAAA"), and a segment by its id
and the shape of its elements (:func:`segment_shape`). The file itself, in quarantine, is
where a person with access to PHI reads the values.
"""

from __future__ import annotations

import re
import traceback
from pathlib import Path

_MAX_SEGMENT_TEXT = 120
_MAX_SHAPE = 24
_LETTERS = re.compile(r"[^\W\d_]")
_DIGITS = re.compile(r"\d")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


def value_shape(value: object) -> str:
    """The shape of a value, never the value: each letter ``A``, each digit ``9``, other
    characters kept (so "12.345" → "99.999", "1990/07/04" → "9999/99/99", a name →
    "AAAAA"); at most 24 characters, then "...". Enough to see what format is wrong."""
    text = _DIGITS.sub("9", _LETTERS.sub("A", str(value)))
    return text if len(text) <= _MAX_SHAPE else text[: _MAX_SHAPE - 3] + "..."


def segment_shape(text: str, element_separator: str) -> str:
    """An X12 segment with its id kept and every element replaced by its shape
    (``NM1*AA*9*AAAAAA*AAAAA``): where elements are empty and what format they have,
    without the values."""
    sid, *elements = text.split(element_separator)
    if not _SEGMENT_ID.fullmatch(sid):
        sid = value_shape(sid)
    return element_separator.join([sid, *(value_shape(e) for e in elements)])


def exception_place(err: BaseException, frames: int = 3) -> str:
    """An unexpected exception in words a log may hold: its type and the innermost
    ``frames`` places it passed through (``ValueError at remit_835.py:212 _clp < ...``),
    never its message, which can quote a value from a file or the warehouse."""
    stack = traceback.extract_tb(err.__traceback__)[-frames:]
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))
    return f"{type(err).__name__} at {where}" if where else type(err).__name__


class InputError(Exception):
    """A file (or part of one) that cannot be loaded as it is.

    Attributes:
        file: file name as the caller knows it (e.g. ``remits/x.835``).
        reason: what is wrong, in words; quotes codes and amounts, never a value that could
            name a person (see the module docstring).
        rule: the rule that was broken (e.g. ``835 claim balancing``).
        segment_index: 1-based number of the X12 segment in the file (ISA is 1), if known.
        segment_text: the shape of that segment (:func:`segment_shape`): its id and, per
            element, the shape of the value, never the value.
        line, column: 1-based position for line-oriented files (CSV), if known.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str = "<input>",
        rule: str = "",
        segment_index: int | None = None,
        segment_text: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.rule = rule
        self.segment_index = segment_index
        self.segment_text = segment_text
        self.line = line
        self.column = column
        super().__init__(str(self))

    @property
    def segment_id(self) -> str | None:
        """The id of the segment at fault (``CLP``), from :attr:`segment_text`."""
        if not self.segment_text:
            return None
        head = re.split(r"[^A-Za-z0-9]", self.segment_text, maxsplit=1)[0]
        return head if _SEGMENT_ID.fullmatch(head) else None

    @property
    def position(self) -> str:
        """Where in the file, in words ("segment 57 (CLP)", "line 3, column 7")."""
        parts: list[str] = []
        if self.segment_index is not None:
            sid = self.segment_id
            parts.append(f"segment {self.segment_index}" + (f" ({sid})" if sid else ""))
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column else ""))
        return ", ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """The fields as plain values (for a quarantine sidecar or a registry row)."""
        return {
            "file": self.file,
            "segment_index": self.segment_index,
            "segment_text": _shortened(self.segment_text),
            "line": self.line,
            "column": self.column,
            "rule": self.rule,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        where = self.position
        head = f"{self.file}: {where}: " if where else f"{self.file}: "
        tail = f" (rule: {self.rule})" if self.rule else ""
        return f"{head}{self.reason}{tail}"

    def __reduce__(self):  # keep the keyword-only fields when pickled (multiprocessing)
        return (_rebuild, (type(self), self.as_dict()))


def _shortened(text: str | None) -> str | None:
    if text is not None and len(text) > _MAX_SEGMENT_TEXT:
        return text[: _MAX_SEGMENT_TEXT - 3] + "..."
    return text


def _rebuild(cls: type[InputError], fields: dict[str, object]) -> InputError:
    reason = fields.pop("reason")
    return cls(reason, **fields)  # type: ignore[arg-type]


class X12SyntaxError(InputError):
    """The bytes are not well-formed X12: no ISA, bad delimiters, bad segment ids, truncation."""


class EnvelopeError(InputError):
    """ISA/IEA, GS/GE or ST/SE do not nest, count or match control numbers."""


class UnsupportedTransactionError(InputError):
    """A transaction set or implementation guide version this reader does not handle."""


class SegmentError(InputError):
    """A required segment or element is missing, or a value has the wrong format."""


class BalancingError(InputError):
    """Money does not add up (835 service line, claim or transaction balancing; 837 CLM02)."""


class ParserDefect(InputError):
    """The parser itself failed on a file (an exception that is not an InputError): a
    defect of ours that this file revealed. The file is set aside like bad input, so the
    run goes on and nothing is lost, and the reason gives the exception's type and place,
    never its message."""

    @classmethod
    def from_exception(cls, err: Exception, file: str) -> ParserDefect:
        return cls(
            f"the parser failed unexpectedly ({exception_place(err)}); the file is kept "
            "in quarantine: please report this as a defect",
            file=file,
            rule="parser defect",
        )
