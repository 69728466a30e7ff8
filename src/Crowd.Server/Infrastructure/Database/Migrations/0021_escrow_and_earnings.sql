-- A job's budget (what escrow must cover before it goes live) and the per-session accrual state.

CREATE TABLE job_budgets (
    job_id uuid NOT NULL,
    target_hours integer NOT NULL,
    platform_fee_bp integer NOT NULL,
    supplier_fee_bp integer NOT NULL,
    supplier_organisation_id uuid,
    paused_at timestamp with time zone,
    pause_reason character varying(500),
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_job_budgets PRIMARY KEY (job_id),
    CONSTRAINT fk_job_budgets_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE,
    CONSTRAINT ck_job_budgets_hours CHECK (target_hours > 0),
    CONSTRAINT ck_job_budgets_fees CHECK (platform_fee_bp BETWEEN 0 AND 10000 AND supplier_fee_bp BETWEEN 0 AND 10000)
);

-- Messages to a requester about their job's money (paused for lack of escrow, resumed, refunded).
CREATE TABLE escrow_notices (
    id uuid NOT NULL,
    job_id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    message character varying(500) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_escrow_notices PRIMARY KEY (id),
    CONSTRAINT fk_escrow_notices_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
);

CREATE INDEX ix_escrow_notices_organisation_id_created_at ON escrow_notices (organisation_id, created_at);
CREATE INDEX ix_escrow_notices_job_id ON escrow_notices (job_id);

-- One row per working session: the cumulative active time accrued so far and the totals it produced.
-- Totals are computed from cumulative time (rounded up), so a replayed or repeated checkpoint posts nothing.
CREATE TABLE earnings_accruals (
    session_id uuid NOT NULL,
    contributor_id uuid NOT NULL,
    job_id uuid NOT NULL,
    currency character(3) NOT NULL,
    hourly_rate_minor bigint NOT NULL,
    platform_fee_bp integer NOT NULL,
    supplier_fee_bp integer NOT NULL,
    supplier_organisation_id uuid,
    active_ms_total bigint NOT NULL,
    accrued_minor bigint NOT NULL,
    platform_fee_minor bigint NOT NULL,
    supplier_fee_minor bigint NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_earnings_accruals PRIMARY KEY (session_id),
    CONSTRAINT fk_earnings_accruals_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE RESTRICT,
    CONSTRAINT ck_earnings_accruals_non_negative CHECK (active_ms_total >= 0 AND accrued_minor >= 0 AND platform_fee_minor >= 0 AND supplier_fee_minor >= 0)
);

CREATE INDEX ix_earnings_accruals_contributor_id_job_id ON earnings_accruals (contributor_id, job_id);
CREATE INDEX ix_earnings_accruals_job_id ON earnings_accruals (job_id);
