"""Results polling: the live-results page and the campaign list, refreshed every 1-5 s by many readers.

    locust -f loadtests/locust/results.py --headless --host http://127.0.0.1:8000 -u 200 -r 50 -t 60s
    python -m loadtests.locust results

GET /campaigns (weight 2), /campaigns/{id} (1), /campaigns/{id}/results (6), /campaigns/{id}/candidates (1).
A 403 ``results_hidden`` is expected when the campaign has live results off. Fails above 1 % failures,
p95 > 300 ms or p99 > 800 ms.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from locust import FastHttpUser, between, events, task  # noqa: E402

from loadtests.locust import common  # noqa: E402
from loadtests.locust.common import API, CAMPAIGN, OUTCOMES, expect, headers  # noqa: E402


@events.init_command_line_parser.add_listener
def _options(parser):  # type: ignore[no-untyped-def]
    common.add_options(parser, fail_ratio=0.01, p95_ms=300, p99_ms=800)
    parser.add_argument("--think-min", type=float, default=1.0, env_var="LOCUST_THINK_MIN")
    parser.add_argument("--think-max", type=float, default=5.0, env_var="LOCUST_THINK_MAX")


common.install("results")


class ResultsReader(FastHttpUser):
    def wait_time(self) -> float:
        o = self.environment.parsed_options
        return between(o.think_min, o.think_max)(self)

    def on_start(self) -> None:
        self.ip = common.random_ip()
        self.last_total = -1

    def _get(self, path: str, name: str, allowed: dict) -> object:  # type: ignore[type-arg]
        with self.client.get(path, headers=headers(self.ip, self.environment), name=name, catch_response=True) as r:
            status, _ = expect(r, name, allowed)
            return r.json() if status == 200 else None

    @task(2)
    def campaigns(self) -> None:
        body = self._get(f"{API}/campaigns", "campaigns", {200: ()})
        if isinstance(body, list) and CAMPAIGN.id not in [str(c.get("id")) for c in body]:
            OUTCOMES["campaign missing from list"] += 1

    @task(1)
    def campaign(self) -> None:
        self._get(f"{API}/campaigns/{CAMPAIGN.id}", "campaign", {200: ()})

    @task(6)
    def results(self) -> None:
        hidden = () if CAMPAIGN.live_results else ("results_hidden",)
        body = self._get(f"{API}/campaigns/{CAMPAIGN.id}/results", "results", {200: (), 403: hidden})
        if isinstance(body, dict):
            total = int(body.get("total_votes", 0))
            if total < self.last_total:
                OUTCOMES["results went backwards"] += 1  # a tally never decreases while voting is open
            self.last_total = total

    @task(1)
    def candidates(self) -> None:
        self._get(f"{API}/campaigns/{CAMPAIGN.id}/candidates", "ballot", {200: ()})
