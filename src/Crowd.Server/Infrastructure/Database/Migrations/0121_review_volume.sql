-- Reviewing at volume: which clips a reviewer has played (for "accept every clip I played that passed the analyzer"),
-- and the appeal window of fraud rejections, after which the clip's pay is taken back.

CREATE TABLE clip_plays (
    clip_id uuid NOT NULL,
    reviewer_id uuid NOT NULL,
    first_played_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_clip_plays PRIMARY KEY (clip_id, reviewer_id),
    CONSTRAINT fk_clip_plays_clips_clip_id FOREIGN KEY (clip_id) REFERENCES clips (id) ON DELETE CASCADE,
    CONSTRAINT fk_clip_plays_users_reviewer_id FOREIGN KEY (reviewer_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_clip_plays_reviewer_id ON clip_plays (reviewer_id);

-- Set on fraud rejections (not a live voice, duplicate) from now on: until then the contributor may appeal; after it,
-- unappealed, the pay for the clip is taken back (pay_taken_back_at). Earlier rejections keep the rule they were made under.
ALTER TABLE clip_rejections ADD COLUMN appeal_by timestamp with time zone;
ALTER TABLE clip_rejections ADD COLUMN pay_taken_back_at timestamp with time zone;
ALTER TABLE clip_rejections ADD CONSTRAINT ck_clip_rejections_appeal_window CHECK (appeal_by IS NULL OR reason IN (4, 5));
CREATE INDEX ix_clip_rejections_appeal_by ON clip_rejections (appeal_by)
    WHERE appeal_by IS NOT NULL AND appealed_at IS NULL AND pay_taken_back_at IS NULL;
