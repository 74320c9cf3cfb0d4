"""``NAME=value`` files: what ``--env-file`` of the command-line tools reads (e.g. ``.data/dev.env``, written
by ``make run``). Read only when a command is told to: nothing is picked up from the folder by itself."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from shared.errors import ConfigError


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.strip().partition("=")
            if sep and not name.startswith("#"):
                values[name.strip()] = value.strip()
    return values


def apply_env_file(path: str | Path, env: MutableMapping[str, str] | None = None) -> None:
    """Fill ``env`` (default ``os.environ``) from the file; variables already set win."""
    env = os.environ if env is None else env
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"--env-file {path}: no such file (does `make run` run in this folder?)")
    for name, value in read_env_file(file).items():
        env.setdefault(name, value)
