"""``make fraud-eval``: labelled traffic replayed through the real services on loopback, then the fraud review's
flags scored against the labels (docs/fraud.md).

Stands up what production runs (a scratch database migrated, Redis, the voting service under granian in
production mode with 127.0.0.1 as the trusted proxy, the flusher), a small SMS gateway of its own that hands the
codes back to the clients, and a published campaign. Then, concurrently and in compressed time:

- an organic crowd: sign-in (code request, code check), then 1-3 votes seconds to a minute later, browsers on the
  portal's page (X-Page-Token), ru / kk / en; a quarter behind carrier-grade NAT addresses shared by ~20 people;
  a broadcast surge carrying a quarter of the crowd in a few seconds;
- ``farm_one_24``: scripts behind one /24 signing in and voting their cap for one candidate within seconds;
- ``farm_rotating``: a headless browser that loads the portal's page, a new /24 for every voter;
- ``sequential_phones``: numbers 00, 01, 02... of one block, each voting exactly 3 s after signing in;
- ``paid_burst``: real-looking voters (browsers, own phones and addresses, signed in over the run like anyone)
  told "vote now": all for one candidate within a few seconds.

Every client comes through X-Forwarded-For from the trusted proxy. A 428 ``challenge_required`` is solved as
the portal's worker would (ALTCHA: n in [0, maxnumber] with sha256(salt + n) == challenge) and the request
repeated with ``X-Challenge-Solution``; an organic voter who met one counts as challenged. After the flusher
drained, the fraud review (``admin_service.services.fraud``, the admin route's function) lists the flags; the
votes of each flagged cluster are fetched by cluster id, as an invalidation would take them.

Time is compressed (parse_args says how the crowd's span and the bucket were chosen); ``schedule_lag_s`` says how
late the clients started and ``paid_burst_spread_s`` over how many seconds the paid burst reached the service.

The last line of stdout is one JSON object: ``recall_<attack>`` (share of the attack's accepted votes in a
flagged cluster), ``organic_false_positive_rate`` (share of organic voters with a vote in one),
``organic_challenged_rate`` (share of organic voters challenged at least once), and the counts behind them
(``organic_voters_by_cluster``: the flagged clusters holding organic votes, and how many organic voters each).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis

from loadtests import stack
from loadtests.fraud_traffic import ATTACKS
from loadtests.pow import solution_header
from shared.infra import create_pool

BROWSER_UA = ("Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
              "Mobile Safari/537.36")
HEADLESS_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 "
               "Safari/537.36")
SCRIPT_UA = "python-requests/2.32.3"
OPERATORS = (700, 701, 702, 705, 706, 707, 708, 747, 771, 775, 776, 777, 778)


# --- the SMS gateway ------------------------------------------------------------------------------------

class Gateway:
    """POST {"to", "text"}: keeps the last code per phone for the clients (a real gateway delivers it)."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.waiters: dict[str, asyncio.Future[str]] = {}
        self.port = stack.free_port()
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = json.loads(await reader.readexactly(length)) if length else {}
                found = re.search(r"\b(\d{6})\b", body.get("text", ""))
                code = found[1] if found else ""
                phone = body.get("to", "")
                self.codes[phone] = code
                fut = self.waiters.pop(phone, None)
                if fut is not None and not fut.done():
                    fut.set_result(code)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def code_for(self, phone: str, timeout_s: float = 10.0) -> str:
        if phone in self.codes:
            return self.codes.pop(phone)
        fut = self.waiters[phone] = asyncio.get_running_loop().create_future()
        code = await asyncio.wait_for(fut, timeout_s)
        self.codes.pop(phone, None)
        return code

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


# --- the clients ----------------------------------------------------------------------------------------

@dataclass
class Voter:
    label: str
    phone: str
    ip: str
    ua: str
    page_token: bool
    lang: str
    choices: list[int]
    start_s: float       # when it starts signing in (from the run's start)
    think_s: float       # sign-in to first vote
    gaps_s: list[float] = field(default_factory=list)
    vote_at_s: float | None = None  # signed in earlier, votes at this moment (a group told "vote now")
    challenged: bool = False
    receipts: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)


class Client:
    def __init__(self, base_url: str, gateway: Gateway, campaign_id: int, scale: float) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30.0,
                                      limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))
        self.gateway = gateway
        self.campaign_id = campaign_id
        self.scale = scale
        self.statuses: Counter[int] = Counter()
        self.lag_s = 0.0  # the worst lateness of a voter's start: the machine could not keep the schedule

    async def _post(self, v: Voter, path: str, body: dict[str, Any], token: str | None = None) -> httpx.Response:
        headers = {"X-Forwarded-For": v.ip, "User-Agent": v.ua, "Accept-Language": v.lang}
        if v.page_token:
            headers["X-Page-Token"] = "portal"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        for _ in range(3):
            r = await self.http.post(path, json=body, headers=headers)
            self.statuses[r.status_code] += 1
            if r.status_code != 428:
                return r
            v.challenged = True
            challenge = r.json().get("challenge") or {}
            headers["X-Challenge-Solution"] = await asyncio.to_thread(solution_header, challenge)
        return r

    async def run(self, v: Voter, t0: float) -> None:
        await asyncio.sleep(max(0.0, t0 + v.start_s * self.scale - time.monotonic()))
        self.lag_s = max(self.lag_s, time.monotonic() - (t0 + v.start_s * self.scale))
        r = await self._post(v, "/api/v1/auth/otp", {"phone": v.phone})
        if r.status_code != 202:
            v.refused[f"otp:{r.status_code}"] += 1
            return
        code = await self.gateway.code_for(v.phone)
        await asyncio.sleep(1.0 * self.scale if v.label == "organic" else 0)  # reading the SMS
        r = await self._post(v, "/api/v1/auth/otp/verify", {"phone": v.phone, "code": code})
        if r.status_code != 200:
            v.refused[f"verify:{r.status_code}"] += 1
            return
        token = r.json()["token"]
        if v.vote_at_s is not None:
            await asyncio.sleep(max(0.0, t0 + v.vote_at_s * self.scale - time.monotonic()))
        else:
            await asyncio.sleep(v.think_s)  # real seconds: the signal is measured in them
        for i, cand in enumerate(v.choices):
            if i:
                await asyncio.sleep(v.gaps_s[i - 1])
            r = await self._post(v, f"/api/v1/campaigns/{self.campaign_id}/votes", {"candidate_id": str(cand)}, token)
            if r.status_code == 201:
                v.receipts.append(r.json()["receipt"])
            else:
                v.refused[f"vote:{r.status_code}"] += 1


def _phone(rng: random.Random) -> str:
    return f"+7{rng.choice(OPERATORS)}{rng.randrange(10_000_000):07d}"


def crowd(candidates: list[int], *, organic: int, duration_s: float, seed: int, k: int) -> list[Voter]:
    """The labelled voters (start times in the run's compressed seconds; think times in real seconds)."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) ** 0.8 for i in range(len(candidates))]
    used: set[str] = set()

    def phone() -> str:
        while (p := _phone(rng)) in used:
            pass
        used.add(p)
        return p

    def picks(n: int, favourite: int | None = None) -> list[int]:
        out = [favourite] if favourite is not None else []
        while len(out) < n:
            c = rng.choices(candidates, weights)[0]
            if c not in out:
                out.append(c)
        return out

    def human_think() -> float:
        return min(40.0, rng.lognormvariate(math.log(10), 0.8) + 6)

    voters: list[Voter] = []
    cgnat = [f"100.{64 + a % 4}.{a // 4}.{17 + a}" for a in range(max(2, organic // 80))]
    for i in range(organic):
        start = (0.6 + rng.random() * 0.04) * duration_s if rng.random() < 0.25 else rng.random() * duration_s
        ip = rng.choice(cgnat) if rng.random() < 0.25 else \
            f"{rng.randrange(2, 90)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        n = rng.choices([1, 2, 3], [45, 25, 30])[0]
        voters.append(Voter("organic", phone(), ip, BROWSER_UA, True, rng.choices(["ru-RU,ru;q=0.9", "kk-KZ,kk",
                            "en-US,en;q=0.8"], [60, 35, 5])[0], picks(min(n, k)), start, human_think(),
                            [rng.uniform(2, 8) for _ in range(2)]))
    c = candidates
    for i in range(40):  # farm_one_24
        voters.append(Voter("farm_one_24", phone(), f"203.0.113.{10 + i}", SCRIPT_UA, False, "en", picks(k, c[5]),
                            0.2 * duration_s + i * 0.3, 0.3, [0.2, 0.2]))
    for i in range(50):  # farm_rotating
        voters.append(Voter("farm_rotating", phone(), f"{150 + i % 40}.{rng.randrange(256)}.{i}.{rng.randrange(1, 255)}",
                            HEADLESS_UA, True, "ru-RU,ru", [c[6]], 0.35 * duration_s + i * 0.4, 0.3))
    base = 7_050_000_000 + rng.randrange(100_000) * 100
    for i in range(25):  # sequential_phones
        voters.append(Voter("sequential_phones", f"+7{base + i}", f"46.{40 + i % 3}.7.{20 + i % 5}", BROWSER_UA, True,
                            "ru-RU,ru", [c[7]], 0.5 * duration_s + i * 0.8, 3.0))
    for i in range(80):  # paid_burst: signed in over the run, then told "vote now": they do, within seconds
        voters.append(Voter("paid_burst", phone(), f"{rng.randrange(2, 90)}.{rng.randrange(256)}.{rng.randrange(256)}."
                            f"{rng.randrange(1, 255)}", BROWSER_UA, True, "ru-RU,ru", [c[8]],
                            rng.random() * 0.6 * duration_s, 0.0,
                            vote_at_s=0.85 * duration_s + 20 + rng.random() * 4))
    return voters


# --- scoring --------------------------------------------------------------------------------------------

def score(voters: list[Voter], flagged: dict[str, set[str]]) -> dict[str, Any]:
    hit = set().union(*flagged.values()) if flagged else set()
    out: dict[str, Any] = {}
    for attack in ATTACKS:
        votes = [r for v in voters if v.label == attack for r in v.receipts]
        out[f"recall_{attack}"] = round(sum(r in hit for r in votes) / len(votes), 4) if votes else None
        out[f"votes_{attack}"] = len(votes)
    organic = [v for v in voters if v.label == "organic"]
    voted = [v for v in organic if v.receipts]
    out["organic_false_positive_rate"] = round(
        sum(any(r in hit for r in v.receipts) for v in voted) / max(1, len(voted)), 4)
    out["organic_challenged_rate"] = round(sum(v.challenged for v in organic) / max(1, len(organic)), 4)
    out["organic_voters"] = len(organic)
    out["organic_voted"] = len(voted)
    out["organic_votes"] = sum(len(v.receipts) for v in organic)
    out["flags"] = len(flagged)
    # which flags the false positives come from: organic voters with a vote in each flagged cluster
    out["organic_voters_by_cluster"] = {cid: n for cid, votes in sorted(flagged.items())
                                        if (n := sum(any(r in votes for r in v.receipts) for v in voted))}
    return out


# --- the run --------------------------------------------------------------------------------------------

async def run(opts: argparse.Namespace) -> dict[str, Any]:
    from admin_service.services import fraud

    workdir = Path(tempfile.mkdtemp(prefix="fraud-eval-"))
    server = os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres")
    db = stack.ScratchDatabase(server)
    credentials = stack.ServiceCredentials()
    redis_url = stack.with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"), f"/{opts.redis_db}")
    r = aioredis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=10)
    gateway = Gateway()
    procs: list[stack.Process] = []
    pool = None
    try:
        await r.flushdb()
        db_url = await db.create()
        service_urls = await credentials.create(db_url, redis_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VOTE_LIMIT_", "PROMETHEUS_MULTIPROC"))}
        await gateway.start()
        env.update(stack.production_env(database_url=db_url, redis_url=redis_url, service_urls=service_urls,
                                        token_key=secrets.token_bytes(32), pseudonym_key=secrets.token_bytes(32)))
        env.update(SMS_GATEWAY_URL=f"http://127.0.0.1:{gateway.port}/send", FLUSHER_METRICS_PORT="0",
                   FRAUD_BUCKET_S=str(opts.bucket_s), FLUSHER_CONSUMER="fraud-eval")
        pool = await create_pool(db_url, min_size=1, max_size=4)
        camp = await stack.publish_campaign(pool, r, candidates=opts.candidates, k=3, shards=2, voter_buckets=256)
        port = stack.free_port()
        procs.append(stack.Process("flusher", [sys.executable, "-m", "voting_service", "flusher"], env,
                                   workdir / "flusher.log").start())
        voting = stack.Process("voting", [sys.executable, "-m", "voting_service", "serve", "--host", "127.0.0.1",
                                          "--port", str(port), "--workers", str(opts.workers)], env,
                               workdir / "voting.log", port=port).start()
        procs.append(voting)
        stack.wait_ready(voting, f"http://127.0.0.1:{port}/health/ready")
        voters = crowd(camp.candidate_ids, organic=opts.organic, duration_s=opts.duration, seed=opts.seed, k=3)
        stack.log(f"fraud-eval: {len(voters)} voters ({opts.organic} organic) over {opts.duration} s")
        client = Client(f"http://127.0.0.1:{port}", gateway, camp.id, 1.0)
        t0 = time.monotonic()
        results = await asyncio.gather(*(client.run(v, t0) for v in voters), return_exceptions=True)
        errors = [repr(x) for x in results if isinstance(x, BaseException)]
        traffic_s = time.monotonic() - t0
        stack.log(f"fraud-eval: traffic done in {time.monotonic() - t0:.0f} s; statuses {dict(client.statuses)}; "
                  f"{len(errors)} client errors {errors[:3]}")
        await client.http.aclose()
        accepted = sum(len(v.receipts) for v in voters)
        deadline = time.monotonic() + 60
        while await pool.fetchval("SELECT count(*) FROM votes WHERE campaign_id = $1", camp.id) < accepted:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the flusher did not write the {accepted} accepted votes:\n{procs[0].tail()}")
            await asyncio.sleep(0.5)
        started = time.perf_counter()
        found = await fraud.flags(pool, campaign_id=camp.id, limit=fraud.MAX_LIMIT)
        review_ms = (time.perf_counter() - started) * 1000
        flagged = {i["cluster_id"]: set(await fraud.cluster_vote_ids(pool, campaign_id=camp.id,
                                                                     cluster_id=i["cluster_id"]))
                   for i in found["items"]}
        report = score(voters, flagged)
        paid = [r for v in voters if v.label == "paid_burst" for r in v.receipts]
        spread = await pool.fetchval("SELECT extract(epoch FROM max(cast_at) - min(cast_at)) FROM votes "
                                     "WHERE campaign_id = $1 AND vote_id = ANY($2::text[])", camp.id, paid)
        report.update(review_ms=round(review_ms, 1), client_errors=len(errors), schedule_lag_s=round(client.lag_s, 1),
                      paid_burst_spread_s=round(float(spread or 0), 1),
                      traffic_s=round(traffic_s, 1),
                      refused=dict(sum((v.refused for v in voters), Counter())),
                      flagged_clusters=sorted(flagged), duration_s=opts.duration, seed=opts.seed)
        return report
    finally:
        for p in reversed(procs):
            p.stop()
        await gateway.stop()
        if pool is not None:
            await pool.close()
        await credentials.drop()
        if opts.keep_db:
            stack.log(f"fraud-eval: database kept: {db.url}")
        else:
            await db.drop()
        await r.aclose()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--organic", type=int, default=1200, help="organic voters")
    # Time is compressed: weeks of a campaign into minutes. An attack's window (the paid burst's seconds, a
    # bucket or two) holds the organic votes its candidate gets meanwhile, a share of the crowd of about
    # window / duration: in production 3 minutes of 23 days, here 5 s of 240 s (0.2 % of organic voters at
    # most, with the candidate's 5 %); at 40 s it was 2 % whatever the detector. The bucket is as fine as the
    # service's timing allows (a paid burst reaches a quiet service within ~4 s; a loaded one spreads it over
    # 15-30 s and the 2 s buckets no longer see it: paid_burst_spread_s in the report).
    p.add_argument("--duration", type=float, default=240.0, help="seconds over which voters start signing in "
                                                                 "(the organic crowd's span)")
    p.add_argument("--bucket-s", type=int, default=2, help="the burst detector's bucket (60 in production; "
                                                            "the run is compressed)")
    p.add_argument("--candidates", type=int, default=20)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--seed", type=int, default=2017)
    p.add_argument("--redis-db", type=int, default=12)
    p.add_argument("--keep-db", action="store_true", help="keep the scratch database (to look into it)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    report = asyncio.run(run(opts))
    print(json.dumps(report, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
