package admin

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/internal/mergepatch"
	"github.com/simpleuser/simpleuser/user"
)

func (h *Handler) patchMetadata(r *http.Request, a actor) (any, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	var patch map[string]any
	if err := decode(r, &patch); err != nil {
		return nil, err
	}
	if patch == nil { // RFC 7386 would replace the whole metadata with null
		return nil, invalid("body must be a JSON object (a merge patch of the metadata)")
	}
	var u *user.User
	fields := make([]string, 0, len(patch))
	for k := range patch {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	err = h.audited(r.Context(), a, Entry{Action: ActionUserMetadata, TargetUserID: id, Detail: map[string]any{"fields": fields}},
		func(ctx context.Context, _ *Entry) error {
			u, err = h.cfg.Service.UpdateMetadata(ctx, id, func(m map[string]any) error {
				merged, _ := mergepatch.Apply(m, patch).(map[string]any)
				clear(m)
				for k, v := range merged {
					m[k] = v
				}
				return nil
			})
			return err
		})
	if err != nil {
		return nil, err
	}
	return view(u), nil
}

// DisableBody is the optional body of POST /users/{id}/disable.
type DisableBody struct {
	// Reason is kept on the user (user.User.StatusReason, carried by the
	// UserDisabled event) and in the audit entry (at most MaxReasonLength bytes).
	Reason string `json:"reason,omitempty" maxLength:"500"`
	// Status is "disabled" (the default) or "suspended"; both block every
	// sign-in and end every session.
	Status string `json:"status,omitempty" enum:"disabled,suspended"`
}

func (h *Handler) setDisabled(disabled bool) func(r *http.Request, a actor) (any, error) {
	return func(r *http.Request, a actor) (any, error) {
		id, err := userID(r)
		if err != nil {
			return nil, err
		}
		var b DisableBody
		if r.ContentLength != 0 {
			if err := decode(r, &b); err != nil {
				return nil, err
			}
		}
		if err := text("reason", b.Reason, MaxReasonLength); err != nil {
			return nil, err
		}
		status := user.StatusActive
		e := Entry{Action: ActionUserEnable, TargetUserID: id}
		if disabled {
			e.Action, status = ActionUserDisable, cmp.Or(b.Status, user.StatusDisabled)
			if status != user.StatusDisabled && status != user.StatusSuspended {
				return nil, invalid("status must be %q or %q", user.StatusDisabled, user.StatusSuspended)
			}
			e.Detail = map[string]any{"status": status}
			if b.Reason != "" {
				e.Detail["reason"] = b.Reason
			}
		}
		err = h.audited(r.Context(), a, e, func(ctx context.Context, _ *Entry) error {
			return h.cfg.Service.SetStatus(ctx, id, status, b.Reason)
		})
		if err != nil {
			return nil, err
		}
		return DisabledView{ID: id, Disabled: disabled, Status: status}, nil
	}
}

func (h *Handler) deleteUser(r *http.Request, a actor) (any, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	err = h.audited(r.Context(), a, Entry{Action: ActionUserDelete, TargetUserID: id}, func(ctx context.Context, _ *Entry) error {
		return h.cfg.Service.DeleteUser(ctx, id)
	})
	return nil, err
}

// SessionView is one live session of a user.
type SessionView struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"userAgent,omitempty"`
	AMR       []string  `json:"amr,omitempty"`
}

func (h *Handler) listSessions(r *http.Request, _ actor) (any, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	if _, err := h.cfg.Service.GetUser(r.Context(), id); err != nil {
		return nil, err
	}
	ss, err := h.cfg.Service.Sessions().List(r.Context(), id, "")
	if err != nil {
		return nil, err
	}
	out := make([]SessionView, 0, len(ss))
	for _, s := range ss {
		out = append(out, SessionView{ID: s.ID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, LastSeen: s.LastSeen, IP: s.IP, UserAgent: s.UserAgent, AMR: s.AMR})
	}
	return out, nil
}

func (h *Handler) endSession(r *http.Request, a actor) (any, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	sid := r.PathValue("sid")
	err = h.audited(r.Context(), a, Entry{Action: ActionSessionEnd, TargetUserID: id, Target: sid}, func(ctx context.Context, _ *Entry) error {
		d, err := h.cfg.Service.Sessions().EndID(ctx, id, sid)
		if err == nil && d == nil {
			return errNoSession
		}
		return err
	})
	return nil, err
}

func (h *Handler) endSessions(r *http.Request, a actor) (any, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	var n int
	err = h.audited(r.Context(), a, Entry{Action: ActionSessionEndAll, TargetUserID: id}, func(ctx context.Context, e *Entry) error {
		if _, err := h.cfg.Service.GetUser(ctx, id); err != nil {
			return err
		}
		n, err = h.cfg.Service.RevokeSessions(ctx, id)
		e.Detail = map[string]any{"ended": n}
		return err
	})
	if err != nil {
		return nil, err
	}
	return EndedView{Ended: n}, nil
}

func (h *Handler) listIdentities(r *http.Request, _ actor) (any, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	if _, err := h.cfg.Service.GetUser(r.Context(), id); err != nil {
		return nil, err
	}
	ids, err := h.cfg.Service.Identities(r.Context(), id)
	if err != nil {
		return nil, err
	}
	out := make([]IdentityView, 0, len(ids))
	for _, i := range ids {
		out = append(out, IdentityView{Provider: i.Provider, Subject: i.Subject, Email: i.Email, LinkedAt: i.CreatedAt})
	}
	return out, nil
}

func (h *Handler) unlink(r *http.Request, a actor) (any, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	p, s := r.PathValue("provider"), r.PathValue("subject")
	err = h.audited(r.Context(), a, Entry{Action: ActionIdentityUnlink, TargetUserID: id, Target: p + ":" + s}, func(ctx context.Context, _ *Entry) error {
		return h.cfg.Service.UnlinkIdentity(ctx, id, p, s)
	})
	return nil, err
}

func (h *Handler) resetFactors(r *http.Request, a actor) (any, error) {
	id, err := userID(r)
	if err != nil {
		return nil, err
	}
	m := h.cfg.Service.MFA()
	if m == nil {
		return nil, simpleuser.NewError(http.StatusNotFound, simpleuser.CodeNotFound, "Second factors are not configured")
	}
	err = h.audited(r.Context(), a, Entry{Action: ActionFactorsReset, TargetUserID: id}, func(ctx context.Context, _ *Entry) error {
		u, err := h.cfg.Service.GetUser(ctx, id)
		if err != nil {
			return err
		}
		return m.Reset(ctx, u)
	})
	return nil, err
}

func (h *Handler) setMustChange(on bool) func(r *http.Request, a actor) (any, error) {
	return func(r *http.Request, a actor) (any, error) {
		id, err := userID(r)
		if err != nil {
			return nil, err
		}
		e := Entry{Action: ActionMustChangeClear, TargetUserID: id}
		if on {
			e.Action = ActionMustChange
		}
		err = h.audited(r.Context(), a, e, func(ctx context.Context, _ *Entry) error {
			return h.cfg.Service.SetMustChangePassword(ctx, id, on)
		})
		if err != nil {
			return nil, err
		}
		return MustChangeView{ID: id, MustChangePassword: on}, nil
	}
}
