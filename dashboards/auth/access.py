"""What the signed-in viewer may see, decided on the server for every callback.

The sign-in guard (``web.py``) puts the request's session in ``flask.g`` before Dash runs a
callback; callbacks ask here, never the browser. A forged callback request can name any
inputs it likes, but the role comes from the server-side session, so a practice manager's
response is masked whatever was asked.

Roles (issue 7): the owner sees everything; the practice manager sees everything with
patient identifiers masked; the billing lead sees claim detail with patient identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, has_request_context

from dashboards.auth.users import ROLES

MASK = "•••••• (hidden for your role)"
PATIENT_IDENTIFIER_ROLES = frozenset({"owner", "billing_lead"})


@dataclass(frozen=True)
class Viewer:
    user: str
    role: str

    @property
    def role_title(self) -> str:
        return ROLES[self.role]

    @property
    def sees_patient_identifiers(self) -> bool:
        return self.role in PATIENT_IDENTIFIER_ROLES


def current_viewer() -> Viewer | None:
    """The signed-in viewer of this request, or None outside a signed-in request."""
    if not has_request_context():
        return None
    return g.get("rcm_viewer")


def is_patient_identifier(column: str) -> bool:
    """The marts' patient identifiers: the MRN (``patient_id``) and the pseudonymous member
    keys (a pseudonym is still PHI-derived)."""
    return column == "patient_id" or column.endswith("_member_key")


def mask_patient_identifiers(row: dict) -> dict:
    """``row`` with its patient identifiers replaced by :data:`MASK` unless the viewer may
    see them. No viewer (no request, no session) means masked."""
    viewer = current_viewer()
    if viewer is not None and viewer.sees_patient_identifiers:
        return row
    return {k: (MASK if is_patient_identifier(k) and v is not None else v) for k, v in row.items()}
