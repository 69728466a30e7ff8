-- A delivery record tells the requester what happened in words of our own, never the text of an internal error
-- (which let a requester probe the platform's network): 1 delivered, 2 refused by their server (last_status holds the
-- HTTP status), 3 could not connect. Earlier free-text errors are replaced by the outcome they stood for.
ALTER TABLE webhook_deliveries ADD COLUMN last_outcome integer;
UPDATE webhook_deliveries SET last_outcome = CASE
    WHEN state = 1 THEN 1
    WHEN last_status IS NOT NULL THEN 2
    WHEN last_error IS NOT NULL THEN 3
END;
ALTER TABLE webhook_deliveries DROP COLUMN last_error;
