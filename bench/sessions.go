package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/session"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
)

// newManager returns the kit's session manager on pool, as simpleuser.New
// builds it with the default configuration but with no cap on sessions per
// user: the revoke phase gives one user -revoke-sessions of them (1,000 by
// default, past the default cap of 50, which would end all but 50).
func newManager(pool *redis.Pool, prefix string) *session.Manager {
	st, idx := sessionredis.New(pool, prefix)
	return &session.Manager{Store: st, Index: idx, MaxPerUser: -1}
}

// memPrefix is the key prefix of the memory measurement: as long as the
// kit's default prefix "simpleuser:", so key lengths are the real ones.
func memPrefix(prefix string) string {
	return strings.TrimSuffix(prefix, ":") + "mem:"
}

// revokeStats is the timing of Manager.RevokeUser for a user with N sessions.
type revokeStats struct {
	Sessions int       `json:"sessions"`
	Trials   []float64 `json:"trials_ms"`
	Median   float64   `json:"median_ms"`
	Max      float64   `json:"max_ms"`
	CreateMS float64   `json:"create_ms"` // creating the N sessions (Manager.Create, 8 at a time)
}

// revokeTiming creates n sessions of one user through session.Manager
// (as logins do), times RevokeUser, checks that every body and the index
// are gone, trials times.
func (e *env) revokeTiming(ctx context.Context, n, trials int) (revokeStats, error) {
	m := newManager(e.rpool, e.o.redisPrefix)
	st := revokeStats{Sessions: n}
	for t := 0; t < trials; t++ {
		uid := int64(pwBase - 1000 + t)
		tokens := make([]string, n)
		t0 := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < n; i += 8 {
					tok, err := m.Create(ctx, session.Data{UserID: uid, IP: "198.51.100.9", UserAgent: benchUA})
					if err != nil {
						errs[w] = err
						return
					}
					tokens[i] = tok
				}
			}(w)
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return st, err
			}
		}
		st.CreateMS = float64(time.Since(t0).Microseconds()) / 1000
		t1 := time.Now()
		k, err := m.RevokeUser(ctx, uid)
		el := time.Since(t1)
		if err != nil {
			return st, err
		}
		if k != n {
			return st, fmt.Errorf("RevokeUser revoked %d sessions, want %d", k, n)
		}
		for _, i := range []int{0, n / 2, n - 1} {
			if _, err := m.Get(ctx, tokens[i]); err != session.ErrNotFound {
				return st, fmt.Errorf("session %d still resolves after RevokeUser (%v)", i, err)
			}
		}
		st.Trials = append(st.Trials, float64(el.Microseconds())/1000)
	}
	st.Median = median(st.Trials)
	s := append([]float64(nil), st.Trials...)
	sort.Float64s(s)
	st.Max = s[len(s)-1]
	return st, nil
}

// memStats is Redis memory per session.
type memStats struct {
	Layout          string  `json:"layout"`
	Budgeted        bool    `json:"budgeted"` // the data set's sessions per user: the 400 B budget applies
	Sessions        int     `json:"sessions"`
	Users           int     `json:"users"`
	DeltaBytes      int64   `json:"delta_bytes"`
	PerSession      float64 `json:"bytes_per_session"`
	BodyLen         int     `json:"body_len"`          // encoded body (session.Encode)
	BodyKeyLen      int     `json:"body_key_len"`      // prefix + "session:" + 43
	IndexKeyLen     int     `json:"index_key_len"`     // prefix + "usess:" + id
	BodyKeyUsage    int64   `json:"body_key_usage"`    // MEMORY USAGE of one body key
	IndexKeyUsage   int64   `json:"index_key_usage"`   // MEMORY USAGE of one index key
	IndexPerSession float64 `json:"index_per_session"` // index key usage / its members
}

// memoryPerSession adds n sessions (perUser to a user, under memPrefix,
// written as the kit writes them) and reports INFO memory's used_memory
// delta per session, with the sizes of one body and one index, then
// deletes them.
func (e *env) memoryPerSession(ctx context.Context, n, perUser int) (memStats, error) {
	prefix := memPrefix(e.o.redisPrefix)
	userOf := func(j int) int64 { return int64(j/perUser) + 1 }
	st := memStats{Layout: fmt.Sprintf("kit format, %d session(s) per user", perUser), Sessions: n, Users: (n + perUser - 1) / perUser}
	settle := func() (int64, error) {
		time.Sleep(1500 * time.Millisecond) // let incremental rehashing finish
		return e.usedMemory(ctx)
	}
	before, err := settle()
	if err != nil {
		return st, err
	}
	if err := e.seedSessionsBy(ctx, prefix, 0, n, userOf); err != nil {
		return st, err
	}
	after, err := settle()
	if err != nil {
		return st, err
	}
	st.DeltaBytes = after - before
	st.PerSession = float64(st.DeltaBytes) / float64(n)
	d := e.seedSession(0, userOf(0))
	st.BodyLen = len(session.Encode(&d))
	bodyKey := prefix + "session:" + session.Key(benchToken(0))
	idxKey := fmt.Sprintf("%susess:%d", prefix, userOf(0))
	st.BodyKeyLen, st.IndexKeyLen = len(bodyKey), len(idxKey)
	st.BodyKeyUsage, _ = redis.Int64(e.redisDo(ctx, "MEMORY", "USAGE", bodyKey, "SAMPLES", 0))
	st.IndexKeyUsage, _ = redis.Int64(e.redisDo(ctx, "MEMORY", "USAGE", idxKey, "SAMPLES", 0))
	st.IndexPerSession = float64(st.IndexKeyUsage) / float64(perUser)
	_, err = e.deletePattern(ctx, prefix+"*")
	return st, err
}

// deletePattern SCANs and UNLINKs the keys matching pat.
func (e *env) deletePattern(ctx context.Context, pat string) (int, error) {
	conn, err := e.rpool.GetContext(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	return unlinkMatching(ctx, conn, pat, false)
}

// unlinkMatching SCANs conn's server for the keys matching pat and UNLINKs
// them: a SCAN page at once, or one key at a time when oneByOne (a cluster
// node refuses a multi-key command over several slots). It returns how
// many it unlinked.
func unlinkMatching(ctx context.Context, conn redis.Conn, pat string, oneByOne bool) (int, error) {
	total, cursor := 0, "0"
	for {
		vals, err := redis.Values(conn.Do("SCAN", cursor, "MATCH", pat, "COUNT", 5000))
		if err != nil {
			return total, err
		}
		cursor, _ = redis.String(vals[0], nil)
		keys, _ := redis.Strings(vals[1], nil)
		for len(keys) > 0 {
			n := len(keys)
			if oneByOne {
				n = 1
			}
			if _, err := conn.Do("UNLINK", redis.Args{}.AddFlat(keys[:n])...); err != nil {
				return total, err
			}
			total += n
			keys = keys[n:]
		}
		if cursor == "0" {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
