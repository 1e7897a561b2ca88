-- 0003_hot_touch: last-active touches become HOT updates.
--
-- TouchActive writes last_active_time about once a minute per active user.
-- While the purge index named last_active_time, every such write was a
-- non-HOT update: a new row version on whatever page had room, plus a new
-- entry in every index of the table (primary key, ssaid or email, purge),
-- each page of them dirtied and, after a checkpoint, logged whole. On a
-- table larger than shared_buffers that is most of the cost of a touch.
--
-- A HOT update needs two things: no indexed column changes, and room on the
-- row's own page. So:
--
--   * last_active_hour, a stored generated column, holds last_active_time
--     truncated to the UTC hour, and the purge index names it instead. A
--     touch changes it at most once an hour per user; the other touches of
--     that hour leave every indexed column as it was.
--   * fillfactor 90 leaves a tenth of every page free for the new row
--     versions (HOT pruning reclaims the old ones as pages are read).
--
-- ADD COLUMN ... STORED rewrites the table under an ACCESS EXCLUSIVE lock,
-- which also repacks the existing rows at the new fillfactor: on a large
-- table, run this migration in a quiet moment.

ALTER TABLE simpleuser_users SET (fillfactor = 90);

-- date_trunc with a time zone is only STABLE (a zone's rules may change);
-- UTC's never do, so this wrapper is honestly IMMUTABLE, as a generated
-- column requires.
CREATE FUNCTION simpleuser_utc_hour(t timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT date_trunc('hour', t, 'UTC') $$;

ALTER TABLE simpleuser_users
    ADD COLUMN last_active_hour timestamptz
    GENERATED ALWAYS AS (simpleuser_utc_hour(last_active_time)) STORED;

-- Stale anonymous users, oldest first: PurgeAnonymous walks this index for
-- coalesce(last_active_hour, created_at) < cutoff and re-checks each row
-- against the exact coalesce(last_active_time, created_at) < cutoff. As
-- last_active_hour <= last_active_time, the index range holds every row the
-- exact test keeps; the only extra rows it visits are those last active in
-- the cutoff's own UTC hour but after the cutoff, and the walk reaches them
-- last.
DROP INDEX simpleuser_users_anon_activity_idx;
CREATE INDEX simpleuser_users_anon_idle_idx
    ON simpleuser_users ((coalesce(last_active_hour, created_at)))
    WHERE email IS NULL;
