-- 0002_identities_settings: sign-in provider identities, and the user's own settings.
--
-- A user may sign in with several provider accounts (Google, GitHub, any
-- OpenID Connect issuer...). Each is one row here, keyed by the provider's
-- name and the provider's stable id of the account, so one provider account
-- belongs to at most one user. The user's email stays on simpleuser_users
-- as the identity of code and password login. Rows go with their user (ON
-- DELETE CASCADE). The EXPLAIN test covers every statement on this table.

CREATE TABLE simpleuser_identities (
    user_id        bigint      NOT NULL
        CONSTRAINT simpleuser_identities_user_id_fkey REFERENCES simpleuser_users(id) ON DELETE CASCADE,
    provider       text        NOT NULL, -- "google", "github", ... (oauth.Provider.Name)
    subject        text        NOT NULL, -- the provider's id of the account, byte for byte (never lower-cased)
    email          text,                 -- the address the provider gave at the last sign-in; NULL for none
    email_verified boolean     NOT NULL DEFAULT false, -- whether the provider vouched for it
    created_at     timestamptz NOT NULL, -- linked at
    last_used_at   timestamptz NOT NULL, -- last sign-in with it
    -- One user per provider account: serves GetIdentity, UnlinkIdentity and
    -- TouchIdentity, and is the arbiter of LinkIdentity's ON CONFLICT.
    -- Per provider, not global: two providers may use the same ids.
    CONSTRAINT simpleuser_identities_pkey PRIMARY KEY (provider, subject),
    CONSTRAINT simpleuser_identities_not_empty CHECK (provider <> '' AND subject <> '')
);

-- A user's identities: serves ListIdentities, and the ON DELETE CASCADE of a
-- user deletion, which would otherwise scan the table.
CREATE INDEX simpleuser_identities_user_idx ON simpleuser_identities (user_id);

-- The user's settings: a JSON object the user writes (PATCH
-- /user-center/settings, a merge patch; at most 16 KiB, checked by the
-- service) and the app writes through the Go API. metadata stays
-- app-writable only.
ALTER TABLE simpleuser_users
    ADD COLUMN settings jsonb NOT NULL DEFAULT '{}',
    ADD CONSTRAINT simpleuser_users_settings_object CHECK (jsonb_typeof(settings) = 'object');
