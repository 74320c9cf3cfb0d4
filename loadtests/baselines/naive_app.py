"""The naive design: every vote is written to Postgres inside the request.

Same token verification as the voting service (``VoterTokens``), then one transaction per vote:
``INSERT ... ON CONFLICT DO NOTHING`` into a votes table and, if the row is new, an ``UPDATE`` of the
candidate's tally row. A duplicate answers 409 like the real service. It is deliberately generous to the
naive design: no check of the campaign window or of the per-voter limit (those would add reads).

Settings come from the environment (the same variables as the voting service) plus ``NAIVE_POOL_SIZE``
(connections per worker, default 16). ``SCHEMA`` is created by the benchmark, not by migrations.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from litestar import Litestar, Request, Response, get, post

from shared.crypto import VoterTokens
from shared.rsgi import ASGIOverRSGI
from shared.settings import Settings, VotingSecrets
from voting_service.models import VoteAccepted, VoteIn  # the service's own request and answer shapes

SCHEMA = """
CREATE TABLE naive_votes (
    campaign_id   bigint NOT NULL,
    voter         text NOT NULL,
    candidate_id  bigint NOT NULL,
    vote_id       text NOT NULL,
    cast_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, voter, candidate_id)
);
CREATE TABLE naive_tally (
    campaign_id   bigint NOT NULL,
    candidate_id  bigint NOT NULL,
    votes         bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, candidate_id)
);
"""

INSERT_VOTE = """
INSERT INTO naive_votes (campaign_id, voter, candidate_id, vote_id) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
"""
BUMP_TALLY = "UPDATE naive_tally SET votes = votes + 1 WHERE campaign_id = $1 AND candidate_id = $2"
SEED_TALLY = "INSERT INTO naive_tally (campaign_id, candidate_id) VALUES ($1, $2)"


def _problem(status: int, code: str) -> Response[dict[str, str]]:
    return Response({"code": code}, status_code=status, media_type="application/problem+json")


def create_app() -> Litestar:
    # A lab baseline, not a service: it writes votes straight into the table, as the owner (DATABASE_URL).
    settings = Settings.from_env()
    tokens = VoterTokens(VotingSecrets.from_env(os.environ).token_keys, settings.voter_token_ttl_s)
    pool_size = int(os.environ.get("NAIVE_POOL_SIZE", "16"))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(settings.database_url, min_size=pool_size, max_size=pool_size)
        try:
            yield
        finally:
            await app.state.pool.close()

    @post("/api/v1/campaigns/{campaign_id:str}/votes", status_code=201)
    async def cast(request: Request, campaign_id: str, data: VoteIn) -> VoteAccepted | Response[dict[str, str]]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        voter = tokens.verify(token.strip()) if scheme.lower() == "bearer" else None
        if voter is None:
            return _problem(401, "invalid_token")
        if not (campaign_id.isdigit() and data.candidate_id.isdigit()):
            return _problem(404, "candidate_not_on_ballot")
        cid, cand = int(campaign_id), int(data.candidate_id)
        nonce = secrets.token_urlsafe(9)
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            inserted = await conn.execute(INSERT_VOTE, cid, voter, cand, nonce)
            if inserted != "INSERT 0 1":
                return _problem(409, "already_voted")
            if await conn.execute(BUMP_TALLY, cid, cand) != "UPDATE 1":
                raise _NotOnBallot
        return VoteAccepted(receipt=f"{cid}.{nonce}", candidate_id=data.candidate_id, votes_left=2)

    @get("/health/ready", cache=False)
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    return Litestar(route_handlers=[cast, ready], lifespan=[lifespan], openapi_config=None, debug=False,
                    exception_handlers={_NotOnBallot: lambda _r, _e: _problem(404, "candidate_not_on_ballot")})


class _NotOnBallot(Exception):
    """Raised inside the transaction so the vote row is rolled back with it."""


def create_rsgi_app() -> ASGIOverRSGI:
    """The same app as granian serves the voting service: RSGI, through shared/rsgi.py."""
    return ASGIOverRSGI(create_app())
