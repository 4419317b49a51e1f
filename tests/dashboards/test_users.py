"""Dashboard users: scrypt hashes, roles checked, a clear error for a bad users file, and
`rcm users` managing the file (and the audit log hearing of it)."""

import json
import stat

import pytest
from click.testing import CliRunner

from dashboards.auth.users import (
    UsersError,
    authenticate,
    load_users,
    reset_demo_users,
    set_user,
    users_file,
)
from pipelines.cli import main
from pipelines.lib import audit


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RCM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RCM_USERS_FILE", raising=False)
    monkeypatch.delenv("RCM_USERS", raising=False)
    return tmp_path


def test_passwords_are_stored_as_salted_scrypt_hashes(data_dir):
    set_user(data_dir, "dana", "practice_manager", "a long enough password")
    set_user(data_dir, "eli", "billing_lead", "a long enough password")
    text = users_file(data_dir).read_text()
    assert "a long enough password" not in text
    users = load_users(data_dir)
    assert users["dana"].password_hash.startswith("scrypt:")
    assert users["dana"].password_hash != users["eli"].password_hash  # salted
    assert stat.S_IMODE(users_file(data_dir).stat().st_mode) == 0o600
    assert authenticate(users, "dana", "a long enough password").role == "practice_manager"
    assert authenticate(users, "dana", "a wrong password") is None
    assert authenticate(users, "nobody", "a long enough password") is None


def test_bad_users_are_refused_clearly(data_dir):
    with pytest.raises(UsersError, match="at least 12 characters"):
        set_user(data_dir, "dana", "owner", "short")
    with pytest.raises(UsersError, match="role 'admin'"):
        set_user(data_dir, "dana", "admin", "a long enough password")
    users_file(data_dir).write_text('[users.dana]\nrole = "owner"\npassword_hash = "plain"\n')
    with pytest.raises(UsersError, match="no scrypt or pbkdf2 password_hash"):
        load_users(data_dir)
    users_file(data_dir).write_text("[users\n")
    with pytest.raises(UsersError, match="not valid TOML"):
        load_users(data_dir)


def test_users_from_the_environment(data_dir, monkeypatch):
    set_user(data_dir, "dana", "owner", "a long enough password")
    hashed = load_users(data_dir)["dana"].password_hash
    monkeypatch.setenv("RCM_USERS", json.dumps({"fin": {"role": "owner", "password_hash": hashed}}))
    assert list(load_users(data_dir)) == ["fin"]


def test_demo_users_get_new_passwords_and_leave_others_alone(data_dir):
    set_user(data_dir, "dana", "owner", "a long enough password")
    first = reset_demo_users(data_dir)
    second = reset_demo_users(data_dir)
    assert {r for r, _ in first.values()} == {"owner", "practice_manager", "billing_lead"}
    assert all(first[n][1] != second[n][1] for n in first)
    users = load_users(data_dir)
    assert authenticate(users, "demo-manager", second["demo-manager"][1])
    assert authenticate(users, "dana", "a long enough password")


def test_rcm_users_commands(data_dir):
    runner = CliRunner()
    added = runner.invoke(
        main,
        ["users", "add", "dana", "--role", "billing_lead", "--password-stdin"],
        input="a long enough password\n",
    )
    assert added.exit_code == 0 and "Added dana (Billing lead)" in added.output
    listed = runner.invoke(main, ["users", "list"])
    assert "dana" in listed.output and "scrypt" not in listed.output
    refused = runner.invoke(
        main, ["users", "add", "eli", "--role", "owner", "--password-stdin"], input="short\n"
    )
    assert refused.exit_code != 0 and "at least 12 characters" in refused.output
    assert runner.invoke(main, ["users", "remove", "dana"]).exit_code == 0
    assert runner.invoke(main, ["users", "remove", "dana"]).exit_code != 0
    events = [(e["event"], e["user"]) for e in audit.entries(data_dir)]
    assert events == [("user_added", "dana"), ("user_removed", "dana")]


def test_serve_refuses_to_start_without_users(data_dir):
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code != 0
    assert "no users in" in str(result.exception) and "rcm users add" in str(result.exception)


def test_serve_refuses_a_bad_sso_setting_clearly(data_dir, monkeypatch):
    monkeypatch.setenv("RCM_OIDC_ISSUER", "http://idp.example")
    result = CliRunner().invoke(main, ["serve", "--port", "1"])
    assert result.exit_code != 0 and "Cannot serve the dashboards" in str(result.exception)
