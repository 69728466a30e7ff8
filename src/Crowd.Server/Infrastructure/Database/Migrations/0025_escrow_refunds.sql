-- Unused escrow that came in by Stripe goes back by Stripe: one refund per PaymentIntent it came from, sent after the
-- ledger has moved it (escrow -> external), idempotently by the refund's id. A refund Stripe refuses moves back to escrow.
CREATE TABLE escrow_refunds (
    id uuid NOT NULL,
    job_id uuid NOT NULL,
    payment_intent_id character varying(100) NOT NULL,
    currency character(3) NOT NULL,
    amount_minor bigint NOT NULL,
    state integer NOT NULL,
    stripe_refund_id character varying(100),
    failure_reason character varying(500),
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT pk_escrow_refunds PRIMARY KEY (id),
    CONSTRAINT ck_escrow_refunds_amount_positive CHECK (amount_minor > 0),
    CONSTRAINT fk_escrow_refunds_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE RESTRICT
);

CREATE INDEX ix_escrow_refunds_job_id ON escrow_refunds (job_id);
CREATE INDEX ix_escrow_refunds_state ON escrow_refunds (state) WHERE state = 0;
