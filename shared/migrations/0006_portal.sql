-- The public portal (issue 10): candidate texts in several languages, nominations with a reference, the
-- nominator's consent and a confirmed phone, and what the voting service may read for the final 100.

-- candidates.summary / story / achievements are written in `text_lang`; `texts` holds the other languages:
-- {"kk": {"summary": str, "story": str, "achievements": [{"claim", "evidence_url"}]}, "en": {...}}, any of
-- them may be missing (shared/texts.py picks the visitor's language and falls back).
ALTER TABLE candidates
    ADD COLUMN text_lang text NOT NULL DEFAULT 'ru' CHECK (text_lang IN ('kk', 'ru', 'en')),
    ADD COLUMN texts jsonb NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(texts) = 'object' AND texts - 'kk' - 'ru' - 'en' = '{}'::jsonb);

-- reference: a short code the nominator keeps to look the nomination up: NF-XXXX-XXXX, eight Crockford base32
-- characters (no I, L, O, U) = 40 random bits, made by the database for every new row (whoever inserts it),
-- so nobody chooses one. A collision (about one in a million at a million nominations) is refused by the
-- unique index; the voting service then inserts again (voting_service/repos/nominations.py).
-- consent: {"processing": true, "nominee_will_be_asked": bool, "text_version": str, "at": RFC 3339}, or NULL
-- for a nomination sent without one (the JSON API before issue 10). phone_confirmed: the nominator signed in
-- with the nominator's phone (a voter token whose pseudonym is that phone's).
CREATE FUNCTION faces_nomination_reference() RETURNS text LANGUAGE sql VOLATILE AS $$
    -- Bytes 0-5 and 10-15 of a version 4 UUID are random; the low five bits of eight of them pick the letters.
    SELECT 'NF-' || string_agg(CASE WHEN n = 5 THEN '-' ELSE '' END
                               || substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', get_byte(b, i) % 32 + 1, 1),
                               '' ORDER BY n)
    FROM (SELECT uuid_send(gen_random_uuid()) AS b) u,
         unnest(ARRAY[0, 1, 2, 3, 4, 5, 10, 11]) WITH ORDINALITY AS t(i, n)
$$;

ALTER TABLE nominations
    ADD COLUMN reference text,
    ADD COLUMN consent jsonb CHECK (consent IS NULL OR jsonb_typeof(consent) = 'object'),
    ADD COLUMN phone_confirmed boolean NOT NULL DEFAULT false;
UPDATE nominations SET reference = faces_nomination_reference() WHERE reference IS NULL;
ALTER TABLE nominations
    ALTER COLUMN reference SET DEFAULT faces_nomination_reference(),
    ALTER COLUMN reference SET NOT NULL,
    ADD CONSTRAINT nominations_reference_key UNIQUE (reference),
    ADD CONSTRAINT nominations_reference_format CHECK (reference ~ '^NF-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$');

-- Grants: those of 0005 (kept under another name, unchanged), then the portal's additions. shared/migrate.py
-- runs faces_apply_grants() after every migration run, so this is applied every time.
ALTER FUNCTION faces_apply_grants() RENAME TO faces_apply_grants_0005;
REVOKE ALL ON FUNCTION faces_apply_grants_0005() FROM PUBLIC;

CREATE FUNCTION faces_apply_grants() RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM faces_apply_grants_0005();
    -- Voting service: the candidates' public texts (candidate pages, the final 100), the frozen result of a
    -- finalised campaign (public counts are its valid votes), a nomination's consent and confirmed phone
    -- at intake, and its reference and status (never its contents).
    GRANT SELECT (text_lang, texts, story, achievements) ON candidates TO faces_voting_grp;
    GRANT SELECT (campaign_id, finalised_at, policy, seats, counts, digest, merkle_root, counted_votes)
        ON campaign_results TO faces_voting_grp;
    GRANT INSERT (consent, phone_confirmed),
          SELECT (reference, status, created_at) ON nominations TO faces_voting_grp;
END
$$;
REVOKE ALL ON FUNCTION faces_apply_grants() FROM PUBLIC;

SELECT faces_apply_grants();
