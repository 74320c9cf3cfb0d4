"""Commands: ``serve`` (granian), ``flusher``, ``reconcile``, ``migrate``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from shared.errors import ConfigError


def _serve(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from granian import Granian
    from granian.constants import Interfaces, Loops

    from shared.settings import Settings

    settings = Settings.from_env(service="voting")  # fail fast on bad configuration, before forking workers
    metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers are processes: their metrics meet in one directory that /metrics reads. Set before any
        # worker imports prometheus_client (this process never imports the app); removed on exit.
        metrics_dir = tempfile.mkdtemp(prefix="voting-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        # The production flags (measured in docs/performance.md): RSGI (the vote route served natively, the
        # rest through the ASGI bridge, voting_service/app.py), uvloop, no websockets, backpressure 512.
        interface = Interfaces(args.interface)
        Granian(
            target="voting_service.app:create_app", factory=True, interface=interface,
            address=args.host, port=args.port or settings.voting_port, workers=args.workers,
            loop=Loops.uvloop, websockets=False, backpressure=512,
        ).serve()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


async def _flusher_main() -> int:
    from prometheus_client import start_http_server

    from shared.infra import create_pool, create_redis
    from shared.settings import Settings
    from voting_service import flusher_metrics
    from voting_service.flusher import Flusher

    settings = Settings.from_env(service="flusher")  # holds no key: it moves votes, it reads nothing personal
    flusher_metrics.prime()  # every series from the start
    if settings.flusher_metrics_port:
        start_http_server(settings.flusher_metrics_port, addr=os.environ.get("FLUSHER_METRICS_HOST", "127.0.0.1"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(settings.database_url, min_size=0, max_size=4)  # starts even while Postgres is down
    r = create_redis(settings.redis_url, timeout_s=max(settings.redis_timeout_s, 2.0))
    try:
        await Flusher(settings, pool, r).run(stop)
    finally:
        await r.aclose()
        await pool.close()
    return 0


async def _reconcile_main(args: argparse.Namespace) -> int:
    from shared.infra import create_pool, create_redis
    from shared.store_access import service_urls
    from shared.votestore.reconcile import format_reports, reconcile

    database_url, redis_url = service_urls(os.environ, "flusher")  # reads what the flusher reads, nothing more
    if args.every:
        from voting_service.reconcile_watch import watch

        return await watch(database_url, redis_url, every_s=args.every, wait_s=args.wait, campaign_id=args.campaign,
                           metrics_port=args.metrics_port, metrics_host=os.environ.get("RECONCILE_METRICS_HOST",
                                                                                       "127.0.0.1"))
    pool = await create_pool(database_url, min_size=1)
    r = create_redis(redis_url, timeout_s=5.0)
    try:
        reports = await reconcile(pool, r, campaign_id=args.campaign, wait_s=args.wait)
    finally:
        await r.aclose()
        await pool.close()
    print(format_reports(reports))
    return 0 if all(rep.clean for rep in reports) else 1


async def _attack_main(args: argparse.Namespace) -> int:
    """Show, set or clear the national attack level of the vote (voting_service/services/attack.py)."""
    from shared.infra import create_redis
    from shared.store_access import service_urls
    from shared.votestore import keys
    from voting_service.services.attack import MAX_LEVEL, current_level

    _, redis_url = service_urls(os.environ, "flusher")  # the flusher's credentials: it declares the level too
    r = create_redis(redis_url, timeout_s=5.0)
    try:
        if args.action == "set":
            if not 1.0 <= args.level <= MAX_LEVEL:  # nan fails this too
                print(f"voting_service attack: the level must be 1..{MAX_LEVEL:g}, not {args.level:g}",
                      file=sys.stderr)
                return 2
            if args.hold < 1:
                print(f"voting_service attack: --hold must be at least 1 second, not {args.hold}", file=sys.stderr)
                return 2
            await r.set(keys.ATTACK_LEVEL, repr(args.level), ex=args.hold)
        elif args.action == "clear":
            await r.delete(keys.ATTACK_LEVEL)
        level, ttl = await current_level(r)
    finally:
        await r.aclose()
    print(f"attack level {level:g} for {ttl} s more" if level else "no attack declared")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(prog="python -m voting_service")
    parser.add_argument("--env-file", metavar="PATH", help="read NAME=value lines from PATH first (variables "
                        "already set win), e.g. .data/dev.env written by `make run`")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the public API with granian")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("VOTING_WORKERS", "2")))
    serve.add_argument("--interface", choices=("rsgi", "asgi"), default=os.environ.get("VOTING_INTERFACE", "rsgi"),
                       help="granian interface (default VOTING_INTERFACE or rsgi: the vote route served natively)")
    sub.add_parser("flusher", help="move accepted votes from Redis streams to Postgres")
    rec = sub.add_parser("reconcile", help="compare Redis tallies with Postgres counts; exit 1 on any difference")
    rec.add_argument("--campaign", type=int, default=None)
    rec.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the streams to drain")
    rec.add_argument("--every", type=float, default=0.0, metavar="S",
                     help="keep running: reconcile every S seconds and export the result as Prometheus metrics "
                          "(reconcile_mismatch_votes, ...) on --metrics-port (voting_service/reconcile_watch.py)")
    rec.add_argument("--metrics-port", type=int, default=int(os.environ.get("RECONCILE_METRICS_PORT", "9102")))
    sub.add_parser("migrate", help="apply database migrations")
    att = sub.add_parser("attack", help="show, set or clear the national attack level: every vote needs proof of "
                         "work while it is set (the flusher sets it by itself: docs/fraud.md)")
    att.add_argument("action", choices=("show", "set", "clear"))
    att.add_argument("level", type=float, nargs="?", default=1.0,
                     help="set: 1 (the base difficulty) .. 16; each doubling doubles the work")
    att.add_argument("--hold", type=int, default=3600, help="set: seconds before it lapses (default 3600)")
    args = parser.parse_args(argv)
    if args.command == "serve" and args.interface not in ("rsgi", "asgi"):  # a bad VOTING_INTERFACE
        parser.error(f"VOTING_INTERFACE must be rsgi or asgi, not {args.interface!r}")
    from shared.envfile import apply_env_file

    try:
        if args.env_file:
            apply_env_file(args.env_file)
        return _run(args)
    except ConfigError as exc:  # one line naming what is wrong, no traceback
        print(f"voting_service: configuration error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        return _serve(args)
    if args.command == "flusher":
        import uvloop  # the workers' event loop too: cheaper socket I/O per batch than asyncio's own

        return uvloop.run(_flusher_main())
    if args.command == "reconcile":
        return asyncio.run(_reconcile_main(args))
    if args.command == "attack":
        return asyncio.run(_attack_main(args))
    from shared.migrate import main as migrate_main

    migrate_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
