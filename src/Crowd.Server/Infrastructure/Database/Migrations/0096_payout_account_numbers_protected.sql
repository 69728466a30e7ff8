-- Account numbers of payout methods are kept encrypted with the platform's data-protection keys; only their last four
-- characters are kept in clear, for showing them masked. The kind says whether the number is a bank card, an Alipay or
-- a WeChat Pay account. Numbers stored in clear before this move into the encrypted column at the next start-up.
ALTER TABLE payout_accounts ADD COLUMN account_kind integer;
ALTER TABLE payout_accounts ADD COLUMN account_number_protected text;
ALTER TABLE payout_accounts ADD COLUMN account_number_last4 character varying(4);

UPDATE payout_accounts
SET account_kind = 1,
    account_number_last4 = right(regexp_replace(bank_account_reference, '[\s-]', '', 'g'), 4)
WHERE bank_account_reference IS NOT NULL;
