"""The audit log: who signed in, who opened which claim, who exported what, and when.

HIPAA's audit controls (45 CFR 164.312(b)) ask for a record of activity on systems that
hold PHI. Ours is an append-only file beside the warehouse, ``$RCM_DATA_DIR/audit/audit.jsonl``:
one JSON object per line, each chained to the one before it::

    hash = HMAC-SHA256(key, previous hash + canonical JSON of the entry without its hash)

with the key from ``RCM_AUDIT_KEY``, or plain SHA-256 when no key is set. Changing, removing
or reordering any entry breaks the chain from that entry on, and :func:`verify` says where.
Without a key, someone who can write the file could rebuild the whole chain; with a key kept
outside the data folder, they cannot (SECURITY.md).

Not in the warehouse itself: DuckDB allows one writer, the build holds the build file and the
dashboards only read the serving file, so the log is a file of its own that any process can
append to. Appends take an exclusive ``flock``, read the last entry's hash and write one line
with ``O_APPEND``, so the dashboards' threads, the CLI and Dagster runs can all write to it.

Entries hold user names, claim ids and filters, never patient identifiers' values.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

GENESIS = "0" * 64
"""The 'previous hash' of the first entry."""

EVENTS = {
    "sign_in": "signed in",
    "sign_in_failed": "sign-in refused",
    "sign_out": "signed out",
    "session_expired": "signed out after idle time",
    "view_claim": "opened a claim",
    "export": "exported",
    "report_written": "wrote a report",
    "user_added": "user added",
    "user_changed": "user changed",
    "user_removed": "user removed",
}


def audit_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / "audit" / "audit.jsonl"


def _key() -> bytes | None:
    key = os.environ.get("RCM_AUDIT_KEY")
    return key.encode() if key else None


def _canonical(entry: dict) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str).encode()


def chain_hash(previous: str, entry: dict, key: bytes | None) -> str:
    """The hash of ``entry`` (without its own ``hash``) chained to ``previous``."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    message = previous.encode() + _canonical(body)
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def _last_hash(handle) -> str:
    """The hash on the file's last line (read backwards from the end: the log can be big)."""
    handle.seek(0, os.SEEK_END)
    end = handle.tell()
    if end == 0:
        return GENESIS
    block = min(end, 4096)
    while True:
        handle.seek(end - block)
        tail = handle.read(block)
        lines = tail.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or block == end:
            return json.loads(lines[-1])["hash"]
        block = min(end, block * 2)


def append(data_dir: Path | str, event: str, actor: str, **details: object) -> dict:
    """Write one entry and return it. ``actor`` is a user name or ``system``."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    path = audit_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "rb+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            previous = _last_hash(handle)
            entry = {
                "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "event": event,
                "actor": actor,
                **{k: v for k, v in details.items() if v is not None},
                "prev": previous,
            }
            entry["hash"] = chain_hash(previous, entry, _key())
            handle.write(_canonical(entry) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return entry


def entries(data_dir: Path | str) -> Iterator[dict]:
    path = audit_path(data_dir)
    if not path.exists():
        return
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


@dataclass(frozen=True)
class Verification:
    entries: int
    broken_at: int | None = None
    """1-based line number of the first entry whose chain does not hold."""
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(data_dir: Path | str) -> Verification:
    """Walk the chain from the start; report the first line that does not hold."""
    path = audit_path(data_dir)
    if not path.exists():
        return Verification(0)
    key = _key()
    previous = GENESIS
    count = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                return Verification(count, number, "blank line")
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                return Verification(count, number, "not a JSON entry")
            if entry.get("prev") != previous:
                return Verification(
                    count, number, "does not follow the entry before it (removed or reordered)"
                )
            if not hmac.compare_digest(str(entry.get("hash")), chain_hash(previous, entry, key)):
                return Verification(count, number, "hash does not match its contents (modified)")
            previous = entry["hash"]
            count += 1
    return Verification(count)
