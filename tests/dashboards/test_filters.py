"""Global filters and the URL that carries them."""

from datetime import date

from dashboards.filters import Filters, build_search, global_search, kpi_segment, parse_search


def test_a_view_round_trips_through_its_query_string():
    filters = Filters(date(2025, 3, 1), date(2026, 2, 1), "LOC2", "1234567893", None, "AETNA")
    search = build_search(filters.to_query())
    assert search == "?from=2025-03&to=2026-02&location=LOC2&provider=1234567893&payer=AETNA"
    assert Filters.from_query(parse_search(search)) == filters


def test_a_bad_link_falls_back_to_defaults_and_a_reversed_range_is_put_right():
    assert Filters.from_query({"from": "2025-13", "to": "last year", "payer": " "}) == Filters()
    swapped = Filters.from_query({"from": "2026-05", "to": "2026-01"})
    assert (swapped.month_from, swapped.month_to) == (date(2026, 1, 1), date(2026, 5, 1))


def test_page_links_carry_only_the_global_filters():
    search = "?payer=AETNA&root_cause=eligibility&carc=27&from=2026-01"
    assert global_search(search) == "?from=2026-01&payer=AETNA"
    assert global_search(None) == ""


def test_kpi_segment_is_the_most_specific_filter_and_says_what_it_ignores():
    assert kpi_segment(Filters()).segment_type == "practice"
    segment = kpi_segment(Filters(location_id="LOC1", provider_npi="123", payer_class="medicare"))
    assert (segment.segment_type, segment.segment_id) == ("payer_class", "medicare")
    assert segment.ignored == ("provider_npi", "location_id")
    assert kpi_segment(Filters(location_id="LOC1")).segment_id == "LOC1"
