"""Sign-in through an OpenID Connect provider, against a fake provider served on a real port
in this process (discovery, JWKS, authorize, token; ID tokens signed with joserfc) and the
real dashboards app (Flask's test client for our side, requests for the provider's)."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from dash import _callback
from flask import Flask, jsonify
from flask import redirect as flask_redirect
from flask import request as flask_request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from dashboards import data
from dashboards.app import create_app
from dashboards.auth.oidc import (
    FLOW_COOKIE,
    OIDCConfigError,
    OIDCRefused,
    OIDCSettings,
    role_from_claims,
    user_from_claims,
)
from dashboards.auth.web import SESSION_COOKIE, Auth, AuthSettings
from pipelines.lib import audit
from tests.dashboards.conftest import free_port

CLIENT_ID = "rcm-dashboards"
CLIENT_SECRET = "test-client-secret"  # a test fixture, not a secret


@dataclass
class FakeProvider:
    """An identity provider that signs whoever asks in, as ``claims`` say, and can be told
    to misbehave for one sign-in (``plan``)."""

    url: str
    key: RSAKey
    claims: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)  # the ID tokens it gave out
    signed_out: list[dict[str, str]] = field(default_factory=list)

    def id_token(self, grant: dict[str, str]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": "u-1001",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            "preferred_username": "dana.sso",
            **self.claims,
            **self.plan.get("claims", {}),
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.plan.get("key", self.key)
        token = jwt.encode({"alg": "RS256", "kid": "idp-key-1"}, claims, key)
        self.issued.append(token)
        return token


def fake_provider_app(provider: FakeProvider) -> Flask:
    app = Flask("fake-idp")

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(
            issuer=provider.url,
            authorization_endpoint=f"{provider.url}/authorize",
            token_endpoint=f"{provider.url}/token",
            jwks_uri=f"{provider.url}/jwks",
            response_types_supported=["code"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic"],
            end_session_endpoint=f"{provider.url}/logout",
        )

    @app.get("/logout")
    def end_session():
        """RP-Initiated Logout: ends the provider's session, then back to the client."""
        args = flask_request.args
        assert args["client_id"] == CLIENT_ID
        provider.signed_out.append(dict(args))
        return flask_redirect(args["post_logout_redirect_uri"])

    @app.get("/jwks")
    def jwks():
        return jsonify(KeySet([provider.key]).as_dict(private=False))

    @app.get("/authorize")
    def authorize():
        args = flask_request.args
        assert args["client_id"] == CLIENT_ID and args["response_type"] == "code"
        assert args["code_challenge_method"] == "S256" and len(args["code_challenge"]) == 43
        assert "openid" in args["scope"].split()
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {
            "nonce": args["nonce"],
            "challenge": args["code_challenge"],
            "redirect_uri": args["redirect_uri"],
        }
        state = provider.plan.get("state", args["state"])
        back = f"{args['redirect_uri']}?{urlencode({'code': code, 'state': state})}"
        if provider.plan.get("page"):  # the provider's own sign-in page, submitted there
            return f'<a id="approve" href="{html.escape(back)}">Sign in</a>'
        return flask_redirect(back)

    @app.post("/token")
    def token():
        form = flask_request.form
        provider.token_requests.append(dict(form))
        auth = flask_request.authorization
        grant = provider.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if (
            auth is None
            or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET)
            or grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant["redirect_uri"]
            or challenge.rstrip(b"=").decode() != grant["challenge"]
        ):
            return jsonify(error="invalid_grant"), 400
        if "nonce" in provider.plan:
            grant = {**grant, "nonce": provider.plan["nonce"]}
        return jsonify(
            access_token=secrets.token_urlsafe(16),
            token_type="Bearer",
            expires_in=300,
            id_token=provider.id_token(grant),
        )

    return app


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    port = free_port()
    fake = FakeProvider(
        f"http://127.0.0.1:{port}", RSAKey.generate_key(2048, parameters={"kid": "idp-key-1"})
    )
    server = make_server("127.0.0.1", port, fake_provider_app(fake), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def apps(provider, tmp_path_factory):
    """The dashboards with sign-in through ``provider``, and without. Dash hands the page
    callbacks (registered at import) to the first app that serves a request; these tests
    need none, so the callbacks are put back for the apps of other test modules (as they
    were once the apps are made: the first create_app imports the pages, which register
    theirs)."""
    root = tmp_path_factory.mktemp("oidc")
    settings = OIDCSettings(
        issuer=provider.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        role_map={"rcm-managers": "practice_manager", "rcm-owners": "owner"},
        role_claim="groups",
        name="Practice SSO",
    )
    with_sso = create_app(Auth(AuthSettings(data_dir=root, oidc=settings)))
    without = create_app(Auth(AuthSettings(data_dir=tmp_path_factory.mktemp("no-oidc"))))
    saved = list(_callback.GLOBAL_CALLBACK_LIST), dict(_callback.GLOBAL_CALLBACK_MAP)
    with_sso.server.test_client().get("/login")  # Dash sets itself up on its first request
    without.server.test_client().get("/login")
    yield with_sso, without
    _callback.GLOBAL_CALLBACK_LIST[:] = saved[0]
    _callback.GLOBAL_CALLBACK_MAP.clear()
    _callback.GLOBAL_CALLBACK_MAP.update(saved[1])


@pytest.fixture
def app(apps, provider):
    provider.claims = {"groups": ["staff", "rcm-managers"]}
    provider.plan = {}
    return apps[0]


def last_entry(app) -> dict:
    return list(audit.entries(app.server.extensions["rcm_auth"].settings.data_dir))[-1]


def sign_in_through_provider(client, next_path: str = "/ar"):
    """Start at our /login/oidc, follow the provider's redirect back, come back to our
    callback with the browser's cookies; returns our callback's answer."""
    start = client.get(f"/login/oidc?{urlencode({'next': next_path})}")
    assert start.status_code == 302, start.text[:300]
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == "/login/oidc/callback"
    return client.get(f"{back.path}?{back.query}")


def test_a_user_with_a_role_signs_in_and_the_audit_says_oidc(app, provider):
    client = app.server.test_client()
    assert client.get("/_dash-layout").status_code == 401
    start = client.get("/login/oidc?next=/ar")
    flow_cookie = client.get_cookie(FLOW_COOKIE, path="/login/oidc")
    assert flow_cookie.http_only and flow_cookie.same_site == "Lax"
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["redirect_uri"] == ["http://localhost/login/oidc/callback"]
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]

    answer = sign_in_through_provider(client)
    assert answer.status_code == 200, answer.text[:500]
    # a page that moves on by itself: a redirect after the provider's cross-site one would
    # not carry the Strict session cookie
    assert re.search(r'http-equiv="refresh" content="0;url=/ar"', answer.text)
    session_cookie = client.get_cookie(SESSION_COOKIE)
    assert session_cookie.http_only and session_cookie.same_site == "Strict"
    assert client.get_cookie(FLOW_COOKIE, path="/login/oidc") is None
    assert client.get("/_dash-layout").status_code == 200
    # the PKCE verifier went to the token endpoint (the provider checked it against the
    # challenge), with the same redirect_uri
    assert len(provider.token_requests[-1]["code_verifier"]) >= 43
    entry = last_entry(app)
    assert (entry["event"], entry["actor"]) == ("sign_in", "dana.sso")
    assert (entry["method"], entry["role"]) == ("oidc", "practice_manager")


def csrf_of_the_sign_out_form(client) -> str:
    layout = client.get("/_dash-layout").text
    found = re.search(
        r'"name":\s*"csrf_token",\s*"type":\s*"hidden",\s*"value":\s*"([^"]+)"', layout
    )
    found = found or re.search(r'"value":\s*"([^"]+)"[^}]*"name":\s*"csrf_token"', layout)
    assert found, layout[:500]
    return found.group(1)


def test_signing_out_ends_the_providers_session_too(app, provider):
    client = app.server.test_client()
    assert sign_in_through_provider(client).status_code == 200
    id_token = provider.issued[-1]
    out = client.post("/logout", data={"csrf_token": csrf_of_the_sign_out_form(client)})
    # a page that moves on to the provider (a redirect after the form POST would break
    # the CSP's form-action 'self')
    assert out.status_code == 200
    target = html.unescape(re.search(r'content="0;url=([^"]+)"', out.text).group(1))
    assert target.startswith(f"{provider.url}/logout?")
    query = parse_qs(urlsplit(target).query)
    assert query["id_token_hint"] == [id_token] and query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == ["http://localhost/login?reason=signed_out"]
    assert client.get("/_dash-layout").status_code == 401  # ours ended before we left
    entry = last_entry(app)
    assert (entry["event"], entry["actor"]) == ("sign_out", "dana.sso")


def test_without_an_end_session_endpoint_sign_out_stays_here(app, monkeypatch):
    oidc = app.server.extensions["rcm_auth"].oidc
    client = app.server.test_client()
    assert sign_in_through_provider(client).status_code == 200
    without = {k: v for k, v in oidc.provider.metadata().items() if k != "end_session_endpoint"}
    monkeypatch.setattr(oidc.provider, "metadata", lambda: without)
    out = client.post("/logout", data={"csrf_token": csrf_of_the_sign_out_form(client)})
    assert out.status_code == 302 and out.headers["Location"] == "/login?reason=signed_out"


def test_the_callback_is_good_once(app):
    client = app.server.test_client()
    start = client.get("/login/oidc")
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(at_provider.headers["Location"])
    target = f"{callback.path}?{callback.query}"
    assert client.get(target).status_code == 200
    thief = app.server.test_client()
    thief.set_cookie(FLOW_COOKIE, "stolen-or-replayed", path="/login/oidc")
    again = thief.get(target)
    assert again.status_code == 400 and "expired or was already used" in again.text


def _other_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "idp-key-1"})


REFUSALS = {
    # name: (what the provider does, status, words on the page, reason in the audit)
    "wrong nonce": ({"nonce": "not-the-one-we-sent"}, 401, "could not be verified", "nonce"),
    "signed with another key": ({"key": "other"}, 401, "could not be verified", "ID token"),
    "wrong audience": (
        {"claims": {"aud": "someone-else"}},
        401,
        "could not be verified",
        "aud",
    ),
    "expired": (
        {"claims": {"iat": int(time.time()) - 3600, "exp": int(time.time()) - 1800}},
        401,
        "could not be verified",
        "ID token rejected",
    ),
    "wrong issuer": (
        {"claims": {"iss": "https://evil.example"}},
        401,
        "could not be verified",
        "iss",
    ),
    "no role": ({"claims": {"groups": ["staff"]}}, 403, "has no role", "no role"),
    "two roles": (
        {"claims": {"groups": ["rcm-owners", "rcm-managers"]}},
        403,
        "more than one role",
        "several roles",
    ),
    "state mismatch": ({"state": "forged-state"}, 400, "did not come from this browser", "state"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_answer_from_the_provider_signs_no_one_in(app, provider, case):
    plan, status, words, reason = REFUSALS[case]
    provider.plan = {**plan, "key": _other_key()} if plan.get("key") == "other" else plan
    client = app.server.test_client()
    answer = sign_in_through_provider(client)
    assert answer.status_code == status, answer.text[:500]
    assert words in answer.text and 'role="alert"' in answer.text
    assert client.get_cookie(SESSION_COOKIE) is None
    assert client.get("/_dash-layout").status_code == 401
    entry = last_entry(app)
    assert (entry["event"], entry["method"]) == ("sign_in_failed", "oidc")
    assert reason in entry["reason"], entry
    if case in {"no role", "two roles"}:
        assert entry["actor"] == "dana.sso"


def test_the_sign_in_page_offers_the_provider_only_where_configured(apps):
    with_sso, without = apps
    page = with_sso.server.test_client().get("/login?next=/denials")
    assert 'href="/login/oidc?next=%2Fdenials"' in page.text
    assert "Sign in with Practice SSO" in page.text
    plain = without.server.test_client()
    assert "/login/oidc" not in plain.get("/login").text
    # and the routes are not public there: a page load is sent to sign in, like any other
    assert plain.get("/login/oidc").headers["Location"].startswith("/login?next=")


def test_an_unreachable_provider_is_a_clear_page(tmp_path):
    dead = OIDCSettings(issuer=f"http://127.0.0.1:{free_port()}", client_id=CLIENT_ID)
    auth = Auth(AuthSettings(data_dir=tmp_path, oidc=dead))
    server = Flask("bare")  # the routes alone; the Dash app is tested above
    auth.oidc.install(server)
    server.add_url_rule("/login", "rcm_login", auth.login, methods=["GET", "POST"])
    answer = server.test_client().get("/login/oidc")
    assert answer.status_code == 503 and "Single sign-on is unavailable" in answer.text


# -- the rules alone -----------------------------------------------------------------------
def settings(**kwargs) -> OIDCSettings:
    return OIDCSettings(issuer="https://idp.example", client_id=CLIENT_ID, **kwargs)


def test_roles_come_from_a_string_or_a_list_and_are_never_guessed():
    plain = settings()
    assert role_from_claims({"rcm_role": "billing_lead"}, plain) == "billing_lead"
    assert role_from_claims({"rcm_role": ["x", "owner"]}, plain) == "owner"
    for claims in [{}, {"rcm_role": "admin"}, {"rcm_role": ["owner", "billing_lead"]}]:
        with pytest.raises(OIDCRefused):
            role_from_claims(claims, plain)
    mapped = settings(role_claim="realm_access.roles", role_map={"rcm-billing": "billing_lead"})
    assert role_from_claims({"realm_access": {"roles": ["rcm-billing"]}}, mapped) == "billing_lead"
    with pytest.raises(OIDCRefused):  # with a map, only the names it maps count
        role_from_claims({"realm_access": {"roles": ["owner"]}}, mapped)


def test_the_user_name_falls_back_to_email_then_sub():
    plain = settings()
    assert user_from_claims({"preferred_username": "dana", "sub": "1"}, plain) == "dana"
    assert user_from_claims({"email": "dana@example.org", "sub": "1"}, plain) == "dana@example.org"
    assert user_from_claims({"sub": "1"}, plain) == "1"
    with pytest.raises(OIDCRefused):
        user_from_claims({"preferred_username": ""}, plain)


def test_settings_from_the_environment():
    assert OIDCSettings.from_env({}) is None
    env = {
        "RCM_OIDC_ISSUER": "https://idp.example/realms/rcm",
        "RCM_OIDC_CLIENT_ID": CLIENT_ID,
        "RCM_OIDC_ROLE_MAP": '{"rcm-owners": "owner"}',
    }
    loaded = OIDCSettings.from_env(env)
    assert loaded.role_map == {"rcm-owners": "owner"} and loaded.role_claim == "rcm_role"
    assert loaded.discovery_url == "https://idp.example/realms/rcm/.well-known/openid-configuration"
    assert CLIENT_SECRET not in repr(
        OIDCSettings.from_env({**env, "RCM_OIDC_CLIENT_SECRET": CLIENT_SECRET})
    )
    for bad in [
        {"RCM_OIDC_ISSUER": "http://idp.example"},  # plain http off this machine
        {"RCM_OIDC_CLIENT_ID": ""},
        {"RCM_OIDC_ROLE_MAP": '{"rcm-owners": "admin"}'},
        {"RCM_OIDC_ROLE_MAP": "not json"},
    ]:
        with pytest.raises(OIDCConfigError):
            OIDCSettings.from_env({**env, **bad})


def test_in_a_browser_the_session_cookie_arrives_after_the_providers_page(
    apps, provider, browser, monkeypatch, tmp_path
):
    """The provider's sign-in page (on another site: 127.0.0.1 against localhost) sends the
    browser back; a redirect from our callback would then arrive without the Strict
    session cookie and show the sign-in page again. The callback's page must not."""
    # the page's callbacks open the process's warehouse handle: an empty data folder here,
    # and the handle put back afterwards for the apps of other test modules
    monkeypatch.setenv("RCM_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(data, "_shared", None)
    provider.claims, provider.plan = {"groups": "rcm-owners"}, {"page": True}
    port = free_port()
    server = make_server("localhost", port, apps[0].server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(f"http://localhost:{port}/denials")  # not signed in: the sign-in page
        tab.click("#sign-in-oidc")
        tab.wait_for_url(f"{provider.url}/authorize?*")
        tab.click("#approve")
        tab.wait_for_url(f"http://localhost:{port}/denials", timeout=15000)
        tab.locator("#shell-user").wait_for(timeout=15000)
        assert tab.locator("#shell-user").inner_text().startswith("dana.sso")
        session = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
        assert session["sameSite"] == "Strict" and session["httpOnly"]
        # signing out goes by the provider, which ends its session and sends us back
        signed_out = len(provider.signed_out)
        tab.click("#shell-sign-out")
        tab.wait_for_url(f"http://localhost:{port}/login?reason=signed_out", timeout=15000)
        assert "You are signed out" in tab.locator(".message").inner_text()
        assert len(provider.signed_out) == signed_out + 1
    finally:
        context.close()
        server.shutdown()
        thread.join(timeout=5)
