"""Least privilege in Postgres (migration 0005): the services' roles cannot change the schema, disable triggers,
rewrite the audit log or reach tables that are not theirs; what they do every day still works."""

from __future__ import annotations

import re
import secrets

import asyncpg
import pytest

from shared.migrate import apply_grants
from tests.factories import make_campaign

SERVICES = ("voting", "flusher", "admin")
DENIED = asyncpg.InsufficientPrivilegeError


@pytest.fixture
def pools(voting_pool, flusher_pool, admin_pool) -> dict[str, asyncpg.Pool]:
    return {"voting": voting_pool, "flusher": flusher_pool, "admin": admin_pool}


async def refused(pool: asyncpg.Pool, sql: str, *args) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(DENIED):
            await conn.execute(sql, *args)


async def test_each_role_is_itself_and_no_superuser(pools):
    for service, p in pools.items():
        row = await p.fetchrow("SELECT current_user AS me, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                               "WHERE rolname = current_user")
        assert row["me"].endswith(f"_{service}")
        assert not (row["rolsuper"] or row["rolcreaterole"] or row["rolcreatedb"])
        assert await p.fetchval("SELECT pg_has_role(current_user, $1, 'USAGE')", f"faces_{service}_grp")


@pytest.mark.parametrize("service", SERVICES)
async def test_no_role_can_change_the_schema_or_the_triggers(pools, service):
    p = pools[service]
    await refused(p, "ALTER TABLE votes ADD COLUMN sneaky int")
    await refused(p, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
    await refused(p, "ALTER TABLE audit_log DISABLE TRIGGER ALL")
    await refused(p, "ALTER TABLE campaign_results DISABLE TRIGGER campaign_results_no_update")
    await refused(p, "CREATE TABLE sneaky (x int)")
    await refused(p, "CREATE TEMP TABLE sneaky (x int)")
    await refused(p, "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    await refused(p, "DROP TABLE nominations")
    await refused(p, "TRUNCATE votes")
    await refused(p, "UPDATE audit_log SET reason = 'rewritten'")
    await refused(p, "DELETE FROM audit_log")


async def test_the_admin_role_appends_to_the_audit_log_and_nothing_else(admin_pool, pool):
    await admin_pool.execute("INSERT INTO audit_log (actor_email, action, entity_type, entity_id, reason) "
                             "VALUES ('probe@100faces.kz', 'probe', 'test', '1', 'least privilege test')")
    assert await admin_pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'probe'") >= 1
    # The chain columns, the id and the time are the database's: the service cannot choose them.
    await refused(admin_pool, "INSERT INTO audit_log (actor_email, action, entity_type, entity_id, at) "
                              "VALUES ('x@y', 'probe', 'test', '1', now() - interval '1 year')")
    await refused(admin_pool, "INSERT INTO audit_log (actor_email, action, entity_type, entity_id, entry_hash) "
                              "VALUES ('x@y', 'probe', 'test', '1', repeat('0', 64))")
    await refused(admin_pool, "UPDATE audit_log SET reason = 'rewritten' WHERE action = 'probe'")
    await refused(admin_pool, "DELETE FROM audit_log WHERE action = 'probe'")
    # Votes: only the invalidation columns may change; results are insert-only.
    await refused(admin_pool, "UPDATE votes SET candidate_id = 1")
    await refused(admin_pool, "INSERT INTO votes (campaign_id, vote_id, candidate_id, voter, cast_at) "
                              "VALUES (1, 'x', 1, 'v', now())")
    await refused(admin_pool, "DELETE FROM votes")
    await refused(admin_pool, "UPDATE campaign_results SET policy = 'x'")
    await refused(admin_pool, "DELETE FROM candidates")


async def test_the_voting_role_reads_the_public_card_and_writes_nominations_only(voting_pool):
    assert await voting_pool.fetchval("SELECT count(*) FROM campaigns") >= 0
    assert await voting_pool.fetchval("SELECT count(full_name) FROM candidates") >= 0
    await refused(voting_pool, "SELECT contact_sealed FROM candidates")
    await refused(voting_pool, "SELECT birth_year FROM candidates")
    await refused(voting_pool, "SELECT source_name FROM candidates")
    await refused(voting_pool, "SELECT voter FROM votes")
    await refused(voting_pool, "SELECT nominator_sealed FROM nominations")
    for table in ("users", "sessions", "login_attempts", "audit_log", "expert_reviews"):
        await refused(voting_pool, f"SELECT 1 FROM {table}")
    # The portal (migration 0006): the public texts of a card, the frozen result without the staff's report,
    # a nomination's status by reference but never what it says or who sent it.
    assert await voting_pool.fetchval(
        "SELECT count(*) FROM candidates WHERE story <> '' OR texts <> '{}' OR text_lang = 'kk' "
        "OR achievements IS NOT NULL") >= 0
    assert await voting_pool.fetchval("SELECT count(counts) FROM campaign_results") >= 0
    assert await voting_pool.fetchval("SELECT count(*) FROM nominations WHERE reference = 'NF-0000-0000'") == 0
    await refused(voting_pool, "SELECT report FROM campaign_results")
    await refused(voting_pool, "SELECT finalised_by FROM campaign_results")
    for column in ("nominee", "story", "consent", "phone_confirmed", "nominator_pseudonym", "ip_hash"):
        await refused(voting_pool, f"SELECT {column} FROM nominations")
    await refused(voting_pool, "UPDATE candidates SET texts = '{}'")
    await refused(voting_pool, "INSERT INTO campaign_results (campaign_id) VALUES (1)")
    await refused(voting_pool, "INSERT INTO votes (campaign_id, vote_id, candidate_id, voter, cast_at) "
                               "VALUES (1, 'x', 1, 'v', now())")
    await refused(voting_pool, "UPDATE campaigns SET state = 'draft'")
    await refused(voting_pool, "UPDATE nominations SET status = 'accepted'")
    await refused(voting_pool, "SELECT faces_ensure_votes_partition(1)")


async def test_the_flusher_role_inserts_votes_and_reads_what_it_reconciles(flusher_pool, pool, redis):
    camp = await make_campaign(pool, redis, candidates=2, k=1)
    vote_id = secrets.token_hex(8)
    insert = ("INSERT INTO votes (campaign_id, vote_id, candidate_id, voter, cast_at) VALUES ($1, $2, $3, 'v', now()) "
              "ON CONFLICT (campaign_id, vote_id) DO NOTHING")
    assert await flusher_pool.execute(insert, camp.id, vote_id, camp.candidate_ids[0]) == "INSERT 0 1"
    assert await flusher_pool.execute(insert, camp.id, vote_id, camp.candidate_ids[0]) == "INSERT 0 0"
    await refused(flusher_pool, "UPDATE votes SET invalidated_at = now()")
    await refused(flusher_pool, "DELETE FROM votes")
    await refused(flusher_pool, "SELECT voter FROM votes")
    for table in ("users", "sessions", "nominations", "audit_log", "candidates"):
        await refused(flusher_pool, f"SELECT 1 FROM {table}")
    await refused(flusher_pool, f"SELECT 1 FROM votes_c{camp.id}")  # partitions only through their parent


async def test_a_table_added_by_a_later_migration_belongs_to_the_admin_service(pool, pools):
    table = f"later_{secrets.token_hex(4)}"
    async with pool.acquire() as owner:
        await owner.execute(f"CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, x text)")
        try:
            await apply_grants(owner)  # what shared/migrate.py runs after every migration run
            await pools["admin"].execute(f"INSERT INTO {table} (x) VALUES ('a')")
            await pools["admin"].execute(f"DELETE FROM {table}")
            await refused(pools["voting"], f"SELECT 1 FROM {table}")
            await refused(pools["flusher"], f"SELECT 1 FROM {table}")
        finally:
            await owner.execute(f"DROP TABLE {table}")


async def test_portal_columns_are_checked_by_the_database(pool):
    """Migration 0006: texts only in kk/ru/en, a known text language, references unique and well-formed."""
    async with pool.acquire() as conn:
        outer = conn.transaction()  # rolled back: no test row stays for the other tests (the triage queue)
        await outer.start()
        try:
            await _portal_columns(conn)
        finally:
            await outer.rollback()


async def _portal_columns(conn: asyncpg.Connection) -> None:
    cid = await conn.fetchval(
        "INSERT INTO candidates (full_name, region, sphere, gender, birth_year, story, source_kind) "
        "VALUES ('Тест Тестов', 'KZ-75', 'social', 'male', 1990, 'История', 'self') RETURNING id")
    assert await conn.fetchval("SELECT text_lang || texts::text FROM candidates WHERE id = $1", cid) == "ru{}"
    for bad in ("UPDATE candidates SET texts = '{\"de\": {}}' WHERE id = $1",
                "UPDATE candidates SET texts = '[]' WHERE id = $1",
                "UPDATE candidates SET text_lang = 'de' WHERE id = $1"):
        with pytest.raises(asyncpg.CheckViolationError):
            async with conn.transaction():  # a savepoint: the test's own transaction goes on
                await conn.execute(bad, cid)
    await conn.execute("UPDATE candidates SET text_lang = 'kk', texts = '{\"en\": {\"story\": \"x\"}}' "
                       "WHERE id = $1", cid)
    insert = ("INSERT INTO nominations (nominee, story, achievements, nominator_kind, nominator_sealed, "
              "nominator_pseudonym, reference) VALUES ('{}', 's', '[]', 'self', '\\x00', 'p', $1)")
    ref = "NF-" + secrets.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") * 4 + "-7K3F"
    await conn.execute(insert, ref)
    with pytest.raises(asyncpg.UniqueViolationError):
        async with conn.transaction():
            await conn.execute(insert, ref)
    for bad_ref in ("NF-7K3F-9QX", "NF-IIII-0000", "nf-7k3f-9qxd", "XX-7K3F-9QXD"):
        with pytest.raises(asyncpg.CheckViolationError):
            async with conn.transaction():
                await conn.execute(insert, bad_ref)
    with pytest.raises(asyncpg.NotNullViolationError):
        async with conn.transaction():
            await conn.execute(insert, None)
    # Every other insert gets a reference from the database: well-formed and different each time.
    made = [await conn.fetchval(
        "INSERT INTO nominations (nominee, story, achievements, nominator_kind, nominator_sealed, "
        "nominator_pseudonym) VALUES ('{}', 's', '[]', 'self', '\\x00', 'p') RETURNING reference")
        for _ in range(20)]
    assert len(set(made)) == 20
    assert all(re.fullmatch(r"NF-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", m) for m in made)
    sample = await conn.fetchval("SELECT count(DISTINCT faces_nomination_reference()) "
                                 "FROM generate_series(1, 20000)")
    assert sample == 20000


async def test_the_voting_role_cannot_choose_a_reference(voting_pool):
    await refused(voting_pool, "INSERT INTO nominations (nominee, story, achievements, nominator_kind, "
                               "nominator_sealed, nominator_pseudonym, reference) "
                               "VALUES ('{}', 's', '[]', 'self', '\\x00', 'p', 'NF-0000-0000')")
