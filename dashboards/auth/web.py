"""Sign-in, sign-out and the guard in front of every route of the dashboards' Flask server.

- ``GET/POST /login``: a plain HTML form (no Dash, no assets), CSRF-protected by a
  double-submit token: an HttpOnly ``SameSite=Strict`` cookie holds a random nonce, the form
  holds its HMAC under a per-process secret. Repeated failures lock the user name (and the
  client address) for a while. Every outcome goes to the audit log.
- ``POST /logout``: needs the session's own CSRF token (in the page's sign-out form).
- ``GET /login/oidc`` and ``/login/oidc/callback``: sign-in through the practice's
  OpenID Connect provider, only where ``RCM_OIDC_ISSUER`` is set (``oidc.py``).
- The guard runs before every other request: no live session means a redirect to the
  sign-in page for a page load, and ``401`` for everything else (callbacks, layout,
  assets, component suites). Idle sessions end here (automatic logoff).
- Every response gets the security headers; pages and callbacks are never cached.
- Errors are answered with a reference number and logged without their message (which
  could quote data), and Flask's and Dash's debug modes stay off whatever the environment
  says.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from dash import Dash
from flask import Response, current_app, g, redirect, request
from werkzeug.exceptions import InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboards.auth.access import Viewer
from dashboards.auth.oidc import OIDCSettings, OIDCSignIn
from dashboards.auth.sessions import Session, SessionStore
from dashboards.auth.users import User, UsersError, authenticate, load_users, users_file
from pipelines.lib import audit
from pipelines.lib.errors import exception_place

log = logging.getLogger("rcm.dashboards")

SESSION_COOKIE = "rcm_session"
LOGIN_COOKIE = "rcm_login"
PUBLIC_PATHS = frozenset({"/login", "/logout"})
# Paths the browser loads as pages; anything else without a session gets a bare 401.
_NOT_PAGES = ("/_dash-", "/assets/", "/_favicon", "/_reload-hash")


@dataclass(frozen=True)
class AuthSettings:
    data_dir: Path
    idle_seconds: float = 15 * 60
    max_seconds: float = 12 * 3600
    cookie_secure: str = "auto"
    """``auto``: Secure when the request came over HTTPS; ``always``: Secure regardless."""
    trust_proxy: bool = False
    """Believe one reverse proxy's X-Forwarded-For/-Proto (for TLS termination)."""
    max_failures: int = 5
    lockout_seconds: float = 15 * 60
    oidc: OIDCSettings | None = None
    """Sign-in through an OpenID Connect provider as well (``oidc.py``); None: off."""

    @classmethod
    def from_env(cls, data_dir: Path | str | None = None) -> AuthSettings:
        env = os.environ
        secure = env.get("RCM_COOKIE_SECURE", "auto").lower()
        if secure not in {"auto", "always"}:
            raise ValueError("RCM_COOKIE_SECURE must be 'auto' or 'always'")
        return cls(
            data_dir=Path(data_dir or env.get("RCM_DATA_DIR", "data")),
            idle_seconds=float(env.get("RCM_IDLE_MINUTES", "15")) * 60,
            max_seconds=float(env.get("RCM_SESSION_HOURS", "12")) * 3600,
            cookie_secure=secure,
            trust_proxy=env.get("RCM_TRUST_PROXY", "0").lower() in {"1", "true", "yes"},
            oidc=OIDCSettings.from_env(env),
        )


class _Throttle:
    """Failed sign-ins per key (user name, client address) in a sliding window."""

    def __init__(self, limit: int, window: float, clock=time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def locked(self, *keys: str) -> bool:
        now = self._clock()
        with self._lock:
            for key in keys:
                recent = [t for t in self._failures.get(key, []) if now - t < self.window]
                self._failures[key] = recent
                if len(recent) >= self.limit:
                    return True
        return False

    def fail(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, []).append(self._clock())

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no //host) may follow the sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


_REASONS = {
    "expired": "Your session ended after a period without activity. Please sign in again.",
    "idle": "You were signed out after a period without activity.",
    "signed_out": "You are signed out.",
}

_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · rcm-warehouse</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f5f7; color: #1f2933; margin: 0; }}
main {{ max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem;
        border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
h1 {{ font-size: 1.3rem; margin: 0 0 1rem; }}
label {{ display: block; margin: .8rem 0 .3rem; font-weight: 600; }}
input {{ width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1rem; }}
button {{ margin-top: 1.2rem; width: 100%; padding: .6rem; font-size: 1rem; background: #0072b2;
          color: #fff; border: 0; border-radius: 4px; cursor: pointer; }}
.message {{ padding: .6rem; border-radius: 4px; background: #fff4e5; margin-bottom: .8rem; }}
.fine {{ color: #52606d; font-size: .8rem; margin-top: 1rem; }}
</style></head>
<body><main>
<h1>rcm-warehouse</h1>
{message}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="sign-in">Sign in</button>
</form>
{sso}
<p class="fine">Authorised users only. Sign-ins and views of claim detail are recorded.</p>
</main></body></html>
"""


class Auth:
    """The sign-in machinery of one Dash app (see the module docstring)."""

    def __init__(self, settings: AuthSettings, clock=time.monotonic) -> None:
        self.settings = settings
        self.sessions = SessionStore(settings.idle_seconds, settings.max_seconds, clock)
        self.throttle = _Throttle(settings.max_failures, settings.lockout_seconds, clock)
        self._secret = secrets.token_bytes(32)
        self._script_hashes: list[str] = []
        self._users: dict[str, User] = {}
        self._users_stamp: tuple | None = None
        self._users_lock = threading.Lock()
        self.oidc = OIDCSignIn(settings.oidc, self) if settings.oidc else None
        self.public_paths = PUBLIC_PATHS | (self.oidc.paths if self.oidc else frozenset())

    # -- helpers -------------------------------------------------------------------------
    def users(self) -> dict[str, User]:
        """The users file, read again only when it changes (checked on every request)."""
        path = users_file(self.settings.data_dir)
        try:
            stat = path.stat()
            stamp = (os.environ.get("RCM_USERS", ""), stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = (os.environ.get("RCM_USERS", ""), None, None)
        with self._users_lock:
            if self._users_stamp != stamp:
                self._users = load_users(self.settings.data_dir)
                self._users_stamp = stamp
            return self._users

    def _still_allowed(self, session: Session) -> bool:
        """A password user removed from the users file, or given another role, is signed
        out at their next request."""
        if session.method != "password":
            return True
        try:
            user = self.users().get(session.user)
        except UsersError:
            return False
        return user is not None and user.role == session.role

    def _audit(self, event: str, actor: str, **details: object) -> None:
        audit.append(self.settings.data_dir, event, actor, **details)

    def _login_token(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()

    def _secure(self) -> bool:
        return self.settings.cookie_secure == "always" or request.is_secure

    def _set_cookie(self, response: Response, name: str, value: str, max_age=None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self._secure(),
            httponly=True,
            samesite="Strict",
        )

    def _login_page(self, message: str = "", status: int = 200, next_path: str = "/") -> Response:
        nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        body = _LOGIN_PAGE.format(
            message=f'<p class="message" role="alert">{html.escape(message)}</p>'
            if message
            else "",
            csrf=self._login_token(nonce),
            next=html.escape(_safe_next(next_path)),
            sso=self.oidc.link(_safe_next(next_path)) if self.oidc else "",
        )
        response = Response(body, status=status, mimetype="text/html")
        self._set_cookie(response, LOGIN_COOKIE, nonce, max_age=3600)
        return response

    # -- routes --------------------------------------------------------------------------
    def login(self):
        if request.method == "GET":
            session, _ = self.sessions.touch(request.cookies.get(SESSION_COOKIE))
            if session is not None:
                return redirect(_safe_next(request.args.get("next")))
            return self._login_page(
                _REASONS.get(request.args.get("reason", ""), ""),
                next_path=request.args.get("next", "/"),
            )
        next_path = _safe_next(request.form.get("next"))
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        sent = request.form.get("csrf_token", "")
        if not nonce or not hmac.compare_digest(sent, self._login_token(nonce)):
            return self._login_page(
                "The sign-in form had expired. Please try again.", 400, next_path
            )
        name = request.form.get("username", "").strip().lower()
        password = request.form.get("password", "")
        client = f"address:{request.remote_addr}"
        if self.throttle.locked(f"user:{name}", client):
            self._audit("sign_in_failed", name or "-", reason="locked", address=request.remote_addr)
            minutes = round(self.settings.lockout_seconds / 60)
            return self._login_page(
                f"Too many failed sign-ins. Try again in {minutes} minutes.", 429, next_path
            )
        try:
            users = self.users()
        except UsersError as error:
            log.error("users cannot be loaded: %s", error)
            return self._login_page("Sign-in is not configured on this server.", 503, next_path)
        user = authenticate(users, name, password)
        if user is None:
            self.throttle.fail(f"user:{name}", client)
            self._audit(
                "sign_in_failed", name or "-", reason="bad credentials", address=request.remote_addr
            )
            return self._login_page("User name or password is wrong.", 401, next_path)
        self.throttle.clear(f"user:{name}")
        return self.signed_in(user.name, user.role, next_path, method="password")

    def signed_in(
        self, user: str, role: str, next_path: str, method: str, id_token: str | None = None
    ) -> Response:
        """Start a session (a new token every time: no session fixation), record it, and
        send the browser on. Every way of signing in ends here."""
        token, _session = self.sessions.start(user, role, method, id_token)
        self._audit("sign_in", user, role=role, method=method, address=request.remote_addr)
        response = redirect(_safe_next(next_path))
        self._set_cookie(response, SESSION_COOKIE, token)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    def logout(self):
        token = request.cookies.get(SESSION_COOKIE)
        session, expired = self.sessions.touch(token)
        idle = request.form.get("reason") == "idle"
        if session is not None:
            if not hmac.compare_digest(request.form.get("csrf_token", ""), session.csrf_token):
                return Response("Sign-out form expired; reload the page.", 400)
            self.sessions.end(token)
        # An expired session is recorded too: the browser's idle clock and the server's
        # run the same length, so its idle sign-out can arrive just after the server ended
        # the session.
        ended = session or expired
        if ended is not None:
            event = "session_expired" if idle or session is None else "sign_out"
            self._audit(event, ended.user, address=request.remote_addr)
        reason = "idle" if idle and ended is not None else "signed_out"
        login = f"/login?{urlencode({'reason': reason})}"
        if self.oidc and ended is not None and ended.method == "oidc":
            # the provider's session too, or the next "Sign in with …" on a shared
            # computer would let anyone in without a password
            response = self.oidc.signed_out(ended, login)
        else:
            response = redirect(login)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- before and after every request --------------------------------------------------
    def guard(self):
        if request.path in self.public_paths:
            return None
        token = request.cookies.get(SESSION_COOKIE)
        session, expired = self.sessions.touch(token)
        if expired is not None:
            self._audit("session_expired", expired.user, address=request.remote_addr)
        if session is not None and not self._still_allowed(session):
            self.sessions.end(token)
            self._audit("sign_out", session.user, reason="user removed or role changed")
            session = None
        if session is None:
            is_page = request.method == "GET" and not request.path.startswith(_NOT_PAGES)
            if is_page:
                target = request.full_path if request.query_string else request.path
                query = {"next": target, **({"reason": "expired"} if expired else {})}
                return redirect(f"/login?{urlencode(query)}")
            return Response(
                '{"error": "sign-in required"}', status=401, mimetype="application/json"
            )
        g.rcm_viewer = Viewer(session.user, session.role)
        g.rcm_session = session
        return None

    def headers(self, response: Response) -> Response:
        csp = "; ".join(
            [
                "default-src 'self'",
                "script-src 'self' " + " ".join(self._script_hashes),
                # Dash components and Plotly set style attributes and <style> elements
                "style-src 'self' 'unsafe-inline'",
                "img-src 'self' data: blob:",
                "font-src 'self' data:",
                "connect-src 'self'",
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )
        h = response.headers
        h["Content-Security-Policy"] = csp
        h["X-Frame-Options"] = "DENY"
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if request.is_secure:
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if not request.path.startswith(("/assets/", "/_dash-component-suites/")):
            h["Cache-Control"] = "no-store"
        return response

    def error(self, error: InternalServerError):
        """A reference number for the user; the log gets the exception's type and where it
        was raised, not its message (a message can quote a value)."""
        original = getattr(error, "original_exception", None) or error
        reference = secrets.token_hex(4)
        log.error(
            "error %s on %s %s: %s",
            reference,
            request.method,
            request.path,
            exception_place(original),
        )
        return Response(
            f'{{"error": "internal error", "reference": "{reference}"}}',
            status=500,
            mimetype="application/json",
        )

    def current_session(self) -> Session | None:
        return g.get("rcm_session")

    def install(self, app: Dash) -> None:
        server = app.server
        # debug is impossible: whatever FLASK_DEBUG/DASH_DEBUG say, Flask never shows a
        # traceback and Dash's dev tools are never enabled (we never call app.run)
        server.debug = False
        server.config.update(PROPAGATE_EXCEPTIONS=False, TRAP_HTTP_EXCEPTIONS=False)
        if self.settings.trust_proxy:
            server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1, x_host=1)
        server.add_url_rule("/login", "rcm_login", self.login, methods=["GET", "POST"])
        server.add_url_rule("/logout", "rcm_logout", self.logout, methods=["POST"])
        if self.oidc:
            self.oidc.install(server)
        server.before_request(self.guard)
        server.after_request(self.headers)
        server.register_error_handler(InternalServerError, self.error)
        server.log_exception = lambda exc_info: None  # self.error logs it, without the message

        @server.before_request
        def _hash_inline_scripts():  # once Dash has set itself up (its own before_request)
            if not self._script_hashes:
                self._script_hashes = list(app.csp_hashes())

    def __repr__(self) -> str:  # never the secret
        return f"Auth(idle={self.settings.idle_seconds}s)"


def audit_event(event: str, **details: object) -> None:
    """Record what the signed-in viewer of this request did (claim views, exports)."""
    auth: Auth = current_app.extensions["rcm_auth"]
    viewer = g.get("rcm_viewer")
    auth._audit(event, viewer.user if viewer else "-", **details)
