"""A citizen who votes: sign in, open the ballot, cast up to k votes (now and then tapping one twice), check
``my-votes``, leave; the same locust user then plays the next citizen. Shared by ``steady`` and ``surge``."""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, task
from locust.exception import StopUser

from loadtests.locust import common
from loadtests.locust.common import API, CAMPAIGN, OUTCOMES, expect, headers


class Voter(FastHttpUser):
    abstract = True
    repeat_share = 0.1   # share of citizens who tap a candidate twice (answer 409 already_voted: expected)

    def on_start(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.token: str | None = None
        self.ip = common.random_ip()
        self.chosen: list[str] = []
        self.wants = 0
        self.repeated = False
        self.checked = False

    @task
    def step(self) -> None:
        """One step per task run, so locust's wait_time is the citizen's think time between steps."""
        if self.token is None:
            self.sign_in()
        elif len(self.chosen) < self.wants:
            self.vote()
        elif not self.repeated and random.random() < self.repeat_share:
            self.repeat()
        elif not self.checked:
            self.my_votes()
        else:
            self._reset()

    def sign_in(self) -> None:
        token = common.next_voter_token(self.client, self.environment, self.ip)
        if token is None:
            if common.token_file(self.environment) is not None:
                raise StopUser  # file exhausted: this user is done (counted as "tokens exhausted")
            return
        self.token = token
        self.wants = random.randint(1, CAMPAIGN.k)
        with self.client.get(f"{API}/campaigns/{CAMPAIGN.id}/candidates", headers=headers(self.ip, self.environment),
                             name="ballot", catch_response=True) as r:
            expect(r, "ballot", {200: ()})

    def vote(self) -> None:
        candidate = random.choice([c for c in CAMPAIGN.candidate_ids if c not in self.chosen])
        with self._post_vote(candidate) as r:
            status, _ = expect(r, "vote", {201: ()})
            if status == 201:
                self.chosen.append(candidate)
                left = r.json().get("votes_left")
                if left != CAMPAIGN.k - len(self.chosen):
                    r.failure(f"votes_left {left} after {len(self.chosen)} of {CAMPAIGN.k} votes")
            else:
                self.wants = len(self.chosen)  # give up on the rest, as a refused citizen would

    def repeat(self) -> None:
        self.repeated = True
        if not self.chosen:
            return
        with self._post_vote(random.choice(self.chosen), name="vote repeat") as r:
            expect(r, "vote repeat", {409: ("already_voted",)})

    def my_votes(self) -> None:
        self.checked = True
        with self.client.get(f"{API}/campaigns/{CAMPAIGN.id}/my-votes",
                             headers=headers(self.ip, self.environment, self.token), name="my-votes",
                             catch_response=True) as r:
            status, _ = expect(r, "my-votes", {200: ()})
            if status == 200 and sorted(r.json().get("candidate_ids", [])) != sorted(self.chosen):
                OUTCOMES["my-votes mismatch"] += 1
                r.failure(f"my-votes {r.json()} != chosen {self.chosen}")

    def _post_vote(self, candidate: str, name: str = "vote") -> Any:
        return self.client.post(f"{API}/campaigns/{CAMPAIGN.id}/votes", json={"candidate_id": candidate},
                                headers=headers(self.ip, self.environment, self.token), name=name,
                                catch_response=True)
