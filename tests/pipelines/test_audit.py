"""The audit log: entries chain by hash, any change is found and located, `rcm audit` says
so with exit code 1, and many writers at once still make one unbroken chain."""

import itertools
import json
import threading

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.lib import audit


def write_some(root, n: int = 5) -> None:
    for i in range(n):
        audit.append(root, "view_claim", f"user{i % 2}", claim_id=f"C{i:04d}")


def rewrite_line(root, number: int, change) -> None:
    path = audit.audit_path(root)
    lines = path.read_text().splitlines()
    entry = json.loads(lines[number - 1])
    change(entry)
    lines[number - 1] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")


def test_entries_chain_and_verify(tmp_path):
    write_some(tmp_path)
    rows = list(audit.entries(tmp_path))
    assert [r["claim_id"] for r in rows] == [f"C{i:04d}" for i in range(5)]
    assert rows[0]["prev"] == audit.GENESIS
    assert all(b["prev"] == a["hash"] for a, b in itertools.pairwise(rows))
    assert audit.verify(tmp_path).intact and audit.verify(tmp_path).entries == 5
    assert oct(audit.audit_path(tmp_path).stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: e.update(claim_id="C9999"), "modified"),
        (lambda e: e.update(actor="someone-else"), "modified"),
        (lambda e: e.update(at="2020-01-01T00:00:00.000+00:00"), "modified"),
    ],
)
def test_a_modified_entry_is_found(tmp_path, change, reason):
    write_some(tmp_path)
    rewrite_line(tmp_path, 3, change)
    check = audit.verify(tmp_path)
    assert (check.intact, check.broken_at, check.entries) == (False, 3, 2)
    assert reason in check.reason


def test_a_removed_entry_is_found(tmp_path):
    write_some(tmp_path)
    path = audit.audit_path(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    check = audit.verify(tmp_path)
    assert (check.broken_at, "removed or reordered" in check.reason) == (3, True)


def test_a_rebuilt_chain_is_found_when_the_log_is_keyed(tmp_path, monkeypatch):
    """With RCM_AUDIT_KEY, recomputing the hashes after an edit is not enough."""
    monkeypatch.setenv("RCM_AUDIT_KEY", "kept-outside-the-data-folder")
    write_some(tmp_path)
    path = audit.audit_path(tmp_path)
    forged, previous = [], audit.GENESIS
    for entry in audit.entries(tmp_path):
        entry["actor"] = "nobody"
        entry["prev"] = previous
        entry["hash"] = audit.chain_hash(previous, entry, key=None)  # no key to hand
        previous = entry["hash"]
        forged.append(json.dumps(entry, sort_keys=True, separators=(",", ":")))
    path.write_text("\n".join(forged) + "\n")
    assert audit.verify(tmp_path).broken_at == 1


def test_many_writers_make_one_chain(tmp_path):
    threads = [threading.Thread(target=write_some, args=(tmp_path, 25)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = audit.verify(tmp_path)
    assert check.intact and check.entries == 200


def test_rcm_audit_shows_entries_and_fails_on_tampering(tmp_path, monkeypatch):
    monkeypatch.setenv("RCM_DATA_DIR", str(tmp_path))
    write_some(tmp_path)
    runner = CliRunner()
    shown = runner.invoke(main, ["audit", "--user", "user1"])
    assert shown.exit_code == 0, shown.output
    assert "C0001" in shown.output and "C0002" not in shown.output
    assert "Audit chain intact: 5 entries" in shown.output
    rewrite_line(tmp_path, 4, lambda e: e.update(claim_id="C0000"))
    tampered = runner.invoke(main, ["audit"])
    assert tampered.exit_code == 1
    assert "AUDIT LOG TAMPERED: line 4" in tampered.output


def test_unknown_events_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.append(tmp_path, "viewed_everything", "x")
