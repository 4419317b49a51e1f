"""Shared fixtures: a small generated practice, written once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.lib.generator.config import preset_config
from pipelines.lib.generator.practice import SimulatedPractice, simulate, write_practice


@dataclass
class GeneratedFiles:
    practice: SimulatedPractice
    landing: Path
    truth: Path


@pytest.fixture(scope="session")
def small_practice(tmp_path_factory: pytest.TempPathFactory) -> GeneratedFiles:
    root = tmp_path_factory.mktemp("small")
    sp = simulate(preset_config("small", seed=7))
    write_practice(sp, root / "landing", root / "truth")
    return GeneratedFiles(sp, root / "landing", root / "truth")


@dataclass
class IngestedPractice:
    files: GeneratedFiles
    data_dir: Path
    outcomes: list


@pytest.fixture(scope="session")
def ingested_small(
    small_practice: GeneratedFiles, tmp_path_factory: pytest.TempPathFactory
) -> IngestedPractice:
    """The small practice's landing files loaded into a fresh warehouse (a copy, so the
    generated files stay in place for other tests)."""
    import shutil

    from pipelines.lib.ingest.run import run_ingest

    data_dir = tmp_path_factory.mktemp("ingested")
    shutil.copytree(small_practice.landing, data_dir / "landing")
    summary = run_ingest(data_dir, settle_seconds=0.0)
    return IngestedPractice(small_practice, data_dir, summary.outcomes)
