package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/user"
	"github.com/simpleuser/simpleuser/user/memory"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// AppUser is the exampleapp's own user row, linked to the kit's auth user by
// AuthUserID (ON DELETE CASCADE on PostgreSQL), one per tenant the user
// belongs to: TenantID 0 is the row every account has (no tenant), and
// joining a tenant adds the row of that tenant (docs/tenants.md).
type AppUser struct {
	AuthUserID   int64
	TenantID     int64
	Nickname     string
	ReferralCode string // this user's own code, to hand to friends
	ReferredBy   int64  // the auth user id of the referrer, 0 if none
	Credits      int
}

// meFields is what the app adds to GET /api/user-center/me (declared once
// for the OpenAPI document).
type meFields struct {
	Nickname     string `json:"nickname" description:"The app's nickname."`
	ReferralCode string `json:"referralCode" description:"The user's own referral code."`
	Credits      int    `json:"credits" description:"Credits earned by referrals."`
	TenantID     int64  `json:"tenantId,omitempty" description:"The tenant whose app user row this is (absent: the row outside any tenant)."`
	ReferredBy   int64  `json:"-"` // internal: never shown
}

var errNoAppUser = errors.New("no app user")

// appUsers is the app's table, in memory or in PostgreSQL.
type appUsers interface {
	// Create inserts a row inside the kit's transaction carried by ctx.
	Create(ctx context.Context, a AppUser) error
	// Get returns the row of (authUserID, tenantID); tenant 0: no tenant.
	Get(ctx context.Context, authUserID, tenantID int64) (AppUser, error)
	ByReferralCode(ctx context.Context, code string) (AppUser, error)
	// AddCredit adds n credits atomically, inside ctx's transaction if any.
	AddCredit(ctx context.Context, authUserID int64, n int) error
}

// appHooks wires the app table into the kit's flows; svc returns the
// service (built after the hooks) for the after-commit refresh.
func appHooks(h *hooks.Hooks, store appUsers, svc func() *simpleuser.Service) {
	h.AfterCreate = func(ctx context.Context, u *user.User, p hooks.Payload) error {
		a := AppUser{AuthUserID: u.ID, Nickname: p.String("nickname"), ReferralCode: newReferralCode()}
		if a.Nickname == "" {
			a.Nickname = localPart(u.Email)
		}
		if a.Nickname == "" { // a provider sign-up without an address
			a.Nickname = p.String("name")
		}
		if a.Nickname == "" {
			a.Nickname = fmt.Sprintf("user%d", u.ID)
		}
		if code := p.String("referralCode"); code != "" {
			ref, err := store.ByReferralCode(ctx, code)
			if errors.Is(err, errNoAppUser) {
				return hooks.Reject(http.StatusBadRequest, "unknown referral code")
			}
			if err != nil {
				return err
			}
			a.ReferredBy = ref.AuthUserID
			if err := store.AddCredit(ctx, ref.AuthUserID, 1); err != nil {
				return err
			}
		}
		return store.Create(ctx, a) // the same transaction: an error rolls the account back
	}
	// The session carries the app fields, so /me with a token and /app/whoami
	// need no app_users read: one session GET (+ the kit's user row for /me).
	h.GetSessionUserData = func(ctx context.Context, u *user.User) (map[string]any, error) {
		a, err := store.Get(ctx, u.ID, 0)
		if err != nil {
			return nil, err
		}
		return map[string]any{"nickname": a.Nickname, "referralCode": a.ReferralCode, "credits": a.Credits}, nil
	}
	h.MeFields = func(ctx context.Context, u *user.User) (map[string]any, error) {
		if !u.Registered() {
			return nil, nil // anonymous users have no app row
		}
		d, err := simpleuser.CurrentSession(ctx)
		if err == nil && d != nil && d.UserID == u.ID && d.TenantID != 0 { // the tenant's own row
			a, err := store.Get(ctx, u.ID, d.TenantID)
			if err != nil {
				return nil, err
			}
			return map[string]any{"nickname": a.Nickname, "referralCode": a.ReferralCode, "credits": a.Credits, "tenantId": d.TenantID}, nil
		}
		if err == nil && d != nil && d.UserID == u.ID && len(d.UserData) > 0 {
			var f meFields
			if json.Unmarshal(d.UserData, &f) == nil && f.ReferralCode != "" {
				return map[string]any{"nickname": f.Nickname, "referralCode": f.ReferralCode, "credits": f.Credits}, nil
			}
		}
		a, err := store.Get(ctx, u.ID, 0)
		if errors.Is(err, errNoAppUser) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return map[string]any{"nickname": a.Nickname, "referralCode": a.ReferralCode, "credits": a.Credits}, nil
	}
	// A referral changed the referrer's credits: refresh their sessions once
	// the registration has committed.
	h.OnEvent = func(ctx context.Context, e hooks.Event) error {
		if e.Type == hooks.MembershipAdded {
			return addTenantRow(ctx, store, e.UserID, e.TenantID)
		}
		if e.Type != hooks.UserRegistered && e.Type != hooks.UserCreated {
			return nil
		}
		a, err := store.Get(ctx, e.UserID, 0)
		if err != nil || a.ReferredBy == 0 || svc() == nil {
			return nil
		}
		_, err = svc().RefreshSessionUserData(ctx, a.ReferredBy)
		return err
	}
	h.MeFieldsType = meFields{}
}

// addTenantRow gives a user who joined a tenant their app row there, with
// the nickname of their row outside any tenant (a user rejoining keeps
// the row they had).
func addTenantRow(ctx context.Context, store appUsers, userID, tenantID int64) error {
	if _, err := store.Get(ctx, userID, tenantID); !errors.Is(err, errNoAppUser) {
		return err
	}
	a := AppUser{AuthUserID: userID, TenantID: tenantID, ReferralCode: newReferralCode()}
	if base, err := store.Get(ctx, userID, 0); err == nil {
		a.Nickname = base.Nickname
	} else if !errors.Is(err, errNoAppUser) {
		return err
	}
	if a.Nickname == "" {
		a.Nickname = fmt.Sprintf("user%d", userID)
	}
	return store.Create(ctx, a)
}

func localPart(email string) string {
	for i := 0; i < len(email); i++ {
		if email[i] == '@' {
			return email[:i]
		}
	}
	return email
}

const referralAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

func newReferralCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = referralAlphabet[int(b[i])%len(referralAlphabet)]
	}
	return string(b)
}

// memAppUsers keeps app users in memory; inside a transaction of the kit's
// memory store, each change registers its undo so a rollback takes it back.
type memAppUsers struct {
	kit  *memory.Store
	mu   sync.Mutex
	rows map[rowKey]AppUser
	refs map[string]rowKey
}

type rowKey struct{ user, tenant int64 }

func newMemAppUsers(kit *memory.Store) *memAppUsers {
	return &memAppUsers{kit: kit, rows: map[rowKey]AppUser{}, refs: map[string]rowKey{}}
}

func (m *memAppUsers) Create(ctx context.Context, a AppUser) error {
	k := rowKey{a.AuthUserID, a.TenantID}
	m.mu.Lock()
	m.rows[k], m.refs[a.ReferralCode] = a, k
	m.mu.Unlock()
	m.kit.OnRollback(ctx, func() {
		m.mu.Lock()
		delete(m.rows, k)
		delete(m.refs, a.ReferralCode)
		m.mu.Unlock()
	})
	return nil
}

// DropUsers deletes the rows of the users ids (every tenant's) and
// returns a function putting them back: the user store calls it when it
// deletes users (usermemory.Store.CascadeTo), as app_users' ON DELETE
// CASCADE does on PostgreSQL.
func (m *memAppUsers) DropUsers(ids []int64) (restore func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var gone []AppUser
	for k, a := range m.rows {
		if slices.Contains(ids, k.user) {
			gone = append(gone, a)
			delete(m.rows, k)
			delete(m.refs, a.ReferralCode)
		}
	}
	if gone == nil {
		return nil
	}
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, a := range gone {
			k := rowKey{a.AuthUserID, a.TenantID}
			m.rows[k], m.refs[a.ReferralCode] = a, k
		}
	}
}

func (m *memAppUsers) Get(_ context.Context, id, tenantID int64) (AppUser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.rows[rowKey{id, tenantID}]
	if !ok {
		return AppUser{}, errNoAppUser
	}
	return a, nil
}

func (m *memAppUsers) ByReferralCode(ctx context.Context, code string) (AppUser, error) {
	m.mu.Lock()
	k, ok := m.refs[code]
	m.mu.Unlock()
	if !ok {
		return AppUser{}, errNoAppUser
	}
	return m.Get(ctx, k.user, k.tenant)
}

func (m *memAppUsers) AddCredit(ctx context.Context, id int64, n int) error {
	m.mu.Lock()
	k := rowKey{id, 0}
	a, ok := m.rows[k]
	if ok {
		a.Credits += n
		m.rows[k] = a
	}
	m.mu.Unlock()
	if !ok {
		return errNoAppUser
	}
	m.kit.OnRollback(ctx, func() { _ = m.AddCredit(context.Background(), id, -n) })
	return nil
}

// pgAppUsers is the app_users table; statements join the kit's transaction
// through postgres.TxFrom. Every error passes through postgres.Wrap, so
// that PostgreSQL being unreachable or timing out (lock_timeout,
// statement_timeout, a lost connection) answers 503 BACKEND_UNAVAILABLE
// like the kit's own statements, also outside the kit's transaction (the
// MeFields and GetSessionUserData reads), not 500.
type pgAppUsers struct{ pool *pgxpool.Pool }

//go:embed migrations/*.sql
var appMigrationFiles embed.FS

// appMigrations is the app's schema (app_users), which postgres.Migrate
// applies after the kit's under the kit's migration lock and records as the
// "exampleapp" component: every instance runs it at start-up, and instances
// starting at once take turns instead of racing on CREATE TABLE.
func appMigrations() postgres.Source {
	sub, err := fs.Sub(appMigrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return postgres.Source{Component: "exampleapp", FS: sub}
}

// newPGAppUsers returns the app table on pool; postgres.Migrate with
// appMigrations creates it.
func newPGAppUsers(pool *pgxpool.Pool) *pgAppUsers { return &pgAppUsers{pool: pool} }

func (p *pgAppUsers) q(ctx context.Context) interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
} {
	if tx, ok := postgres.TxFrom(ctx); ok {
		return tx
	}
	return p.pool
}

func (p *pgAppUsers) Create(ctx context.Context, a AppUser) error {
	var ref *int64
	if a.ReferredBy != 0 {
		ref = &a.ReferredBy
	}
	return postgres.Wrap(p.q(ctx).QueryRow(ctx, `INSERT INTO app_users (auth_user_id, tenant_id, nickname, referral_code, referred_by, credits)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING auth_user_id`, a.AuthUserID, a.TenantID, a.Nickname, a.ReferralCode, ref, a.Credits).Scan(&a.AuthUserID))
}

func (p *pgAppUsers) get(ctx context.Context, where string, args ...any) (AppUser, error) {
	var a AppUser
	var ref *int64
	err := p.q(ctx).QueryRow(ctx, `SELECT auth_user_id, tenant_id, nickname, referral_code, referred_by, credits FROM app_users WHERE `+where, args...).
		Scan(&a.AuthUserID, &a.TenantID, &a.Nickname, &a.ReferralCode, &ref, &a.Credits)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, errNoAppUser
	}
	if ref != nil {
		a.ReferredBy = *ref
	}
	return a, postgres.Wrap(err)
}

func (p *pgAppUsers) Get(ctx context.Context, id, tenantID int64) (AppUser, error) {
	return p.get(ctx, "auth_user_id = $1 AND tenant_id = $2", id, tenantID)
}

func (p *pgAppUsers) ByReferralCode(ctx context.Context, code string) (AppUser, error) {
	return p.get(ctx, "referral_code = $1", code)
}

func (p *pgAppUsers) AddCredit(ctx context.Context, id int64, n int) error {
	var got int64
	err := p.q(ctx).QueryRow(ctx, `UPDATE app_users SET credits = credits + $2 WHERE auth_user_id = $1 AND tenant_id = 0 RETURNING auth_user_id`, id, n).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoAppUser
	}
	return postgres.Wrap(err)
}
