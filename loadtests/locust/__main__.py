"""Run one locust scenario headless, with one command: ``python -m loadtests.locust <scenario> [options]``.

Target: by default the voting service ``make run`` started in this folder, read from ``.data/dev.env``
(``VOTING_URL``, written by ``make run``; its development keys, for minted tokens, from ``.data/secrets.env``),
when it answers; ``--host URL`` names another service (``--host make-run`` insists on ``make run``'s).
Without either, or with ``--own-stack``, it first stands up a local stack the way the benchmark does
(loadtests/stack.py): a
scratch Postgres database (``bench_<random>``, migrated, dropped at the end), Redis database ``--redis-db``
(default 6; flushed at start and end), a campaign published with the production SQL and Redis projection
(open now, k = 3, ``--candidates`` on the ballot), the voting service (``python -m voting_service serve``,
granian, ``--workers``) and the flusher. That stack runs with ``APP_ENV=development``, ``SMS_BACKEND=outbox``
(so the OTP flow works), the default rate limits ON, and ``TRUSTED_PROXIES=127.0.0.1/32`` so each simulated
person's ``X-Forwarded-For`` address is their address. After a voting scenario it waits for the flusher
to drain and runs ``python -m voting_service reconcile``; a dirty reconcile fails the run.

Sign-in (``--sign-in``): ``outbox`` = the real OTP flow through the dev outbox route; ``tokens`` = voter
tokens minted offline into a file (``--prepare`` is the same as ``--sign-in tokens``; with ``--host`` it
needs the target's ``VOTER_TOKEN_KEY`` and ``PSEUDONYM_KEY`` in the environment). ``auto`` (default):
outbox for ``steady``, tokens for ``surge`` and ``bots`` (they test the vote path; the OTP path has its
own storm); ``otp_storm`` and ``results`` need no tokens.

Options not listed below are passed to locust (e.g. ``--think-min 0.1``, ``--max-p95-ms 800``,
``--peak-users 500``, ``--bot-tokens 20``). The exit code is locust's: 0 when the scenario's thresholds
and checks passed, 1 otherwise (and 1 when a reconcile is dirty). The last stdout line is the summary JSON.

Examples::

    python -m loadtests.locust steady                      # 100 users, 60 s, OTP sign-in, make run's stack
    python -m loadtests.locust surge --peak-users 400 --hold-s 30
    python -m loadtests.locust otp_storm -u 50 -t 30s
    python -m loadtests.locust results -u 200 -t 30s
    python -m loadtests.locust bots -u 20 -t 30s
    python -m loadtests.locust steady --own-stack          # a scratch stack of its own
    python -m loadtests.locust steady --host http://127.0.0.1:8000 -u 200 -t 60s   # another service
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loadtests.locust import SCENARIOS

if TYPE_CHECKING:
    from shared.crypto import KeyRing

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEV_ENV = ROOT / ".data" / "dev.env"          # written by `make run`: VOTING_URL, ADMIN_URL, store URLs
DEV_SECRETS = ROOT / ".data" / "secrets.env"  # `make run`'s development keys

# users, spawn rate, run time when not given
DEFAULTS: dict[str, tuple[int, float, str]] = {
    "steady": (100, 20, "60s"),
    "surge": (0, 0, ""),          # the shape decides
    "otp_storm": (50, 25, "30s"),
    "results": (200, 50, "30s"),
    "bots": (20, 20, "30s"),
}
ALIASES = {"otp": "otp_storm", "storm": "otp_storm", "bot": "bots", "poll": "results"}
VOTING = {"steady", "surge", "bots"}


def log(msg: str) -> None:
    print(f"[locust-run {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(prog="python -m loadtests.locust", description=__doc__.split("\n\n")[0],
                                epilog="Other options go to locust (see the scenario files).")
    p.add_argument("scenario", choices=sorted((*SCENARIOS, *ALIASES)))
    p.add_argument("--host", default="", help="target service URL, or make-run (default: the voting service "
                   "`make run` started, from .data/dev.env, if it answers; else a local stack)")
    p.add_argument("--own-stack", action="store_true", help="always start a scratch stack of its own")
    p.add_argument("-u", "--users", type=int, default=0)
    p.add_argument("-r", "--spawn-rate", type=float, default=0)
    p.add_argument("-t", "--run-time", default="")
    p.add_argument("--sign-in", choices=("auto", "outbox", "tokens"), default="auto")
    p.add_argument("--prepare", action="store_true", help="mint offline voter tokens (= --sign-in tokens)")
    p.add_argument("--tokens", type=int, default=0, help="tokens to mint (default: sized from users and time)")
    p.add_argument("--campaign-id", default="", help="with --host: the campaign (default: the first open one)")
    p.add_argument("--workers", type=int, default=int(os.environ.get("VOTING_WORKERS", "2")))
    p.add_argument("--candidates", type=int, default=100)
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--redis-db", type=int, default=int(os.environ.get("LOCUST_REDIS_DB", "6")))
    p.add_argument("--keep", type=Path, default=None, help="copy the stack's logs and the tokens file here")
    o, extra = p.parse_known_args(argv)
    o.scenario = ALIASES.get(o.scenario, o.scenario)
    return o, extra


def make_run_url(dev_env: Path | None = None) -> str:
    """The voting service ``make run`` started in this folder, if it answers as one ('' otherwise): the URL
    from .data/dev.env, never a guess at the default port (whatever listens there)."""
    from shared.envfile import read_env_file

    url = read_env_file(dev_env or DEV_ENV).get("VOTING_URL", "").rstrip("/")
    if not url:
        return ""
    import httpx

    try:
        live = httpx.get(f"{url}/health/live", timeout=2)
        campaigns = httpx.get(f"{url}/api/v1/campaigns", timeout=5)
        if live.status_code == 200 and campaigns.status_code == 200 and isinstance(campaigns.json(), list):
            return url
    except (httpx.HTTPError, ValueError):
        pass
    return ""


def target(o: argparse.Namespace) -> str:
    """The service to load ('' = start a local stack)."""
    if o.own_stack:
        return ""
    if o.host == "make-run":
        url = make_run_url()
        if not url:
            raise SystemExit(f"--host make-run: no voting service answers at the VOTING_URL of {DEV_ENV} "
                             "(is `make run` running in this folder?)")
        return url
    if o.host:
        return o.host.rstrip("/")
    url = make_run_url()
    if url:
        log(f"target: the voting service `make run` started, {url} (from {DEV_ENV}; --own-stack for a scratch "
            "stack)")
    else:
        log("target: a scratch stack of its own (no `make run` answering at the VOTING_URL of .data/dev.env)")
    return url


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _seconds(run_time: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1}
    total, num = 0.0, ""
    for ch in run_time:
        if ch.isdigit() or ch == ".":
            num += ch
        elif ch in units and num:
            total, num = total + float(num) * units[ch], ""
    return total + (float(num) if num else 0)


def _extra_value(extra: list[str], name: str, default: float) -> float:
    for i, a in enumerate(extra):
        if a == name and i + 1 < len(extra):
            return float(extra[i + 1])
        if a.startswith(name + "="):
            return float(a.split("=", 1)[1])
    return default


def sign_in_mode(o: argparse.Namespace) -> str:
    if o.prepare or o.sign_in == "tokens":
        return "tokens"
    if o.sign_in == "outbox":
        return "outbox"
    return {"surge": "tokens", "bots": "tokens"}.get(o.scenario, "outbox")


def tokens_needed(o: argparse.Namespace, extra: list[str]) -> int:
    if o.tokens:
        return o.tokens
    if o.scenario == "bots":
        return int(_extra_value(extra, "--bot-tokens", 10))
    if o.scenario == "surge":
        peak = _extra_value(extra, "--peak-users", 300)
        span = sum(_extra_value(extra, n, d) for n, d in (("--ramp-s", 10), ("--hold-s", 30), ("--ramp-down-s", 10)))
        return int(peak * span * 1.5) + 1000   # a citizen takes >= ~1.5 s (>= 3 steps of >= 0.2 s + answers)
    return int(o.users * _seconds(o.run_time) * 1.0) + 1000


def mint_tokens(path: Path, n: int, token_key: bytes | KeyRing, pseudonym_key: bytes) -> None:
    """Tokens exactly as sign-in issues them (fraud signals included), for the phones of voters random base + i."""
    from loadtests.votedata import phone_of, voter_token
    from shared.crypto import VoterTokens

    issuer = VoterTokens(token_key, 24 * 3600)
    base = secrets.randbelow(10**8)
    with path.open("w", encoding="ascii") as f:
        for i in range(n):
            f.write(voter_token(issuer, pseudonym_key, phone_of((base + i) % 10**9)) + "\n")


class LocalStack:
    """Database, Redis db, campaign, voting service and flusher, as loadtests.bench starts them."""

    def __init__(self, o: argparse.Namespace, workdir: Path) -> None:
        from loadtests import stack

        self.o = o
        self.stack = stack
        self.workdir = workdir
        self.db = stack.ScratchDatabase(os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:5432/postgres"))
        self.redis_url = stack.with_path(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"), f"/{o.redis_db}")
        self.procs: list[Any] = []
        self.token_key = secrets.token_bytes(32)
        self.pseudonym_key = secrets.token_bytes(32)
        self.campaign: Any = None
        self.env: dict[str, str] = {}
        self.host = ""

    async def _setup_data(self) -> None:
        import redis.asyncio as aioredis

        from shared.infra import create_pool

        r = aioredis.Redis.from_url(self.redis_url, decode_responses=True)
        try:
            await r.flushdb()
            db_url = await self.db.create()
            pool = await create_pool(db_url, min_size=1, max_size=2)
            try:
                self.campaign = await self.stack.publish_campaign(
                    pool, r, candidates=self.o.candidates, k=self.o.k, shards=1, voter_buckets=1024)
            finally:
                await pool.close()
        finally:
            await r.aclose()
        self.env = {
            **{k: v for k, v in os.environ.items()
               if not k.startswith(("VOTE_LIMIT_", "OTP_", "PROMETHEUS_MULTIPROC"))},
            "APP_ENV": "development", "SMS_BACKEND": "outbox", "DATABASE_URL": db_url, "REDIS_URL": self.redis_url,
            "VOTER_TOKEN_KEY": base64.urlsafe_b64encode(self.token_key).decode(),
            "PSEUDONYM_KEY": base64.urlsafe_b64encode(self.pseudonym_key).decode(),
            "CONTACT_PUBLIC_KEY": self.stack.contact_public_key(),
            "TRUSTED_PROXIES": "127.0.0.1/32",
            "FLUSHER_METRICS_PORT": str(self.stack.free_port()), "FLUSHER_METRICS_HOST": "127.0.0.1",
            "FLUSHER_CONSUMER": "locust-flusher", "LOG_LEVEL": "WARNING",
        }

    def start(self) -> None:
        asyncio.run(self._setup_data())
        log(f"database {self.db.name}, Redis {self.redis_url}, campaign {self.campaign.id} "
            f"({len(self.campaign.candidate_ids)} candidates, k={self.campaign.k}); rate limits at their defaults")
        self._spawn("flusher", [sys.executable, "-m", "voting_service", "flusher"], self.env)
        port = self.stack.free_port()
        metrics = self.workdir / "prometheus"
        metrics.mkdir(exist_ok=True)
        p = self._spawn("voting", [sys.executable, "-m", "voting_service", "serve", "--host", "127.0.0.1", "--port",
                                   str(port), "--workers", str(self.o.workers)],
                        {**self.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)})
        self.host = f"http://127.0.0.1:{port}"
        self.stack.wait_ready(p, f"{self.host}/health/ready")
        log(f"voting service on {self.host} ({self.o.workers} granian workers), flusher running")

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> Any:
        p = self.stack.Process(name, cmd, env, self.workdir / f"{name}.log").start()
        self.procs.append(p)
        return p

    def cpu_groups(self) -> dict[str, list[int]]:
        import redis

        by_name = {p.name: p for p in self.procs}
        r = redis.Redis.from_url(self.redis_url)
        try:
            redis_pid = int(r.info("server")["process_id"])
        finally:
            r.close()
        return {"workers": by_name["voting"].children(), "granian_main": [by_name["voting"].pid],
                "flusher": [by_name["flusher"].pid], "redis": [redis_pid],
                "postgres": self.stack.pids_named("postgres")}

    def reconcile(self) -> tuple[bool, str]:
        rec = subprocess.run([sys.executable, "-m", "voting_service", "reconcile", "--campaign",
                              str(self.campaign.id), "--wait", "30"], env=self.env, capture_output=True, text=True,
                             cwd=ROOT, timeout=90)
        return rec.returncode == 0, (rec.stdout.strip() or rec.stderr.strip()[-300:])

    def stop(self, failed: bool) -> None:
        for p in reversed(self.procs):
            if failed:
                log(f"--- last lines of {p.name} log ---\n{p.tail()}")
            p.stop()
        self.procs.clear()

        async def _clean() -> None:
            import redis.asyncio as aioredis

            r = aioredis.Redis.from_url(self.redis_url)
            try:
                await r.flushdb()
            finally:
                await r.aclose()
                await self.db.drop()

        asyncio.run(_clean())


def locust_command(o: argparse.Namespace, extra: list[str], host: str, campaign_id: str, tokens: Path | None,
                   summary: Path) -> list[str]:
    users, rate, run_time = DEFAULTS[o.scenario]
    cmd = [sys.executable, "-m", "locust", "-f", str(HERE / f"{o.scenario}.py"), "--headless", "--host", host,
           "--only-summary", "--exit-code-on-error", "1", "--stop-timeout", "5", "--summary-file", str(summary)]
    if o.scenario != "surge":
        cmd += ["-u", str(o.users or users), "-r", str(o.spawn_rate or rate or o.users or users),
                "-t", o.run_time or run_time]
    if campaign_id:
        cmd += ["--campaign-id", campaign_id]
    if tokens is not None:
        cmd += ["--tokens-file", str(tokens)]
    return cmd + extra


def run(o: argparse.Namespace, extra: list[str]) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="locust-"))
    summary_path = workdir / "summary.json"
    o.host = target(o)
    local = None if o.host else LocalStack(o, workdir)
    failed = True
    rc = 1
    summary: dict[str, Any] = {}
    try:
        mode = sign_in_mode(o) if o.scenario in VOTING else "outbox"
        if local is not None:
            local.start()
            host, campaign_id = local.host, str(local.campaign.id)
            keys = (local.token_key, local.pseudonym_key)
        else:
            host, campaign_id = o.host.rstrip("/"), o.campaign_id
            keys = None
            if mode == "tokens":
                from shared.crypto import KeyRing
                from shared.envfile import read_env_file
                from shared.settings import _b64, _keyed

                env = {**read_env_file(DEV_SECRETS), **os.environ} if host == make_run_url() else dict(os.environ)
                try:  # the token key as the service reads it (``<id>:<base64>`` or ``<base64>``)
                    keys = (KeyRing((_keyed(env["VOTER_TOKEN_KEY"], "VOTER_TOKEN_KEY"),)),
                            _b64(env["PSEUDONYM_KEY"], "PSEUDONYM_KEY"))
                except KeyError:
                    log("--prepare/--sign-in tokens with --host needs the target's VOTER_TOKEN_KEY and PSEUDONYM_KEY")
                    return 2
        tokens = None
        if mode == "tokens" and keys is not None:
            o.users, o.run_time = o.users or DEFAULTS[o.scenario][0], o.run_time or DEFAULTS[o.scenario][2]
            n = tokens_needed(o, extra)
            tokens = workdir / "tokens.txt"
            started = time.perf_counter()
            mint_tokens(tokens, n, *keys)
            log(f"minted {n} voter tokens offline in {time.perf_counter() - started:.1f} s")
        cmd = locust_command(o, extra, host, campaign_id, tokens, summary_path)
        log(f"{o.scenario}: sign-in {mode if o.scenario in VOTING or o.scenario == 'otp_storm' else 'none'}; "
            + " ".join(cmd[1:]))
        groups = local.cpu_groups() if local is not None else {}
        cpu0 = local.stack.cpu_snapshot(groups) if local is not None else {}
        proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        rc = proc.returncode
        if summary_path.exists():
            summary = json.loads(summary_path.read_text())
        if local is not None and summary.get("requests"):
            # Server CPU per request of this scenario (Redis and Postgres are whole servers: other users of
            # the same servers count too). Steadier than rates on a shared machine.
            groups["postgres"] = local.stack.pids_named("postgres")   # backends opened during the run too
            after = local.stack.cpu_snapshot(groups)
            cpu = {g: round(sum(max(0.0, t - cpu0.get(g, {}).get(pid, 0.0)) for pid, t in pids.items()), 2)
                   for g, pids in after.items()}
            summary["server_cpu_s"] = cpu
            summary["server_cpu_us_per_request"] = {g: round(1e6 * c / summary["requests"])
                                                    for g, c in cpu.items()}
        if not summary:
            summary = {"scenario": o.scenario, "passed": False, "reasons": [f"locust exited {rc} without a summary"]}
            rc = rc or 1
        if local is not None and o.scenario in VOTING:
            clean, text = local.reconcile()
            summary["reconcile_clean"], summary["reconcile"] = clean, text
            log(f"reconcile: {text}")
            if not clean:
                summary["passed"] = False
                summary.setdefault("reasons", []).append("reconcile not clean")
                rc = rc or 1
        summary["exit_code"] = rc
        failed = rc not in (0, 1)
        return rc
    finally:
        if local is not None:
            local.stop(failed)
        if o.keep is not None:
            shutil.copytree(workdir, o.keep, dirs_exist_ok=True)
            log(f"logs kept in {o.keep}")
        shutil.rmtree(workdir, ignore_errors=True)
        if summary:
            print(json.dumps(summary, ensure_ascii=False), flush=True)


def main(argv: list[str] | None = None) -> int:
    o, extra = parse_args(argv)

    def _term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    try:
        return run(o, extra)
    except KeyboardInterrupt:
        log("interrupted; everything stopped and dropped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
