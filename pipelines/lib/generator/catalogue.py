"""Reference data for the synthetic practice: services, diagnoses, payers, denial reasons.

Code numbers are public facts (CPT/HCPCS, ICD-10-CM, CARC/RARC); descriptions are short
ones of our own (CPT descriptor text is AMA-licensed). Rates are rounded approximations of
the 2024 Medicare physician fee schedule (national, non-facility) for realism only.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---- services: code -> (family, our description, practice charge $, Medicare-like rate $)
SERVICES: dict[str, tuple[str, str, float, float]] = {
    # problem E/M, new and established (family "problem")
    "99202": ("problem_new", "Office visit new, straightforward", 95, 72.0),
    "99203": ("problem_new", "Office visit new, low complexity", 145, 110.0),
    "99204": ("problem_new", "Office visit new, moderate complexity", 220, 166.0),
    "99205": ("problem_new", "Office visit new, high complexity", 290, 218.0),
    "99211": ("problem_est", "Office visit established, minimal", 35, 23.0),
    "99212": ("problem_est", "Office visit established, straightforward", 80, 57.0),
    "99213": ("problem_est", "Office visit established, low complexity", 125, 91.0),
    "99214": ("problem_est", "Office visit established, moderate complexity", 180, 129.0),
    "99215": ("problem_est", "Office visit established, high complexity", 250, 183.0),
    # preventive by age band
    "99381": ("preventive", "Preventive visit new, under 1 year", 210, 150.0),
    "99382": ("preventive", "Preventive visit new, 1-4 years", 220, 158.0),
    "99383": ("preventive", "Preventive visit new, 5-11 years", 220, 158.0),
    "99384": ("preventive", "Preventive visit new, 12-17 years", 240, 170.0),
    "99385": ("preventive", "Preventive visit new, 18-39 years", 240, 168.0),
    "99386": ("preventive", "Preventive visit new, 40-64 years", 270, 190.0),
    "99387": ("preventive", "Preventive visit new, 65 and over", 290, 205.0),
    "99391": ("preventive", "Preventive visit established, under 1 year", 190, 135.0),
    "99392": ("preventive", "Preventive visit established, 1-4 years", 200, 142.0),
    "99393": ("preventive", "Preventive visit established, 5-11 years", 200, 142.0),
    "99394": ("preventive", "Preventive visit established, 12-17 years", 215, 152.0),
    "99395": ("preventive", "Preventive visit established, 18-39 years", 215, 152.0),
    "99396": ("preventive", "Preventive visit established, 40-64 years", 235, 165.0),
    "99397": ("preventive", "Preventive visit established, 65 and over", 250, 176.0),
    # Medicare wellness
    "G0402": ("wellness", "Welcome to Medicare preventive exam", 230, 170.0),
    "G0438": ("wellness", "Annual wellness visit, first", 240, 175.0),
    "G0439": ("wellness", "Annual wellness visit, subsequent", 165, 120.0),
    "G2211": ("add_on", "Longitudinal care complexity add-on", 22, 16.0),
    # chronic and transitional care management
    "99490": ("chronic_care", "Chronic care management, first 20 min", 85, 62.0),
    "99439": ("chronic_care", "Chronic care management, each extra 20 min", 65, 47.0),
    "99495": ("transitional_care", "Transitional care, moderate complexity", 275, 201.0),
    "99496": ("transitional_care", "Transitional care, high complexity", 370, 272.0),
    # screening
    "96127": ("screening", "Brief emotional/behavioural assessment", 12, 5.0),
    "G0444": ("screening", "Annual depression screening", 28, 19.0),
    # vaccine administration and products
    "90460": ("vaccine_admin", "Immunisation admin with counselling, first component", 35, 25.0),
    "90461": ("vaccine_admin", "Immunisation admin with counselling, each extra", 18, 13.0),
    "G0008": ("vaccine_admin", "Influenza vaccine administration, Medicare", 35, 25.0),
    "90471": ("vaccine_admin", "Immunisation admin, first injection", 35, 25.0),
    "90472": ("vaccine_admin", "Immunisation admin, each extra injection", 18, 13.0),
    "90686": ("vaccine", "Influenza vaccine, quadrivalent, preservative free", 32, 20.0),
    "90700": ("vaccine", "DTaP vaccine, under 7 years", 45, 30.0),
    "90707": ("vaccine", "MMR vaccine", 110, 85.0),
    "90716": ("vaccine", "Varicella vaccine", 190, 150.0),
    "90715": ("vaccine", "Tdap vaccine, 7 years and over", 65, 45.0),
    "90651": ("vaccine", "HPV vaccine, 9-valent", 330, 270.0),
    "90677": ("vaccine", "Pneumococcal conjugate vaccine, 20-valent", 310, 250.0),
    "90750": ("vaccine", "Zoster vaccine, recombinant", 250, 200.0),
    # in-office labs (CLIA-waived ones carry modifier QW for some payers)
    "36415": ("lab", "Venous blood draw", 8, 3.0),
    "81002": ("lab", "Urinalysis, dipstick, non-automated", 10, 3.5),
    "82962": ("lab", "Glucose, blood, by monitoring device", 10, 3.0),
    "83036": ("lab", "Haemoglobin A1c", 30, 13.0),
    "87880": ("lab", "Rapid strep antigen test", 35, 16.0),
    "87804": ("lab", "Rapid influenza antigen test", 35, 16.0),
    "80061": ("lab", "Lipid panel", 35, 13.0),
    # in-office procedures
    "93000": ("procedure", "Electrocardiogram with interpretation", 55, 16.0),
    "69210": ("procedure", "Impacted cerumen removal", 85, 45.0),
    "17110": ("procedure", "Destruction of benign lesions, up to 14", 160, 120.0),
    "20610": ("procedure", "Major joint injection or aspiration", 120, 65.0),
    "94640": ("procedure", "Nebuliser treatment", 35, 18.0),
    "96372": ("procedure", "Therapeutic injection, subcutaneous or intramuscular", 30, 14.0),
}

# Family-medicine E/M level benchmark (kpis.md: AAFP FPM quoting DecisionHealth, Medicare
# family physicians, 2017).
EM_BENCHMARK_ESTABLISHED: dict[str, float] = {
    "99211": 0.026,
    "99212": 0.028,
    "99213": 0.432,
    "99214": 0.484,
    "99215": 0.029,
}
EM_BENCHMARK_NEW: dict[str, float] = {
    "99202": 0.134,
    "99203": 0.496,
    "99204": 0.315,
    "99205": 0.048,
}

# Preventive code by age band: (lowest age, new code, established code)
PREVENTIVE_BANDS: list[tuple[int, str, str]] = [
    (0, "99381", "99391"),
    (1, "99382", "99392"),
    (5, "99383", "99393"),
    (12, "99384", "99394"),
    (18, "99385", "99395"),
    (40, "99386", "99396"),
    (65, "99387", "99397"),
]

# ---- diagnoses (ICD-10-CM without the dot, as X12 carries them)
DX_ACUTE: list[str] = [
    "J069", "J029", "J209", "J0190", "H6690", "N390", "R059", "M5450", "J101",
    "L309", "R519", "K529", "B349", "R109",
]  # fmt: skip
DX_ACUTE_WEIGHTS: list[float] = [18, 9, 9, 6, 7, 6, 8, 8, 4, 5, 4, 4, 6, 6]
DX_CHRONIC: list[str] = [
    "I10", "E119", "E785", "F411", "F32A", "J45909", "E039", "K219", "E669",
    "G4733", "E1165", "I2510", "J449", "N1830",
]  # fmt: skip
DX_CHRONIC_WEIGHTS: list[float] = [22, 14, 14, 8, 7, 5, 6, 5, 6, 3, 4, 3, 2, 1]
DX_PREVENTIVE_ADULT = ("Z0000", "Z0001")
DX_PREVENTIVE_CHILD = ("Z00129", "Z00121")
DX_VACCINE = "Z23"

# Procedure add-ons to problem visits: code -> (probability per problem visit, dx)
PROBLEM_ADD_ONS: dict[str, tuple[float, str | None]] = {
    "87880": (0.05, "J029"),
    "87804": (0.03, "J101"),
    "81002": (0.05, "N390"),
    "36415": (0.10, None),
    "83036": (0.06, "E119"),
    "93000": (0.03, "I10"),
    "69210": (0.015, "H6123"),
    "17110": (0.01, "B078"),
    "20610": (0.012, "M25561"),
    "94640": (0.01, "J45909"),
    "96372": (0.02, None),
}


@dataclass(frozen=True)
class PayerSpec:
    """A payer's behaviour. ``rate_factor`` scales the Medicare-like rate to its allowed
    amount; ``lag_days`` is (min, mean extra) days from receipt to adjudication;
    ``run_weekdays`` are its payment-run weekdays (0 = Monday)."""

    payer_id: str
    name: str
    payer_class: str
    filing_indicator: str
    rate_factor: float
    lag_days: tuple[int, float]
    run_weekdays: tuple[int, ...]
    denial_factor: float
    method: str  # ACH or CHK
    city: str
    state: str
    zip: str


# Fictional plans; classes and behaviour follow real patterns (Medicare's 14-day payment
# floor, slower Medicaid, commercial prompt-pay windows).
PAYERS: list[PayerSpec] = [
    PayerSpec("MCRB1", "Medicare Part B Jurisdiction 9", "medicare", "MB", 1.00, (14, 3.0),
              (0, 1, 2, 3, 4), 0.9, "ACH", "Jacksonville", "FL", "322310001"),
    PayerSpec("MAPL1", "Liberty Advantage Senior Plan", "medicare_advantage", "16", 1.02,
              (12, 12.0), (1, 4), 1.2, "ACH", "Louisville", "KY", "402020002"),
    PayerSpec("MCDST", "State Medicaid Program", "medicaid", "MC", 0.72, (18, 16.0),
              (3,), 1.3, "ACH", "Tallahassee", "FL", "323010003"),
    PayerSpec("SBLUE", "Summit BlueCross", "commercial", "BL", 1.30, (10, 10.0),
              (2,), 0.9, "ACH", "Tampa", "FL", "336010004"),
    PayerSpec("CARDH", "Cardinal Health Plan", "commercial", "CI", 1.22, (12, 14.0),
              (1, 4), 1.0, "ACH", "Atlanta", "GA", "303030005"),
    PayerSpec("NSTAR", "Northstar Mutual", "commercial", "CI", 1.38, (14, 18.0),
              (3,), 1.1, "CHK", "Hartford", "CT", "061030006"),
    PayerSpec("KEYHM", "Keystone HMO", "commercial", "HM", 1.15, (10, 12.0),
              (0,), 1.0, "ACH", "Orlando", "FL", "328010007"),
    PayerSpec("HMGAP", "Heritage Medigap Supplement", "commercial", "CI", 1.00, (8, 8.0),
              (2,), 0.5, "ACH", "Omaha", "NE", "681020008"),
]  # fmt: skip
SPEC_BY_ID: dict[str, PayerSpec] = {p.payer_id: p for p in PAYERS}
SUPPLEMENT_PAYER = "HMGAP"

# ---- denials: root cause -> (share of denials, [(group, CARC, RARC or None)], follow-up
# weights (corrected, appeal, rebill, patient, writeoff)). Shares follow the Change
# Healthcare denials index (eligibility ~27 %, authorization ~12 %, non-covered ~11 %).
DENIAL_CAUSES: dict[str, tuple[float, list[tuple[str, str, str | None]], tuple[float, ...]]] = {
    "eligibility_registration": (0.27, [("CO", "27", None), ("CO", "31", "MA61"), ("CO", "33", None)],
                                 (0.65, 0.00, 0.20, 0.00, 0.15)),
    "authorization_referral": (0.12, [("CO", "197", "N54"), ("CO", "198", None)],
                               (0.00, 0.65, 0.00, 0.00, 0.35)),
    "non_covered": (0.11, [("PR", "204", "N130"), ("CO", "96", "N130")],
                    (0.00, 0.10, 0.00, 0.70, 0.20)),
    "missing_information": (0.12, [("CO", "16", "MA130"), ("CO", "16", "M51"), ("CO", "16", "N290")],
                            (0.90, 0.00, 0.00, 0.00, 0.10)),
    "coding_modifier": (0.10, [("CO", "4", "N519"), ("CO", "11", "M76")],
                        (0.80, 0.00, 0.00, 0.00, 0.20)),
    "coordination_of_benefits": (0.07, [("CO", "22", "MA04"), ("CO", "109", "N418")],
                                 (0.00, 0.00, 0.90, 0.00, 0.10)),
    "medical_necessity": (0.06, [("CO", "50", "N115"), ("CO", "151", None)],
                          (0.00, 0.45, 0.00, 0.00, 0.55)),
    "timely_filing": (0.04, [("CO", "29", None)], (0.00, 0.20, 0.00, 0.00, 0.80)),
    "credentialing_network": (0.04, [("CO", "242", None), ("CO", "B7", "N570")],
                              (0.00, 0.60, 0.00, 0.00, 0.40)),
    "bundling_ncci": (0.07, [("CO", "97", "M15"), ("CO", "236", None)],
                      (0.30, 0.00, 0.00, 0.00, 0.70)),
}  # fmt: skip
FOLLOW_UPS = ("corrected", "appeal", "rebill", "patient", "writeoff")
# Root causes that usually hit one line rather than the whole claim
LINE_LEVEL_CAUSES = ("bundling_ncci", "medical_necessity", "non_covered", "coding_modifier")
DUPLICATE = ("CO", "18", None)
