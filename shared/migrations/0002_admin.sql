-- Admin service: staff accounts and sessions, login log, audit log (append-only), verification
-- requests, expert reviews, candidates' sealed contact details.

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL UNIQUE CHECK (email = lower(email) AND email ~ '^[^@\s]+@[^@\s]+$'),
    password_hash  text NOT NULL,
    roles          text[] NOT NULL CHECK (roles <@ ARRAY['admin', 'secretariat', 'expert', 'working_group', 'auditor']
                                          AND cardinality(roles) > 0),
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz
);

-- Server-side sessions: the cookie carries a random 128-bit id; only its SHA-256 is stored.
CREATE TABLE sessions (
    id_hash        text PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id),
    csrf_token     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    ip_hash        text NOT NULL DEFAULT '',
    revoked_at     timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE login_attempts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL,
    user_id    bigint REFERENCES users (id),
    ip_hash    text NOT NULL,
    outcome    text NOT NULL CHECK (outcome IN ('success', 'bad_credentials', 'throttled', 'inactive')),
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);

-- Every state change of the admin service. Append-only: the triggers refuse UPDATE, DELETE and
-- TRUNCATE for every role, the application's included.
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     bigint REFERENCES users (id),
    actor_email  text NOT NULL,
    action       text NOT NULL,
    entity_type  text NOT NULL,
    entity_id    text NOT NULL,
    old_value    jsonb,
    new_value    jsonb,
    reason       text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_email, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

CREATE TABLE verification_requests (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    candidate_id  bigint NOT NULL REFERENCES candidates (id),
    authority     text NOT NULL,
    question      text NOT NULL,
    status        text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'confirmed', 'refuted')),
    notes         text NOT NULL DEFAULT '',
    requested_by  bigint NOT NULL REFERENCES users (id),
    requested_at  timestamptz NOT NULL DEFAULT now(),
    answered_by   bigint REFERENCES users (id),
    answered_at   timestamptz
);
CREATE INDEX verification_requests_candidate ON verification_requests (candidate_id);

CREATE TABLE expert_reviews (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    candidate_id  bigint NOT NULL REFERENCES candidates (id),
    expert_id     bigint NOT NULL REFERENCES users (id),
    recommend     boolean NOT NULL,
    motivation    text NOT NULL CHECK (length(btrim(motivation)) >= 20),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (candidate_id, expert_id)
);

ALTER TABLE candidates ADD COLUMN contact_sealed bytea;       -- AES-GCM of the nominee's contact details
ALTER TABLE candidates ADD COLUMN duplicate_of bigint REFERENCES candidates (id);
ALTER TABLE candidate_transitions ADD COLUMN actor_id bigint REFERENCES users (id);
ALTER TABLE nominations ADD COLUMN triaged_by bigint REFERENCES users (id);
ALTER TABLE nominations ADD COLUMN triaged_at timestamptz;
ALTER TABLE campaigns ADD COLUMN created_by bigint REFERENCES users (id);
