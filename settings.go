package simpleuser

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/simpleuser/simpleuser/internal/mergepatch"
	"github.com/simpleuser/simpleuser/internal/textcheck"
	"github.com/simpleuser/simpleuser/user"
)

// MaxSettingsBytes is the largest settings object, as compact JSON.
const MaxSettingsBytes = 16 << 10

// The user's settings are a JSON object the user writes
// (PATCH /user-center/settings) and the app writes through UpdateSettings;
// metadata, by contrast, only the app writes.

// PatchSettings applies a JSON merge patch (RFC 7386) to the settings of the
// user id: members of the patch object replace or, when null, remove the
// settings' members; nested objects merge. The result must be a JSON object
// of at most MaxSettingsBytes, else 400 (nothing is stored). The patch is
// re-applied if the user changed concurrently, so no concurrent change is
// lost.
func (s *Service) PatchSettings(ctx context.Context, id int64, patch []byte) (*user.User, error) {
	if !textcheck.JSON(patch) {
		return nil, errUnstorableText("settings")
	}
	var p any
	dec := json.NewDecoder(bytes.NewReader(patch))
	if err := dec.Decode(&p); err != nil || dec.More() {
		return nil, InvalidInput("The settings patch must be a JSON value (a merge patch)")
	}
	if _, ok := p.(map[string]any); !ok {
		return nil, InvalidInput("settings must be a JSON object")
	}
	return s.updateSettings(ctx, id, func(cur map[string]any) (map[string]any, error) {
		out, _ := mergepatch.Apply(cur, p).(map[string]any)
		return out, nil
	})
}

// UpdateSettings applies fn to a copy of the settings of the user id and
// stores the result (retrying fn if the user changed concurrently): the
// app's way to write them. 400 when the result is over MaxSettingsBytes or
// does not encode as JSON.
func (s *Service) UpdateSettings(ctx context.Context, id int64, fn func(m map[string]any) error) (*user.User, error) {
	return s.updateSettings(ctx, id, func(cur map[string]any) (map[string]any, error) {
		if cur == nil {
			cur = map[string]any{}
		}
		return cur, fn(cur)
	})
}

func (s *Service) updateSettings(ctx context.Context, id int64, fn func(cur map[string]any) (map[string]any, error)) (*user.User, error) {
	return s.update(ctx, id, func(u *user.User) error {
		next, err := fn(u.Settings)
		if err != nil {
			return err
		}
		if err := checkSettings(next); err != nil {
			return err
		}
		u.Settings = next
		return nil
	})
}
