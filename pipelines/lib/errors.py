"""One exception hierarchy for problems in the files we are given.

Every input problem is an :class:`InputError`: it names the file, the place in it (the
X12 segment number and text, or the CSV line and column) and the rule that was broken,
so a person can open the file, find the spot and know what to fix. The ingest layer
turns it into the quarantine sidecar and the registry's ``reason``.

Subclasses only say which stage found the problem; callers that just want "is this file
bad?" catch ``InputError``.
"""

from __future__ import annotations

_MAX_SEGMENT_TEXT = 120


class InputError(Exception):
    """A file (or part of one) that cannot be loaded as it is.

    Attributes:
        file: file name as the caller knows it (e.g. ``remits/x.835``).
        reason: what is wrong, in words, with the offending values.
        rule: the rule that was broken (e.g. ``835 claim balancing``).
        segment_index: 1-based number of the X12 segment in the file (ISA is 1), if known.
        segment_text: the text of that segment (elements joined by the element separator).
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
    def position(self) -> str:
        """Where in the file, in words ("segment 57 'CLP*...'", "line 3, column 7")."""
        parts: list[str] = []
        if self.segment_index is not None:
            text = self.segment_text
            if text is not None and len(text) > _MAX_SEGMENT_TEXT:
                text = text[: _MAX_SEGMENT_TEXT - 3] + "..."
            parts.append(
                f"segment {self.segment_index}" + (f" {text!r}" if text is not None else "")
            )
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column else ""))
        return ", ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """The fields as plain values (for a quarantine sidecar or a registry row)."""
        return {
            "file": self.file,
            "segment_index": self.segment_index,
            "segment_text": self.segment_text,
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
