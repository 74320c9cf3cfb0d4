"""Bot attack mix: a farm with a few SIM cards (``--bot-tokens`` voter tokens) hammers the vote endpoint.

    locust -f loadtests/locust/bots.py --headless --host http://127.0.0.1:8000 -u 20 -r 20 -t 30s
    python -m loadtests.locust bots

Bot kinds (locust user classes, by weight):

- ``SingleIpHammer`` (3): every vote from ONE address, random bot token, random candidate;
- ``SubnetRotator`` (3): a new address inside ONE /24 for every vote;
- ``Replayer`` (1): re-sends (token, candidate) pairs that were accepted before;
- ``Forger`` (1): forged, tampered, truncated or missing tokens;
- ``Phantom`` (1): candidates not on the ballot, a campaign that does not exist.

Expected answers (successes in locust's statistics, counted by outcome): 201 for a bot's genuinely new
vote, 401 ``invalid_token``, 404 ``candidate_not_on_ballot`` / ``campaign_not_found``, 409 ``already_voted``
/ ``vote_limit_reached``, 428 ``challenge_required`` (an address or /24 past its soft limit must solve a proof of
work, which these bots do not), 429 ``rate_limited``. Anything else is a failure; so is a 201 for a replay, a
forged token or a phantom candidate. The run FAILS when the bots got more accepted votes than
``tokens used x k`` (the cap), or any single token more than k; the summary's ``bots`` block says how many
bot votes got through and how many were refused, by reason. Tokens: ``--tokens-file`` (offline-minted; the
first ``--bot-tokens`` lines) or, without it, OTP sign-in through the dev outbox from the bot address.
Meant to be reused by the fraud defence: its accepted votes are the ones the fraud review must catch.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from locust import FastHttpUser, events, task  # noqa: E402

from loadtests.locust import common  # noqa: E402
from loadtests.locust.common import API, CAMPAIGN, OUTCOMES, expect, headers  # noqa: E402


@events.init_command_line_parser.add_listener
def _options(parser):  # type: ignore[no-untyped-def]
    common.add_options(parser, fail_ratio=0.01, p95_ms=1000, p99_ms=2000)
    parser.add_argument("--bot-tokens", type=int, default=10, env_var="LOCUST_BOT_TOKENS",
                        help="voter tokens the bot farm owns (default 10)")
    parser.add_argument("--bot-wait", type=float, default=0.01, env_var="LOCUST_BOT_WAIT",
                        help="seconds between a bot's requests (default 0.01)")


common.install("bots")

_rng = random.Random()
BOT_IP = common.random_ip(_rng)
BOT_NET = ".".join(common.random_ip(_rng).split(".")[:3])   # the /24 the rotator lives in
TOKENS: list[str] = []
_LOCK = common.bootstrap_lock()
ACCEPTED: Counter[str] = Counter()           # accepted votes per bot token
ACCEPTED_PAIRS: list[tuple[str, str]] = []   # (token, candidate) accepted, for the replayer
REFUSED: Counter[str] = Counter()            # refused bot votes by code
WRONG: Counter[str] = Counter()              # things that must never be accepted but were

VOTE_ANSWERS = {201: (), 401: ("invalid_token",), 404: ("candidate_not_on_ballot", "campaign_not_found"),
                409: ("already_voted", "vote_limit_reached"), 428: ("challenge_required",), 429: ("rate_limited",)}


@common.add_check
def _cap(env):  # type: ignore[no-untyped-def]
    used = len(ACCEPTED)
    accepted = sum(ACCEPTED.values())
    cap = len(TOKENS) * CAMPAIGN.k
    figures = {"bots": {"tokens": len(TOKENS), "tokens_with_accepted_votes": used, "k": CAMPAIGN.k,
                        "accepted": accepted, "cap": cap, "refused": sum(REFUSED.values()),
                        "refused_by_code": dict(REFUSED.most_common()), "wrongly_accepted": dict(WRONG),
                        "bot_ip": BOT_IP, "bot_net": f"{BOT_NET}.0/24"}}
    why = []
    if accepted > cap:
        why.append(f"bots got {accepted} accepted votes with {len(TOKENS)} tokens x k={CAMPAIGN.k} = {cap}")
    over = {t[:12]: n for t, n in ACCEPTED.items() if n > CAMPAIGN.k}
    if over:
        why.append(f"tokens over the cap k={CAMPAIGN.k}: {over}")
    if WRONG:
        why.append(f"accepted what must be refused: {dict(WRONG)}")
    if not TOKENS:
        why.append("the bots got no token")
    return figures, why


class Bot(FastHttpUser):
    abstract = True

    def wait_time(self) -> float:
        return self.environment.parsed_options.bot_wait

    def on_start(self) -> None:
        with _LOCK:
            if not TOKENS:
                self._acquire_tokens()

    def _acquire_tokens(self) -> None:
        n = self.environment.parsed_options.bot_tokens
        tf = common.token_file(self.environment)
        for _ in range(n):
            token = tf.take() if tf is not None else common.sign_in_outbox(self.client, self.environment,
                                                                           common.new_phone(), BOT_IP)
            if token:
                TOKENS.append(token)

    def vote(self, *, token: str | None, candidate: str, ip: str, name: str, campaign: str | None = None,
             must_refuse: str = "") -> None:
        h = headers(ip, self.environment, token, browser=False)
        if token is None:
            h.pop("Authorization", None)
        with self.client.post(f"{API}/campaigns/{campaign or CAMPAIGN.id}/votes", json={"candidate_id": candidate},
                              headers=h, name=name, catch_response=True) as r:
            status, code = expect(r, name, VOTE_ANSWERS)
        if status == 201:
            if must_refuse:
                WRONG[must_refuse] += 1
                OUTCOMES[f"{name} WRONGLY ACCEPTED"] += 1
            elif token:
                ACCEPTED[token] += 1
                ACCEPTED_PAIRS.append((token, candidate))
        elif status in VOTE_ANSWERS:
            REFUSED[f"{status} {code}"] += 1


class SingleIpHammer(Bot):
    weight = 3

    @task
    def hammer(self) -> None:
        if TOKENS:
            self.vote(token=random.choice(TOKENS), candidate=random.choice(CAMPAIGN.candidate_ids), ip=BOT_IP,
                      name="bot vote (one ip)")


class SubnetRotator(Bot):
    weight = 3

    @task
    def rotate(self) -> None:
        if TOKENS:
            self.vote(token=random.choice(TOKENS), candidate=random.choice(CAMPAIGN.candidate_ids),
                      ip=f"{BOT_NET}.{random.randrange(1, 255)}", name="bot vote (one /24)")


class Replayer(Bot):
    weight = 1

    @task
    def replay(self) -> None:
        if ACCEPTED_PAIRS:
            token, candidate = random.choice(ACCEPTED_PAIRS)
            self.vote(token=token, candidate=candidate, ip=f"{BOT_NET}.{random.randrange(1, 255)}",
                      name="bot replay", must_refuse="replay")


class Forger(Bot):
    weight = 1

    @task
    def forge(self) -> None:
        base = random.choice(TOKENS) if TOKENS else "eyJ4IjoxfQ.AAAA"
        payload, _, mac = base.partition(".")
        variants = [
            None,                                                      # no Authorization header
            "not-a-token",
            base[:-2],                                                 # truncated
            f"{payload}.{mac[:-1]}{'A' if mac[-1:] != 'A' else 'B'}",  # tampered MAC
            f"{payload[:-1]}{'A' if payload[-1:] != 'A' else 'B'}.{mac}",  # tampered payload
            "x" * 300,
        ]
        self.vote(token=random.choice(variants), candidate=random.choice(CAMPAIGN.candidate_ids), ip=BOT_IP,
                  name="bot forged token", must_refuse="forged token")


class Phantom(Bot):
    weight = 1

    @task
    def phantom(self) -> None:
        if not TOKENS:
            return
        token = random.choice(TOKENS)
        if random.random() < 0.2:
            self.vote(token=token, candidate=random.choice(CAMPAIGN.candidate_ids), ip=BOT_IP,
                      name="bot unknown campaign", campaign="999999999", must_refuse="unknown campaign")
            return
        ids = {int(c) for c in CAMPAIGN.candidate_ids if c.isdigit()}
        bogus = random.choice([str(max(ids, default=0) + 1 + random.randrange(10**6)), "0", "-1", "abc", "1e3"])
        self.vote(token=token, candidate=bogus, ip=f"{BOT_NET}.{random.randrange(1, 255)}",
                  name="bot unknown candidate", must_refuse="unknown candidate")
