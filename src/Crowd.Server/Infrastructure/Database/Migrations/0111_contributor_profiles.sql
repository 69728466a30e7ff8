-- What a contributor tells about themselves beyond their native language and accent (speaker_profiles): where they live,
-- which rate floor's region that is, the other languages they speak, and optional demographics. Every column may stay
-- unanswered; 'prefer-not-to-say' records that the person chose not to answer.
CREATE TABLE contributor_profiles (
    contributor_id uuid NOT NULL,
    -- A region code of rate_floors (CN-BJ, GB); NULL when not stated.
    region character varying(16),
    -- Language tags besides the native one, in the order given.
    languages text[] NOT NULL,
    gender character varying(20),
    -- 'share' (the band of the date of birth on the account may be counted) or 'prefer-not-to-say'; NULL when not answered.
    age_band character varying(20),
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_contributor_profiles PRIMARY KEY (contributor_id),
    CONSTRAINT ck_contributor_profiles_languages CHECK (cardinality(languages) <= 10),
    CONSTRAINT ck_contributor_profiles_gender CHECK (gender IN ('woman', 'man', 'non-binary', 'prefer-not-to-say')),
    CONSTRAINT ck_contributor_profiles_age_band CHECK (age_band IN ('share', 'prefer-not-to-say')),
    CONSTRAINT fk_contributor_profiles_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE
);
