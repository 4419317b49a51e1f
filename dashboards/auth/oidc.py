"""Sign-in through the practice's identity provider (OpenID Connect), where configured.

Off unless ``RCM_OIDC_ISSUER`` is set; the password form stays either way. The flow is the
authorization code flow with PKCE (S256), ``state`` and ``nonce``:

- ``GET /login/oidc?next=/ar`` keeps a *flow* on the server (state, nonce, PKCE verifier,
  where to go next) under a random token, gives the browser that token in an HttpOnly
  ``SameSite=Lax`` cookie (path ``/login/oidc``, ten minutes) and sends it to the identity
  provider. Lax, not Strict like the session cookie: the provider's redirect back is a
  cross-site navigation, which carries Lax cookies and never Strict ones.
- ``GET /login/oidc/callback?code=…&state=…`` takes the flow out (once only), checks the
  state against it, exchanges the code at the token endpoint with the PKCE verifier, and
  verifies the ID token: its signature against the provider's JWKS (fetched from the
  discovery document, refetched once for an unknown key id), ``iss``, ``aud`` (our client
  id), ``exp``, ``iat`` and ``nonce``. The user name and the role come from its claims; a
  user with no valid role is refused, never given a default one.
- The session then starts in :meth:`Auth.signed_in`, like a password sign-in. Its answer is
  turned from a redirect into a small page that moves on by itself: after a redirect chain
  that began on another site, a browser does not send the ``SameSite=Strict`` session
  cookie, so a redirect would land the user on the sign-in page; a navigation started by
  our own page carries it.
- Sign-out (the button, or the browser's idle sign-out) of a session that came this way
  ends ours, then sends the browser to the provider's ``end_session_endpoint`` when its
  discovery document names one (OpenID Connect RP-Initiated Logout: ``id_token_hint``,
  ``client_id``, ``post_logout_redirect_uri`` back to our sign-in page, which must be
  registered at the provider), so a shared computer is not left signed in there.

Authlib (its requests client for PKCE and the token request; its OpenID ``CodeIDToken``
for the claims) and joserfc (the JWS signature and key set) do the protocol work; nothing
here parses or verifies JOSE by hand.

Configuration (all from the environment):

``RCM_OIDC_ISSUER``         the issuer URL; discovery at ``<issuer>/.well-known/openid-configuration``
``RCM_OIDC_CLIENT_ID``      our client id at the provider (required with the issuer)
``RCM_OIDC_CLIENT_SECRET``  its secret (empty: a public client, PKCE only)
``RCM_OIDC_REDIRECT_URL``   default ``<scheme>://<host>/login/oidc/callback`` of the request
``RCM_OIDC_ROLE_CLAIM``     default ``rcm_role``; a string or a list; ``a.b`` reaches a nested claim
``RCM_OIDC_USER_CLAIM``     default ``preferred_username``, then ``email``, then ``sub``
``RCM_OIDC_ROLE_MAP``       JSON ``{"<provider group or role>": "<our role>"}``; when set, only
                            the names it maps count (an unmapped ``owner`` group grants nothing)
``RCM_OIDC_NAME``           shown on the sign-in page ("Sign in with …")
``RCM_OIDC_SCOPES``         default ``openid profile email``
"""

from __future__ import annotations

import hashlib
import hmac
import html
import ipaddress
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from flask import Flask, Response, redirect, request
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from dashboards.auth.users import ROLES

if TYPE_CHECKING:
    from dashboards.auth.sessions import Session
    from dashboards.auth.web import Auth

log = logging.getLogger("rcm.dashboards")

START_PATH = "/login/oidc"
CALLBACK_PATH = "/login/oidc/callback"
OIDC_PATHS = frozenset({START_PATH, CALLBACK_PATH})
FLOW_COOKIE = "rcm_oidc"
# Asymmetric signatures only: an HS256 token would be "signed" with our client secret.
SIGNING_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
_METADATA_SECONDS = 3600.0
_JWKS_REFRESH_SECONDS = 60.0
_MAX_FLOWS = 10_000  # sign-ins in progress; an unauthenticated GET must not fill memory
_MAX_USER_NAME = 128


class OIDCConfigError(ValueError):
    """An RCM_OIDC_* setting that cannot be used; the message names it and why."""


class OIDCRefused(Exception):
    """A sign-in through the provider that ends without a session.

    ``reason`` goes to the audit log (no secrets, no token); ``message`` to the user."""

    def __init__(self, reason: str, message: str, status: int = 401, actor: str = "-") -> None:
        super().__init__(reason)
        self.reason, self.message, self.status, self.actor = reason, message, status, actor


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class OIDCSettings:
    issuer: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    redirect_url: str | None = None
    """None: ``<scheme>://<host>/login/oidc/callback`` of the request that starts sign-in."""
    role_claim: str = "rcm_role"
    user_claim: str = "preferred_username"
    role_map: Mapping[str, str] = field(default_factory=dict)
    """Provider group or role name → our role. Empty: the claim must hold our role names."""
    name: str = "single sign-on"
    scopes: str = "openid profile email"
    flow_seconds: float = 600.0
    leeway_seconds: int = 60
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.issuer)
        if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
            raise OIDCConfigError(
                f"RCM_OIDC_ISSUER {self.issuer!r} must be an https:// URL "
                "(plain http only for localhost, in tests)"
            )
        if not self.client_id:
            raise OIDCConfigError("RCM_OIDC_CLIENT_ID is required when RCM_OIDC_ISSUER is set")
        for source, target in self.role_map.items():
            if target not in ROLES:
                raise OIDCConfigError(
                    f"RCM_OIDC_ROLE_MAP maps {source!r} to {target!r}; roles are {', '.join(ROLES)}"
                )
        if "openid" not in self.scopes.split():
            raise OIDCConfigError(f"RCM_OIDC_SCOPES {self.scopes!r} must include 'openid'")

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OIDCSettings | None:
        """The settings in the environment, or None when ``RCM_OIDC_ISSUER`` is unset."""
        env = os.environ if env is None else env
        issuer = env.get("RCM_OIDC_ISSUER", "").strip()
        if not issuer:
            return None
        raw_map = env.get("RCM_OIDC_ROLE_MAP", "").strip()
        role_map: dict[str, str] = {}
        if raw_map:
            try:
                role_map = json.loads(raw_map)
            except json.JSONDecodeError as error:
                raise OIDCConfigError(
                    f"RCM_OIDC_ROLE_MAP is not JSON: {error.msg} at {error.pos}"
                ) from None
            if not isinstance(role_map, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in role_map.items()
            ):
                raise OIDCConfigError(
                    'RCM_OIDC_ROLE_MAP must be a JSON object of names: {"rcm-billing": "billing_lead"}'
                )
        return cls(
            issuer=issuer,
            client_id=env.get("RCM_OIDC_CLIENT_ID", "").strip(),
            client_secret=env.get("RCM_OIDC_CLIENT_SECRET", ""),
            redirect_url=env.get("RCM_OIDC_REDIRECT_URL", "").strip() or None,
            role_claim=env.get("RCM_OIDC_ROLE_CLAIM", "").strip() or "rcm_role",
            user_claim=env.get("RCM_OIDC_USER_CLAIM", "").strip() or "preferred_username",
            role_map=role_map,
            name=env.get("RCM_OIDC_NAME", "").strip() or "single sign-on",
            scopes=env.get("RCM_OIDC_SCOPES", "").strip() or "openid profile email",
        )


# -- pure rules: who and which role -------------------------------------------------------
def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name, or by a dotted path into nested claims (``realm_access.roles``)."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def role_from_claims(claims: Mapping[str, Any], settings: OIDCSettings) -> str:
    """Our role for a verified ID token's claims, or :class:`OIDCRefused`.

    The role claim may hold one name or a list. With a role map only the names it maps
    count; without one, only our own role names. None, or two different roles, is a
    refusal: a role is never guessed."""
    value = _claim(claims, settings.role_claim)
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    names = [n for n in names if isinstance(n, str)]
    if settings.role_map:
        roles = {settings.role_map[n] for n in names if n in settings.role_map}
    else:
        roles = {n for n in names if n in ROLES}
    if not roles:
        raise OIDCRefused(
            f"no role in claim {settings.role_claim!r}",
            "Your account has no role for rcm-warehouse. Ask the practice's administrator "
            "to give you one at the identity provider.",
            403,
        )
    if len(roles) > 1:
        raise OIDCRefused(
            f"several roles in claim {settings.role_claim!r}: {', '.join(sorted(roles))}",
            "Your account has more than one role for rcm-warehouse. Ask the practice's "
            "administrator to leave you exactly one.",
            403,
        )
    return roles.pop()


def user_from_claims(claims: Mapping[str, Any], settings: OIDCSettings) -> str:
    """The name the audit log and the top bar show: the user claim, else email, else sub."""
    for name in (settings.user_claim, "email", "sub"):
        value = _claim(claims, name)
        if isinstance(value, str) and value.strip():
            user = value.strip()
            if len(user) <= _MAX_USER_NAME and user.isprintable():
                return user
    raise OIDCRefused(
        "no usable user name in the ID token",
        "The identity provider did not say who you are. Ask the practice's administrator.",
        403,
    )


# -- sign-ins in progress -------------------------------------------------------------------
@dataclass(frozen=True)
class _Flow:
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    next_path: str
    started: float


class _Flows:
    """Sign-ins in progress, kept on the server under the SHA-256 of the cookie's token."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self._clock = ttl, clock
        self._flows: dict[str, _Flow] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def add(self, **fields: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            for key in [k for k, f in self._flows.items() if now - f.started > self.ttl]:
                del self._flows[key]
            while len(self._flows) >= _MAX_FLOWS:  # the oldest go first
                del self._flows[next(iter(self._flows))]
            self._flows[self._key(token)] = _Flow(started=now, **fields)
        return token

    def take(self, token: str | None) -> _Flow | None:
        """The flow for ``token``, removed (a callback is good once), unless expired."""
        if not token:
            return None
        with self._lock:
            flow = self._flows.pop(self._key(token), None)
        if flow is None or self._clock() - flow.started > self.ttl:
            return None
        return flow


# -- the provider ---------------------------------------------------------------------------
class _Provider:
    """The provider's discovery document and signing keys, cached."""

    def __init__(self, settings: OIDCSettings, clock: Callable[[], float] = time.monotonic):
        self.settings, self._clock = settings, clock
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = threading.Lock()

    def _get_json(self, url: str) -> dict[str, Any]:
        response = requests.get(url, timeout=self.settings.timeout_seconds)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError(f"{url} did not answer a JSON object")
        return document

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata and self._clock() - self._metadata_at < _METADATA_SECONDS:
                return self._metadata
        document = self._get_json(self.settings.discovery_url)
        # OpenID Connect Discovery 1.0 §4.3: the document's issuer is the one configured
        if str(document.get("issuer", "")).rstrip("/") != self.settings.issuer.rstrip("/"):
            raise ValueError(
                f"discovery names issuer {document.get('issuer')!r}, "
                f"not RCM_OIDC_ISSUER {self.settings.issuer!r}"
            )
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str):
                raise ValueError(f"discovery document has no {name}")
        with self._lock:
            self._metadata, self._metadata_at = document, self._clock()
        return document

    def keys(self, refresh: bool = False) -> KeySet:
        """The provider's public keys; ``refresh`` fetches them again (at most once a
        minute), for a token signed with a key we have not seen (key rotation)."""
        with self._lock:
            fresh = self._clock() - self._keys_at < _JWKS_REFRESH_SECONDS
            if self._keys is not None and (not refresh or fresh):
                return self._keys
        keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"]))
        with self._lock:
            self._keys, self._keys_at = keys, self._clock()
        return keys

    def algorithms(self) -> list[str]:
        offered = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        return [alg for alg in offered if alg in SIGNING_ALGORITHMS] or ["RS256"]

    def token_auth_method(self) -> str:
        if not self.settings.client_secret:
            return "none"  # a public client: PKCE alone
        offered = self.metadata().get("token_endpoint_auth_methods_supported") or []
        if "client_secret_post" in offered and "client_secret_basic" not in offered:
            return "client_secret_post"
        return "client_secret_basic"  # the default of OpenID Connect Core §9


_MOVING_ON_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url={target}">
<title>{title} · rcm-warehouse</title></head>
<body><p>{text}. <a href="{target}">Continue</a></p></body></html>
"""


class OIDCSignIn:
    """The two routes of a sign-in through the provider, for one :class:`Auth`."""

    paths = OIDC_PATHS

    def __init__(
        self, settings: OIDCSettings, auth: Auth, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.auth = auth
        self.provider = _Provider(settings, clock)
        self.flows = _Flows(settings.flow_seconds, clock)

    def install(self, server: Flask) -> None:
        server.add_url_rule(START_PATH, "rcm_oidc_start", self.start, methods=["GET"])
        server.add_url_rule(CALLBACK_PATH, "rcm_oidc_callback", self.callback, methods=["GET"])

    def link(self, next_path: str) -> str:
        """The sign-in page's link ("Sign in with …"), keeping where the user was going."""
        href = f"{START_PATH}?{urlencode({'next': next_path})}"
        return (
            f'<p class="sso"><a id="sign-in-oidc" href="{html.escape(href)}">'
            f"Sign in with {html.escape(self.settings.name)}</a></p>"
        )

    def _redirect_uri(self) -> str:
        return self.settings.redirect_url or request.url_root.rstrip("/") + CALLBACK_PATH

    def _site_root(self) -> str:
        """``https://host`` of this site, as the provider knows it (from the configured
        redirect URL behind a proxy, else from the request)."""
        configured = self.settings.redirect_url
        if configured and configured.endswith(CALLBACK_PATH):
            return configured[: -len(CALLBACK_PATH)]
        return request.url_root.rstrip("/")

    def _client(self, redirect_uri: str) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret or None,
            token_endpoint_auth_method=self.provider.token_auth_method(),
            scope=self.settings.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            default_timeout=self.settings.timeout_seconds,
        )

    def _refuse(self, refused: OIDCRefused, next_path: str = "/") -> Response:
        self.auth._audit(
            "sign_in_failed",
            refused.actor,
            reason=refused.reason,
            method="oidc",
            address=request.remote_addr,
        )
        response = self.auth._login_page(refused.message, refused.status, next_path)
        response.delete_cookie(FLOW_COOKIE, path=START_PATH)
        return response

    # -- routes ----------------------------------------------------------------------------
    def start(self) -> Response:
        next_path = request.args.get("next", "/")
        try:
            metadata = self.provider.metadata()
            redirect_uri = self._redirect_uri()
            state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            code_verifier = secrets.token_urlsafe(64)  # RFC 7636: 43 to 128 characters
            url, _ = self._client(redirect_uri).create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                code_verifier=code_verifier,
                nonce=nonce,
            )
        except (requests.RequestException, ValueError) as error:
            log.error("single sign-on unavailable: %s: %s", type(error).__name__, error)
            return self.auth._login_page(
                "Single sign-on is unavailable right now. Try again, or sign in with a password.",
                503,
                next_path,
            )
        token = self.flows.add(
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            next_path=next_path,
        )
        response = redirect(url)
        response.set_cookie(
            FLOW_COOKIE,
            token,
            max_age=int(self.settings.flow_seconds),
            path=START_PATH,  # covers the callback, nothing else
            secure=self.auth._secure(),
            httponly=True,
            samesite="Lax",  # must come back on the provider's cross-site redirect
        )
        return response

    def callback(self) -> Response:
        flow = self.flows.take(request.cookies.get(FLOW_COOKIE))
        next_path = flow.next_path if flow else "/"
        try:
            if flow is None:
                raise OIDCRefused(
                    "no sign-in in progress",
                    "This sign-in had expired or was already used. Please start again.",
                    400,
                )
            if not hmac.compare_digest(request.args.get("state", ""), flow.state):
                raise OIDCRefused(
                    "state mismatch",
                    "This sign-in did not come from this browser. Please start again.",
                    400,
                )
            user, role, id_token = self._finish(flow)
        except OIDCRefused as refused:
            return self._refuse(refused, next_path)
        response = self.auth.signed_in(user, role, flow.next_path, "oidc", id_token)
        return self._continue_page(response)

    def signed_out(self, session: Session, login_path: str) -> Response:
        """After our sign-out of a session that came through the provider: send the
        browser to the provider's end-session endpoint (OpenID Connect RP-Initiated
        Logout) with the ID token as a hint, to come back to ``login_path``; straight to
        ``login_path`` when the provider offers no such endpoint or cannot be reached.
        A page that moves on by itself, not a redirect: the sign-out is a form POST, and
        the CSP's ``form-action 'self'`` would stop a redirect to another site."""
        try:
            endpoint = self.provider.metadata().get("end_session_endpoint")
        except (requests.RequestException, ValueError) as error:
            log.error("single sign-on sign-out unavailable: %s", type(error).__name__)
            endpoint = None
        if not endpoint:
            return redirect(login_path)
        params = {
            "client_id": self.settings.client_id,
            "post_logout_redirect_uri": self._site_root() + login_path,
        }
        if session.id_token:
            params["id_token_hint"] = session.id_token
        target = f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"
        page = _MOVING_ON_PAGE.format(
            title="Signing out", text="Signing out", target=html.escape(target, quote=True)
        )
        return Response(page, 200, mimetype="text/html")

    def _finish(self, flow: _Flow) -> tuple[str, str, str]:
        """Code → tokens → verified ID token → (user, role, ID token), or
        :class:`OIDCRefused`."""
        error = request.args.get("error")
        if error:
            code = re.sub(r"[^A-Za-z0-9_.-]", "", error)[:64]
            raise OIDCRefused(
                f"identity provider answered {code}",
                "The identity provider did not sign you in. Please try again.",
                401,
            )
        try:
            metadata = self.provider.metadata()
        except (requests.RequestException, ValueError) as problem:
            log.error("single sign-on unavailable: %s: %s", type(problem).__name__, problem)
            raise OIDCRefused(
                "identity provider unreachable",
                "Single sign-on is unavailable right now. Try again, or sign in with a password.",
                503,
            ) from None
        sent_issuer = request.args.get("iss")  # RFC 9207, where the provider sends it
        if sent_issuer is not None and sent_issuer != metadata["issuer"]:
            raise OIDCRefused(
                "issuer mismatch in the authorization response",
                "The sign-in came back from the wrong identity provider. Please start again.",
                400,
            )
        code = request.args.get("code")
        if not code:
            raise OIDCRefused(
                "no code in the authorization response",
                "The identity provider did not sign you in. Please try again.",
                400,
            )
        try:
            tokens = self._client(flow.redirect_uri).fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=flow.code_verifier,
            )
        except Exception as problem:  # the provider's error, the network, a non-JSON answer
            log.warning("token exchange failed: %s", type(problem).__name__)
            raise OIDCRefused(
                f"token exchange failed ({type(problem).__name__})",
                "The identity provider did not confirm the sign-in. Please try again.",
                502,
            ) from None
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OIDCRefused(
                "no ID token in the token response",
                "The identity provider did not confirm the sign-in. Please try again.",
                502,
            )
        claims = self._verify(id_token, flow.nonce, tokens.get("access_token"), metadata)
        user = user_from_claims(claims, self.settings)
        try:
            role = role_from_claims(claims, self.settings)
        except OIDCRefused as refused:
            refused.actor = user
            raise
        return user, role, id_token

    def _verify(
        self, id_token: str, nonce: str, access_token: str | None, metadata: dict[str, Any]
    ) -> CodeIDToken:
        """The ID token's claims once its signature, issuer, audience, times and nonce hold
        (OpenID Connect Core §3.1.3.7)."""
        registry = JWSRegistry(algorithms=self.provider.algorithms(), strict_check_header=False)
        try:
            try:
                token = jwt.decode(id_token, self.provider.keys(), registry=registry)
            except InvalidKeyIdError:  # the provider may have rotated its keys
                token = jwt.decode(id_token, self.provider.keys(refresh=True), registry=registry)
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": metadata["issuer"]},
                    "aud": {"essential": True, "value": self.settings.client_id},
                    "exp": {"essential": True},
                    "iat": {"essential": True},
                    "nonce": {"essential": True},
                },
                {
                    "nonce": nonce,
                    "client_id": self.settings.client_id,
                    "access_token": access_token,
                },
            )
            claims.validate(leeway=self.settings.leeway_seconds)
        except (JoseError, ValueError) as problem:
            detail = getattr(problem, "description", "") or type(problem).__name__
            raise OIDCRefused(
                f"ID token rejected: {detail}",
                "The identity provider's answer could not be verified, so you are not signed "
                "in. Please try again; if it keeps happening, tell the practice's administrator.",
                401,
            ) from None
        except requests.RequestException as problem:
            log.error("identity provider keys unavailable: %s", type(problem).__name__)
            raise OIDCRefused(
                "identity provider keys unavailable",
                "Single sign-on is unavailable right now. Try again, or sign in with a password.",
                503,
            ) from None
        return claims

    def _continue_page(self, signed_in: Response) -> Response:
        """``signed_in``'s redirect as a page that follows it itself (see the module
        docstring: a redirect here would not carry the Strict session cookie)."""
        target = signed_in.headers.get("Location", "/")
        del signed_in.headers["Location"]
        signed_in.status_code = 200
        signed_in.mimetype = "text/html"
        signed_in.set_data(
            _MOVING_ON_PAGE.format(
                title="Signed in", text="Signed in", target=html.escape(target, quote=True)
            )
        )
        signed_in.delete_cookie(FLOW_COOKIE, path=START_PATH)
        return signed_in
