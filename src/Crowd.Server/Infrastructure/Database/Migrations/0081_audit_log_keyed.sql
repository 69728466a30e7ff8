-- The audit chain becomes keyed: from now on every entry's hash is HMAC-SHA256 under the audit key, which is not in the
-- database (Crowd:Keys:Audit). Whoever can write to the database alone can change an entry but cannot compute the
-- hashes that would make the chain hold again. Entries written before this migration stay plain SHA-256 links
-- (keyed = false); the first keyed entry after them seals them, and the verifier refuses an unkeyed entry after a
-- keyed one, and a log with no keyed entry at all.
ALTER TABLE audit_log ADD COLUMN keyed boolean NOT NULL DEFAULT false;
