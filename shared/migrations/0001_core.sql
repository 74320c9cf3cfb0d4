-- Core schema: candidates, campaigns and ballots, votes, public nominations.

CREATE TABLE candidates (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    full_name     text NOT NULL CHECK (length(full_name) BETWEEN 2 AND 200),
    region        text NOT NULL CHECK (region ~ '^KZ-[0-9]{2}$'),
    sphere        text NOT NULL CHECK (sphere IN ('public_political', 'socio_economic', 'education_science',
                                                 'healthcare', 'culture_sport', 'military_law', 'social')),
    gender        text NOT NULL CHECK (gender IN ('female', 'male')),
    birth_year    integer NOT NULL CHECK (birth_year BETWEEN 1900 AND 2100),
    ethnicity     text,
    summary       text NOT NULL DEFAULT '',
    story         text NOT NULL,
    achievements  jsonb NOT NULL DEFAULT '[]'::jsonb,
    photo_url     text,
    source_kind   text NOT NULL CHECK (source_kind IN ('akimat', 'city', 'working_group_member', 'assembly', 'party',
                                                       'expert_community', 'ngo', 'bureau_100', 'self', 'third_party')),
    source_name   text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'nominated'
                  CHECK (status IN ('nominated', 'under_verification', 'verified', 'rejected', 'under_review',
                                    'recommended', 'not_recommended', 'shortlisted', 'declined', 'on_ballot',
                                    'finalist', 'not_selected')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX candidates_status ON candidates (status);
CREATE INDEX candidates_region_sphere ON candidates (region, sphere);

CREATE TABLE candidate_transitions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    candidate_id  bigint NOT NULL REFERENCES candidates (id),
    from_status   text,
    to_status     text NOT NULL,
    reason        text NOT NULL DEFAULT '',
    actor         text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX candidate_transitions_candidate ON candidate_transitions (candidate_id, at);

-- state is what staff decided; the public status (scheduled / open / closed) also depends on the clock.
CREATE TABLE campaigns (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug            text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    title           jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published', 'closed', 'finalised')),
    opens_at        timestamptz NOT NULL,
    closes_at       timestamptz NOT NULL,
    votes_per_voter integer NOT NULL CHECK (votes_per_voter BETWEEN 1 AND 50),
    seats           integer NOT NULL DEFAULT 100 CHECK (seats BETWEEN 1 AND 1000),
    live_results    boolean NOT NULL DEFAULT false,
    shards          integer NOT NULL DEFAULT 1 CHECK (shards BETWEEN 1 AND 1024),
    voter_buckets   integer NOT NULL DEFAULT 65536 CHECK (voter_buckets BETWEEN 1 AND 16777216),
    published_at    timestamptz,
    closed_at       timestamptz,
    finalised_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (closes_at > opens_at)
);

CREATE TABLE ballot_entries (
    campaign_id   bigint NOT NULL REFERENCES campaigns (id),
    candidate_id  bigint NOT NULL REFERENCES candidates (id),
    position      integer NOT NULL,
    PRIMARY KEY (campaign_id, candidate_id)
);

-- One row per accepted vote, written by the flusher; vote_id is the voter's receipt.
-- Never deleted: fraud review sets invalidated_* instead. Partitioned by campaign (one partition
-- per published campaign, created at publication) so a season's votes can be archived whole.
CREATE TABLE votes (
    campaign_id          bigint NOT NULL,
    vote_id              text NOT NULL,
    candidate_id         bigint NOT NULL,
    voter                text NOT NULL,          -- keyed HMAC pseudonym, never the phone
    ip_hash              text NOT NULL DEFAULT '',
    ip_net               cidr,                   -- /24 or /64 of the client, for fraud signals
    cast_at              timestamptz NOT NULL,
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    invalidated_at       timestamptz,
    invalidation_reason  text,
    invalidated_by       text,
    PRIMARY KEY (campaign_id, vote_id)
) PARTITION BY LIST (campaign_id);
CREATE TABLE votes_default PARTITION OF votes DEFAULT;
CREATE INDEX votes_candidate ON votes (campaign_id, candidate_id);
CREATE INDEX votes_voter ON votes (campaign_id, voter);

-- Citizens' nominations from the public site, waiting for the secretariat's triage.
CREATE TABLE nominations (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    nominee             jsonb NOT NULL,
    story               text NOT NULL,
    achievements        jsonb NOT NULL,
    nominator_kind      text NOT NULL CHECK (nominator_kind IN ('self', 'third_party')),
    nominator_sealed    bytea NOT NULL,          -- AES-GCM of {full_name, phone}
    nominator_pseudonym text NOT NULL,           -- keyed HMAC of the phone, for duplicates and abuse
    ip_hash             text NOT NULL DEFAULT '',
    status              text NOT NULL DEFAULT 'received'
                        CHECK (status IN ('received', 'accepted', 'merged', 'rejected')),
    candidate_id        bigint REFERENCES candidates (id),
    triage_reason       text,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nominations_status ON nominations (status, created_at);
