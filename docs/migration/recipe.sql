-- Moving an app with one mixed users table onto simpleuser's split.
-- The legacy table here is:
--   legacy_users(id serial PRIMARY KEY, email text UNIQUE, password_hash text,  -- bcrypt
--                email_verified bool, nickname text, created_at timestamptz)
-- Step 1 (not SQL): create the kit's tables by starting the app once with
-- simpleuser on PostgreSQL, or by calling postgres.Migrate(ctx, pool).
-- Run the rest in one transaction; it is all-or-nothing.

BEGIN;

-- Step 2: copy the auth columns into the kit's table. Emails are trimmed;
-- uniqueness is on their key (email_key, see docs/schema.md): for an ASCII
-- address, the address with A-Z lower-cased, which
-- simpleuser_email_key_ascii computes. Find legacy case-duplicates first
-- (SELECT lower(trim(email)), count(*) FROM legacy_users GROUP BY 1 HAVING count(*) > 1)
-- and merge them by hand: ON CONFLICT keeps the first one. Other addresses
-- get their key (NFC, IDNA) from the kit: the setting below lets them in
-- without one, and the next postgres.Migrate (the app's next start) keys
-- them, recording any that collide in simpleuser_email_conflicts.
-- bcrypt hashes are kept as they are: simpleuser verifies them and rehashes
-- to argon2id at each user's first successful login.
SET LOCAL simpleuser.defer_email_key = on;
INSERT INTO simpleuser_users (email, email_key, password_hash, metadata, register_time, created_at, updated_at)
SELECT trim(email), simpleuser_email_key_ascii(trim(email)),
       nullif(password_hash, ''),
       jsonb_build_object('legacyId', id, 'emailVerified', coalesce(email_verified, false)),
       created_at, created_at, now()
FROM legacy_users
WHERE email IS NOT NULL AND trim(email) <> ''
ORDER BY id
ON CONFLICT DO NOTHING;

-- Step 3: link the legacy rows to their auth user.
ALTER TABLE legacy_users ADD COLUMN auth_user_id bigint;
UPDATE legacy_users l SET auth_user_id = u.id
FROM simpleuser_users u
WHERE lower(u.email) = lower(trim(l.email));
-- Rows without an email (or merged duplicates) have no auth user: decide
-- what to do with them before this line, which fails while any remain.
ALTER TABLE legacy_users ALTER COLUMN auth_user_id SET NOT NULL;
ALTER TABLE legacy_users ADD CONSTRAINT legacy_users_auth_user_fk
    FOREIGN KEY (auth_user_id) REFERENCES simpleuser_users(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX legacy_users_auth_user_id_key ON legacy_users (auth_user_id);

-- Step 4: the table is now the app's own user table. Drop the auth columns
-- once the code reads them through the kit (deploy first, then drop).
ALTER TABLE legacy_users DROP COLUMN password_hash;
ALTER TABLE legacy_users DROP COLUMN email_verified;
ALTER TABLE legacy_users DROP COLUMN email;
ALTER TABLE legacy_users RENAME TO app_users;

COMMIT;
