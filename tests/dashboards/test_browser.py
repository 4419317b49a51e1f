"""The dashboards in a real headless Chromium against `rcm serve` on the small practice:
every page loads clean, filters move the figures, the denial drill-down reaches a claim, a
shared URL reopens the same view, and the numbers on screen are the marts' numbers."""

import re
from urllib.parse import parse_qs, urlparse

import duckdb
import polars as pl
import pytest

from dashboards.theme import format_value
from pipelines.lib import audit
from pipelines.lib.publish import serving_file
from tests.dashboards.conftest import screenshot, settle, signing_in

PAGES = {
    "overview": ("/", "Overview"),
    "denials": ("/denials", "Denials"),
    "ar": ("/ar", "Accounts receivable"),
    "collections": ("/collections", "Collections"),
    "visit-mix": ("/visit-mix", "Visit mix"),
    "scheduling": ("/scheduling", "Scheduling"),
}


def serving(root):
    con = duckdb.connect(":memory:")
    con.execute(f"attach '{serving_file(root)}' as s (read_only)")
    con.execute("use s")
    return con


def graph_traces(tab, graph_id: str) -> list[dict]:
    """The data Plotly drew in a dcc.Graph: x, y and name of every trace."""
    return tab.evaluate(
        """id => Array.from(document.getElementById(id).querySelector('.js-plotly-plot').data)
               .map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])}))""",
        graph_id,
    )


def click_bar(tab, graph_id: str) -> None:
    """Click the first bar of a chart as a person would: Plotly listens on its drag layer
    and finds the bar under the pointer."""
    bar = tab.locator(f"#{graph_id} .bars .point path").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tab.mouse.move(x, y)
    tab.wait_for_timeout(100)
    tab.mouse.click(x, y)


def assert_clean(tab) -> None:
    problems = tab.console.problems()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads_with_a_clean_console(dash_server, page, name):
    path, heading = PAGES[name]
    page.goto(dash_server.url + path)
    settle(page)
    assert page.locator("h1").first.inner_text() == heading
    graphs = page.locator(".js-plotly-plot")
    assert graphs.count() >= 4
    assert "No published warehouse" not in page.content()
    assert page.locator(".notice-warning").count() == 0
    screenshot(page, name)
    assert_clean(page)


def test_a_filter_changes_the_figures_and_the_url(dash_server, page):
    page.goto(dash_server.url + "/")
    settle(page)
    before = graph_traces(page, "overview-charges-collections")
    page.click("#shell-filter-payer-class")
    page.get_by_role("option", name="Medicare", exact=True).click()
    page.wait_for_url(re.compile(r"payer_class=medicare"))
    settle(page)
    after = graph_traces(page, "overview-charges-collections")
    assert after != before
    charges = lambda traces: sum(  # noqa: E731
        y for t in traces if t["name"] == "Charges" for y in t["y"] if y
    )
    assert 0 < charges(after) < charges(before)
    assert "Payer class: Medicare" in page.locator("#overview-notice").inner_text()
    assert_clean(page)


def test_kpi_cards_show_the_marts_numbers(dash_server, page):
    con = serving(dash_server.root)
    # a closed month: the one before the last month with data
    (month_start,) = con.execute(
        "select max(month_start) - interval 1 month from marts.fct_kpis_monthly"
    ).fetchall()[0]
    month = f"{month_start:%Y-%m}"
    page.goto(f"{dash_server.url}/?to={month}")
    settle(page)
    targets = {
        kpi: unit
        for kpi, unit in con.execute(
            "select kpi, unit from terminology.terminology__kpi_targets"
        ).fetchall()
    }
    row = con.execute(
        "select * from marts.fct_kpis_monthly where segment_type = 'practice' and month_start = ?",
        [f"{month}-01"],
    ).fetchall()
    columns = [d[0] for d in con.description]
    values = dict(zip(columns, row[0], strict=True))
    checked = 0
    for kpi, unit in targets.items():
        card = page.locator(f"#overview-kpi-{kpi.replace('_', '-')}-value")
        assert card.inner_text() == format_value(values[kpi], unit), kpi
        checked += 1
    assert checked == 8


def test_denial_drill_down_reaches_a_claims_detail(dash_server, page):
    page.goto(dash_server.url + "/denials")
    settle(page)
    # the tallest bar of the dollars Pareto is the first root cause
    click_bar(page, "denials-pareto-dollars")
    page.wait_for_url(re.compile(r"root_cause="))
    settle(page)
    root_cause = parse_qs(urlparse(page.url).query)["root_cause"][0]
    page.locator("#denials-drill").wait_for(state="visible")
    page.locator("#denials-reasons .bars .point path").first.wait_for()
    click_bar(page, "denials-reasons")
    page.wait_for_url(re.compile(r"carc="))
    settle(page)
    carc = parse_qs(urlparse(page.url).query)["carc"][0]
    page.locator("#denials-drill-title").filter(has_text=f"CARC {carc}").wait_for()
    settle(page)
    page.wait_for_selector("#denials-grid .ag-row")
    count_text = page.locator("#denials-grid-count").inner_text()
    con = serving(dash_server.root)
    expected = con.execute(
        "select count(*) from marts.fct_denials where root_cause = ? and carc_code = ? "
        "and denial_month between (select max(month_start) - interval 11 month "
        "from marts.fct_kpis_monthly where snapshot_date = month_end) "
        "and (select max(month_start) from marts.fct_kpis_monthly "
        "where snapshot_date = month_end)",
        [root_cause, carc],
    ).fetchall()[0][0]
    assert count_text.startswith(f"{expected:,} of {expected:,}")
    # the grid holds exactly the mart's rows: claim and amount at stake, to the cent
    grid_rows = page.evaluate(
        """id => { const rows = [];
                   dash_ag_grid.getApi(id).forEachNode(n => rows.push(
                       [n.data.claim_id, n.data.amount_at_stake.toFixed(2)]));
                   return rows; }""",
        "denials-grid",
    )
    mart_rows = con.execute(
        "select claim_id, cast(amount_at_stake as varchar) from marts.fct_denials "
        "where root_cause = ? and carc_code = ? and denial_month between "
        "(select max(month_start) - interval 11 month from marts.fct_kpis_monthly "
        "where snapshot_date = month_end) and (select max(month_start) "
        "from marts.fct_kpis_monthly where snapshot_date = month_end)",
        [root_cause, carc],
    ).fetchall()
    assert sorted(map(tuple, grid_rows)) == sorted(mart_rows)
    # CSV export, built on the server: a header and every denial, money exact to the cent,
    # and an entry in the audit log
    with page.expect_download() as download:
        page.click("#denials-export")
    exported = pl.read_csv(download.value.path(), infer_schema=False)
    assert exported.columns[0] == "claim_id"
    assert sorted(exported.select("claim_id", "amount_at_stake").rows()) == sorted(mart_rows)
    last = list(audit.entries(dash_server.root))[-1]
    assert (last["event"], last["actor"], last["rows"]) == ("export", "test-owner", expected)
    assert (last["root_cause"], last["carc"]) == (root_cause, carc)
    screenshot(page, "denials-drilled")
    first_claim = page.locator("#denials-grid .ag-row .ag-cell[col-id='claim_id']").first
    claim_id = first_claim.inner_text().strip()
    first_claim.click()
    page.wait_for_url(re.compile(r"/claims/"))
    page.locator("h1", has_text=claim_id).wait_for()
    settle(page)
    assert page.locator("#claim-lines tbody tr").count() >= 1
    assert page.locator("#claim-submissions tbody tr").count() >= 1
    assert page.locator("[id^='claim-cas-'] tbody tr").count() >= 1
    assert carc in page.locator("[id^='claim-cas-']").all_inner_texts().__str__()
    views = [e for e in audit.entries(dash_server.root) if e["event"] == "view_claim"]
    assert views[-1]["claim_id"] == claim_id and views[-1]["actor"] == "test-owner"
    assert views[-1]["patient_identifiers"] == "shown"
    screenshot(page, "claim-detail")
    assert_clean(page)


def test_a_shared_url_reopens_the_same_view(dash_server, browser, page):
    page.goto(dash_server.url + "/denials?payer_class=commercial")
    settle(page)
    click_bar(page, "denials-pareto-dollars")
    page.wait_for_url(re.compile(r"root_cause="))
    page.locator("#denials-drill").wait_for(state="visible")
    settle(page)
    page.wait_for_selector("#denials-grid .ag-row")
    shared = page.url
    first = page.locator("#denials-grid .ag-row .ag-cell[col-id='claim_id']").first.inner_text()
    crumbs = page.locator("#denials-crumbs").inner_text()

    other = signing_in(browser.new_context(viewport={"width": 1400, "height": 1000}).new_page())
    other.goto(shared)
    settle(other)
    other.wait_for_selector("#denials-grid .ag-row")
    assert other.url == shared
    assert other.locator("#denials-crumbs").inner_text() == crumbs
    assert other.locator("#shell-filter-payer-class").inner_text().strip() == "Commercial"
    again = other.locator("#denials-grid .ag-row .ag-cell[col-id='claim_id']").first.inner_text()
    assert again == first
    other.context.close()
