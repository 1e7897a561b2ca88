package handlers

import (
	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/user"
)

// GET /user-center/me
func me(c *call) (any, error) {
	ctx := c.r.Context()
	u, err := simpleuser.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	kit := meOf(u)
	if c.s.opts.MeFields == nil {
		return kit, nil
	}
	extra, err := c.s.opts.MeFields(ctx, u)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(extra)+7)
	for k, v := range extra {
		out[k] = v
	}
	// The kit's fields win on a name clash.
	out["id"] = kit.ID
	out["email"] = kit.Email
	out["registered"] = kit.Registered
	out["passwordSet"] = kit.PasswordSet
	out["metadata"] = kit.Metadata
	out["settings"] = kit.Settings
	out["createdAt"] = kit.CreatedAt
	return out, nil
}

// meOf renders the kit's fields of u.
func meOf(u *user.User) *meUser {
	m := &meUser{
		ID:          u.ID,
		Registered:  u.Registered(),
		PasswordSet: u.PasswordSet(),
		Metadata:    u.Metadata,
		Settings:    u.Settings,
		CreatedAt:   formatTime(u.CreatedAt),
	}
	if u.Email != "" {
		e := u.Email
		m.Email = &e
	}
	if m.Metadata == nil {
		m.Metadata = map[string]any{}
	}
	if m.Settings == nil {
		m.Settings = map[string]any{}
	}
	return m
}
