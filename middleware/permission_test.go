package middleware

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/tenant"
	tenantmemory "github.com/simpleuser/simpleuser/tenant/memory"
)

// countingStore counts every tenant store call.
type countingStore struct {
	tenant.Store
	n atomic.Int64
}

func (c *countingStore) GetMembership(ctx context.Context, u, t int64) (*tenant.Membership, error) {
	c.n.Add(1)
	return c.Store.GetMembership(ctx, u, t)
}

func (c *countingStore) UserMemberships(ctx context.Context, u int64) ([]tenant.Membership, error) {
	c.n.Add(1)
	return c.Store.UserMemberships(ctx, u)
}

func (c *countingStore) GetRoles(ctx context.Context, names []string) ([]tenant.Role, error) {
	c.n.Add(1)
	return c.Store.GetRoles(ctx, names)
}

// RequirePermission and RequireRole answer from the session alone: 401
// without a session, 403 with their codes when the claim is missing, and
// no read of the user or tenant store; a membership change takes effect on
// the next request.
func TestRequirePermissionAndRole(t *testing.T) {
	store := &countingStore{Store: tenantmemory.New()}
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	e := newService(t, func(c *simpleuser.Config) {
		c.Tenants.Store = store
		c.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	})
	ctx := context.Background()
	ts := e.svc.Tenants()
	acme, err := ts.CreateTenant(ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.PutRole(ctx, "editor", "", []string{"post.write"}); err != nil {
		t.Fatal(err)
	}
	_, uid := e.register(t, "first@example.com")
	if _, err := ts.AddMembership(ctx, uid, acme.ID, "", []string{"editor"}); err != nil {
		t.Fatal(err)
	}
	clock.Add(int64(2 * time.Minute))            // past the send cooldown
	tok, _ := e.register(t, "first@example.com") // a new sign-in: starts in acme
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	guard := func(mw func(http.Handler) http.Handler) http.Handler { return Identity(e.svc, Options{})(mw(ok)) }
	hdr := map[string]string{"x-client-token": tok}
	before := store.n.Load()
	if err := e.svc.Users().Delete(ctx, uid); err != nil { // the guards must not need the user row
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mw     func(http.Handler) http.Handler
		status int
		code   string
	}{
		{RequirePermission("post.write"), 299, ""},
		{RequirePermission("post.delete"), 403, tenant.CodePermissionDenied},
		{RequireRole("editor"), 299, ""},
		{RequireRole("owner"), 403, tenant.CodeRoleRequired},
	} {
		w, env := serve(t, guard(tc.mw), "GET", "/", hdr)
		if tc.status == 299 {
			if w.Code != 299 {
				t.Fatalf("allowed request: %d %s", w.Code, w.Body)
			}
			continue
		}
		wantEnvelope(t, w, env, tc.status, tc.code)
	}
	if n := store.n.Load() - before; n != 0 {
		t.Fatalf("the guards read the tenant store %d times", n)
	}
	w, env := serve(t, guard(RequirePermission("post.write")), "GET", "/", map[string]string{"x-client-ssaid": "dev"})
	wantEnvelope(t, w, env, 401, simpleuser.CodeAuthRequired)
	w, env = serve(t, guard(RequireRole("editor")), "GET", "/", map[string]string{"x-client-token": "bogus"})
	wantEnvelope(t, w, env, 401, simpleuser.CodeInvalidToken)
	// The membership loses the role: the next request is refused.
	if _, err := ts.UpdateMembership(ctx, uid, acme.ID, tenant.StatusActive, nil); err != nil {
		t.Fatal(err)
	}
	w, env = serve(t, guard(RequirePermission("post.write")), "GET", "/", hdr)
	wantEnvelope(t, w, env, 403, tenant.CodePermissionDenied)
}

func TestHasPermission(t *testing.T) {
	if !has([]string{"a", "b", "c"}, "b") || has([]string{"a", "c"}, "b") || !has([]string{"z", "a"}, "a") || has(nil, "a") {
		t.Fatal("has")
	}
}
