"""Command line of the admin service: ``python -m admin_service <command>``.

serve         run the HTTP service under granian (ASGI, factory ``admin_service.app:create_app``)

create-user   create a staff account: ``create-user --email E --role admin`` (password from ADMIN_PASSWORD
              or a prompt); there are no default accounts

verify-audit  recompute the audit log's hash chain: exit 0 if intact, 1 naming the first bad entry
              (needs only ADMIN_DATABASE_URL, or DATABASE_URL in development/test)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

from shared.envfile import apply_env_file
from shared.errors import ConfigError
from shared.settings import Settings

TARGET = "admin_service.app:create_app"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    metrics_dir = None
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several worker processes: each keeps its metrics in files here and /metrics sums them.
        # Set before any worker imports prometheus_client (this process never imports the app).
        metrics_dir = tempfile.mkdtemp(prefix="admin-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        Granian(
            target=TARGET,
            factory=True,
            interface=Interfaces.ASGI,
            address=args.host,
            port=args.port if args.port is not None else settings.admin_port,
            workers=args.workers,
            log_access=args.access_log,
        ).serve()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio
    import getpass

    import asyncpg

    from admin_service.services.users import create_user
    from shared.errors import AppError
    from shared.infra import create_pool

    password = os.environ.get("ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("admin_service: set ADMIN_PASSWORD or run in a terminal to be prompted", file=sys.stderr)
            return 2
        password = getpass.getpass("Password (12+ characters): ")
        if getpass.getpass("Repeat: ") != password:
            print("admin_service: the passwords differ", file=sys.stderr)
            return 2

    async def run() -> int:
        try:
            pool = await create_pool(settings.database_url, min_size=1, max_size=1)
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"admin_service: cannot reach the database: {exc}", file=sys.stderr)
            return 1
        try:
            row = await create_user(pool, email=args.email, password=password, roles=args.role, actor=None)
        except AppError as exc:
            print(f"admin_service: {exc.code}: {exc.detail}", file=sys.stderr)
            return 1
        finally:
            await pool.close()
        print(f"created user {row['id']} {row['email']} roles={','.join(row['roles'])}")
        return 0

    return asyncio.run(run())


def _verify_audit(args: argparse.Namespace) -> int:
    import asyncio

    import asyncpg

    from admin_service.audit_chain import verify
    from shared.store_access import service_database_url

    try:
        database_url = service_database_url(os.environ, "admin")
    except ConfigError as exc:
        print(f"admin_service: configuration error: {exc}", file=sys.stderr)
        return 2

    async def run() -> int:
        try:
            conn = await asyncpg.connect(database_url, timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"admin_service: cannot reach the database: {exc}", file=sys.stderr)
            return 2
        try:
            report = await verify(conn)
        finally:
            await conn.close()
        print(report.describe(), file=sys.stdout if report.intact else sys.stderr)
        return 0 if report.intact else 1

    return asyncio.run(run())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m admin_service", description="100 New Faces — admin service")
    parser.add_argument("--env-file", metavar="PATH", help="read NAME=value lines from PATH first (variables "
                        "already set win), e.g. .data/dev.env written by `make run`")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service under granian")
    # Internal service: loopback unless told otherwise (containers pass --host 0.0.0.0).
    serve.add_argument("--host", default=os.environ.get("ADMIN_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=None, help="default: ADMIN_PORT or 8001")
    serve.add_argument("--workers", type=int, default=int(os.environ.get("ADMIN_WORKERS", "1")))
    serve.add_argument("--access-log", action="store_true")
    serve.set_defaults(handler=_serve, service="admin")

    cu = commands.add_parser("create-user", help="create a staff account (password from ADMIN_PASSWORD or a prompt)")
    cu.add_argument("--email", required=True)
    cu.add_argument("--role", required=True, action="append",
                    choices=["admin", "secretariat", "expert", "working_group", "auditor"],
                    help="repeat for several roles")
    cu.set_defaults(handler=_create_user, service=None)  # needs the database, no key

    va = commands.add_parser("verify-audit", help="check the audit log's hash chain (exit 1 on a broken chain)")
    va.set_defaults(handler=_verify_audit, needs_settings=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.env_file:
            apply_env_file(args.env_file)
        if not getattr(args, "needs_settings", True):
            return args.handler(args)
        # Fail here, once, with a readable message, rather than in every worker.
        settings = Settings.from_env(service=args.service)
    except ConfigError as exc:
        print(f"admin_service: configuration error: {exc}", file=sys.stderr)
        return 2
    return args.handler(args, settings)


if __name__ == "__main__":
    sys.exit(main())
