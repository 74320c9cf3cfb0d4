"""Plain HTTP from the tests to servers on loopback, without building an SSL context per call: httpx builds one
(the CA bundle loaded: 0.1 - 0.2 s of CPU on this machine) for every client it makes, ``httpx.get()`` included,
so a polling loop or a client per request spent more CPU than the requests (224 clients in one test).

``http()``: one client that opens a new connection for every request (no keep-alive), as ``httpx.get()`` does;
``ssl_context()``: the one context to pass as ``verify=`` to a client a test makes itself."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


@functools.cache
def http() -> httpx.Client:
    return httpx.Client(verify=ssl_context(), limits=httpx.Limits(max_keepalive_connections=0), timeout=5.0)
