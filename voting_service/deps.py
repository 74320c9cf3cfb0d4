"""Per-request helpers: the voter from the bearer token, the client's address."""

from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass

from litestar import Request

from shared.crypto import b64u
from shared.errors import AppError
from voting_service.client_ip import ClientIPResolver, network_of
from voting_service.state import Services


class InvalidToken(AppError):
    status = 401
    code = "invalid_token"
    title = "Missing, forged or expired voter token"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="vote"'})


def services(request: Request) -> Services:
    return request.app.state.services


def voter_of(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("Sign in with your phone to vote.")
    voter = services(request).tokens.verify(token.strip())
    if voter is None:
        raise InvalidToken("Your sign-in has expired or is not valid; sign in again.")
    return voter


@dataclass(frozen=True, slots=True)
class Client:
    ip_hash: str     # keyed hash: rate limits and fraud signals without the address in clear
    net: str         # /24 or /64, kept in clear for fraud review


@functools.lru_cache(maxsize=4096)
def client_for(resolver: ClientIPResolver, key: bytes, peer: str | None, forwarded_for: str | None) -> Client:
    """The client behind (peer, X-Forwarded-For); cached: a worker sees the same few peers (proxies, NATs)
    again and again, and resolving, hashing and the /24 cost more than the lookup."""
    ip = resolver.resolve(peer, forwarded_for)
    digest = hmac.new(key, b"ip:" + ip.packed, hashlib.sha256).digest()[:9]
    return Client(ip_hash=b64u(digest), net=network_of(ip))


def client_of(request: Request) -> Client:
    svc = services(request)
    peer = request.client.host if request.client else None
    return client_for(svc.client_ips, svc.settings.secrets.pseudonym_key, peer, request.headers.get("x-forwarded-for"))
