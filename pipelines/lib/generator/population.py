"""The practice's people and plans: locations, providers, payers, patients and coverage.

All draws come from one seeded numpy Generator, in a fixed order, so a seed gives the same
practice every time. Vectorised: the large preset has ~350k patients.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from pipelines.lib.generator.catalogue import PAYERS, SUPPLEMENT_PAYER
from pipelines.lib.generator.config import GeneratorConfig
from pipelines.lib.generator.tables import Practice, conform
from pipelines.lib.npi import make_npis

# Common US given and family names (census-frequency style lists; synthetic people only).
FIRST_F = [
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Barbara",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Lisa",
    "Nancy",
    "Betty",
    "Sandra",
    "Margaret",
    "Ashley",
    "Kimberly",
    "Emily",
    "Donna",
    "Michelle",
    "Carol",
    "Amanda",
    "Melissa",
    "Deborah",
    "Stephanie",
    "Rebecca",
    "Sharon",
    "Laura",
    "Cynthia",
    "Amy",
    "Angela",
    "Anna",
    "Emma",
    "Olivia",
    "Sophia",
    "Ava",
    "Mia",
    "Isabella",
    "Harper",
    "Evelyn",
    "Abigail",
    "Grace",
    "Chloe",
    "Lily",
    "Zoe",
    "Nora",
    "Maya",
    "Aaliyah",
    "Camila",
    "Valeria",
    "Lucia",
]
FIRST_M = [
    "James",
    "Robert",
    "John",
    "Michael",
    "David",
    "William",
    "Richard",
    "Joseph",
    "Thomas",
    "Charles",
    "Christopher",
    "Daniel",
    "Matthew",
    "Anthony",
    "Mark",
    "Donald",
    "Steven",
    "Paul",
    "Andrew",
    "Joshua",
    "Kenneth",
    "Kevin",
    "Brian",
    "George",
    "Timothy",
    "Ronald",
    "Jason",
    "Edward",
    "Jeffrey",
    "Ryan",
    "Jacob",
    "Gary",
    "Nicholas",
    "Eric",
    "Jonathan",
    "Liam",
    "Noah",
    "Oliver",
    "Elijah",
    "Lucas",
    "Mason",
    "Ethan",
    "Logan",
    "Aiden",
    "Jackson",
    "Mateo",
    "Santiago",
    "Diego",
    "Omar",
    "Wei",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Kim",
    "Chen",
    "Okafor",
    "Haddad",
    "Kowalski",
    "Novak",
    "Schmidt",
    "Rossi",
    "Silva",
]
STREETS = [
    "Oak",
    "Maple",
    "Pine",
    "Cedar",
    "Elm",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Ridge",
    "River",
    "Meadow",
    "Forest",
    "Spring",
    "Willow",
    "Highland",
    "Church",
    "Mill",
    "Main",
    "Washington",
]
SUFFIX = ["St", "Ave", "Rd", "Dr", "Ln", "Ct", "Way", "Blvd"]
TOWNS = [("Lakeview", "FL", "33801"), ("Cedar Grove", "FL", "33803"), ("Pinecrest", "FL", "33805"),
         ("Riverside", "FL", "33809"), ("Fairhaven", "FL", "33811"), ("Brookfield", "FL", "33813")]  # fmt: skip

MBI_LETTERS = np.array(list("ACDEFGHJKMNPQRTUVWXY"))


@dataclass
class Population:
    """Everything about who is in the practice (frames follow tables.py)."""

    practice: Practice
    payers: pl.DataFrame
    locations: pl.DataFrame
    providers: pl.DataFrame
    patients: pl.DataFrame
    coverages: pl.DataFrame  # contract columns + plan_type, copay_cents (internal)


def _names(rng: np.random.Generator, sex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(sex)
    first = np.where(
        sex == "F",
        np.array(FIRST_F)[rng.integers(0, len(FIRST_F), n)],
        np.array(FIRST_M)[rng.integers(0, len(FIRST_M), n)],
    )
    last = np.array(LAST)[rng.integers(0, len(LAST), n)]
    return first, last


def _addresses(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    town = rng.integers(0, len(TOWNS), n)
    number = rng.integers(10, 9999, n).astype(str)
    street = np.array(STREETS)[rng.integers(0, len(STREETS), n)]
    suffix = np.array(SUFFIX)[rng.integers(0, len(SUFFIX), n)]
    address = np.char.add(np.char.add(np.char.add(number, " "), np.char.add(street, " ")), suffix)
    towns = np.array(TOWNS)
    return {
        "address1": address,
        "city": towns[town, 0],
        "state": towns[town, 1],
        "zip": towns[town, 2],
    }


def _digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return np.char.zfill(rng.integers(0, 10**width, n, dtype=np.int64).astype(str), width)


def _mbi(rng: np.random.Generator, n: int) -> np.ndarray:
    """Medicare beneficiary identifiers in the CMS MBI shape (C A AN N A AN N A A N N)."""
    d = lambda lo: rng.integers(lo, 10, n).astype(str)  # noqa: E731
    a = lambda: MBI_LETTERS[rng.integers(0, len(MBI_LETTERS), n)]  # noqa: E731
    parts = [d(1), a(), d(0), d(0), a(), d(0), d(0), a(), a(), d(0), d(0)]
    out = parts[0]
    for p in parts[1:]:
        out = np.char.add(out, p)
    return out


def build_population(cfg: GeneratorConfig, rng: np.random.Generator) -> Population:
    """Draw the practice, its providers and its patient panel with their coverage."""
    practice = Practice(
        name="Lakeview Family Medicine Group",
        npi=make_npis(rng, 1, entity_type=2)[0],
        tin=f"59{rng.integers(0, 10**7):07d}",
        taxonomy="207Q00000X",
        address1="1200 Lakeview Medical Pkwy",
        city="Lakeview",
        state="FL",
        zip="338010000",
        contact_name="Billing Office",
        phone="8635550100",
        submitter_id="LFMG001",
        receiver_id="CLEARHOUSE01",
        receiver_name="Example Clearinghouse",
    )

    payers = pl.DataFrame(
        {
            "payer_id": [p.payer_id for p in PAYERS],
            "name": [p.name for p in PAYERS],
            "payer_class": [p.payer_class for p in PAYERS],
            "filing_indicator": [p.filing_indicator for p in PAYERS],
            "address1": [f"PO Box {1000 + 37 * i}" for i in range(len(PAYERS))],
            "city": [p.city for p in PAYERS],
            "state": [p.state for p in PAYERS],
            "zip": [p.zip for p in PAYERS],
            "phone": [f"800555{1000 + i:04d}" for i in range(len(PAYERS))],
        }
    )

    n_loc = cfg.locations
    loc_names = ["Lakeview Main Clinic", "Cedar Grove Family Health", "Pinecrest Primary Care",
                 "Riverside Family Practice", "Fairhaven Clinic", "Brookfield Health Center"]  # fmt: skip
    loc_addr = _addresses(rng, n_loc)
    locations = pl.DataFrame(
        {
            "location_id": [f"L{i + 1:02d}" for i in range(n_loc)],
            "name": [
                loc_names[i % len(loc_names)] + ("" if i < len(loc_names) else f" {i + 1}")
                for i in range(n_loc)
            ],
            "npi": make_npis(rng, n_loc, entity_type=2),
            "address1": loc_addr["address1"],
            "city": loc_addr["city"],
            "state": loc_addr["state"],
            "zip": np.char.add(loc_addr["zip"].astype(str), "0000"),
        }
    )

    n_prov = cfg.providers
    # About 60 % physicians (MD/DO) and 40 % advanced practice clinicians (NP/PA)
    cred = rng.choice(["MD", "DO", "NP", "PA"], size=n_prov, p=[0.45, 0.15, 0.28, 0.12])
    cred[0] = "MD"
    sex = rng.choice(["F", "M"], size=n_prov)
    first, last = _names(rng, sex)
    taxonomy = np.select(
        [cred == "NP", cred == "PA"], ["363LF0000X", "363A00000X"], default="207Q00000X"
    )
    # A few providers join during the period (their early claims meet credentialing denials)
    joins = rng.random(n_prov) < 0.15
    joins[0] = False
    offset = rng.integers(0, max(1, cfg.months * 30 // 2), n_prov)
    start_dates = [
        cfg.start + timedelta(days=int(o)) if j else cfg.start - timedelta(days=800)
        for j, o in zip(joins, offset, strict=True)
    ]
    providers = pl.DataFrame(
        {
            "provider_id": [f"P{i + 1:03d}" for i in range(n_prov)],
            "npi": make_npis(rng, n_prov, entity_type=1),
            "last_name": last,
            "first_name": first,
            "credential": cred,
            "taxonomy": taxonomy,
            "location_id": [f"L{(i % n_loc) + 1:02d}" for i in range(n_prov)],
            "start_date": start_dates,
        }
    )

    patients, coverages = _patients_and_coverage(cfg, rng, providers)
    return Population(
        practice=practice,
        payers=conform("payers", payers),
        locations=conform("locations", locations),
        providers=conform("providers", providers),
        patients=patients,
        coverages=coverages,
    )


def _patients_and_coverage(
    cfg: GeneratorConfig, rng: np.random.Generator, providers: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    physician = providers["credential"].is_in(["MD", "DO"]).to_numpy()
    panel = np.where(physician, 1900, 1150)
    n = int(panel.sum())
    pcp_idx = np.repeat(np.arange(len(panel)), panel)

    # Ages: family medicine panel, paediatric to 65+
    band = rng.choice(4, size=n, p=[0.20, 0.24, 0.33, 0.23])
    lo = np.array([0, 18, 40, 65])[band]
    hi = np.array([18, 40, 65, 95])[band]
    age_days = (rng.uniform(lo, hi) * 365.25).astype(np.int64)
    start_ord = cfg.start.toordinal()
    dob_ord = start_ord - age_days
    sex = rng.choice(np.array(["F", "M"]), size=n, p=[0.54, 0.46])
    first, last = _names(rng, sex)
    addr = _addresses(rng, n)
    # Most of the panel was established before the period; the rest joins during it
    new_in_period = rng.random(n) < min(0.5, 0.012 * cfg.months)
    created_ord = np.where(
        new_in_period,
        start_ord + rng.integers(0, max(1, cfg.months * 30), n),
        start_ord - rng.integers(30, 5 * 365, n),
    )
    created_ord = np.maximum(created_ord, dob_ord)
    prov_loc = providers["location_id"].to_numpy()
    prov_id = providers["provider_id"].to_numpy()
    ids = np.char.add("MRN", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    patients = pl.DataFrame(
        {
            "patient_id": ids,
            "last_name": last,
            "first_name": first,
            "dob": dob_ord,
            "sex": sex,
            **addr,
            "phone": np.char.add("863555", _digits(rng, n, 4)),
            "created_date": created_ord,
            "home_location_id": prov_loc[pcp_idx],
            "pcp_provider_id": prov_id[pcp_idx],
        }
    ).with_columns(
        from_ordinal(pl.col("dob")),
        from_ordinal(pl.col("created_date")),
    )

    # Primary payer by age (Medicare at 65+, Medicaid more common for children)
    ages = age_days / 365.25
    u = rng.random(n)
    self_pay = cfg.realism.self_pay_share
    payer = np.empty(n, dtype=object)
    commercial = np.array(["SBLUE", "CARDH", "NSTAR", "KEYHM"])
    comm_pick = commercial[rng.choice(4, size=n, p=[0.35, 0.30, 0.15, 0.20])]
    senior = ages >= 65
    child = ages < 18
    payer[:] = comm_pick
    payer[senior & (u < 0.55)] = "MCRB1"
    payer[senior & (u >= 0.55) & (u < 0.95)] = "MAPL1"
    payer[child & (u < 0.40)] = "MCDST"
    payer[~senior & ~child & (u < 0.16)] = "MCDST"
    payer[rng.random(n) < self_pay] = None

    # A patient turning 65 in the period moves to Medicare on the first of that month;
    # others change plan (job change, Medicaid churn) at a random date.
    end_ord = cfg.end.toordinal()
    turn65 = dob_ord + int(65 * 365.25)
    ages_in = (~senior) & (turn65 > start_ord) & (turn65 <= end_ord) & (payer != None)  # noqa: E711
    change = (rng.random(n) < cfg.realism.coverage_change_share) & ~senior & (payer != None)  # noqa: E711
    change_ord = np.where(
        ages_in, turn65, start_ord + rng.integers(30, max(31, end_ord - start_ord), n)
    )
    changes = ages_in | change
    new_payer = np.where(
        ages_in,
        "MCRB1",
        np.where(payer == "MCDST", comm_pick, np.where(rng.random(n) < 0.5, "MCDST", comm_pick)),
    )
    new_payer = np.where(
        (new_payer == payer) & changes, np.where(payer == "SBLUE", "CARDH", "SBLUE"), new_payer
    )

    # Children on commercial plans are dependents of a parent subscriber
    dependent = child & np.isin(payer.astype(str), commercial)
    parent_first, _ = _names(rng, rng.choice(np.array(["F", "M"]), size=n))
    parent_dob = dob_ord - rng.integers(22 * 365, 40 * 365, n)

    rows = {
        "patient_idx": [],
        "payer_id": [],
        "priority": [],
        "start": [],
        "end": [],
    }

    def add(mask: np.ndarray, pay: np.ndarray, prio: int, s: np.ndarray, e: np.ndarray) -> None:
        idx = np.nonzero(mask)[0]
        rows["patient_idx"].append(idx)
        rows["payer_id"].append(
            np.asarray(pay, dtype=object)[idx]
            if np.ndim(pay)
            else np.full(len(idx), pay, dtype=object)
        )
        rows["priority"].append(np.full(len(idx), prio))
        rows["start"].append(s[idx])
        rows["end"].append(e[idx])

    insured = payer != None  # noqa: E711
    cov_start = np.minimum(created_ord, start_ord) - 365
    no_end = np.full(n, -1)
    add(insured & ~changes, payer, 1, cov_start, no_end)
    add(insured & changes, payer, 1, cov_start, change_ord - 1)
    add(insured & changes, new_payer, 1, change_ord, no_end)
    # Secondary coverage for traditional Medicare patients: Medigap or Medicaid (dual)
    sec_u = rng.random(n)
    medicare = payer == "MCRB1"
    share = cfg.realism.secondary_coverage_share
    add(medicare & (sec_u < share * 0.75), SUPPLEMENT_PAYER, 2, cov_start, no_end)
    add(medicare & (sec_u >= share * 0.75) & (sec_u < share), "MCDST", 2, cov_start, no_end)

    idx = np.concatenate(rows["patient_idx"])
    cov = pl.DataFrame(
        {
            "patient_idx": idx,
            "payer_id": np.concatenate(rows["payer_id"]).astype(str),
            "priority": np.concatenate(rows["priority"]),
            "start": np.concatenate(rows["start"]),
            "end": np.concatenate(rows["end"]),
        }
    ).sort("patient_idx", "priority", "start")
    m = cov.height
    pidx = cov["patient_idx"].to_numpy()
    pay = cov["payer_id"].to_numpy()
    is_dep = dependent[pidx] & (cov["priority"].to_numpy() == 1) & np.isin(pay, commercial)
    member = np.where(
        pay == "MCRB1",
        _mbi(rng, m),
        np.where(
            pay == "MCDST",
            _digits(rng, m, 10),
            np.char.add(
                np.array(["XJK", "QRB", "ZTM", "HWP", "GNV"])[rng.integers(0, 5, m)],
                _digits(rng, m, 9),
            ),
        ),
    )
    has_group = pl.Series(np.isin(pay, commercial) | (pay == "MAPL1"))
    group_numbers = pl.Series(np.char.add("GRP", _digits(rng, m, 6)))
    group = pl.select(pl.when(has_group).then(group_numbers)).to_series()
    # Commercial plans: 70 % copay plans, 30 % high-deductible; MA: PCP copay
    hdhp = rng.random(m) < 0.30
    plan_type = np.where(
        pay == "MCRB1",
        "medicare",
        np.where(
            pay == "MCDST",
            "medicaid",
            np.where(pay == "MAPL1", "ma_copay", np.where(hdhp, "hdhp", "copay")),
        ),
    )
    copay = np.where(plan_type == "copay", rng.choice([2000, 2500, 3000, 4000], size=m), 0)
    copay = np.where(plan_type == "ma_copay", rng.choice([0, 1000, 1500, 2000], size=m), copay)
    copay = np.where(cov["priority"].to_numpy() == 2, 0, copay)
    coverages = cov.with_columns(
        coverage_id=pl.Series(
            np.char.add("COV", np.char.zfill(np.arange(1, m + 1).astype(str), 8))
        ),
        patient_id=pl.Series(ids[pidx]),
        member_id=pl.Series(member),
        group_number=group,
        relationship=pl.Series(np.where(is_dep, "19", "18")),
        subscriber_last=pl.Series(last[pidx]),
        subscriber_first=pl.Series(np.where(is_dep, parent_first[pidx], first[pidx])),
        subscriber_dob=_ord_to_date(pl.Series(np.where(is_dep, parent_dob[pidx], dob_ord[pidx]))),
        subscriber_sex=pl.Series(
            np.where(is_dep, np.where(rng.random(m) < 0.5, "F", "M"), sex[pidx])
        ),
        start_date=from_ordinal(pl.col("start")),
        end_date=from_ordinal(pl.when(pl.col("end") < 0).then(None).otherwise(pl.col("end"))),
        priority=pl.col("priority").cast(pl.Int8),
        plan_type=pl.Series(plan_type),
        copay_cents=pl.Series(copay.astype(np.int64)),
    )
    coverages = pl.concat(
        [conform("coverages", coverages), coverages.select("plan_type", "copay_cents")],
        how="horizontal",
    )
    return patients, coverages


def _ord_to_date(s: pl.Series) -> pl.Series:
    """Proleptic ordinals (date.toordinal) to polars dates."""
    epoch = date(1970, 1, 1).toordinal()
    return (s.cast(pl.Int64) - epoch).cast(pl.Int32).cast(pl.Date)


def from_ordinal(expr: pl.Expr) -> pl.Expr:
    """Proleptic ordinals (date.toordinal) to polars dates, as an expression."""
    return (expr.cast(pl.Int64) - EPOCH_ORDINAL).cast(pl.Int32).cast(pl.Date)


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def to_ordinals(dates: pl.Series) -> np.ndarray:
    """Polars dates to proleptic ordinals (int64 numpy), for arithmetic in days."""
    return dates.to_physical().to_numpy().astype(np.int64) + EPOCH_ORDINAL
