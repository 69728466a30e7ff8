-- A bulk posting has 100,000 entries naming one transaction. A foreign key probed (and key-share locked) that one
-- transaction row once per entry; the deferred balance check now checks that the transaction exists, once per
-- transaction, at commit. Transactions can never be deleted (append-only trigger), so no entry can lose its transaction later.
ALTER TABLE ledger_entries DROP CONSTRAINT fk_ledger_entries_ledger_transactions_transaction_id;

CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
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
        PERFORM set_config('crowd.ledger_checked', NEW.transaction_id::text, true);
    END IF;
    RETURN NULL;
END $$;
