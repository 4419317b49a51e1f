"""Sign-in, roles and the web hardening of the dashboards, on the real Flask server of the
real Dash app (Flask's test client: no browser needed to forge a request)."""

import json
import re

import duckdb
import pytest

from dashboards.app import create_app
from dashboards.auth.access import MASK
from dashboards.auth.web import LOGIN_COOKIE, SESSION_COOKIE, Auth, AuthSettings
from pipelines.lib import audit
from pipelines.lib.publish import serving_file
from tests.dashboards.conftest import TEST_PASSWORD

IDLE_SECONDS = 600


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def site(served_small, users_file):
    """The app on the small practice's serving file, with a clock the tests move, built
    with Flask's and Dash's debug switches on in the environment (they must change
    nothing). One app for the module: Dash hands the page callbacks, registered at import,
    to the first app that serves a request."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "RCM_DATA_DIR": str(served_small),
            "RCM_USERS_FILE": str(users_file),
            "DASH_DEBUG": "true",
            "FLASK_DEBUG": "1",
        }.items():
            env.setenv(name, value)
        clock = Clock()
        auth = Auth(AuthSettings(data_dir=served_small, idle_seconds=IDLE_SECONDS), clock=clock)
        app = create_app(auth)
        app.clock = clock
        yield app


def csrf_of(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)


def sign_in(client, user: str, password: str = TEST_PASSWORD):
    form = client.get("/login")
    return client.post(
        "/login", data={"username": user, "password": password, "csrf_token": csrf_of(form)}
    )


def a_claim_with_patient(root) -> tuple[str, str]:
    con = duckdb.connect(str(serving_file(root)), read_only=True)
    try:
        return con.execute(
            "select claim_id, patient_id from marts.fct_claims "
            "where patient_id is not null order by claim_id limit 1"
        ).fetchall()[0]
    finally:
        con.close()


def claim_callback(client, claim_id: str, **forged: object):
    """The claim page's callback, as the browser sends it, plus anything a forger adds."""
    outputs = [
        ("claim-crumbs", "children"),
        ("claim-content", "children"),
        ("claim-timeline", "figure"),
    ]
    body = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [
            {"id": "claim-query", "property": "data", "value": {"claim_id": claim_id, **forged}}
        ],
        "state": [{"id": "_pages_location", "property": "search", "value": "?role=owner"}],
        "changedPropIds": ["claim-query.data"],
    }
    return client.post("/_dash-update-component", json=body)


def test_every_route_refuses_a_request_without_a_session(site):
    client = site.server.test_client()
    checked = 0
    for rule in site.server.url_map.iter_rules():
        if rule.rule in {"/login", "/logout"}:
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            checked += 1
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login?next="), path
                assert method == "GET"
            else:
                assert response.status_code == 401, (method, path, response.status_code)
                assert b"sign-in required" in response.data
    assert checked >= 10  # pages, layout, dependencies, callbacks, assets, component suites
    # the real files behind the asset routes, too
    for path in ["/assets/style.css", "/assets/session.js", "/_dash-layout", "/_favicon.ico"]:
        assert client.get(path).status_code == 401, path
    assert client.post("/_dash-update-component", json={}).status_code == 401


def test_sign_in_needs_the_forms_csrf_token_and_sets_a_hardened_cookie(site):
    client = site.server.test_client()
    form = client.get("/login")
    assert form.status_code == 200
    login_cookie = client.get_cookie(LOGIN_COOKIE)
    assert login_cookie.http_only and login_cookie.same_site == "Strict"
    data = {"username": "test-owner", "password": TEST_PASSWORD}
    assert client.post("/login", data=data).status_code == 400
    assert client.post("/login", data={**data, "csrf_token": "forged"}).status_code == 400
    other = site.server.test_client()  # another browser's valid token is no good here
    assert other.post("/login", data={**data, "csrf_token": csrf_of(form)}).status_code == 400
    signed_in = client.post("/login", data={**data, "csrf_token": csrf_of(form), "next": "/ar"})
    assert (signed_in.status_code, signed_in.headers["Location"]) == (302, "/ar")
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie.http_only and cookie.same_site == "Strict" and not cookie.secure
    assert client.get("/_dash-layout").status_code == 200
    # over TLS the cookie is Secure and HSTS is sent
    tls = site.server.test_client()
    form = tls.get("/login", base_url="https://rcm.example")
    assert form.headers["Strict-Transport-Security"].startswith("max-age=")
    tls.post(
        "/login",
        base_url="https://rcm.example",
        data={**data, "csrf_token": csrf_of(form)},
    )
    assert tls.get_cookie(SESSION_COOKIE, domain="rcm.example").secure


def test_an_off_site_next_is_not_followed(site):
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        client = site.server.test_client()
        form = client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": "test-owner",
                "password": TEST_PASSWORD,
                "csrf_token": csrf_of(form),
                "next": target,
            },
        )
        assert response.headers["Location"] == "/"


def test_security_headers_on_every_response(site):
    client = site.server.test_client()
    sign_in(client, "test-owner")
    for path in ["/login", "/", "/_dash-layout", "/assets/style.css"]:
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-eval'" not in csp and "script-src 'self' 'sha256-" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "Strict-Transport-Security" not in headers  # plain HTTP: no HSTS
    assert client.get("/_dash-layout").headers["Cache-Control"] == "no-store"


def test_repeated_failures_lock_the_user_out(site):
    client = site.server.test_client()
    for _ in range(5):
        assert sign_in(client, "test-billing", "wrong password!!").status_code == 401
    locked = sign_in(client, "test-billing")  # even the right password, for a while
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    site.clock.now += 16 * 60
    assert sign_in(client, "test-billing").status_code == 302
    events = [
        e["event"] for e in audit.entries(site.server.extensions["rcm_auth"].settings.data_dir)
    ]
    assert events[-7:] == ["sign_in_failed"] * 6 + ["sign_in"]


def test_idle_time_signs_the_user_out(site):
    client = site.server.test_client()
    sign_in(client, "test-manager")
    site.clock.now += IDLE_SECONDS - 1
    assert client.get("/_dash-layout").status_code == 200  # activity restarts the clock
    site.clock.now += IDLE_SECONDS - 1
    assert client.get("/_dash-layout").status_code == 200
    site.clock.now += IDLE_SECONDS + 1
    page = client.get("/denials")
    assert page.status_code == 302 and "reason=expired" in page.headers["Location"]
    assert client.get("/_dash-layout").status_code == 401
    last = list(audit.entries(site.server.extensions["rcm_auth"].settings.data_dir))[-1]
    assert (last["event"], last["actor"]) == ("session_expired", "test-manager")


def test_an_idle_sign_out_that_arrives_after_the_server_expired_the_session_is_audited(site):
    # the browser's idle timer and the server's are equal, so either can fire first
    client = site.server.test_client()
    sign_in(client, "test-manager")
    site.clock.now += IDLE_SECONDS + 1
    out = client.post("/logout", data={"csrf_token": "stale", "reason": "idle"})
    assert out.status_code == 302 and "reason=idle" in out.headers["Location"]
    last = list(audit.entries(site.server.extensions["rcm_auth"].settings.data_dir))[-1]
    assert (last["event"], last["actor"]) == ("session_expired", "test-manager")


def test_sign_out_needs_its_token_and_ends_the_session_on_the_server(site):
    client = site.server.test_client()
    sign_in(client, "test-owner")
    token = client.get_cookie(SESSION_COOKIE).value
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    layout = client.get("/_dash-layout").text
    csrf = re.search(
        r'"name":\s*"csrf_token",\s*"type":\s*"hidden",\s*"value":\s*"([^"]+)"', layout
    )
    csrf = csrf or re.search(r'"value":\s*"([^"]+)"[^}]*"name":\s*"csrf_token"', layout)
    assert csrf, layout[:500]
    out = client.post("/logout", data={"csrf_token": csrf.group(1)})
    assert out.status_code == 302 and "reason=signed_out" in out.headers["Location"]
    # a copy of the old cookie is worth nothing now
    thief = site.server.test_client()
    thief.set_cookie(SESSION_COOKIE, token)
    assert thief.get("/_dash-layout").status_code == 401


def test_a_practice_managers_claim_is_masked_even_when_the_request_asks_for_more(site):
    claim_id, patient_id = a_claim_with_patient(
        site.server.extensions["rcm_auth"].settings.data_dir
    )
    root = site.server.extensions["rcm_auth"].settings.data_dir
    manager = site.server.test_client()
    sign_in(manager, "test-manager")
    for forged in [{}, {"role": "owner", "unmask": True, "patient_identifiers": "shown"}]:
        response = claim_callback(manager, claim_id, **forged)
        assert response.status_code == 200, response.text[:300]
        assert patient_id not in response.text
        assert MASK in json.loads(response.text)["response"]["claim-content"]["children"].__str__()
    entry = list(audit.entries(root))[-1]
    assert entry["event"] == "view_claim" and entry["actor"] == "test-manager"
    assert (entry["claim_id"], entry["patient_identifiers"]) == (claim_id, "masked")

    billing = site.server.test_client()
    sign_in(billing, "test-billing")
    response = claim_callback(billing, claim_id)
    assert patient_id in response.text and MASK not in response.text
    assert list(audit.entries(root))[-1]["patient_identifiers"] == "shown"


def test_errors_carry_no_traceback_though_debug_was_asked_for(site, caplog):
    assert site.server.debug is False
    client = site.server.test_client()
    sign_in(client, "test-owner")
    response = claim_callback(client, {"not": "a claim id"})  # forged: makes the query fail
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"] == "internal error" and re.fullmatch(r"[0-9a-f]{8}", body["reference"])
    assert "Traceback" not in response.text
    logged = [r.getMessage() for r in caplog.records if r.name == "rcm.dashboards"]
    assert any(body["reference"] in m and "not a claim id" not in m for m in logged)


def export_callback(client, root_cause: str):
    outputs = [("denials-download", "data"), ("denials-export-status", "children")]
    body = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": "denials-export", "property": "n_clicks", "value": 1}],
        "state": [{"id": "denials-query", "property": "data", "value": {"root_cause": root_cause}}],
        "changedPropIds": ["denials-export.n_clicks"],
    }
    return client.post("/_dash-update-component", json=body)


def test_an_export_says_what_it_did_or_that_it_failed(site, monkeypatch):
    from dashboards import data

    client = site.server.test_client()
    sign_in(client, "test-billing")
    done = export_callback(client, "eligibility_registration").get_json()["response"]
    assert done["denials-download"]["data"]["filename"] == "denied_claims.csv"
    assert "Exported" in json.dumps(done["denials-export-status"])
    audit_dir = site.server.extensions["rcm_auth"].settings.data_dir
    entries = len(list(audit.entries(audit_dir)))

    def unreadable(*args, **kwargs):
        raise data.WarehouseUnavailable("cannot be read")

    monkeypatch.setattr(data, "denied_claims", unreadable)
    failed = export_callback(client, "eligibility_registration").get_json()["response"]
    assert "denials-download" not in failed
    assert "Export failed" in json.dumps(failed["denials-export-status"])
    assert len(list(audit.entries(audit_dir))) == entries  # nothing was exported


def test_a_removed_user_or_changed_role_is_signed_out_at_the_next_request(site, monkeypatch):
    from dashboards.auth.users import load_users

    users = load_users(site.server.extensions["rcm_auth"].settings.data_dir)
    manager, billing = site.server.test_client(), site.server.test_client()
    sign_in(manager, "test-manager")
    sign_in(billing, "test-billing")
    remaining = {
        "test-owner": {"role": "owner", "password_hash": users["test-owner"].password_hash},
        "test-billing": {"role": "owner", "password_hash": users["test-billing"].password_hash},
    }
    monkeypatch.setenv("RCM_USERS", json.dumps(remaining))
    assert manager.get("/_dash-layout").status_code == 401  # removed
    assert billing.get("/_dash-layout").status_code == 401  # billing lead -> owner: sign in again
    monkeypatch.delenv("RCM_USERS")
    assert sign_in(billing, "test-billing").status_code == 302
    assert billing.get("/_dash-layout").status_code == 200
