-- The Stripe transfer_group a payout is sent under, fixed at its first send so that a retry with the same
-- Idempotency-Key sends the same parameters: job_<id> when all the pay since the contributor's previous payout
-- came from one job (so the transfer joins that job's PaymentIntent), payout_<id> when it came from several.
ALTER TABLE payouts ADD COLUMN transfer_group character varying(100);
ALTER TABLE payouts ADD COLUMN job_ids character varying(500);
