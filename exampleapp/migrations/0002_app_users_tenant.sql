-- 0002_app_users_tenant: one app user per (auth user, tenant).
--
-- Tenant 0 is "no tenant": the row every account gets at sign-up (nicot's
-- single-tenant behaviour, unchanged while no tenants exist). Joining a
-- tenant (the kit's MembershipAdded event) adds the user's row for it, so
-- an app keeps per-tenant data (nickname, credits) apart. tenant_id has no
-- foreign key because 0 names no tenant row; rows of a deleted tenant stay
-- until the app removes them.
ALTER TABLE app_users ADD COLUMN tenant_id bigint NOT NULL DEFAULT 0;
ALTER TABLE app_users DROP CONSTRAINT app_users_pkey;
ALTER TABLE app_users ADD CONSTRAINT app_users_pkey PRIMARY KEY (auth_user_id, tenant_id);
