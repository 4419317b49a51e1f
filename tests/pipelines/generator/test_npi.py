from __future__ import annotations

import numpy as np

from pipelines.lib.npi import is_valid_npi, make_npis, npi_check_digit


def test_cms_example_npi():
    # The worked example in the CMS NPI check-digit specification
    assert npi_check_digit("123456789") == 3
    assert is_valid_npi("1234567893")
    assert not is_valid_npi("1234567890")
    assert not is_valid_npi("12345678")


def test_generated_npis_are_valid_and_distinct():
    npis = make_npis(np.random.default_rng(0), 500)
    assert len(set(npis)) == 500
    assert all(is_valid_npi(n) for n in npis)


def test_practice_npis_are_valid(small_practice):
    pop = small_practice.practice.population
    assert is_valid_npi(pop.practice.npi)
    assert all(is_valid_npi(n) for n in pop.providers["npi"])
    assert all(is_valid_npi(n) for n in pop.locations["npi"])
