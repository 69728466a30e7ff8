-- Consent refers to a job version's terms by their SHA-256, so the stored terms must be the exact bytes that were
-- hashed. jsonb reorders keys and drops whitespace; text keeps them.
ALTER TABLE job_versions ALTER COLUMN terms_json TYPE text USING terms_json::text;
