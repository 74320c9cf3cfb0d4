"""Free TCP ports on loopback, for the servers the dev stack, the tests and the load tests start."""

from __future__ import annotations

import socket


def port_open(host: str, port: int) -> bool:
    """Something accepts connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port(first: int | None = None, host: str = "127.0.0.1") -> int:
    """A port nothing listens on: one the kernel picks (``first`` None), else the first free one of
    ``first`` .. ``first + 99`` (a stable, guessable port for a server a person connects to by hand).

    Free when asked: a server started later may still lose a race for it, which the callers report."""
    if first is None:
        with socket.socket() as s:
            s.bind((host, 0))
            return s.getsockname()[1]
    for port in range(first, first + 100):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                continue
        if not port_open(host, port):
            return port
    raise OSError(f"no free port in {first}..{first + 99}")
