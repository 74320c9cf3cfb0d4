"""How admin code that is not a handler reaches the app's services (shared/wiring.py); handlers declare
``services: AppServices`` instead."""

from __future__ import annotations

from typing import Any

from admin_service.state import Services


def services_of(app: Any) -> Services:
    """The running app's services (guards and cookie helpers: they get a connection, not injection)."""
    return app.state.services
