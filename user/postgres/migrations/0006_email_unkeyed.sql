-- 0006_email_unkeyed: find the addresses without a key at once.
--
-- After the backfill (0005) every address has its key but those recorded
-- in simpleuser_email_conflicts. Each Migrate walks this index to give them
-- their key once they can have it (the holder of a duplicate gone, an
-- import written with keys deferred). It holds only those rows, so it stays
-- tiny, and TouchActive, which changes neither column, keeps its HOT
-- updates.
CREATE INDEX simpleuser_users_email_unkeyed_idx
    ON simpleuser_users (id)
    WHERE email IS NOT NULL AND email_key IS NULL;
