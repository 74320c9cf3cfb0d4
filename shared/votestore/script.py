"""A Lua script loaded from package data, called by SHA with a fallback to EVAL when Redis lost it.

The vote store's own scripts live in shared/votestore/lua/; other services load theirs (the voting service's
sign-in codes, voting_service/lua/) with the same class by naming their package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions

LUA_PACKAGE = "shared.votestore.lua"


class Script:
    def __init__(self, name: str, package: str = LUA_PACKAGE) -> None:
        self.name = name
        self.source = resources.files(package).joinpath(f"{name}.lua").read_text("utf-8")
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    @classmethod
    def from_source(cls, name: str, source: str) -> Script:
        """A script given as text (tests, tools): the same object as one read from a package."""
        script = cls.__new__(cls)
        script.name, script.source = name, source
        script.sha = hashlib.sha1(source.encode()).hexdigest()
        return script

    async def load(self, r: aioredis.Redis) -> None:
        await r.script_load(self.source)

    async def __call__(self, r: aioredis.Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await r.evalsha(self.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            return await r.eval(self.source, len(keys), *keys, *args)
