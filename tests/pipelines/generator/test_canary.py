"""A canary patient carries the chosen name in every landing format that holds names, and
planting it changes nothing but that patient's names."""

from pathlib import Path

import pytest

from pipelines.lib.generator.canary import split_canary_name
from pipelines.lib.generator.config import preset_config
from pipelines.lib.generator.practice import generate

CANARY = "Zebulon Quaxley"


@pytest.fixture(scope="module")
def canary_landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("canary")
    generate(preset_config("small", seed=7, canary_name=CANARY), root / "landing", root / "truth")
    return root


def _texts(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.*"))}


def test_canary_is_in_roster_837_and_835(canary_landing):
    texts = _texts(canary_landing / "landing")
    roster = [t for n, t in texts.items() if n.startswith("scheduling/patients_")]
    assert sum(",Quaxley,Zebulon," in t for t in roster) == 1
    assert any("NM1*IL*1*Quaxley*Zebulon*" in t for n, t in texts.items() if n.endswith(".837"))
    assert any("NM1*QC*1*Quaxley*Zebulon*" in t for n, t in texts.items() if n.endswith(".835"))
    # the truth ledger never holds names
    assert not any(CANARY.split()[1] in p.read_bytes().decode("latin-1")
                   for p in (canary_landing / "truth").iterdir())  # fmt: skip


def test_canary_changes_only_names(canary_landing, small_practice):
    plain = _texts(small_practice.landing)
    planted = _texts(canary_landing / "landing")
    assert plain.keys() == planted.keys()
    changed = {n for n in plain if plain[n] != planted[n]}
    assert changed
    for name in changed:
        for before, after in zip(plain[name].splitlines(), planted[name].splitlines(), strict=True):
            if before != after:
                assert "Quaxley" in after, (name, before, after)


@pytest.mark.parametrize("bad", ["Zebulon", "Zeb Q*x", "A B C", "Zebulon Quax1ey"])
def test_canary_name_must_be_two_plain_words(bad):
    with pytest.raises(ValueError, match="two words"):
        split_canary_name(bad)
