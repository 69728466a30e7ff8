-- Failed sign-ins, counted per key (an account from one address, one address, one account from anywhere) so that
-- guessing slows down with every failure instead of locking the account, which let anyone lock anyone out. Keys are
-- SHA-256 hashes: the table holds neither email addresses nor client addresses.
CREATE TABLE sign_in_throttles (
    key_hash bytea NOT NULL,
    failures integer NOT NULL,
    last_failure_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_sign_in_throttles PRIMARY KEY (key_hash)
);
CREATE INDEX ix_sign_in_throttles_last_failure_at ON sign_in_throttles (last_failure_at);

-- Accounts the old lockout had locked are open again, and lockout is off for every account.
UPDATE users SET lockout_end = NULL, access_failed_count = 0, lockout_enabled = false;
