-- Finalisation of a campaign: one immutable snapshot of the result per campaign (invariant 7, "a finalised
-- result is frozen"). The triggers refuse UPDATE, DELETE and TRUNCATE of a snapshot for every role, the
-- application's included; once a campaign is finalised its votes can no longer be changed (no invalidation)
-- and its row can no longer change state.
CREATE TABLE campaign_results (
    campaign_id      bigint PRIMARY KEY REFERENCES campaigns (id),
    finalised_at     timestamptz NOT NULL DEFAULT now(),
    finalised_by     text NOT NULL,                   -- staff e-mail (as in the audit log)
    finalised_by_id  bigint REFERENCES users (id),
    policy           text NOT NULL,
    seats            jsonb NOT NULL,                  -- the selected candidates, in rank order
    counts           jsonb NOT NULL,                  -- every ballot candidate, in rank order
    digest           text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    merkle_root      text NOT NULL CHECK (merkle_root ~ '^[0-9a-f]{64}$'),
    counted_votes    bigint NOT NULL,
    report           jsonb NOT NULL
);

CREATE FUNCTION campaign_results_are_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'campaign_results is immutable (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER campaign_results_no_update BEFORE UPDATE OR DELETE ON campaign_results
    FOR EACH ROW EXECUTE FUNCTION campaign_results_are_frozen();
CREATE TRIGGER campaign_results_no_truncate BEFORE TRUNCATE ON campaign_results
    FOR EACH STATEMENT EXECUTE FUNCTION campaign_results_are_frozen();

-- A finalised campaign stays finalised, with the window and seats it was finalised with.
CREATE FUNCTION finalised_campaign_is_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'campaign % is finalised (DELETE refused)', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.state IS DISTINCT FROM OLD.state OR NEW.seats IS DISTINCT FROM OLD.seats
       OR NEW.opens_at IS DISTINCT FROM OLD.opens_at OR NEW.closes_at IS DISTINCT FROM OLD.closes_at
       OR NEW.finalised_at IS DISTINCT FROM OLD.finalised_at THEN
        RAISE EXCEPTION 'campaign % is finalised (UPDATE refused)', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER campaigns_finalised_frozen BEFORE UPDATE OR DELETE ON campaigns
    FOR EACH ROW WHEN (OLD.state = 'finalised') EXECUTE FUNCTION finalised_campaign_is_frozen();

-- The votes a snapshot counted cannot be invalidated (or otherwise changed) afterwards.
CREATE FUNCTION votes_of_finalised_campaign_are_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM campaign_results r WHERE r.campaign_id = OLD.campaign_id) THEN
        RAISE EXCEPTION 'campaign % is finalised: its votes are frozen (% refused)', OLD.campaign_id, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER votes_frozen_after_finalisation BEFORE UPDATE OR DELETE ON votes
    FOR EACH ROW EXECUTE FUNCTION votes_of_finalised_campaign_are_frozen();
