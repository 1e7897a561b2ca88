-- 0001_app_users: the exampleapp's own user row, one per auth user.
--
-- Applied by postgres.Migrate as the "exampleapp" component, after the
-- kit's migrations and under the same advisory lock, so instances starting
-- at once never race on it. IF NOT EXISTS adopts a table created by an
-- exampleapp older than this file (which ran this DDL bare at start-up).
CREATE TABLE IF NOT EXISTS app_users (
    auth_user_id  bigint PRIMARY KEY REFERENCES simpleuser_users(id) ON DELETE CASCADE,
    nickname      text   NOT NULL,
    referral_code text   NOT NULL UNIQUE,
    referred_by   bigint REFERENCES simpleuser_users(id) ON DELETE SET NULL,
    credits       int    NOT NULL DEFAULT 0
);
