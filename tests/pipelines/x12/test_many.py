"""Parsing a group of files in one pass gives, file by file, exactly the tables that
parsing each alone gives; an unusual or bad group is declined (None)."""

from __future__ import annotations

from pipelines.lib.x12.claim_837p import parse_837p, read_837p
from pipelines.lib.x12.many import parse_many
from pipelines.lib.x12.remit_835 import parse_835, read_835


def _same(files, parse_doc, read):
    grouped = parse_many([f.read_bytes() for f in files], parse_doc)
    assert grouped is not None
    for f, tables in zip(files, grouped, strict=True):
        alone = read(f).tables()
        assert tables.keys() == alone.keys()
        for name in alone:
            assert tables[name].equals(alone[name]), (f.name, name)


def test_group_of_835s_equals_one_by_one(small_practice):
    _same(sorted((small_practice.landing / "remits").glob("*.835"))[:60], parse_835, read_835)


def test_group_of_837s_equals_one_by_one(small_practice):
    _same(sorted((small_practice.landing / "claims").glob("*.837"))[:20], parse_837p, read_837p)


def test_bad_member_declines_the_group(small_practice):
    files = sorted((small_practice.landing / "remits").glob("*.835"))[:5]
    blobs = [f.read_bytes() for f in files]
    blobs[2] = blobs[2].replace(b"CLP*", b"CLP*X", 1)[:-40]  # truncated
    assert parse_many(blobs, parse_835) is None


def test_file_without_isa_declines_the_group(small_practice):
    files = sorted((small_practice.landing / "remits").glob("*.835"))[:3]
    blobs = [f.read_bytes() for f in files] + [b"ST*835*0001~SE*1*0001~"]
    assert parse_many(blobs, parse_835) is None
