"""The staff member's address as the public service sees a voter's (shared/client_ip.py): behind the proxy
in ``TRUSTED_PROXIES``, from all ``X-Forwarded-For`` lines, IPv4-mapped addresses unwrapped. Kept only as a
keyed hash (under the admin service's own STAFF_KEY) for sign-in throttling, the login log and sessions."""

from __future__ import annotations

from litestar.connection import ASGIConnection

from admin_service.deps import services_of
from shared.client_ip import client_for, forwarded_for_lines


def client_ip_hash(connection: ASGIConnection) -> str:
    services = services_of(connection.app)
    peer = connection.client.host if connection.client else None
    return client_for(services.client_ips, services.settings.secrets.staff_key, peer,
                      forwarded_for_lines(connection.headers)).ip_hash
