-- Staff accounts, ASVS level 2: account lifecycle (temporary passwords that must be changed), a TOTP second
-- factor (RFC 6238) with one-use recovery codes, and the sign-in outcomes they add.

-- password_state: 'set' (chosen by the user or by the admin who created the account), 'temporary' (issued by
-- an admin's reset, usable for one sign-in before password_expires_at), 'temporary_used' (that sign-in
-- happened: the password no longer signs in, the session it opened may only change it).
ALTER TABLE users
    ADD COLUMN password_state text NOT NULL DEFAULT 'set'
        CHECK (password_state IN ('set', 'temporary', 'temporary_used')),
    ADD COLUMN password_expires_at timestamptz,
    ADD COLUMN password_changed_at timestamptz;

-- One TOTP factor per user. The secret is AES-256-GCM under the staff key (nonce || ciphertext), bound to the
-- user id as associated data. Pending until confirmed_at is set; last_step is the RFC 6238 time step of the
-- last accepted code, so that a code is accepted once only (UPDATE ... WHERE last_step < step).
CREATE TABLE staff_totp (
    user_id       bigint PRIMARY KEY REFERENCES users (id),
    secret_enc    bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    confirmed_at  timestamptz,
    last_step     bigint NOT NULL DEFAULT -1
);

-- Ten per user, issued at confirmation; only a keyed SHA-256 (HMAC under the staff key) is stored.
CREATE TABLE staff_recovery_codes (
    user_id    bigint NOT NULL REFERENCES users (id),
    code_hash  text NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

ALTER TABLE login_attempts DROP CONSTRAINT login_attempts_outcome_check;
ALTER TABLE login_attempts ADD CONSTRAINT login_attempts_outcome_check
    CHECK (outcome IN ('success', 'bad_credentials', 'throttled', 'inactive', 'mfa_required', 'bad_second_factor'));
