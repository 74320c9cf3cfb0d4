-- Least privilege in Postgres (issue 8 item 6) and a hash-chained audit log.
--
-- Migrations run as the OWNER role (whoever DATABASE_URL names; it owns every table). The three processes
-- log in with their own roles, each a member of one NOLOGIN group created here:
--   faces_voting_grp   the public voting service: reads published campaigns and ballots, inserts nominations,
--                      reads a receipt's status
--   faces_flusher_grp  the flusher (and `voting_service reconcile`): inserts votes, reads what it reconciles
--   faces_admin_grp    the admin service: its own tables; the audit log is INSERT + SELECT only
-- None of them owns anything, so none can ALTER TABLE, DISABLE TRIGGER, CREATE, DROP or TRUNCATE.
-- Groups are cluster-wide: created here only if missing (several databases, e.g. concurrent test runs, share
-- them), never dropped by a migration.
--
-- The grants themselves live in faces_apply_grants(), which shared/migrate.py runs again after every migration
-- run, so a table added by a later migration gets its grants without repeating them: a table listed below gets
-- exactly what is listed; any other table of the schema is an admin-service table (SELECT, INSERT, UPDATE,
-- DELETE for the admin group, nothing for the others). A later migration that wants other grants replaces the
-- function (CREATE OR REPLACE FUNCTION faces_apply_grants ...).

DO $$
DECLARE
    grp text;
BEGIN
    FOREACH grp IN ARRAY ARRAY['faces_voting_grp', 'faces_flusher_grp', 'faces_admin_grp'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = grp) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', grp);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- a concurrent migration (another database on this server) created it first
            END;
        END IF;
    END LOOP;
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;  -- already so on PostgreSQL 15+, not on older servers
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

-- A campaign's partition of `votes` is created at publication by the admin service, which may not CREATE:
-- this function (running as the owner) creates exactly that one partition and nothing else.
CREATE FUNCTION faces_ensure_votes_partition(p_campaign_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF p_campaign_id IS NULL OR NOT EXISTS (SELECT 1 FROM public.campaigns WHERE id = p_campaign_id) THEN
        RAISE EXCEPTION 'no campaign %', p_campaign_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF to_regclass(format('public.votes_c%s', p_campaign_id)) IS NULL THEN
        EXECUTE format('CREATE TABLE public.%I PARTITION OF public.votes FOR VALUES IN (%s)',
                       'votes_c' || p_campaign_id, p_campaign_id);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION faces_ensure_votes_partition(bigint) FROM PUBLIC;

CREATE FUNCTION faces_apply_grants() RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    t text;
    listed text[] := ARRAY['campaigns', 'ballot_entries', 'candidates', 'candidate_transitions', 'votes',
                           'nominations', 'audit_log', 'campaign_results', 'verification_requests',
                           'expert_reviews', 'schema_migrations'];
BEGIN
    -- Start from nothing on every table, view and sequence of the schema (column grants go with the table's).
    FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') LOOP
        EXECUTE format('REVOKE ALL ON TABLE public.%I FROM faces_voting_grp, faces_flusher_grp, faces_admin_grp', t);
    END LOOP;
    REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM faces_voting_grp, faces_flusher_grp, faces_admin_grp;
    GRANT USAGE ON SCHEMA public TO faces_voting_grp, faces_flusher_grp, faces_admin_grp;

    -- Voting service: published campaigns and their ballots (the public card columns only), a receipt's
    -- status, new nominations (INSERT ... RETURNING id).
    GRANT SELECT ON campaigns, ballot_entries TO faces_voting_grp;
    GRANT SELECT (id, full_name, region, sphere, gender, summary, photo_url) ON candidates TO faces_voting_grp;
    GRANT SELECT (campaign_id, vote_id, invalidated_at) ON votes TO faces_voting_grp;
    GRANT INSERT (nominee, story, achievements, nominator_kind, nominator_sealed, nominator_pseudonym, ip_hash),
          SELECT (id) ON nominations TO faces_voting_grp;

    -- Flusher: campaigns to re-project into Redis, votes in (ON CONFLICT reads the key), counts to reconcile.
    GRANT SELECT ON campaigns, ballot_entries TO faces_flusher_grp;
    GRANT INSERT (campaign_id, vote_id, candidate_id, voter, ip_hash, ip_net, cast_at),
          SELECT (campaign_id, vote_id, candidate_id) ON votes TO faces_flusher_grp;

    -- Admin service. Votes: read, and only the invalidation columns may change. Audit log: append and read;
    -- the chain columns, id and time are set by the database, never by the service.
    GRANT SELECT, INSERT, UPDATE ON campaigns, candidates, candidate_transitions, verification_requests,
                                    expert_reviews TO faces_admin_grp;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ballot_entries TO faces_admin_grp;
    GRANT SELECT, UPDATE ON nominations TO faces_admin_grp;
    GRANT SELECT, UPDATE (invalidated_at, invalidation_reason, invalidated_by) ON votes TO faces_admin_grp;
    GRANT SELECT, INSERT ON campaign_results TO faces_admin_grp;
    GRANT SELECT, INSERT (actor_id, actor_email, action, entity_type, entity_id, old_value, new_value, reason,
                          client_ip_hash)
        ON audit_log TO faces_admin_grp;
    GRANT EXECUTE ON FUNCTION faces_ensure_votes_partition(bigint) TO faces_admin_grp;

    -- Every other table (users, sessions, login_attempts and whatever later migrations add) belongs to the
    -- admin service. Partitions are reached through their parent only.
    FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND c.relname <> ALL (listed) LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.%I TO faces_admin_grp', t);
    END LOOP;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO faces_admin_grp;  -- serial columns of later tables
END
$$;
REVOKE ALL ON FUNCTION faces_apply_grants() FROM PUBLIC;

-- ------------------------------------------------------------------------------------------------------------
-- Hash-chained audit log. Every row carries chain_seq (1, 2, 3, ... without gaps), prev_hash (the entry_hash of
-- the row at chain_seq - 1; 64 zeros for chain_seq 1) and entry_hash = lowercase hex SHA-256 of the canonical
-- serialisation below. A BEFORE INSERT trigger fills the three columns under a transaction-scoped advisory lock,
-- so concurrent inserts form one chain (chain order may differ from id order; UNIQUE (chain_seq) turns any
-- would-be fork, e.g. from a REPEATABLE READ snapshot, into an error). `python -m admin_service verify-audit`
-- recomputes it independently (admin_service/audit_chain.py).
--
-- Canonical serialisation (bytes): the token of the text 'faces-audit-v1', then the tokens of, in order,
--   chain_seq, id, at, actor_id, actor_email, action, entity_type, entity_id, old_value, new_value, reason,
--   client_ip_hash, prev_hash
-- where a NULL is the single byte '~' and a value is <decimal byte length of its UTF-8>':'<its UTF-8>. Integers
-- are written in decimal; `at` is the whole number of microseconds since 1970-01-01T00:00:00Z; a jsonb value is
-- its PostgreSQL text form (jsonb_out: keys sorted, ", " and ": " separators); prev_hash is 64 lowercase hex.
--
-- Rows already in the table when this migration runs are chained here, in id order, starting from 64 zeros:
-- their hashes attest the log as it stood at this migration, not before.

CREATE FUNCTION audit_log_token(v text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL THEN '\x7e'::bytea
                ELSE convert_to(octet_length(convert_to(v, 'UTF8'))::text || ':', 'UTF8') || convert_to(v, 'UTF8')
           END
$$;

CREATE FUNCTION audit_log_entry_hash(p_seq bigint, p_id bigint, p_at timestamptz, p_actor_id bigint,
                                     p_actor_email text, p_action text, p_entity_type text, p_entity_id text,
                                     p_old jsonb, p_new jsonb, p_reason text, p_client_ip_hash text,
                                     p_prev text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT encode(sha256(
        audit_log_token('faces-audit-v1') || audit_log_token(p_seq::text) || audit_log_token(p_id::text)
        || audit_log_token((extract(epoch FROM p_at) * 1000000)::bigint::text)
        || audit_log_token(p_actor_id::text) || audit_log_token(p_actor_email) || audit_log_token(p_action)
        || audit_log_token(p_entity_type) || audit_log_token(p_entity_id) || audit_log_token(p_old::text)
        || audit_log_token(p_new::text) || audit_log_token(p_reason) || audit_log_token(p_client_ip_hash)
        || audit_log_token(p_prev)), 'hex')
$$;

-- client_ip_hash: the keyed hash of the staff member's address (shared/client_ip.py, behind the trusted proxy),
-- so the log says from where an action came without keeping the address; NULL for the system's own entries.
ALTER TABLE audit_log ADD COLUMN client_ip_hash text,
    ADD COLUMN chain_seq bigint, ADD COLUMN prev_hash text, ADD COLUMN entry_hash text;

ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
DO $$
DECLARE
    r record;
    seq bigint := 0;
    h text := repeat('0', 64);
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        seq := seq + 1;
        UPDATE audit_log
           SET chain_seq = seq, prev_hash = h,
               entry_hash = audit_log_entry_hash(seq, r.id, r.at, r.actor_id, r.actor_email, r.action,
                                                 r.entity_type, r.entity_id, r.old_value, r.new_value, r.reason,
                                                 r.client_ip_hash, h)
         WHERE id = r.id
        RETURNING entry_hash INTO h;
    END LOOP;
END
$$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;

ALTER TABLE audit_log
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN entry_hash SET NOT NULL,
    ADD CONSTRAINT audit_log_chain_seq_key UNIQUE (chain_seq),
    ADD CONSTRAINT audit_log_hashes_hex CHECK (prev_hash ~ '^[0-9a-f]{64}$' AND entry_hash ~ '^[0-9a-f]{64}$');

CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    -- Held until commit: the next insert reads this row as the chain's head (READ COMMITTED takes a fresh
    -- snapshot per statement of this volatile function, after the lock is granted).
    PERFORM pg_advisory_xact_lock(269425361);  -- 0x100FA0D1, "audit"
    SELECT chain_seq, entry_hash INTO last_seq, last_hash FROM audit_log ORDER BY chain_seq DESC LIMIT 1;
    NEW.chain_seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
    NEW.entry_hash := audit_log_entry_hash(NEW.chain_seq, NEW.id, NEW.at, NEW.actor_id, NEW.actor_email,
                                           NEW.action, NEW.entity_type, NEW.entity_id, NEW.old_value,
                                           NEW.new_value, NEW.reason, NEW.client_ip_hash, NEW.prev_hash);
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

SELECT faces_apply_grants();
