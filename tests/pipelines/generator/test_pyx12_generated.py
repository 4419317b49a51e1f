"""Every 837P and 835 the small practice produces passes pyx12's validator (the 5010
implementation-guide maps) with no errors."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from x12_fixtures import pyx12_errors


def test_every_generated_file_passes_pyx12(small_practice):
    paths = sorted((small_practice.landing / "claims").glob("*.837")) + sorted(
        (small_practice.landing / "remits").glob("*.835")
    )
    assert len(paths) > 50
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = dict(zip(paths, pool.map(pyx12_errors, paths), strict=True))
    failures = {p.name: errs[:5] for p, errs in results.items() if errs}
    assert not failures, (
        f"{len(failures)} of {len(paths)} files fail pyx12: {dict(list(failures.items())[:3])}"
    )
