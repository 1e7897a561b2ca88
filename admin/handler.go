package admin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/session"
)

// DefaultPermission is the permission Config.Permission defaults to.
const DefaultPermission = "admin"

// CodePermissionDenied is data.code of a 403 to a session without the
// admin permission.
const CodePermissionDenied = "PERMISSION_DENIED"

// Config configures New. Service and Store are required.
type Config struct {
	// Service is the kit's service the API acts through.
	Service *simpleuser.Service
	// Store keeps the audit log and the API keys.
	Store Store
	// Search finds users (GET /users). nil: that route answers 503 naming
	// it; every other route works.
	Search Searcher
	// Permission is the permission a session needs (default "admin").
	Permission string
	// Allow decides whether the session d holds perm. Default: the
	// session's tenant permissions (d.Permissions, from its roles) hold
	// perm, or d.UserData (the app's GetSessionUserData payload) is a JSON
	// object whose "permissions" member is an array of strings holding
	// perm. Neither reads a store.
	Allow func(ctx context.Context, d *session.Data, perm string) bool
	// Identity configures the middleware.Identity the handler runs first
	// (trusted proxies for the client IP the audit log records).
	Identity middleware.Options
	// Logger receives 5xx failures (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock of audit times and key creation (default time.Now).
	Now func() time.Time
}

// Handler is the admin API. Mount it under a prefix of the app's choosing
// with http.StripPrefix; routes are listed in docs/admin.md.
type Handler struct {
	cfg Config
	mux *http.ServeMux
	h   http.Handler
}

// New returns the admin API's handler; an error names a missing field.
func New(cfg Config) (*Handler, error) {
	if cfg.Service == nil {
		return nil, errors.New("admin: Config.Service is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("admin: Config.Store is required")
	}
	if cfg.Permission == "" {
		cfg.Permission = DefaultPermission
	}
	if cfg.Allow == nil {
		cfg.Allow = userDataAllows
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux()}
	h.routes()
	h.h = middleware.Identity(cfg.Service, cfg.Identity)(h.mux)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.h.ServeHTTP(w, r) }

// userDataAllows is Config.Allow's default.
func userDataAllows(_ context.Context, d *session.Data, perm string) bool {
	var ud struct {
		Permissions []string `json:"permissions"`
	}
	return slices.Contains(d.Permissions, perm) ||
		(len(d.UserData) > 0 && json.Unmarshal(d.UserData, &ud) == nil && slices.Contains(ud.Permissions, perm))
}

// actor is who makes an admin request.
type actor struct {
	userID int64
	keyID  string
	ip     string
}

var (
	errKeyInvalid = simpleuser.NewError(http.StatusUnauthorized, simpleuser.CodeInvalidToken, "Invalid or revoked API key")
	errDenied     = simpleuser.NewError(http.StatusForbidden, CodePermissionDenied, "The admin permission is required")
	errNoUser     = simpleuser.NewError(http.StatusNotFound, simpleuser.CodeUserNotFound, "No such user")
	errNoKey      = simpleuser.NewError(http.StatusNotFound, simpleuser.CodeNotFound, "No such API key")
	errNoSession  = simpleuser.NewError(http.StatusNotFound, simpleuser.CodeNotFound, "No such live session of the user")
	errNoSearch   = simpleuser.NewError(http.StatusServiceUnavailable, simpleuser.CodeUnavailable, "admin user search unavailable: Config.Search is not set")
)

// authenticate returns the request's actor: an API key (Authorization:
// Bearer suadm_...) or a session holding the permission.
func (h *Handler) authenticate(r *http.Request) (actor, error) {
	var a actor
	if ip := simpleuser.ClientIP(r.Context()); ip.IsValid() {
		a.ip = ip.String()
	}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") && strings.HasPrefix(tok, KeyPrefix) {
		if !IsKey(tok) {
			return a, errKeyInvalid
		}
		k, err := h.cfg.Store.KeyByHash(r.Context(), HashKey(tok))
		if errors.Is(err, ErrNotFound) || (err == nil && k.Revoked()) {
			return a, errKeyInvalid
		}
		if err != nil {
			return a, err
		}
		a.keyID = k.ID
		return a, nil
	}
	d, err := simpleuser.CurrentSession(r.Context())
	if err != nil {
		return a, err
	}
	if d == nil {
		return a, simpleuser.ErrAuthRequired
	}
	if !h.cfg.Allow(r.Context(), d, h.cfg.Permission) {
		return a, errDenied
	}
	a.userID = d.UserID
	return a, nil
}

// handle adapts an admin route: authenticate, run fn, write its data or error.
func (h *Handler) handle(pattern string, fn func(r *http.Request, a actor) (any, error)) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		a, err := h.authenticate(r)
		var data any
		if err == nil {
			data, err = fn(r, a)
		}
		if err != nil {
			envelope.Error(w, r, h.cfg.Logger, mapErr(err))
			return
		}
		envelope.LogEncodeFailure(r, h.cfg.Logger, envelope.OK(w, data))
	})
}

// audited runs change and records e in one transaction of the service.
// change may complete e (the target of a creation).
func (h *Handler) audited(ctx context.Context, a actor, e Entry, change func(ctx context.Context, e *Entry) error) error {
	e.At, e.ActorUserID, e.ActorKeyID, e.IP = h.cfg.Now(), a.userID, a.keyID, a.ip
	return h.cfg.Service.WithTx(ctx, func(ctx context.Context) error {
		if change != nil {
			if err := change(ctx, &e); err != nil {
				return err
			}
		}
		return h.cfg.Store.Record(ctx, &e)
	})
}
