"""How both services hand their dependencies to handlers: one service object per app, by Litestar DI.

Each app instance has one service object, ``Services`` (voting_service/state.py, admin_service/state.py): the
settings, the resources (Postgres pool, Redis client) created in the lifespan or handed to the factory by
tests, and the services built on them. It is kept on ``app.state.services`` (the one place Litestar gives an
app for such things) and reaches a handler through Litestar's dependency injection: the handler declares a
parameter ``services: NamedDependency[Services]`` and gets it. Code that is not a handler and so cannot be
injected — guards, cookie helpers, the vote fast path — calls ``services_of(app)``. Nothing else reads
``app.state``.

The dependency is not a request parameter: Litestar leaves it out of the OpenAPI document, and
shared/openapi.py asks each handler for its resolved dependencies when it derives the documented errors.
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

SERVICES = "services"  # the handler parameter's name and the key on ``app.state``


def _provide_services(state: State) -> Any:
    return state.services


def service_dependencies() -> dict[str, Provide]:
    """``Litestar(dependencies=...)`` of both apps: ``services`` for every handler that declares it."""
    return {SERVICES: Provide(_provide_services, sync_to_thread=False)}
