-- A contributor's last interaction with the platform (sign-up, a session's activity, giving or withdrawing consent, a
-- clip): the retention rule counts three years of inactivity from it. One definition, used by the retention run and by
-- the contributor's own data page.
CREATE FUNCTION crowd_last_interaction(contributor uuid) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT greatest(u.created_at,
        (SELECT max(s.last_activity_at) FROM worker_sessions s WHERE s.contributor_id = u.id),
        (SELECT max(greatest(k.given_at, k.withdrawn_at)) FROM consents k WHERE k.contributor_id = u.id),
        (SELECT max(c.created_at) FROM clips c WHERE c.contributor_id = u.id))
    FROM users u
    WHERE u.id = contributor
$$;
