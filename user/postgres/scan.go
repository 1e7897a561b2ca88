package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/simpleuser/simpleuser/user"
)

// scanUser reads one row of userColumns. NULL becomes "" or the zero time,
// times come back in UTC, and metadata and settings are never nil.
//
// Nullable columns scan into pgtype values rather than pointers: pgx plans
// a pointer-to-pointer scan with reflection and an allocation per column
// and row, and every authenticated request reads a user.
func scanUser(row pgx.CollectableRow) (*user.User, error) {
	// One allocation for every scan target (each escapes through Scan).
	var t struct {
		u                                                     user.User
		email, ssaid, hash, registerIP, loginIP, lastActiveIP pgtype.Text
		phone, reason                                         pgtype.Text
		registerTime, loginTime, lastActiveTime, unregisterAt pgtype.Timestamptz
		emailVerified, phoneVerified                          pgtype.Timestamptz
		meta, settings                                        []byte
	}
	u := &t.u
	err := row.Scan(&u.ID, &t.email, &t.ssaid, &t.hash, &u.Disabled, &t.meta,
		&t.registerIP, &t.registerTime, &t.loginIP, &t.loginTime, &t.lastActiveIP, &t.lastActiveTime,
		&t.unregisterAt, &u.CreatedAt, &u.UpdatedAt, &u.Version, &t.settings,
		&t.phone, &t.emailVerified, &t.phoneVerified, &u.MustChangePassword, &u.Suspended, &t.reason)
	if err != nil {
		return nil, err
	}
	u.Email, u.SSAID, u.PasswordHash, u.StatusReason = t.email.String, t.ssaid.String, t.hash.String, t.reason.String
	u.RegisterIP, u.LoginIP, u.LastActiveIP = t.registerIP.String, t.loginIP.String, t.lastActiveIP.String
	u.RegisterTime, u.LoginTime = utc(t.registerTime), utc(t.loginTime)
	u.LastActiveTime, u.UnregisterTime = utc(t.lastActiveTime), utc(t.unregisterAt)
	u.Phone, u.EmailVerifiedAt, u.PhoneVerifiedAt = t.phone.String, utc(t.emailVerified), utc(t.phoneVerified)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	meta, settings := t.meta, t.settings
	if u.Metadata, err = object(meta); err != nil {
		return nil, fmt.Errorf("metadata of user %d: %w", u.ID, err)
	}
	if u.Settings, err = object(settings); err != nil {
		return nil, fmt.Errorf("settings of user %d: %w", u.ID, err)
	}
	return u, nil
}

// object decodes a jsonb object, never nil; the usual empty one ({}) skips
// the decoder, since every user read goes through here.
func object(b []byte) (map[string]any, error) {
	if string(b) == "{}" {
		return map[string]any{}, nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// scanIdentity reads one row of identityColumns.
func scanIdentity(row pgx.CollectableRow) (user.Identity, error) {
	var (
		id    user.Identity
		email *string
	)
	err := row.Scan(&id.UserID, &id.Provider, &id.Subject, &email, &id.EmailVerified, &id.CreatedAt, &id.LastUsedAt)
	if err != nil {
		return id, err
	}
	id.Email = str(email)
	id.CreatedAt, id.LastUsedAt = id.CreatedAt.UTC(), id.LastUsedAt.UTC()
	return id, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// utc is t in UTC, the zero time for NULL.
func utc(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullString maps "" to NULL.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullTime maps the zero time to NULL; other times are stored as dbTime.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return dbTime(t)
}

// dbTime is t as PostgreSQL keeps it: UTC, truncated to the microsecond
// (which is also what pgx sends), without a monotonic clock reading.
func dbTime(t time.Time) time.Time {
	return t.Truncate(time.Microsecond).UTC()
}

// metadata is the value written to a JSON object column (metadata,
// settings): {} for a nil map. pgx encodes it with encoding/json.
func metadata(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
