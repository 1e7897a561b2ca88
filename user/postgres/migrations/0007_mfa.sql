-- 0007_mfa: second factors (package mfa, store mfa/postgres).
--
-- Every row belongs to a user and goes with it (ON DELETE CASCADE); each
-- table's primary key leads with user_id, which serves both every lookup
-- (all by user) and the cascade. Secrets and codes are never stored in the
-- clear: a TOTP secret is sealed with AES-256-GCM under a key derived from
-- the app's secret (its first bytes name the key, so keys rotate), a
-- recovery code is kept as an HMAC-SHA-256 digest under another such key.

-- TOTP authenticators (RFC 6238). last_step is the last time step the
-- authenticator accepted: a code is accepted only for a later one, by a
-- compare-and-set UPDATE, so a code cannot be replayed within its window.
CREATE TABLE simpleuser_mfa_totp (
    user_id      bigint      NOT NULL
        CONSTRAINT simpleuser_mfa_totp_user_id_fkey REFERENCES simpleuser_users(id) ON DELETE CASCADE,
    id           text        NOT NULL, -- random handle (mfa.NewID)
    name         text        NOT NULL, -- the user's label, unique per user
    secret       bytea       NOT NULL, -- mfa.Keyring.Seal output
    last_step    bigint      NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,          -- NULL until a first code proved it
    last_used_at timestamptz,
    CONSTRAINT simpleuser_mfa_totp_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT simpleuser_mfa_totp_name_key UNIQUE (user_id, name)
);

-- Recovery codes: one row per unused code, deleted by its use.
CREATE TABLE simpleuser_mfa_recovery (
    user_id    bigint      NOT NULL
        CONSTRAINT simpleuser_mfa_recovery_user_id_fkey REFERENCES simpleuser_users(id) ON DELETE CASCADE,
    digest     bytea       NOT NULL, -- mfa.Keyring.RecoveryDigest
    created_at timestamptz NOT NULL,
    CONSTRAINT simpleuser_mfa_recovery_pkey PRIMARY KEY (user_id, digest)
);

-- The user's MFA choices; no row means MFA off.
CREATE TABLE simpleuser_mfa_settings (
    user_id      bigint      NOT NULL
        CONSTRAINT simpleuser_mfa_settings_user_id_fkey REFERENCES simpleuser_users(id) ON DELETE CASCADE,
    enabled      boolean     NOT NULL DEFAULT false,
    email_factor boolean     NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT simpleuser_mfa_settings_pkey PRIMARY KEY (user_id)
);

-- Trusted devices ("trust this device"): the record behind a signed device
-- token, so that the token can be revoked before it expires.
CREATE TABLE simpleuser_mfa_devices (
    user_id    bigint      NOT NULL
        CONSTRAINT simpleuser_mfa_devices_user_id_fkey REFERENCES simpleuser_users(id) ON DELETE CASCADE,
    id         text        NOT NULL,
    label      text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CONSTRAINT simpleuser_mfa_devices_pkey PRIMARY KEY (user_id, id)
);
