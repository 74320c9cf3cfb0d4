"""Settings read from the environment, once, inside an app factory or a command's main().

Nothing here runs at import time: call ``Settings.from_env(service=...)`` (or pass a mapping in tests).

Fail closed: an unset ``APP_ENV`` is production (an unknown one stops the start), and development features
(the SMS outbox and its route) need ``APP_ENV=development|test`` *and* ``SMS_BACKEND=outbox`` set explicitly.

Each process holds only the secrets it uses (DESIGN.md invariant 8, docs/keys.md):

============  =============================================================================================
``voting``    ``VOTER_TOKEN_KEY`` (+ ``VOTER_TOKEN_KEY_PREVIOUS``), ``PSEUDONYM_KEY``, ``CONTACT_PUBLIC_KEY``
``admin``     ``CONTACT_PRIVATE_KEY`` (+ ``CONTACT_PRIVATE_KEY_PREVIOUS``), ``STAFF_KEY``, ``TREE_HEAD_SIGNING_KEY``
``flusher``   none
``None``      none (command-line tools: migrate, create-user, reconcile)
============  =============================================================================================

Keys of other services in the environment are not read, so they never reach the process's settings.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
from collections.abc import Mapping
from typing import Literal

import msgspec

from shared.crypto import KEY_ID, KeyRing, derived_key_id
from shared.errors import ConfigError

APP_ENVS = ("development", "test", "staging", "production")
DEV_ENVS = frozenset({"development", "test"})
Service = Literal["voting", "admin", "flusher"]
SERVICES: tuple[str, ...] = ("voting", "admin", "flusher")


def _b64(value: str, name: str, *, length: int | None = None) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, binascii.Error) as exc:
        raise ConfigError(f"{name} is not valid base64") from exc
    if length is not None and len(raw) != length:
        raise ConfigError(f"{name} must decode to {length} bytes, got {len(raw)}")
    if len(raw) < 16:
        raise ConfigError(f"{name} must decode to at least 16 bytes")
    return raw


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is required (see docs/keys.md; `make run` generates development keys)")
    return value


def _keyed(value: str, name: str, *, length: int | None = None) -> tuple[str, bytes]:
    """``<id>:<base64>`` or just ``<base64>`` (the id is then the key's fingerprint)."""
    kid, sep, b64 = value.rpartition(":")
    key = _b64(b64 if sep else value, name, length=length)
    if not sep:
        return derived_key_id(key), key
    if not KEY_ID.match(kid):
        raise ConfigError(f"{name}: the key id must be 1-16 characters of [A-Za-z0-9_-], not {kid!r}")
    return kid, key


def _ring(env: Mapping[str, str], name: str, *, length: int | None = None) -> tuple[tuple[str, bytes], ...]:
    """The current key from ``NAME`` and, during a rotation, the previous one from ``NAME_PREVIOUS``."""
    keys = [_keyed(_required(env, name), name, length=length)]
    previous = env.get(f"{name}_PREVIOUS", "").strip()
    if previous:
        keys.append(_keyed(previous, f"{name}_PREVIOUS", length=length))
        if keys[0][0] == keys[1][0]:
            raise ConfigError(f"{name} and {name}_PREVIOUS have the same key id {keys[0][0]!r}")
    return tuple(keys)


class VotingSecrets(msgspec.Struct, frozen=True):
    """The public service's keys: it signs voter tokens, names voters by pseudonym, and seals contact
    details with a public key it cannot open them with."""

    token_keys: KeyRing
    pseudonym_key: bytes
    contact_public_key: bytes

    def __repr__(self) -> str:
        return "VotingSecrets(<hidden>)"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VotingSecrets:
        return cls(
            token_keys=KeyRing(_ring(env, "VOTER_TOKEN_KEY")),
            pseudonym_key=_b64(_required(env, "PSEUDONYM_KEY"), "PSEUDONYM_KEY"),
            contact_public_key=_keyed(_required(env, "CONTACT_PUBLIC_KEY"), "CONTACT_PUBLIC_KEY", length=32)[1],
        )


class AdminSecrets(msgspec.Struct, frozen=True):
    """The admin service's keys: it opens sealed contact details and keys its staff records; it cannot
    mint voter tokens nor compute voters' pseudonyms."""

    contact_private_keys: tuple[bytes, ...]
    staff_key: bytes  # AES-GCM of staff TOTP secrets, HMAC of recovery codes, staff e-mails and addresses
    tree_head_signing_key: bytes  # Ed25519 private key (32-byte seed): signs finalised results' tree heads

    def __repr__(self) -> str:
        return "AdminSecrets(<hidden>)"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AdminSecrets:
        return cls(
            contact_private_keys=tuple(k for _, k in _ring(env, "CONTACT_PRIVATE_KEY", length=32)),
            staff_key=_b64(_required(env, "STAFF_KEY"), "STAFF_KEY", length=32),
            tree_head_signing_key=_b64(_required(env, "TREE_HEAD_SIGNING_KEY"), "TREE_HEAD_SIGNING_KEY",
                                       length=32),
        )


_SECRETS: dict[str, type[VotingSecrets] | type[AdminSecrets]] = {"voting": VotingSecrets, "admin": AdminSecrets}
# Read by from_env itself (or per service), never through the generic FIELD_NAME lookup.
_SPECIAL = frozenset({"app_env", "service", "secrets", "sms_backend", "trusted_proxies"})


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    app_env: str = "production"
    service: str | None = None
    database_url: str = "postgresql://127.0.0.1:5432/postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # VotingSecrets for service "voting", AdminSecrets for "admin", None for every other process.
    secrets: object = None
    sms_backend: str = "http"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    trusted_proxies: tuple[str, ...] = ()
    voter_token_ttl_s: int = 15 * 60          # short: a token bought with a vote is worth little for long
    my_votes_fresh_s: int = 5 * 60            # listing one's choices needs a sign-in this recent
    otp_ttl_s: int = 300
    otp_resend_s: int = 60
    otp_max_per_phone_hour: int = 5          # hard: codes per phone per hour
    otp_free_per_phone_hour: int = 2         # codes per phone per hour without proof of work (then PoW)
    otp_max_per_ip_hour: int = 30            # soft limits (past them: proof of work; past soft x
    otp_max_per_net_hour: int = 300          # LIMIT_HARD_FACTOR: refused): per address, per /24 or /64,
    otp_max_per_wide_hour: int = 1200        # per IPv6 /48
    otp_max_attempts: int = 5
    verify_max_per_ip_hour: int = 60
    verify_max_per_net_hour: int = 600
    verify_max_per_wide_hour: int = 2400
    vote_limit_voter: int = 10
    vote_limit_voter_window_s: int = 10
    vote_limit_ip: int = 120                 # soft, like the sign-in limits above (shared/votestore/vote.py)
    vote_limit_ip_window_s: int = 60
    vote_limit_net: int = 1200
    vote_limit_net_window_s: int = 60
    vote_limit_wide: int = 4800              # IPv6 /48, window VOTE_LIMIT_NET_WINDOW_S
    nominations_per_ip_hour: int = 10
    nominations_per_net_hour: int = 50
    limit_hard_factor: int = 10              # hard limit = soft limit x this (carrier-grade NAT headroom)
    sms_budget_per_minute: int = 3000        # the whole service; past it the circuit breaker opens
    sms_challenge_percent: int = 50          # past this share of the minute's budget every code needs PoW
    sms_breaker_cooldown_s: int = 60
    challenge_ttl_s: int = 300
    # The national attack mode of the vote (voting_service/services/attack.py): over the last minute at least
    # ATTACK_MIN_PER_MINUTE votes from automated clients or sequential numbers, and at least this share of all
    # votes: every vote needs proof of work for ATTACK_HOLD_S (renewed while it lasts). 0: off. Unset: 50 in
    # production, 0 elsewhere (tests and load tools vote with scripts on purpose).
    attack_share_percent: int = 50
    attack_min_per_minute: int = 600
    attack_hold_s: int = 120
    challenge_base_maxnumber: int = 50_000   # difficulty just over a soft limit (~0.1-0.5 s in a browser)
    challenge_max_maxnumber: int = 2_000_000
    redis_timeout_s: float = 1.0
    # Votes only: answer 201 once this many replicas hold the vote (WAIT after each batch; 0: do not wait).
    # docs/capacity.md "Failover" for what each choice loses and costs.
    redis_wait_replicas: int = 0
    redis_wait_timeout_ms: int = 100
    max_body_bytes: int = 16 * 1024
    campaign_cache_s: float = 1.0
    # The portal's public address (https://100faces.kz) for canonical, hreflang and OpenGraph links; empty: the
    # scheme and host of each request (development, tests).
    public_url: str = ""
    voting_port: int = 8000
    admin_port: int = 8001
    flusher_batch: int = 2000
    flusher_block_ms: int = 200
    # After a pass that left every stream short of its share, wait this long so the next batch is fuller: the
    # fraud summaries make a batch's fixed cost large (hot rows updated once per batch), so per vote Postgres
    # spends ~17 % less at ~1 600 votes a batch than at ~800 (docs/performance.md, eighth measurement), for this
    # much more lag.
    flusher_fill_ms: int = 200
    flusher_claim_idle_ms: int = 10_000
    flusher_consumer: str = ""
    flusher_metrics_port: int = 9101
    # Fraud summaries the flusher keeps (docs/fraud.md): the time bucket of the burst detector, how soon after
    # sign-in a vote counts as fast, from which sequential run at sign-in a vote counts as sequential.
    fraud_bucket_s: int = 60
    fraud_fast_s: int = 5
    fraud_seq_run: int = 4
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

    @property
    def is_development(self) -> bool:
        """development or test: the only environments where development features may be switched on."""
        return self.app_env in DEV_ENVS

    @property
    def sms_outbox(self) -> bool:
        """The dev SMS outbox (and its route): only when both switches were set explicitly."""
        return self.is_development and self.sms_backend == "outbox"

    def require_service(self, service: str) -> None:
        """An app factory's guard: settings built for another process carry other keys (or none)."""
        if self.service != service or not isinstance(self.secrets, _SECRETS.get(service, type(None))):
            raise ConfigError(f"the {service} service needs settings built with service={service!r}, "
                              f"not {self.service!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, service: str | None = None) -> Settings:
        """Build settings from ``env`` (default ``os.environ``) for ``service``: which keys to read (None for
        tools that need none) and whose store credentials to connect with (shared/store_access.py; None keeps
        DATABASE_URL / REDIS_URL); raise ConfigError, with a one-line reason, on anything wrong."""
        env = os.environ if env is None else env
        if service is not None and service not in SERVICES:
            raise ConfigError(f"unknown service {service!r}")
        app_env = env.get("APP_ENV", "").strip() or "production"  # unset: production, never development
        if app_env not in APP_ENVS:
            raise ConfigError(f"APP_ENV must be one of {', '.join(APP_ENVS)}, not {app_env!r}")
        if service is not None:
            from shared.store_access import service_urls

            db_url, redis_url = service_urls(env, service)
            env = {**env, "DATABASE_URL": db_url, "REDIS_URL": redis_url}
        secrets_type = _SECRETS.get(service or "")
        secrets = secrets_type.from_env(env) if secrets_type is not None else None

        if (env.get("STAFF_MFA") or "required") not in ("required", "optional"):
            raise ConfigError(f"STAFF_MFA must be required or optional, not {env.get('STAFF_MFA')!r}")
        sms_backend = env.get("SMS_BACKEND", "").strip() or "http"
        if sms_backend not in ("outbox", "http"):
            raise ConfigError(f"SMS_BACKEND must be outbox or http, not {sms_backend!r}")
        if service == "voting":
            if sms_backend == "outbox" and app_env not in DEV_ENVS:
                raise ConfigError(f"SMS_BACKEND=outbox needs APP_ENV=development or test (APP_ENV is {app_env})")
            if sms_backend == "http" and not env.get("SMS_GATEWAY_URL"):
                raise ConfigError("SMS_BACKEND=http needs SMS_GATEWAY_URL (or, on a development machine, "
                                  "APP_ENV=development with SMS_BACKEND=outbox)")
        proxies = tuple(p.strip() for p in env.get("TRUSTED_PROXIES", "").split(",") if p.strip())
        for cidr in proxies:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ConfigError(f"TRUSTED_PROXIES: {cidr!r} is not a CIDR") from exc

        overrides: dict[str, object] = {}
        for field in cls.__struct_fields__:
            if field in _SPECIAL:
                continue
            raw = env.get(field.upper())
            if raw is None or raw == "":
                continue
            overrides[field] = raw
        try:
            # msgspec converts "3" -> 3 and "0.5" -> 0.5 with strict=False, and rejects garbage.
            settings = msgspec.convert(
                {"app_env": app_env, "service": service, "sms_backend": sms_backend,
                 "trusted_proxies": proxies, **overrides},
                cls,
                strict=False,
            )
        except msgspec.ValidationError as exc:
            raise ConfigError(f"bad setting: {exc}") from exc
        if not env.get("ATTACK_SHARE_PERCENT") and app_env != "production":
            settings = msgspec.structs.replace(settings, attack_share_percent=0)
        _check_abuse_limits(settings)
        return msgspec.structs.replace(settings, secrets=secrets)


def _check_abuse_limits(s: Settings) -> None:
    """The abuse defence fails closed: a budget of 0 or a factor below 1 would silently switch a defence off,
    so such values stop the service with the setting's name instead (issue 12, docs/security.md)."""
    positive = ("otp_max_per_phone_hour", "otp_max_per_ip_hour", "otp_max_per_net_hour", "otp_max_per_wide_hour",
                "verify_max_per_ip_hour", "verify_max_per_net_hour", "verify_max_per_wide_hour",
                "nominations_per_ip_hour", "nominations_per_net_hour", "limit_hard_factor", "sms_budget_per_minute",
                "sms_breaker_cooldown_s", "challenge_ttl_s", "challenge_base_maxnumber", "vote_limit_ip_window_s",
                "vote_limit_net_window_s")
    for name in positive:
        if getattr(s, name) < 1:
            raise ConfigError(f"{name.upper()} must be at least 1, not {getattr(s, name)}")
    if s.otp_free_per_phone_hour < 0:
        raise ConfigError(f"OTP_FREE_PER_PHONE_HOUR must be 0 or more, not {s.otp_free_per_phone_hour}")
    if not 0 <= s.attack_share_percent <= 100:
        raise ConfigError(f"ATTACK_SHARE_PERCENT must be 0..100 (0: off), not {s.attack_share_percent}")
    if s.attack_min_per_minute < 1 or s.attack_hold_s < 1:
        raise ConfigError("ATTACK_MIN_PER_MINUTE and ATTACK_HOLD_S must be at least 1")
    if not 1 <= s.sms_challenge_percent <= 100:
        raise ConfigError(f"SMS_CHALLENGE_PERCENT must be 1..100, not {s.sms_challenge_percent}")
    if not 1_000 <= s.challenge_base_maxnumber <= s.challenge_max_maxnumber <= 100_000_000:
        raise ConfigError("CHALLENGE_BASE_MAXNUMBER and CHALLENGE_MAX_MAXNUMBER must satisfy "
                          "1000 <= base <= max <= 100000000")
