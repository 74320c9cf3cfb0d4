"""The hash-chained audit log (migration 0005): every entry covers the previous entry's hash, the database fills
the chain as the admin role inserts, and ``python -m admin_service verify-audit`` finds an edit made by the
owner (the only role that can disable the append-only trigger) and names the entry."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from urllib.parse import urlsplit

import asyncpg

from admin_service.audit_chain import GENESIS, entry_hash, verify
from admin_service.repos import audit as audit_repo
from shared.infra import create_pool
from shared.migrate import available, migrate
from tests.integration.admin.conftest import temporary_database, with_path

ENTRIES = [  # what the canonical serialisation must survive: NULLs, nested JSON, non-ASCII, newlines, numbers
    dict(actor_id=None, actor_email="system", action="campaign.create", entity_type="campaign", entity_id="1",
         old=None, new={"title": {"kk": "Жаңа есімдер", "ru": "Новые лица"}, "k": 3}, reason=""),
    dict(actor_id=None, actor_email="a@100faces.kz", action="candidate.transition", entity_type="candidate",
         entity_id="42", old={"status": "nominated"}, new={"status": "verified", "n": [1.50, 2e3, None, True]},
         reason="line one\nline two \"quoted\" \\ tab\t"),
    dict(actor_id=None, actor_email="b@100faces.kz", action="votes.invalidate", entity_type="campaign",
         entity_id="7", old=[], new={"vote_ids": ["x" * 40] * 3, "": "", "z": {"a": {}}}, reason="ѹ 🗳️ ключ"),
    dict(actor_id=None, actor_email="c@100faces.kz", action="user.create", entity_type="user", entity_id="3",
         old=None, new=None, reason="12:3"),
]


def admin_url_for(service_env: dict[str, str], database_url: str) -> str:
    """The admin service's role on another database of the same server."""
    return with_path(service_env["ADMIN_DATABASE_URL"], urlsplit(database_url).path.lstrip("/"))


async def append(url: str, entries=ENTRIES) -> list[int]:
    pool = await create_pool(url, min_size=1, max_size=1)  # with the services' JSON codecs
    try:
        async with pool.acquire() as conn:
            for e in entries:
                await audit_repo.insert(conn, **e)
            return [r["id"] for r in await conn.fetch("SELECT id FROM audit_log ORDER BY chain_seq")]
    finally:
        await pool.close()


async def verify_url(url: str):
    conn = await asyncpg.connect(url)
    try:
        return await verify(conn)
    finally:
        await conn.close()


def verify_cli(admin_url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env.update({"APP_ENV": "production", "ADMIN_DATABASE_URL": admin_url})  # the command needs nothing else
    return subprocess.run([sys.executable, "-m", "admin_service", "verify-audit"], env=env, capture_output=True,
                          text=True, timeout=60)


async def as_owner_bypassing_the_trigger(url: str, sql: str, *args) -> None:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
            await conn.execute(sql, *args)
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
    finally:
        await conn.close()


async def test_verify_audit_passes_an_intact_log_and_names_the_entry_the_owner_edited(fresh_database_url,
                                                                                     service_env):
    admin_url = admin_url_for(service_env, fresh_database_url)
    ids = await append(admin_url)
    conn = await asyncpg.connect(fresh_database_url)
    try:
        rows = await conn.fetch("SELECT chain_seq, prev_hash, entry_hash FROM audit_log ORDER BY chain_seq")
    finally:
        await conn.close()
    assert [r["chain_seq"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["entry_hash"] for a, b in zip(rows, rows[1:]))

    ok = await asyncio.to_thread(verify_cli, admin_url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "intact: 4 entries" in ok.stdout

    await as_owner_bypassing_the_trigger(fresh_database_url, "UPDATE audit_log SET reason = 'nothing happened' "
                                                             "WHERE id = $1", ids[2])
    bad = await asyncio.to_thread(verify_cli, admin_url)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"id={ids[2]}" in bad.stderr and "altered" in bad.stderr, bad.stderr


async def test_an_edit_that_also_rewrites_the_hash_is_caught_at_the_next_entry(fresh_database_url, service_env):
    admin_url = admin_url_for(service_env, fresh_database_url)
    ids = await append(admin_url)
    await as_owner_bypassing_the_trigger(
        fresh_database_url,
        "UPDATE audit_log SET new_value = '{\"status\": \"rejected\"}', entry_hash = audit_log_entry_hash("
        "chain_seq, id, at, actor_id, actor_email, action, entity_type, entity_id, old_value, "
        "'{\"status\": \"rejected\"}', reason, client_ip_hash, prev_hash) WHERE id = $1", ids[1])
    report = await verify_url(admin_url)
    assert (report.bad_id, report.entries) == (ids[2], 2), report.describe()


async def test_a_removed_entry_is_caught(fresh_database_url, service_env):
    admin_url = admin_url_for(service_env, fresh_database_url)
    ids = await append(admin_url)
    await as_owner_bypassing_the_trigger(fresh_database_url, "DELETE FROM audit_log WHERE id = $1", ids[1])
    report = await verify_url(admin_url)
    assert report.bad_id == ids[2] and "removed" in report.reason, report.describe()


async def test_concurrent_inserts_form_one_chain(fresh_database_url, service_env):
    admin_url = admin_url_for(service_env, fresh_database_url)
    pool = await create_pool(admin_url, min_size=8, max_size=8)
    try:
        async def one(n: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await audit_repo.insert(conn, actor_id=None, actor_email=f"w{n}@100faces.kz", action="probe",
                                        entity_type="test", entity_id=str(n), old=None, new=None, reason="")
                await asyncio.sleep(0.005 * (n % 3))  # hold the transaction open: the next insert must wait
        await asyncio.gather(*(one(n) for n in range(40)))
    finally:
        await pool.close()
    report = await verify_url(admin_url)
    assert report.intact and report.entries == 40, report.describe()


async def test_rows_from_before_the_migration_start_the_chain(server_url, service_env):
    async with temporary_database(server_url) as url:
        pool = await create_pool(url, min_size=1, max_size=1)
        conn = await pool.acquire()
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")  # an older deployment
            early = [m for m in available() if m.version <= 3]
            for mig in early:
                await conn.execute(mig.sql)
            await conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                               "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            for mig in early:
                await conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                   mig.version, mig.name, mig.checksum)
            for e in ENTRIES:  # as the admin service wrote them before 0005 (no client address column yet)
                await conn.execute(
                    "INSERT INTO audit_log (actor_id, actor_email, action, entity_type, entity_id, old_value, "
                    "new_value, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", e["actor_id"], e["actor_email"],
                    e["action"], e["entity_type"], e["entity_id"], e["old"], e["new"], e["reason"])
            applied = await migrate(conn)
            assert "0005_least_privilege.sql" in applied
            rows = await conn.fetch("SELECT id, chain_seq, prev_hash FROM audit_log ORDER BY chain_seq")
            assert [r["chain_seq"] for r in rows] == [1, 2, 3, 4] and rows[0]["prev_hash"] == GENESIS
            assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)  # chained in id order
            await audit_repo.insert(conn, **ENTRIES[0])  # and the trigger carries on from there
            report = await verify(conn)
            assert report.intact and report.entries == 5, report.describe()
        finally:
            await pool.release(conn)
            await pool.close()


async def test_the_python_and_sql_serialisations_agree_on_every_real_admin_entry(staff, pool):
    """Entries written by the admin service itself (through its own role) in this session's database."""
    admin = await staff("admin")
    r = await admin.post("/api/v1/users", json={"email": "chain-probe@100faces.kz", "password": "Another-Long-Pass-1",
                                                "roles": ["auditor"]})
    assert r.status_code in (200, 201), r.text
    async with pool.acquire() as conn:
        report = await verify(conn)
        assert report.intact and report.entries >= 1, report.describe()
        last = await conn.fetchrow("SELECT id, chain_seq, at, actor_id, actor_email, action, entity_type, entity_id, "
                                   "old_value::text AS old_value, new_value::text AS new_value, reason, client_ip_hash, prev_hash, "
                                   "entry_hash FROM audit_log ORDER BY chain_seq DESC LIMIT 1")
        assert last["action"].startswith("user.") and entry_hash(last, last["prev_hash"]) == last["entry_hash"]
