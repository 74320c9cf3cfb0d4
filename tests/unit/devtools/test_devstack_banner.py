"""``make run``'s banner lists the demo staff accounts (password, TOTP secrets) in development only."""

from __future__ import annotations

import pytest

from devtools import devstack

DEMO = {"staff": {"can_sign_in": True, "accounts": [
    {"role": "admin", "email": "demo-admin@demo.100faces.kz", "totp_secret": "ABCDEFGH"},
    {"role": "auditor", "email": "demo-auditor@demo.100faces.kz"},
]}}


@pytest.fixture
def password_file(tmp_path, monkeypatch):
    path = devstack.ROOT / ".data" / f"demo-staff-test-{tmp_path.name}.env"
    monkeypatch.setattr(devstack, "DEMO_STAFF_FILE", path)
    yield path
    path.unlink(missing_ok=True)


def test_development_banner_lists_every_demo_account_with_its_secret(password_file, monkeypatch) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    password = devstack.demo_staff_password(password_file)
    assert password == devstack.demo_staff_password(password_file)  # generated once, kept
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    [(name, text)] = devstack.demo_staff_rows("http://127.0.0.1:8001", DEMO)
    assert name == "demo staff" and password in text and "/login" in text
    assert "demo-admin@demo.100faces.kz  TOTP secret ABCDEFGH" in text and "demo-auditor@demo.100faces.kz" in text


@pytest.mark.parametrize("app_env", ["production", "test", ""])
def test_no_accounts_outside_development(password_file, monkeypatch, app_env: str) -> None:
    monkeypatch.setenv("APP_ENV", app_env)
    assert devstack.demo_staff_rows("http://127.0.0.1:8001", DEMO) == []


def test_no_accounts_when_the_loader_made_none_usable(monkeypatch) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    assert devstack.demo_staff_rows("http://x", {"staff": {"can_sign_in": False, "accounts": []}}) == []
