-- Payout runs, payouts (created -> sending -> sent -> settled | failed), payout methods, bank batches, Stripe events.

CREATE TABLE payout_accounts (
    contributor_id uuid NOT NULL,
    provider integer NOT NULL,
    payee_name character varying(200) NOT NULL,
    bank_account_reference character varying(200),
    stripe_account_id character varying(100),
    currency character(3),
    onboarded boolean NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_payout_accounts PRIMARY KEY (contributor_id),
    CONSTRAINT fk_payout_accounts_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_payout_accounts_stripe_account_id ON payout_accounts (stripe_account_id);

CREATE TABLE payout_runs (
    id uuid NOT NULL,
    run_key character varying(100) NOT NULL,
    node character varying(200) NOT NULL,
    attempts integer NOT NULL,
    payouts_created boolean NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT pk_payout_runs PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_payout_runs_run_key ON payout_runs (run_key);

CREATE TABLE bank_payout_batches (
    id uuid NOT NULL,
    run_id uuid NOT NULL,
    currency character(3) NOT NULL,
    state integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    sent_by_user_id uuid,
    CONSTRAINT pk_bank_payout_batches PRIMARY KEY (id),
    CONSTRAINT fk_bank_payout_batches_payout_runs_run_id FOREIGN KEY (run_id) REFERENCES payout_runs (id) ON DELETE RESTRICT
);

CREATE UNIQUE INDEX ix_bank_payout_batches_run_id_currency ON bank_payout_batches (run_id, currency);

CREATE TABLE payouts (
    id uuid NOT NULL,
    run_id uuid NOT NULL,
    contributor_id uuid NOT NULL,
    currency character(3) NOT NULL,
    amount_minor bigint NOT NULL,
    provider integer NOT NULL,
    state integer NOT NULL,
    batch_id uuid,
    provider_reference character varying(100),
    failure_reason character varying(500),
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    settled_at timestamp with time zone,
    failed_at timestamp with time zone,
    CONSTRAINT pk_payouts PRIMARY KEY (id),
    CONSTRAINT fk_payouts_payout_runs_run_id FOREIGN KEY (run_id) REFERENCES payout_runs (id) ON DELETE RESTRICT,
    CONSTRAINT fk_payouts_bank_payout_batches_batch_id FOREIGN KEY (batch_id) REFERENCES bank_payout_batches (id) ON DELETE RESTRICT,
    CONSTRAINT ck_payouts_amount_positive CHECK (amount_minor > 0)
);

CREATE UNIQUE INDEX ix_payouts_run_id_contributor_id_currency ON payouts (run_id, contributor_id, currency);
CREATE INDEX ix_payouts_contributor_id ON payouts (contributor_id);
CREATE INDEX ix_payouts_state ON payouts (state);
CREATE INDEX ix_payouts_batch_id ON payouts (batch_id);

CREATE TABLE stripe_events (
    id character varying(100) NOT NULL,
    type character varying(100) NOT NULL,
    handled boolean NOT NULL,
    received_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_stripe_events PRIMARY KEY (id)
);
