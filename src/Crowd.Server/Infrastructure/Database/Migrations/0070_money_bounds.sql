-- Money bounds. The rules (JobRules, BudgetRules, EscrowRules, LedgerRules) refuse out-of-range figures with a message;
-- the database refuses them too, so that no path around the rules (a defect, a hand-written statement) can store a figure
-- that later overflows a sum. The numbers are the rules' constants:
--   JobRules.MaxHourlyRateMinor      100,000,000            (1,000,000.00 in a two-decimal currency)
--   RateFloorRules.MaxAmountMinor    1,000,000              (a rate may be up to 100 × its floor)
--   BudgetRules.MaxTargetHours       100,000
--   Money.MaxMinor                   999,999,999,999,999    (one entry, one escrow, one advance, one refund)
--   LedgerRules.MaxTotalMinor        10^18                  (the External account: all money taken in, net of refunds)

ALTER TABLE jobs ADD CONSTRAINT ck_jobs_hourly_rate_bound CHECK (hourly_rate_minor <= 100000000);

ALTER TABLE rate_floors ADD CONSTRAINT ck_rate_floors_amount_bound
    CHECK (legal_minimum_minor <= 1000000 AND market_reference_minor <= 1000000);

ALTER TABLE job_budgets ADD CONSTRAINT ck_job_budgets_hours_bound CHECK (target_hours <= 100000);

ALTER TABLE escrow_refunds ADD CONSTRAINT ck_escrow_refunds_amount_bound CHECK (amount_minor <= 999999999999999);

-- NOT VALID: the ledger is append-only, so an entry written before this bound existed could never be corrected; every
-- new entry is checked.
ALTER TABLE ledger_entries ADD CONSTRAINT ck_ledger_entries_amount_bound
    CHECK (amount_minor BETWEEN -999999999999999 AND 999999999999999) NOT VALID;

-- At commit, once per transaction (as before): the transaction exists and balances per currency; then every escrow,
-- platform advance and External account it touched is within its bounds. An escrow never goes below zero nor above
-- the largest budget; a platform advance (what a requester owes for pay advanced when the escrow ran dry) stays between
-- minus the largest budget and zero; the External account stays within ±10^18. Every other account receives money only
-- from these, so no balance the application derives can pass 10^18, and no sum of it can overflow a bigint.
-- Only these accounts are summed: they change with fundings, refunds and accruals (whose escrow the application reads
-- anyway), never with the bulk payout statements.
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offending record;
BEGIN
    IF current_setting('crowd.ledger_checked', true) IS DISTINCT FROM NEW.transaction_id::text THEN
        IF NOT EXISTS (SELECT 1 FROM ledger_transactions WHERE id = NEW.transaction_id) THEN
            RAISE EXCEPTION 'ledger entries name transaction % which does not exist', NEW.transaction_id
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_entries_balanced';
        END IF;
        IF EXISTS (SELECT 1 FROM ledger_entries WHERE transaction_id = NEW.transaction_id
                   GROUP BY currency HAVING sum(amount_minor) <> 0) THEN
            RAISE EXCEPTION 'ledger transaction % does not balance: its entries do not sum to zero per currency', NEW.transaction_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entries_balanced';
        END IF;
        SELECT a.kind, a.owner_id, a.currency, b.balance INTO offending
        FROM ledger_accounts a
        CROSS JOIN LATERAL (SELECT sum(x.amount_minor) AS balance FROM ledger_entries x WHERE x.account_id = a.id) b
        WHERE a.id IN (SELECT DISTINCT e.account_id FROM ledger_entries e WHERE e.transaction_id = NEW.transaction_id)
          AND a.kind IN (1, 7, 8)
          AND ((a.kind = 1 AND b.balance NOT BETWEEN 0 AND 999999999999999)
            OR (a.kind = 8 AND b.balance NOT BETWEEN -999999999999999 AND 0)
            OR (a.kind = 7 AND b.balance NOT BETWEEN -1000000000000000000 AND 1000000000000000000))
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger transaction % takes the % account of % to % %, outside its bounds', NEW.transaction_id,
                CASE offending.kind WHEN 1 THEN 'escrow' WHEN 8 THEN 'platform advance' ELSE 'external' END,
                offending.owner_id, offending.balance, offending.currency
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balances_bounded';
        END IF;
        PERFORM set_config('crowd.ledger_checked', NEW.transaction_id::text, true);
    END IF;
    RETURN NULL;
END $$;
