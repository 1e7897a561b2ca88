-- 0008_passkeys: WebAuthn credentials (passkeys) and each user's user handle.
--
-- The statements on these tables are passkey/postgres's (docs/schema.md).
-- Version 0007 belongs to the second-factor tables; this migration does not
-- depend on them, and Migrate runs every missing version in order, so a
-- database migrated to 0008 before 0007 existed gets 0007 on its next run.
--
-- A user handle (WebAuthn L3 §5.4.3, user.id) is 64 random bytes per user,
-- never derived from the address or the id (§14.6.1: it must not be
-- personally identifying). An authenticator stores it with every passkey it
-- makes for the user and returns it on a usernameless sign-in, which is how
-- the user is found. One row per user, made at the first registration.
CREATE TABLE simpleuser_passkey_handles (
    user_id    bigint      NOT NULL
        CONSTRAINT simpleuser_passkey_handles_user_id_fkey REFERENCES simpleuser_users(id) ON DELETE CASCADE,
    handle     bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT simpleuser_passkey_handles_pkey PRIMARY KEY (user_id),
    -- Serves the usernameless sign-in's look-up of the user by handle.
    CONSTRAINT simpleuser_passkey_handles_handle_key UNIQUE (handle),
    CONSTRAINT simpleuser_passkey_handles_handle_len CHECK (octet_length(handle) BETWEEN 1 AND 64)
);

-- One row per credential (WebAuthn L3 §4, "credential record"). The
-- credential id is chosen by the authenticator (at most 1023 bytes, §4 "Credential ID")
-- and unique over all users: a second registration of one id is refused.
CREATE TABLE simpleuser_passkeys (
    credential_id   bytea       NOT NULL,
    user_id         bigint      NOT NULL
        CONSTRAINT simpleuser_passkeys_user_id_fkey REFERENCES simpleuser_users(id) ON DELETE CASCADE,
    name            text        NOT NULL, -- the user's label ("Laptop"), renamable
    public_key      bytea       NOT NULL, -- COSE_Key (RFC 9053) as the authenticator sent it
    sign_count      bigint      NOT NULL DEFAULT 0, -- the last signature counter seen (§6.1.1)
    aaguid          bytea,                -- the authenticator model (16 bytes), NULL when not given
    transports      text[]      NOT NULL DEFAULT '{}', -- "internal", "hybrid", "usb"... (§5.8.4)
    backup_eligible boolean     NOT NULL DEFAULT false, -- BE flag: may be synced; never changes (§6.1)
    backup_state    boolean     NOT NULL DEFAULT false, -- BS flag: is synced now; updated on each use
    user_verified   boolean     NOT NULL DEFAULT false, -- UV was performed at registration
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz, -- NULL until the first sign-in with it
    CONSTRAINT simpleuser_passkeys_pkey PRIMARY KEY (credential_id),
    CONSTRAINT simpleuser_passkeys_id_len CHECK (octet_length(credential_id) BETWEEN 1 AND 1023),
    CONSTRAINT simpleuser_passkeys_sign_count CHECK (sign_count BETWEEN 0 AND 4294967295)
);

-- A user's passkeys: serves List, Rename and Remove by (user_id,
-- credential_id), and the ON DELETE CASCADE of a user deletion.
CREATE INDEX simpleuser_passkeys_user_idx ON simpleuser_passkeys (user_id);
