"""Request data for wrk: voter tokens minted offline and a planned sequence of votes.

Voter ``n`` has the phone ``phone_of(n)``, the pseudonym the sign-in would give it
(``pseudonym(PSEUDONYM_KEY, "voter", phone)``) and a token from ``VoterTokens.issue`` with the fraud signals the
sign-in puts in it (the operator code and the keyed hash of the number's block of 100,
``shared.fraud_signals.phone_block``) — what ``POST /auth/otp/verify`` hands out, without the SMS round trip. So
the flusher keeps the number-block summaries for the bench's votes as it does for real ones. The phones are
spread as a crowd's are: consecutive voters land in different blocks of 100 numbers (a block shared by many
voters would be the walked blocks the fraud review flags, and cheaper to summarise than a real crowd).

The plan: 9 requests in 10 are new votes, voter ``n`` casting ``1 + n % k`` of them for distinct random
candidates (so every new vote is accepted: 201); every 10th request repeats a (voter, candidate) pair sent
500 to 5000 requests earlier (409 already_voted). New votes are shuffled so one voter's choices are spread
over the run, as when people come back.

With ``networks`` > 0 each voter also has a client address, the same for all its requests, spread over that
many /24 networks (``HOSTS_PER_NETWORK`` addresses each), written as a third column: the bench sends it in
``X-Forwarded-For`` from the trusted proxy address, so the per-address and per-network limits count real
clients, as behind a production load balancer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from shared.crypto import VoterTokens, pseudonym
from shared.fraud_signals import phone_block

REPEAT_EVERY = 10          # every 10th request is a repeat
REPEAT_GAP = (500, 5000)   # ... of a pair sent this many requests earlier
HOSTS_PER_NETWORK = 32


PHONE_SPREAD = 7919  # coprime with 10: multiplying by it permutes the 10**9 nine-digit numbers


def phone_of(voter: int) -> str:
    """Voter ``n``'s phone, ``+77`` and nine digits: distinct for every ``n`` below 10**9, and voters ``n`` and
    ``n + 1`` 7 919 numbers apart, so a block of 100 numbers rarely holds two of the bench's voters."""
    return f"+77{voter * PHONE_SPREAD % 10**9:09d}"


def voter_token(issuer: VoterTokens, pseudonym_key: bytes, phone: str) -> str:
    """The token ``POST /auth/otp/verify`` gives ``phone``: its pseudonym, operator code and number-block hash
    (no run of sequential numbers: the sign-in saw none)."""
    operator, block, _ = phone_block(pseudonym_key, phone)
    return issuer.issue(pseudonym(pseudonym_key, "voter", phone), op=operator, blk=block)[0]


def client_address(voter: int, networks: int) -> str:
    """Voter ``n``'s address: network ``n % networks`` (20.x.y.0/24), host ``n // networks % 32 + 1``."""
    net, host = voter % networks, voter // networks % HOSTS_PER_NETWORK + 1
    return f"20.{net // 256 % 256}.{net % 256}.{host}"


@dataclass(frozen=True)
class VoteFile:
    path: Path
    requests: int
    new_votes: int
    repeats: int
    voters: int


def plan(requests: int, *, candidates: list[int], k: int, rng: random.Random,
         first_voter: int = 0) -> tuple[list[tuple[int, int]], int, int]:
    """(voter number, candidate) per request, the number of voters used and the number of repeats."""
    n_repeats = requests // REPEAT_EVERY
    n_new = requests - n_repeats
    new: list[tuple[int, int]] = []
    voter = first_voter
    while len(new) < n_new:
        new.extend((voter, c) for c in rng.sample(candidates, min(k, 1 + voter % k)))
        voter += 1
    del new[n_new:]
    rng.shuffle(new)
    out: list[tuple[int, int]] = []
    sent_new = 0
    for i in range(requests):
        if i % REPEAT_EVERY == REPEAT_EVERY - 1 and sent_new:
            # A pair sent 500 to 5000 requests earlier; before there are 500, any pair sent so far (the old
            # range [0, 1) made voter new[0] repeat dozens of times, which per-voter rate limits rightly refuse).
            if sent_new > REPEAT_GAP[0]:
                lo, hi = max(0, sent_new - REPEAT_GAP[1]), sent_new - REPEAT_GAP[0]
            else:
                lo, hi = 0, sent_new
            out.append(new[rng.randrange(lo, hi)])
        else:
            out.append(new[sent_new])
            sent_new += 1
    return out, voter - first_voter, requests - sent_new


def write_vote_file(path: Path, *, requests: int, candidates: list[int], k: int, token_key: bytes,
                    pseudonym_key: bytes, ttl_s: int, seed: int, first_voter: int = 0,
                    networks: int = 0) -> VoteFile:
    """Mint tokens for the voters the plan needs and write ``<token> <candidate>[ <address>]`` lines."""
    rng = random.Random(seed)
    sequence, voters, repeats = plan(requests, candidates=candidates, k=k, rng=rng, first_voter=first_voter)
    issuer = VoterTokens(token_key, ttl_s)
    tokens: dict[int, str] = {}
    lines = []
    for voter, candidate in sequence:
        token = tokens.get(voter)
        if token is None:
            token = tokens[voter] = voter_token(issuer, pseudonym_key, phone_of(voter))
        address = f" {client_address(voter, networks)}" if networks else ""
        lines.append(f"{token} {candidate}{address}\n")
    path.write_text("".join(lines), encoding="ascii")
    return VoteFile(path, requests, requests - repeats, repeats, voters)
