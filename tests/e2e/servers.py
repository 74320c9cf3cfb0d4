"""The throw-away servers of the fault tests live in devtools/servers.py (``make chaos`` uses them too)."""

from devtools.servers import PostgresServer, RedisServer, _wait_port  # noqa: F401 - re-exported for the tests
