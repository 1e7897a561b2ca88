package handlers

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
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
	if d, _ := simpleuser.CurrentSession(ctx); d != nil && d.Factors != nil { // read by CurrentUser already
		kit.MFAEnabled, kit.Factors = d.MFA, d.Factors
	} else if d != nil {
		kit.MFAEnabled = d.MFA
	}
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

// meMerged is the kit's /me object followed by the app's fields (sorted by
// name, as encoding/json writes a map); the kit's fields win on a name clash.
type meMerged struct {
	kit   *meUser
	extra map[string]any
}

// kitFields are the JSON names of meUser.
var kitFields = []string{"id", "email", "phone", "emailVerifiedAt", "phoneVerifiedAt", "registered", "passwordSet", "metadata", "settings", "createdAt", "mfaEnabled", "factors"}

// MarshalJSON writes the kit's object, then the app's other fields.
func (m *meMerged) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil) }

// AppendJSON is MarshalJSON appending to b (envelope.Appender): GET /me
// is a hot path, so only the app's non-scalar values go through
// encoding/json's reflection.
func (m *meMerged) AppendJSON(b []byte) ([]byte, error) {
	b, err := m.kit.AppendJSON(b)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(m.extra))
	for k := range m.extra {
		if !slices.Contains(kitFields, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		b[len(b)-1] = ','
		b = envelope.AppendString(b, k)
		b = append(b, ':')
		if b, err = appendValue(b, m.extra[k]); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	return b, nil
}

// AppendJSON appends json.Marshal(m) (envelope.Appender).
func (m *meUser) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, m.ID, 10)
	b = append(b, `,"email":`...)
	if m.Email == nil {
		b = append(b, "null"...)
	} else {
		b = envelope.AppendString(b, *m.Email)
	}
	b = appendOptString(append(b, `,"phone":`...), m.Phone)
	b = appendOptString(append(b, `,"emailVerifiedAt":`...), m.EmailVerifiedAt)
	b = appendOptString(append(b, `,"phoneVerifiedAt":`...), m.PhoneVerifiedAt)
	b = append(b, `,"registered":`...)
	b = strconv.AppendBool(b, m.Registered)
	b = append(b, `,"passwordSet":`...)
	b = strconv.AppendBool(b, m.PasswordSet)
	b = append(b, `,"metadata":`...)
	b, err := appendValue(b, m.Metadata)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"settings":`...)
	if b, err = appendValue(b, m.Settings); err != nil {
		return nil, err
	}
	b = append(b, `,"createdAt":`...)
	b = envelope.AppendString(b, m.CreatedAt)
	b = append(b, `,"mfaEnabled":`...)
	b = strconv.AppendBool(b, m.MFAEnabled)
	b = append(b, `,"factors":`...)
	if m.Factors == nil {
		return append(b, "null}"...), nil
	}
	b = append(b, '[')
	for i, f := range m.Factors {
		if i > 0 {
			b = append(b, ',')
		}
		b = envelope.AppendString(b, f)
	}
	return append(b, ']', '}'), nil
}

// appendOptString appends the JSON string *s, or null for nil.
func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return envelope.AppendString(b, *s)
}

// appendValue appends json.Marshal(v): common scalars and empty objects
// directly, anything else through encoding/json.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return envelope.AppendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case map[string]any:
		if v == nil {
			return append(b, "null"...), nil
		}
		if len(v) == 0 {
			return append(b, "{}"...), nil
		}
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
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
	if u.Phone != "" {
		p := u.Phone
		m.Phone = &p
	}
	if !u.EmailVerifiedAt.IsZero() {
		t := formatTime(u.EmailVerifiedAt)
		m.EmailVerifiedAt = &t
	}
	if !u.PhoneVerifiedAt.IsZero() {
		t := formatTime(u.PhoneVerifiedAt)
		m.PhoneVerifiedAt = &t
	}
	if m.Metadata == nil {
		m.Metadata = map[string]any{}
	}
	if m.Settings == nil {
		m.Settings = map[string]any{}
	}
	m.Factors = []string{}
	return m
}
