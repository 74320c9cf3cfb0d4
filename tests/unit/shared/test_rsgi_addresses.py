"""RSGI gives addresses as one string; the ASGI bridge and the vote's fast path split them."""

from __future__ import annotations

import pytest

from shared.rsgi import _address
from voting_service.fastpath import peer_host


@pytest.mark.parametrize(("raw", "asgi", "host"), [
    ("127.0.0.1:5678", ("127.0.0.1", 5678), "127.0.0.1"),
    ("[::1]:443", ("::1", 443), "::1"),
    ("[2001:db8::7]:80", ("2001:db8::7", 80), "2001:db8::7"),
    ("", None, None),  # a Unix socket
])
def test_rsgi_address_strings_split_into_host_and_port(raw, asgi, host):
    assert _address(raw) == asgi
    assert peer_host(raw) == host
