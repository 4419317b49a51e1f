"""Signed-in sessions, kept on the server.

The browser holds only a random token (256 bits) in an HttpOnly cookie; the server keeps
the session under the token's SHA-256, so a leaked store does not leak usable cookies.
Because the state is on the server, signing out or idling out ends the session for every
copy of the cookie, not just the browser's. Sessions end after ``idle_seconds`` without a
request (HIPAA's automatic logoff) and after ``max_seconds`` in all, and a restart of the
server signs everyone out (one waitress process serves the dashboards).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Session:
    user: str
    role: str
    started: float
    last_seen: float
    method: str = "password"
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    id_token: str | None = field(default=None, repr=False)  # OIDC: the hint for sign-out


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(
        self,
        idle_seconds: float,
        max_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def start(
        self, user: str, role: str, method: str = "password", id_token: str | None = None
    ) -> tuple[str, Session]:
        """A new session; returns the cookie token (never stored) and the session."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(user, role, now, now, method, id_token=id_token)
        with self._lock:
            self._sessions[_digest(token)] = session
        return token, session

    def touch(self, token: str | None) -> tuple[Session | None, Session | None]:
        """The live session for ``token`` (its idle clock restarted), or ``(None, expired)``
        where ``expired`` is the session that just timed out, if any (for the audit log)."""
        if not token:
            return None, None
        key = _digest(token)
        now = self._clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None, None
            if (
                now - session.last_seen > self.idle_seconds
                or now - session.started > self.max_seconds
            ):
                del self._sessions[key]
                return None, session
            session.last_seen = now
            return session, None

    def end(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            return self._sessions.pop(_digest(token), None)

    def __len__(self) -> int:
        return len(self._sessions)
