-- 0012_membership_search: the admin user search by tenant (package admin,
-- UserQuery.TenantID; store admin/postgres).
--
-- The search lists users newest first, keyset on (created_at, id). Filtered
-- by tenant it must not read every member to sort them: each membership
-- keeps a copy of its user's creation time (set by tenant/postgres from the
-- user row when the membership is added; a user's created_at never
-- changes), and an index on (tenant_id, user_created_at DESC, user_id DESC)
-- serves a page of a tenant's members in the search order, as a range scan
-- whatever the tenant's size.
ALTER TABLE simpleuser_tenant_memberships ADD COLUMN user_created_at timestamptz;
UPDATE simpleuser_tenant_memberships m SET user_created_at = u.created_at
    FROM simpleuser_users u WHERE u.id = m.user_id;
ALTER TABLE simpleuser_tenant_memberships ALTER COLUMN user_created_at SET NOT NULL;

CREATE INDEX simpleuser_tenant_memberships_search_idx
    ON simpleuser_tenant_memberships (tenant_id, user_created_at DESC, user_id DESC);
