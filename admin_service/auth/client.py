"""The staff member's address as the public service sees a voter's (shared/client_ip.py): behind the proxy
in ``TRUSTED_PROXIES``, from all ``X-Forwarded-For`` lines, IPv4-mapped addresses unwrapped. Kept only as a
keyed hash (under the admin service's own STAFF_KEY) for sign-in throttling, the login log and sessions."""

from __future__ import annotations

import functools

from litestar.connection import ASGIConnection

from shared.client_ip import ClientIPResolver, client_for, forwarded_for_lines


@functools.cache
def _resolver(trusted_proxies: tuple[str, ...]) -> ClientIPResolver:
    return ClientIPResolver(trusted_proxies)


def client_ip_hash(connection: ASGIConnection) -> str:
    settings = connection.app.state.settings
    peer = connection.client.host if connection.client else None
    return client_for(_resolver(settings.trusted_proxies), settings.secrets.staff_key, peer,
                      forwarded_for_lines(connection.headers)).ip_hash
