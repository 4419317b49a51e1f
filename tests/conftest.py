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
