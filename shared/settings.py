"""Settings read from the environment, once, inside an app factory or a command's main().

Nothing here runs at import time: call ``Settings.from_env()`` (or pass a mapping in tests).
"""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Mapping

import msgspec

from shared.errors import ConfigError

_DEV_ENVS = {"development", "test"}


def _b64key(value: str, name: str, *, length: int | None = None) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:  # binascii.Error is a ValueError
        raise ConfigError(f"{name} is not valid base64") from exc
    if length is not None and len(raw) != length:
        raise ConfigError(f"{name} must decode to {length} bytes, got {len(raw)}")
    if len(raw) < 16:
        raise ConfigError(f"{name} must decode to at least 16 bytes")
    return raw


class Secrets(msgspec.Struct, frozen=True):
    """Keys that never leave the process; repr hides them."""

    token_key: bytes
    pseudonym_key: bytes
    data_key: bytes
    staff_key: bytes  # admin service: AES-GCM of staff TOTP secrets, HMAC of recovery codes and staff e-mails

    def __repr__(self) -> str:  # pragma: no cover - trivial
        return "Secrets(<hidden>)"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    app_env: str = "development"
    database_url: str = "postgresql://127.0.0.1:5432/postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    secrets: Secrets
    sms_backend: str = "outbox"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    trusted_proxies: tuple[str, ...] = ()
    voter_token_ttl_s: int = 24 * 3600
    otp_ttl_s: int = 300
    otp_resend_s: int = 60
    otp_max_per_phone_hour: int = 5
    otp_max_per_ip_hour: int = 30
    otp_max_attempts: int = 5
    vote_limit_voter: int = 10
    vote_limit_voter_window_s: int = 10
    vote_limit_ip: int = 120
    vote_limit_ip_window_s: int = 60
    vote_limit_net: int = 1200
    vote_limit_net_window_s: int = 60
    nominations_per_ip_hour: int = 10
    redis_timeout_s: float = 1.0
    max_body_bytes: int = 16 * 1024
    campaign_cache_s: float = 1.0
    voting_port: int = 8000
    admin_port: int = 8001
    flusher_batch: int = 2000
    flusher_block_ms: int = 200
    flusher_claim_idle_ms: int = 10_000
    flusher_consumer: str = ""
    flusher_metrics_port: int = 9101
    admin_session_idle_s: int = 30 * 60
    admin_session_absolute_s: int = 12 * 3600
    admin_login_max_per_pair: int = 5        # failures per (account, IP) per window
    admin_login_max_per_account: int = 20    # failures per account per window, any IP
    admin_login_max_per_ip: int = 50         # failures per IP per window, any account
    admin_login_window_s: int = 15 * 60
    admin_allowed_origins: str = ""          # extra origins allowed to post (comma-separated); own origin always
    staff_mfa: str = "required"              # required: TOTP mandatory for admin and working_group; or optional

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); raise ConfigError on anything wrong."""
        env = os.environ if env is None else env
        app_env = env.get("APP_ENV", "development")
        if app_env not in _DEV_ENVS | {"production", "staging"}:
            raise ConfigError(f"APP_ENV must be development, test, staging or production, not {app_env!r}")

        def key(name: str, *, length: int | None = None) -> bytes:
            value = env.get(name, "")
            if not value:
                raise ConfigError(f"{name} is required (base64, 32 random bytes; see README)")
            return _b64key(value, name, length=length)

        secrets = Secrets(
            token_key=key("VOTER_TOKEN_KEY"),
            pseudonym_key=key("PSEUDONYM_KEY"),
            data_key=key("DATA_KEY", length=32),
            staff_key=key("STAFF_KEY", length=32),
        )
        if (env.get("STAFF_MFA") or "required") not in ("required", "optional"):
            raise ConfigError(f"STAFF_MFA must be required or optional, not {env.get('STAFF_MFA')!r}")
        sms_backend = env.get("SMS_BACKEND", "outbox")
        if sms_backend not in ("outbox", "http"):
            raise ConfigError(f"SMS_BACKEND must be outbox or http, not {sms_backend!r}")
        if sms_backend == "outbox" and app_env == "production":
            raise ConfigError("SMS_BACKEND=outbox is refused when APP_ENV=production")
        if sms_backend == "http" and not env.get("SMS_GATEWAY_URL"):
            raise ConfigError("SMS_BACKEND=http needs SMS_GATEWAY_URL")
        proxies = tuple(p.strip() for p in env.get("TRUSTED_PROXIES", "").split(",") if p.strip())
        for cidr in proxies:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ConfigError(f"TRUSTED_PROXIES: {cidr!r} is not a CIDR") from exc

        overrides: dict[str, object] = {}
        for field in cls.__struct_fields__:
            if field in ("app_env", "secrets", "sms_backend", "trusted_proxies"):
                continue
            raw = env.get(field.upper())
            if raw is None or raw == "":
                continue
            overrides[field] = raw
        try:
            # msgspec converts "3" -> 3 and "0.5" -> 0.5 with strict=False, and rejects garbage.
            return msgspec.convert(
                {
                    "app_env": app_env,
                    "secrets": secrets,
                    "sms_backend": sms_backend,
                    "trusted_proxies": proxies,
                    **overrides,
                },
                cls,
                strict=False,
            )
        except msgspec.ValidationError as exc:
            raise ConfigError(f"bad setting: {exc}") from exc
