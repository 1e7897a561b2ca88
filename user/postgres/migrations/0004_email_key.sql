-- 0004_email_key: one canonical key per address, computed by the kit.
--
-- Addresses were unique on lower(email), which folds case the Unicode way
-- (U+212A KELVIN SIGN and U+0130 onto ASCII letters: another person's
-- account) and keeps NFD and NFC spellings of one address apart. The key
-- is now user.EmailKey (NFC; the domain in its ASCII form per UTS #46,
-- lower-cased; only ASCII letters of the local part lower-cased), which SQL
-- cannot compute (no IDNA), so the kit writes it with every address and
-- migration 0005 fills it, in Go, for the rows already there. Collisions
-- that the new key reveals are recorded in simpleuser_email_conflicts (see
-- docs/schema.md); those rows keep their address and get no key until an
-- operator resolves them.
--
-- ALTER TABLE takes an ACCESS EXCLUSIVE lock held until the whole Migrate
-- transaction commits, backfill included: on a large table, run this
-- migration in a quiet moment (200,000 users took about 4 s on 2 cores).

DROP INDEX simpleuser_users_email_key;

ALTER TABLE simpleuser_users ADD COLUMN email_key text; -- user.EmailKey(email); NULL when anonymous, or when the address cannot have its key (see simpleuser_email_conflicts)

-- Email identity: at most one user per key. Serves GetByEmail (WHERE
-- email_key = $1) and turns a duplicate Create/Update, even a concurrent
-- one, into SQLSTATE 23505, mapped to user.ErrEmailTaken by this name (the
-- name of the lower(email) index it replaces). NULLs are distinct.
CREATE UNIQUE INDEX simpleuser_users_email_key ON simpleuser_users (email_key);

-- Users the key could not be given to, and why. The row goes with its user;
-- Migrate re-examines every row here at each run and removes those whose
-- user has a key again.
CREATE TABLE simpleuser_email_conflicts (
    user_id   bigint      PRIMARY KEY
        REFERENCES simpleuser_users(id) ON DELETE CASCADE,
    email     text        NOT NULL,   -- the address, as stored
    email_key text,                   -- its key; NULL when it has none (reason 'invalid')
    holder_id bigint,                 -- the user holding that key (reason 'duplicate'), when found
    reason    text        NOT NULL CONSTRAINT simpleuser_email_conflicts_reason CHECK (reason IN ('duplicate', 'invalid')),
    found_at  timestamptz NOT NULL DEFAULT now()
);

-- The key of an address made only of printable ASCII: the address with A-Z
-- lower-cased (NFC leaves ASCII alone, and UTS #46 maps an ASCII domain to
-- its lower case). NULL for any other address, whose key only the kit can
-- compute. Useful to import users in SQL (docs/migration.md).
CREATE FUNCTION simpleuser_email_key_ascii(email text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE WHEN email ~ '^[!-~]+$'
        THEN translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') END $$;

-- Whether email_key can be email's key, as far as SQL can tell: none for
-- no address; exactly simpleuser_email_key_ascii for an ASCII address; some
-- key for any other.
CREATE FUNCTION simpleuser_email_key_ok(email text, email_key text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE
        WHEN email IS NULL THEN email_key IS NULL
        WHEN simpleuser_email_key_ascii(email) IS NOT NULL THEN email_key IS NOT DISTINCT FROM simpleuser_email_key_ascii(email)
        ELSE email_key IS NOT NULL
    END $$;

-- The guard: refuses to write an address without its key, which is what a
-- kit older than this migration does (it does not know the column) while a
-- rolling upgrade runs both: its registrations and address changes fail
-- (SQLSTATE 23514) instead of creating accounts no key protects. A session
-- that sets simpleuser.defer_email_key to 'on' may write addresses with a
-- NULL key (a bulk import in SQL); the next Migrate keys them.
CREATE FUNCTION simpleuser_users_email_key_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.email_key IS NULL AND current_setting('simpleuser.defer_email_key', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'simpleuser_users: email_key does not match email (a kit older than migration 0004, or an address without a key)'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'simpleuser_users_email_key_check',
              TABLE = 'simpleuser_users', COLUMN = 'email_key';
END $$;

-- Only writes of an address fire it: not TouchActive (the hot path), not an
-- Update that leaves the address as it was.
CREATE TRIGGER simpleuser_users_email_key_insert
    BEFORE INSERT ON simpleuser_users
    FOR EACH ROW WHEN (NOT simpleuser_email_key_ok(NEW.email, NEW.email_key))
    EXECUTE FUNCTION simpleuser_users_email_key_guard();
CREATE TRIGGER simpleuser_users_email_key_update
    BEFORE UPDATE OF email ON simpleuser_users
    FOR EACH ROW WHEN (NEW.email IS DISTINCT FROM OLD.email AND NOT simpleuser_email_key_ok(NEW.email, NEW.email_key))
    EXECUTE FUNCTION simpleuser_users_email_key_guard();
