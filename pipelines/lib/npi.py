"""National Provider Identifier check digit (CMS NPI standard: Luhn over "80840" + 9 digits)."""

from __future__ import annotations

import numpy as np

_PREFIX_SUM = 24  # Luhn contribution of the card-issuer prefix 80840, as CMS specifies


def npi_check_digit(first_nine: str) -> int:
    """The 10th digit that makes ``first_nine`` a valid NPI."""
    total = _PREFIX_SUM
    for i, ch in enumerate(reversed(first_nine)):
        d = int(ch)
        if i % 2 == 0:  # rightmost digit of the base is doubled
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is 10 digits whose last is the Luhn check digit of the first nine."""
    return len(npi) == 10 and npi.isdigit() and npi_check_digit(npi[:9]) == int(npi[9])


def make_npis(rng: np.random.Generator, count: int, entity_type: int = 1) -> list[str]:
    """``count`` distinct valid NPIs; type 1 (people) start with 1, type 2 (organisations) 2."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        base = f"{entity_type}{rng.integers(0, 10**8):08d}"
        npi = base + str(npi_check_digit(base))
        if npi not in seen:
            seen.add(npi)
            out.append(npi)
    return out
