package handlers

import (
	"encoding/json"
	"slices"

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
	if len(extra) == 0 {
		return kit, nil
	}
	return &meMerged{kit: kit, extra: extra}, nil
}

// meMerged is the kit's /me object followed by the app's fields; the kit's
// fields win on a name clash.
type meMerged struct {
	kit   *meUser
	extra map[string]any
}

// kitFields are the JSON names of meUser.
var kitFields = []string{"id", "email", "registered", "passwordSet", "metadata", "settings", "createdAt"}

// MarshalJSON writes the kit's object, then the app's other fields.
func (m *meMerged) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(m.kit)
	if err != nil {
		return nil, err
	}
	extra := make(map[string]any, len(m.extra))
	for k, v := range m.extra {
		if !slices.Contains(kitFields, k) {
			extra[k] = v
		}
	}
	if len(extra) == 0 {
		return b, nil
	}
	e, err := json.Marshal(extra)
	if err != nil {
		return nil, err
	}
	b[len(b)-1] = ','
	return append(b, e[1:]...), nil
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
