-- How a requester funds a job: the payment reference their bank transfer carries (short and typeable, with a check
-- character), whether the job is published as soon as its escrow covers the budget, and when they were told it does
-- (once per job).
CREATE TABLE job_funding_settings (
    job_id uuid NOT NULL,
    payment_reference character varying(12),
    auto_publish boolean NOT NULL,
    funded_notice_at timestamp with time zone,
    CONSTRAINT pk_job_funding_settings PRIMARY KEY (job_id),
    CONSTRAINT fk_job_funding_settings_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_job_funding_settings_payment_reference ON job_funding_settings (payment_reference);
