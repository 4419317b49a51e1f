"""Sign-in as a user meets it, in Chromium against `rcm serve`: the sign-in page first, the
role's view of a claim, sign-out, and an unattended screen signed out after the idle time."""

import re

from pipelines.lib import audit
from tests.dashboards.conftest import (
    TEST_PASSWORD,
    screenshot,
    settle,
    sign_in,
    start_server,
    stop_server,
)
from tests.dashboards.test_auth import a_claim_with_patient

IDLE_SECONDS = 15


def test_a_practice_manager_sees_a_masked_claim_until_idle_time_signs_out(
    served_small, users_file, tmp_path, browser
):
    server = start_server(
        served_small,
        tmp_path / "serve.log",
        users_file,
        RCM_IDLE_MINUTES=str(IDLE_SECONDS / 60),
    )
    claim_id, patient_id = a_claim_with_patient(served_small)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    try:
        # a claim link opened without a session: the sign-in page, then the claim
        tab.goto(f"{server.url}/claims/{claim_id}")
        assert tab.url.startswith(f"{server.url}/login?next=")
        screenshot(tab, "sign-in")
        tab.fill("#username", "test-manager")
        tab.fill("#password", "not the password")
        tab.click("#sign-in")
        assert "User name or password is wrong" in tab.locator(".message").inner_text()
        sign_in(tab, "test-manager", TEST_PASSWORD)
        assert tab.url == f"{server.url}/claims/{claim_id}"
        settle(tab)
        summary = tab.locator("#claim-summary").inner_text()
        assert "hidden for your role" in summary and patient_id not in summary
        assert tab.locator("#shell-user").inner_text() == "test-manager · Practice manager"
        screenshot(tab, "claim-practice-manager")

        # an unattended screen: after the idle time the browser is back at sign-in
        tab.wait_for_url(re.compile(r"/login\?reason=idle"), timeout=(IDLE_SECONDS + 8) * 1000)
        assert "signed out after a period without activity" in tab.content()
        assert tab.locator("#claim-summary").count() == 0

        events = [(e["event"], e["actor"]) for e in audit.entries(served_small)][-4:]
        assert events == [
            ("sign_in_failed", "test-manager"),
            ("sign_in", "test-manager"),
            ("view_claim", "test-manager"),
            ("session_expired", "test-manager"),
        ]
        assert "Traceback" not in server.output()
    finally:
        context.close()
        stop_server(server)


def test_a_billing_lead_sees_the_patient_and_signs_out(dash_server, browser):
    claim_id, patient_id = a_claim_with_patient(dash_server.root)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    try:
        tab.goto(f"{dash_server.url}/claims/{claim_id}")
        sign_in(tab, "test-billing", TEST_PASSWORD)
        settle(tab)
        assert patient_id in tab.locator("#claim-summary").inner_text()
        with tab.expect_navigation():
            tab.click("#shell-sign-out")
        assert "reason=signed_out" in tab.url
        assert "You are signed out" in tab.locator(".message").inner_text()
        tab.goto(f"{dash_server.url}/ar")
        assert "/login" in tab.url
        mine = [
            (e["event"], e.get("claim_id"))
            for e in audit.entries(dash_server.root)
            if e["actor"] == "test-billing"
        ]
        assert mine[-3:] == [("sign_in", None), ("view_claim", claim_id), ("sign_out", None)]
    finally:
        context.close()
