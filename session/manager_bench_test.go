package session_test

// Benchmarks of the session manager: token generation and hashing, and
// Get/Create/List/RevokeUser on the in-memory store (the kit's CPU cost) and on
// Redis (REDIS_URL, default redis://127.0.0.1:6379/0; keys under a unique
// prefix removed afterwards).
//
//	go test -run '^$' -bench . -benchmem -benchtime 300x ./session
//
// (RevokeUser-1000 creates 1,000 sessions, untimed, per iteration.)

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/internal/testenv"
	"github.com/simpleuser/simpleuser/session"
	sessionmemory "github.com/simpleuser/simpleuser/session/memory"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
)

const benchUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

func BenchmarkNewToken(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := session.NewToken(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKey(b *testing.B) {
	tok, _ := session.NewToken()
	b.ReportAllocs()
	for b.Loop() {
		_ = session.Key(tok)
	}
}

func benchManagers(b *testing.B) map[string]func(b *testing.B) *session.Manager {
	return map[string]func(b *testing.B) *session.Manager{
		"memory": func(b *testing.B) *session.Manager {
			st, idx := sessionmemory.New()
			return &session.Manager{Store: st, Index: idx, MaxPerUser: -1}
		},
		"redis": func(b *testing.B) *session.Manager {
			pool, prefix := testenv.Redis(b)
			st, idx := sessionredis.New(pool, prefix)
			return &session.Manager{Store: st, Index: idx, MaxPerUser: -1}
		},
	}
}

func BenchmarkManager(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"memory", "redis"} {
		newManager := benchManagers(b)[name]
		b.Run(name+"/Get", func(b *testing.B) {
			m := newManager(b)
			tok, err := m.Create(ctx, session.Data{UserID: 42, IP: "203.0.113.7", UserAgent: benchUA})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Get(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/Create", func(b *testing.B) {
			m := newManager(b)
			b.ReportAllocs()
			uid := int64(0)
			for b.Loop() {
				uid++ // one session per user, as after distinct logins
				if _, err := m.Create(ctx, session.Data{UserID: uid, IP: "203.0.113.7", UserAgent: benchUA}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/Create-at-cap", func(b *testing.B) { // each Create ends the oldest of 50
			m := newManager(b)
			m.MaxPerUser = session.DefaultMaxPerUser
			for range session.DefaultMaxPerUser {
				if _, err := m.Create(ctx, session.Data{UserID: 9, IP: "203.0.113.7", UserAgent: benchUA}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Create(ctx, session.Data{UserID: 9, IP: "203.0.113.7", UserAgent: benchUA}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/List-50", func(b *testing.B) {
			m := newManager(b)
			var tok string
			for range 50 {
				t, err := m.Create(ctx, session.Data{UserID: 8, IP: "203.0.113.7", UserAgent: benchUA})
				if err != nil {
					b.Fatal(err)
				}
				tok = t
			}
			b.ReportAllocs()
			for b.Loop() {
				if l, err := m.List(ctx, 8, tok); err != nil || len(l) != 50 {
					b.Fatal(len(l), err)
				}
			}
		})
		b.Run(name+"/RevokeUser-1000", func(b *testing.B) {
			m := newManager(b)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				for i := 0; i < 1000; i++ {
					if _, err := m.Create(ctx, session.Data{UserID: 7, IP: "203.0.113.7", UserAgent: benchUA}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if n, err := m.RevokeUser(ctx, 7); err != nil || n != 1000 {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// BenchmarkCodec is the body codec on a typical session: a browser user
// agent (packed against the dictionary) and a 50-byte app payload.
func BenchmarkCodec(b *testing.B) {
	now := time.Now()
	d := session.Data{UserID: 123457, CreatedAt: now, ExpiresAt: now.Add(session.DefaultLifetime), IP: "198.51.100.9",
		UserAgent: benchUA, UserData: json.RawMessage(`{"credits":0,"nickname":"u123457","referralCode":"R123457"}`)}
	body := session.Encode(&d)
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = session.Encode(&d)
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		b.ReportMetric(float64(len(body)), "body-bytes")
		var out session.Data
		for b.Loop() {
			if err := session.Decode(body, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
