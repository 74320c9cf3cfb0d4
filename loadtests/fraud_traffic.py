"""Labelled synthetic vote rows for the fraud detectors: an organic crowd and the attacks of docs/fraud.md, as
the flusher's rows (``voting_service.flusher.to_row``'s shape: campaign, vote id, candidate, voter, ip hash,
network, cast ms, then the signals), so tests and the summary filler feed them through the flusher's own
statement (``voting_service.repos.votes.insert_batch``). Deterministic for a seed; no I/O.

The organic crowd: candidate popularity Zipf-like; most voters alone on their address, some behind
carrier-grade NAT (a few hundred voters per address); a broadcast surge (arrivals x6 for a while, every
candidate alike); browsers on the portal's page; seconds from sign-in to the first vote log-normal around 30 s,
further votes later; Accept-Language ru / kk / en; phones spread over the country's number blocks.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

ATTACKS = ("farm_one_24", "farm_rotating", "sequential_phones", "paid_burst")
Row = tuple


def _h(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:16]


@dataclass
class Traffic:
    campaign_id: int
    candidates: list[int]
    k: int = 3
    seed: int = 1
    start_ms: int = 1_767_225_600_000  # 2026-01-01T00:00Z
    rows: list[Row] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # vote id -> "organic" or an attack
    _n: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        weights = [1 / (i + 1) ** 0.8 for i in range(len(self.candidates))]
        self.weights = weights

    def _vote(self, label: str, voter: str, cand: int, ip: str, net: str, ms: int, dt: int, ua: str, pt: bool,
              lang: str, block: str, seq: int, op: str = "701") -> None:
        self._n += 1
        vid = f"{label[:2]}{self.seed}x{self._n}"
        self.rows.append((self.campaign_id, vid, cand, voter, ip, net, ms, dt, ua, pt, op, lang, block, seq))
        self.labels[vid] = label

    def _choices(self, n: int, favourite: int | None = None) -> list[int]:
        picks: list[int] = []
        if favourite is not None:
            picks.append(favourite)
        while len(picks) < n:
            c = self.rng.choices(self.candidates, self.weights)[0]
            if c not in picks:
                picks.append(c)
        return picks

    def organic(self, voters: int, *, duration_s: int, surge_at: float = 0.6, surge_len: float = 0.05,
                cgnat_share: float = 0.25, cgnat_addresses: int = 20) -> None:
        rng = self.rng
        # arrivals: uniform, plus a broadcast surge carrying ~25 % of the crowd in surge_len of the time
        for i in range(voters):
            if rng.random() < 0.25:
                t = (surge_at + rng.random() * surge_len) * duration_s
            else:
                t = rng.random() * duration_s
            voter = "o" + _h(self.seed, "voter", i)
            if rng.random() < cgnat_share:
                a = rng.randrange(cgnat_addresses)
                ip, net = "cg" + _h("cgnat", a), f"100.{64 + a % 8}.{a // 8}.0/24"
            else:
                a = rng.randrange(1 << 20)
                ip, net = "ip" + _h(self.seed, "addr", i), f"{10 + a % 200}.{(a >> 8) % 256}.{a % 256}.0/24"
            dt = int(rng.lognormvariate(math.log(30), 0.8)) + 6
            lang = rng.choices(["ru", "kk", "en"], [60, 35, 5])[0]
            block = "b" + _h("block", rng.randrange(400_000))
            n = rng.choices([1, 2, 3], [45, 25, 30])[0] if self.k >= 3 else 1
            ms = self.start_ms + int(t * 1000)
            for j, cand in enumerate(self._choices(min(n, self.k))):
                self._vote("organic", voter, cand, ip, net, ms, dt, "browser", True, lang, block, 0)
                gap = int(rng.expovariate(1 / 20)) + 3
                ms += gap * 1000
                dt += gap

    def farm_one_24(self, voters: int, *, at_s: int, cand: int) -> None:
        """Scripts behind one /24, each voting its cap within two seconds of signing in."""
        rng = self.rng
        for i in range(voters):
            ms = self.start_ms + (at_s + i * 2) * 1000
            voter = "f" + _h(self.seed, "farm", i)
            host = rng.randrange(2, 250)
            for j, c in enumerate(self._choices(self.k, cand)):
                self._vote("farm_one_24", voter, c, "fa" + _h("farm", host), "203.0.113.0/24", ms + j * 300,
                           1 + j, "script", False, "en", "b" + _h("fblock", rng.randrange(400_000)), 0)

    def farm_rotating(self, voters: int, *, at_s: int, cand: int) -> None:
        """A headless browser loading the portal's page, a new /24 for every voter."""
        rng = self.rng
        for i in range(voters):
            ms = self.start_ms + (at_s + i * 3) * 1000
            voter = "r" + _h(self.seed, "rot", i)
            a = rng.randrange(1 << 16)
            net = f"{150 + a % 50}.{a >> 8}.{a % 256}.0/24"
            self._vote("farm_rotating", voter, cand, "ro" + _h("rot", i), net, ms, 2 + rng.randrange(2), "headless",
                       True, "ru", "b" + _h("rblock", rng.randrange(400_000)), 0)

    def sequential_phones(self, voters: int, *, at_s: int, cand: int) -> None:
        """Numbers 00, 01, 02... of one block, each signing in and voting exactly 30 s later, real browsers."""
        block = "b" + _h(self.seed, "seqblock")
        for i in range(voters):
            ms = self.start_ms + (at_s + i * 20) * 1000
            voter = "s" + _h(self.seed, "seq", i)
            self._vote("sequential_phones", voter, cand, "sq" + _h("seq", i % 5), f"10.99.{i % 5}.0/24", ms, 30,
                       "browser", True, "ru", block, min(i + 1, 100))

    def paid_burst(self, voters: int, *, at_s: int, cand: int, within_s: int = 120) -> None:
        """Real people paid to vote for one candidate within two minutes: browsers, own phones, own addresses."""
        rng = self.rng
        for i in range(voters):
            ms = self.start_ms + int((at_s + rng.random() * within_s) * 1000)
            voter = "p" + _h(self.seed, "paid", i)
            a = rng.randrange(1 << 20)
            self._vote("paid_burst", voter, cand, "pa" + _h(self.seed, "paid", i),
                       f"{10 + a % 200}.{(a >> 8) % 256}.{a % 256}.0/24", ms,
                       int(rng.lognormvariate(math.log(30), 0.8)) + 6, "browser", True, "ru",
                       "b" + _h("pblock", rng.randrange(400_000)), 0)

    def batches(self, size: int = 2000) -> Iterator[list[Row]]:
        rows = sorted(self.rows, key=lambda r: r[6])
        for i in range(0, len(rows), size):
            yield rows[i:i + size]


def scenario(campaign_id: int, candidates: list[int], *, organic: int = 4000, seed: int = 1,
             duration_s: int = 4 * 3600) -> Traffic:
    """The standard mix: the organic crowd over ``duration_s`` and the four attacks, each on its own candidate
    (a mid-table one), at different times."""
    t = Traffic(campaign_id, candidates, seed=seed)
    t.organic(organic, duration_s=duration_s)
    c = candidates
    t.farm_one_24(60, at_s=duration_s // 5, cand=c[5 % len(c)])
    t.farm_rotating(80, at_s=duration_s // 3, cand=c[6 % len(c)])
    t.sequential_phones(30, at_s=duration_s // 2, cand=c[7 % len(c)])
    t.paid_burst(120, at_s=int(duration_s * 0.8), cand=c[8 % len(c)])
    return t
