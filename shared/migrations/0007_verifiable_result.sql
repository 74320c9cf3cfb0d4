-- The verifiable result (issue 11): an RFC 9162 Merkle tree over the counted votes of a finalised campaign,
-- stored so that one receipt's inclusion proof costs one indexed row read, and its signed tree head.
-- Layout and leaf encoding: shared/merkle.py and docs/verify.md. Every table here is written once, at
-- finalisation, in the finalisation's transaction (the tree first, the snapshot and its signed head after it),
-- and then refused UPDATE, DELETE and TRUNCATE like the snapshot itself (migration 0003).

-- campaign_results.merkle_root: snapshots written before this migration hold the earlier, non-standard root
-- (SHA-256 leaves of bare vote ids, no domain separation; docs/verify.md "Campaigns finalised before
-- 2026-12"); they are immutable, so they keep it, marked 'legacy-v0', and have no tree head nor proofs.
-- Every snapshot written from now on holds the RFC 9162 root ('rfc9162-v1').
ALTER TABLE campaign_results ADD COLUMN merkle_scheme text NOT NULL DEFAULT 'legacy-v0'
    CHECK (merkle_scheme IN ('legacy-v0', 'rfc9162-v1'));
ALTER TABLE campaign_results ALTER COLUMN merkle_scheme SET DEFAULT 'rfc9162-v1';

-- The per-campaign secret of the commitments to the candidates (HMAC-SHA256 key). Made at finalisation, read
-- by nobody but the admin service: never published, never granted to the voting service or the flusher.
CREATE TABLE campaign_commitment_keys (
    campaign_id  bigint PRIMARY KEY REFERENCES campaigns (id),
    secret       bytea NOT NULL CHECK (octet_length(secret) = 32),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- The signed tree head (API.md): Ed25519 over the canonical JSON of {campaign_id, tree_size, root_hash, digest}.
-- public_key (base64 of the raw 32 bytes) and key_id are kept with each head, so a head stays verifiable after
-- the signing key is rotated. tile_height: how the tree is stored below (shared/merkle.py).
CREATE TABLE campaign_tree_heads (
    campaign_id        bigint PRIMARY KEY REFERENCES campaigns (id),
    tree_size          bigint NOT NULL CHECK (tree_size >= 0),
    root_hash          text NOT NULL CHECK (root_hash ~ '^[0-9a-f]{64}$'),
    digest             text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    signature          text NOT NULL,
    key_id             text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
    public_key         text NOT NULL,
    invalidated_votes  bigint NOT NULL CHECK (invalidated_votes >= 0),
    tile_height        integer NOT NULL CHECK (tile_height BETWEEN 0 AND 16),
    signed_at          timestamptz NOT NULL DEFAULT now()
);

-- Tiles: leaves [tile * 2^h, tile * 2^h + count) with h = tile_height: their receipts (ASCII, '\n'-separated, in
-- leaf order), commitments (32 bytes each) and the inner nodes of levels 1..h-1 (32 bytes each, level after
-- level). first_receipt (byte order, COLLATE "C") finds a receipt's tile with one index probe. Rows of ~7 KB
-- (h = 6) stay in their heap page uncompressed (hashes do not compress): one page read per lookup.
CREATE TABLE merkle_tiles (
    campaign_id    bigint NOT NULL REFERENCES campaigns (id),
    tile           bigint NOT NULL CHECK (tile >= 0),
    first_receipt  text COLLATE "C" NOT NULL,
    receipts       text NOT NULL,
    commitments    bytea NOT NULL,
    nodes          bytea NOT NULL,
    PRIMARY KEY (campaign_id, tile)
) WITH (toast_tuple_target = 8160);
ALTER TABLE merkle_tiles ALTER COLUMN receipts SET STORAGE EXTERNAL,
    ALTER COLUMN commitments SET STORAGE EXTERNAL, ALTER COLUMN nodes SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX merkle_tiles_first_receipt ON merkle_tiles (campaign_id, first_receipt);

-- The levels from tile_height up, whole: level k holds ceil(tree_size / 2^k) nodes of 32 bytes (the level
-- tile_height one per tile, ~2.4 MB at 5 M votes; all of them about twice that), read once and cached.
CREATE TABLE merkle_levels (
    campaign_id  bigint NOT NULL REFERENCES campaigns (id),
    level        integer NOT NULL CHECK (level >= 0),
    hashes       bytea NOT NULL CHECK (octet_length(hashes) % 32 = 0),
    PRIMARY KEY (campaign_id, level)
);
ALTER TABLE merkle_levels ALTER COLUMN hashes SET STORAGE EXTERNAL;

CREATE FUNCTION faces_written_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is written once at finalisation (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['campaign_commitment_keys', 'campaign_tree_heads', 'merkle_tiles', 'merkle_levels'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION faces_written_once()', t || '_no_update', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION faces_written_once()', t || '_no_truncate', t);
    END LOOP;
END
$$;

-- Grants: those of 0006 (kept under another name, unchanged), then the verifiable result's. 0005's rule gives
-- the admin service SELECT, INSERT, UPDATE, DELETE on every table it does not list, the four above included;
-- they are written once, so UPDATE and DELETE are taken back. The voting service reads the public parts (tree
-- heads, tiles, levels, the scheme of a snapshot), never campaign_commitment_keys; the flusher none of them.
ALTER FUNCTION faces_apply_grants() RENAME TO faces_apply_grants_0006;
REVOKE ALL ON FUNCTION faces_apply_grants_0006() FROM PUBLIC;

CREATE FUNCTION faces_apply_grants() RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM faces_apply_grants_0006();
    REVOKE UPDATE, DELETE ON campaign_commitment_keys, campaign_tree_heads, merkle_tiles, merkle_levels
        FROM faces_admin_grp;
    GRANT SELECT ON campaign_tree_heads, merkle_tiles, merkle_levels TO faces_voting_grp;
    GRANT SELECT (merkle_scheme) ON campaign_results TO faces_voting_grp;
END
$$;
REVOKE ALL ON FUNCTION faces_apply_grants() FROM PUBLIC;

SELECT faces_apply_grants();
