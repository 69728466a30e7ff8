-- Every stored clip is a take that passed the live check: its outcome is recorded with the clip, in the same
-- transaction, whichever path stored it. Takes that failed keep no clip; the recorder records those itself.
CREATE FUNCTION take_outcome_of_clip() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO take_outcomes (take_id, job_id, session_id, contributor_id, judged_at, passed, issues)
    VALUES (NEW.take_id, NEW.job_id, NEW.session_id, NEW.contributor_id, NEW.created_at, true, '{}')
    ON CONFLICT (take_id) DO NOTHING;
    RETURN NEW;
END $$;

CREATE TRIGGER clips_record_passed_take AFTER INSERT ON clips FOR EACH ROW EXECUTE FUNCTION take_outcome_of_clip();
