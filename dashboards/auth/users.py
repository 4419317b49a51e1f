"""Dashboard users: who they are, their role, and a salted password hash.

Users live in a TOML file (``RCM_USERS_FILE``, default ``$RCM_DATA_DIR/users.toml``, mode
0600), managed with ``rcm users``::

    [users.dana]
    role = "practice_manager"
    password_hash = "scrypt:32768:8:1$...$..."

or, for containers, in ``RCM_USERS`` as JSON: ``{"dana": {"role": ..., "password_hash": ...}}``.
Passwords are hashed with scrypt (RFC 7914) by Werkzeug's ``generate_password_hash``, which
salts each hash and keeps its parameters in it; plain passwords are never stored.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

ROLES = {
    "owner": "Owner",
    "practice_manager": "Practice manager",
    "billing_lead": "Billing lead",
}
MIN_PASSWORD_LENGTH = 12
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# A real hash to check against when the user name is unknown, so a wrong name costs as
# long as a wrong password and timing does not tell which names exist.
_DUMMY_HASH = generate_password_hash("not a password of anyone", method="scrypt")


class UsersError(ValueError):
    """A users file or a user that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str

    @property
    def role_title(self) -> str:
        return ROLES[self.role]


def users_file(data_dir: Path | str) -> Path:
    return Path(os.environ.get("RCM_USERS_FILE") or Path(data_dir) / "users.toml")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsersError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    return generate_password_hash(password, method="scrypt")


def _user(name: str, fields: dict, where: str) -> User:
    if not _NAME.match(name):
        raise UsersError(
            f"{where}: user name {name!r} must be 2-64 lower-case letters, digits, '.', '_' or '-'"
        )
    role = fields.get("role")
    if role not in ROLES:
        raise UsersError(f"{where}: user {name!r} has role {role!r}; roles are {', '.join(ROLES)}")
    password_hash = fields.get("password_hash", "")
    if not str(password_hash).startswith(("scrypt:", "pbkdf2:")):
        raise UsersError(f"{where}: user {name!r} has no scrypt or pbkdf2 password_hash")
    return User(name, role, password_hash)


def load_users(data_dir: Path | str) -> dict[str, User]:
    """Every user, from ``RCM_USERS`` if set, else the users file (none if it is missing)."""
    inline = os.environ.get("RCM_USERS")
    if inline:
        try:
            table = json.loads(inline)
        except json.JSONDecodeError as error:
            raise UsersError(f"RCM_USERS is not JSON: {error.msg} at {error.pos}") from None
        return {name: _user(name, fields, "RCM_USERS") for name, fields in table.items()}
    path = users_file(data_dir)
    if not path.exists():
        return {}
    try:
        table = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise UsersError(f"{path}: not valid TOML ({error})") from None
    return {name: _user(name, fields, str(path)) for name, fields in table.get("users", {}).items()}


def authenticate(users: dict[str, User], name: str, password: str) -> User | None:
    user = users.get(name)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def save_users(data_dir: Path | str, users: dict[str, User]) -> Path:
    """Write the users file (0600) atomically."""
    path = users_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# rcm-warehouse dashboard users: manage with `rcm users`", ""]
    for user in sorted(users.values(), key=lambda u: u.name):
        lines += [
            f"[users.{json.dumps(user.name)}]",
            f"role = {json.dumps(user.role)}",
            f"password_hash = {json.dumps(user.password_hash)}",
            "",
        ]
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines))
    os.replace(tmp, path)
    return path


def set_user(data_dir: Path | str, name: str, role: str, password: str) -> User:
    """Add a user, or change an existing one's role and password."""
    users = load_users(data_dir)
    user = _user(name, {"role": role, "password_hash": hash_password(password)}, "rcm users")
    users[name] = user
    save_users(data_dir, users)
    return user


DEMO_USERS = {
    "demo-owner": "owner",
    "demo-manager": "practice_manager",
    "demo-billing": "billing_lead",
}


def reset_demo_users(data_dir: Path | str) -> dict[str, tuple[str, str]]:
    """The demo's three users (one per role), each with a new random password:
    ``{name: (role, password)}``. Other users in the file are left alone."""
    import secrets

    users = load_users(data_dir)
    made = {}
    for name, role in DEMO_USERS.items():
        password = secrets.token_urlsafe(12)
        users[name] = User(name, role, hash_password(password))
        made[name] = (role, password)
    save_users(data_dir, users)
    return made


def remove_user(data_dir: Path | str, name: str) -> bool:
    users = load_users(data_dir)
    if users.pop(name, None) is None:
        return False
    save_users(data_dir, users)
    return True
