package main

import (
	"context"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/simpleuser/simpleuser/password"
	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/session"
)

// The seeded data set, a pure function of (users, sessions), so that any
// later run can recompute tokens and ids without a file:
//
//   - users 1..N: odd ids are registered (email u<id>@bench.example.com),
//     even ids are anonymous (ssaid bs<id>); all last active at seed time;
//   - sessions 0..S-1 (S <= N): session j belongs to user (j &^ 1) + 1, so
//     every registered user among the first S ids has two sessions; its
//     token is benchToken(j); bodies and per-user index are written exactly
//     as session.Manager.Create and session/redis write them;
//   - password users: ids pwBase+i, email pw<i>@bench.example.com, password
//     benchPassword (one argon2id hash with the kit's default parameters).
const (
	pwBase        = 2_000_000_000
	benchPassword = "bench-password-1"
	// benchUA is a typical browser user agent, stored in every seeded session.
	benchUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// benchToken is the token of seeded session j: 64 characters of the kit's
// alphabet derived from SHA-512 (deterministic, for the bench only).
func benchToken(j int) string {
	h := sha512.Sum512([]byte("subench-token:" + strconv.Itoa(j)))
	var b [session.TokenLength]byte
	for i := range b {
		b[i] = tokenAlphabet[int(h[i])%len(tokenAlphabet)]
	}
	return string(b[:])
}

// sessionUser is the user of seeded session j.
func sessionUser(j int) int64 { return int64(j&^1) + 1 }

// anonSSAID is the ssaid of anonymous user id (id even).
func anonSSAID(id int64) string { return "bs" + strconv.FormatInt(id, 10) }

// seedBase is the creation time of seeded sessions (they spread over the
// day before it).
var seedBase = time.Now().UTC().Truncate(time.Second)

// seedSession returns the session.Data of seeded session j of user uid, as
// the example app's login (simpleuser's issue + Manager.Create) fills it:
// with the app's table, UserData is its GetSessionUserData payload
// {"nickname", "referralCode", "credits"}, as seeded in app_users.
func (e *env) seedSession(j int, uid int64) session.Data {
	created := seedBase.Add(-time.Duration(j%86400) * time.Second)
	d := session.Data{
		UserID:    uid,
		CreatedAt: created,
		ExpiresAt: created.Add(session.DefaultLifetime),
		IP:        "198.51.100." + strconv.Itoa(j%250+1),
		UserAgent: benchUA,
	}
	if e.appTable {
		id := strconv.FormatInt(uid, 10)
		d.UserData, _ = json.Marshal(map[string]any{"nickname": "u" + id, "referralCode": "R" + id, "credits": 0})
	}
	return d
}

// detectAppTable notes whether the example app created its own table
// app_users (it does at start on PostgreSQL); the seed then fills it too.
func (e *env) detectAppTable(ctx context.Context) error {
	return e.pg.QueryRow(ctx, `SELECT to_regclass('app_users') IS NOT NULL`).Scan(&e.appTable)
}

// seed brings the data set up to users and sessions.
func (e *env) seed(ctx context.Context, users, sessions int) error {
	if sessions > users {
		return fmt.Errorf("-sessions (%d) must not exceed -users (%d)", sessions, users)
	}
	var parts []string
	t0 := time.Now()
	from := e.seededUsers + 1
	if e.seededUsers == 0 { // a standalone seed: continue after what is there
		var max int64
		if err := e.pg.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM simpleuser_users WHERE id < $1`, pwBase).Scan(&max); err != nil {
			return err
		}
		from = int(max) + 1
	}
	if err := e.seedUsers(ctx, from, users); err != nil {
		return err
	}
	e.seededUsers = max(e.seededUsers, users)
	parts = append(parts, fmt.Sprintf("PostgreSQL %d users in %.1fs", users-from+1, time.Since(t0).Seconds()))

	t1 := time.Now()
	if err := e.seedSessionsBy(ctx, e.o.redisPrefix, e.seededSessions, sessions, sessionUser); err != nil {
		return err
	}
	n := sessions - e.seededSessions
	e.seededSessions = max(e.seededSessions, sessions)
	parts = append(parts, fmt.Sprintf("Redis %d sessions in %.1fs", max(n, 0), time.Since(t1).Seconds()))
	e.seedTimes = strings.Join(parts, ", ")
	return e.checkSeed(ctx)
}

// seedUsers inserts users from..to (inclusive) with one INSERT ... SELECT
// generate_series per 250,000 rows, then vacuums and analyzes the table
// and checkpoints.
func (e *env) seedUsers(ctx context.Context, from, to int) error {
	conn, err := e.pg.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET synchronous_commit = off`); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `SET statement_timeout = 0`); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `RESET ALL`)
	const chunk = 250_000
	for lo := from; lo <= to; lo += chunk {
		hi := min(lo+chunk-1, to)
		_, err := conn.Exec(ctx, `INSERT INTO simpleuser_users (id, email, email_key, ssaid, metadata,
			register_ip, register_time, login_ip, login_time, last_active_ip, last_active_time,
			created_at, updated_at, version)
		SELECT g,
			CASE WHEN g % 2 = 1 THEN 'u' || g || '@bench.example.com' END,
			CASE WHEN g % 2 = 1 THEN 'u' || g || '@bench.example.com' END, -- its key (user.EmailKey): ASCII, lower case already
			CASE WHEN g % 2 = 0 THEN 'bs' || g END,
			'{}',
			CASE WHEN g % 2 = 1 THEN '198.51.100.7' END, CASE WHEN g % 2 = 1 THEN now() END,
			CASE WHEN g % 2 = 1 THEN '198.51.100.7' END, CASE WHEN g % 2 = 1 THEN now() END,
			'198.51.100.7', now(), now(), now(), 1
		FROM generate_series($1::bigint, $2::bigint) g
		ON CONFLICT DO NOTHING`, lo, hi)
		if err != nil {
			return fmt.Errorf("seed users %d..%d: %w", lo, hi, err)
		}
		if e.appTable { // the example app's row of each registered user, as its AfterCreate hook makes it
			_, err := conn.Exec(ctx, `INSERT INTO app_users (auth_user_id, nickname, referral_code)
			SELECT g, 'u' || g, 'R' || g FROM generate_series($1::bigint, $2::bigint) g WHERE g % 2 = 1
			ON CONFLICT DO NOTHING`, lo, hi)
			if err != nil {
				return fmt.Errorf("seed app_users %d..%d: %w", lo, hi, err)
			}
		}
	}
	if _, err := conn.Exec(ctx, `SELECT setval(pg_get_serial_sequence('simpleuser_users', 'id'),
		greatest((SELECT max(id) FROM simpleuser_users WHERE id < $1), 1))`, pwBase); err != nil {
		return err
	}
	if _, err = conn.Exec(ctx, `VACUUM (ANALYZE) simpleuser_users`); err != nil {
		return err
	}
	if e.appTable {
		if _, err = conn.Exec(ctx, `VACUUM (ANALYZE) app_users`); err != nil {
			return err
		}
	}
	// Flush the seed's WAL now, so a checkpoint it would trigger (a million
	// users write ~300 MB) does not land in the middle of a load run. It
	// needs a superuser or pg_checkpoint; without, the run just goes on.
	_, _ = conn.Exec(ctx, `CHECKPOINT`)
	return nil
}

// seedPasswordUsers creates n users with the password benchPassword.
func (e *env) seedPasswordUsers(ctx context.Context, n int) error {
	hash, err := password.New(password.Params{}, 1, 0).Hash(ctx, benchPassword)
	if err != nil {
		return err
	}
	_, err = e.pg.Exec(ctx, `INSERT INTO simpleuser_users (id, email, email_key, password_hash, metadata,
		register_ip, register_time, created_at, updated_at, version)
	SELECT $1::bigint + g, 'pw' || g || '@bench.example.com', 'pw' || g || '@bench.example.com', $3, '{}', '198.51.100.7', now(), now(), now(), 1
	FROM generate_series(0, $2::bigint - 1) g
	ON CONFLICT DO NOTHING`, pwBase, n, hash)
	if err != nil || !e.appTable {
		return err
	}
	_, err = e.pg.Exec(ctx, `INSERT INTO app_users (auth_user_id, nickname, referral_code)
	SELECT $1::bigint + g, 'pw' || g, 'P' || g FROM generate_series(0, $2::bigint - 1) g
	ON CONFLICT DO NOTHING`, pwBase, n)
	return err
}

func pwEmail(i int) string { return "pw" + strconv.Itoa(i) + "@bench.example.com" }

// seedSessionsBy writes sessions from..to-1 under prefix, session j
// belonging to userOf(j) (non-decreasing in j), pipelined on four
// connections. For each user: its bodies (SET ... PXAT, what scs's
// MULTI/SET/PEXPIREAT leaves), one ZADD of its index members scored by
// expiry in ms, and PEXPIREAT of the index at its latest expiry (what
// session/redis's indexAdd script leaves).
func (e *env) seedSessionsBy(ctx context.Context, prefix string, from, to int, userOf func(int) int64) error {
	if to <= from {
		return nil
	}
	for from > 0 && userOf(from-1) == userOf(from) {
		from-- // whole users
	}
	const workers = 4
	const batch = 2000 // sessions per pipeline flush
	per := (to - from + workers - 1) / workers
	var wg sync.WaitGroup
	errs := make([]error, workers)
	lo := from
	for w := 0; w < workers && lo < to; w++ {
		hi := min(lo+per, to)
		for hi < to && userOf(hi-1) == userOf(hi) {
			hi++ // never split a user between two workers
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			errs[w] = e.seedSessionRange(ctx, prefix, lo, hi, batch, userOf)
		}(w, lo, hi)
		lo = hi
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *env) seedSessionRange(ctx context.Context, prefix string, lo, hi, batch int, userOf func(int) int64) error {
	conn, err := redisconn.Get(ctx, e.rpool)
	if err != nil {
		return err
	}
	defer conn.Close()
	pending := 0
	flush := func() error {
		if err := conn.Flush(); err != nil {
			return err
		}
		for ; pending > 0; pending-- {
			if _, err := conn.Receive(); err != nil {
				return err
			}
		}
		return ctx.Err()
	}
	for j := lo; j < hi; {
		uid := userOf(j)
		idx := prefix + "usess:" + strconv.FormatInt(uid, 10)
		zargs := []any{idx}
		var last time.Time
		for ; j < hi && userOf(j) == uid; j++ {
			d := e.seedSession(j, uid)
			key := session.Key(benchToken(j)) // as session.Manager.Create + session/redis write it
			if err := conn.Send("SET", prefix+"session:"+key, session.Encode(&d), "PXAT", d.ExpiresAt.UnixMilli()); err != nil {
				return err
			}
			zargs = append(zargs, d.ExpiresAt.UnixMilli(), key)
			if d.ExpiresAt.After(last) {
				last = d.ExpiresAt
			}
			pending++
		}
		if err := conn.Send("ZADD", zargs...); err != nil {
			return err
		}
		if err := conn.Send("PEXPIREAT", idx, last.UnixMilli()); err != nil {
			return err
		}
		pending += 2
		if pending >= batch*2 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// checkSeed resolves a few seeded tokens through the kit's own session
// manager and reads their users, proving the seeded format is the kit's.
func (e *env) checkSeed(ctx context.Context) error {
	m := newManager(e.rpool, e.o.redisPrefix)
	for _, j := range []int{0, e.seededSessions / 2, e.seededSessions - 1} {
		if j < 0 || e.seededSessions == 0 {
			continue
		}
		d, err := m.Get(ctx, benchToken(j))
		if err != nil {
			return fmt.Errorf("seeded session %d does not resolve through session.Manager: %w", j, err)
		}
		if d.UserID != sessionUser(j) {
			return fmt.Errorf("seeded session %d resolves to user %d, want %d", j, d.UserID, sessionUser(j))
		}
		keys, err := m.Index.List(ctx, d.UserID, time.Now())
		if err != nil || len(keys) == 0 {
			return fmt.Errorf("seeded session %d: index of user %d: %v (%d keys)", j, d.UserID, err, len(keys))
		}
	}
	return nil
}

// hotFiles writes the tokens and anonymous ssaids the load rotates over:
// hot values spread evenly over the whole data set.
func (e *env) hotFiles(dir string, hot int) (tokens, ssaids string, err error) {
	var tb, sb strings.Builder
	s, anon := e.seededSessions, e.seededUsers/2
	e.hotTokenUsers, e.hotAnonUsers = nil, nil
	for k := 0; k < hot; k++ {
		j := int(int64(k) * int64(s) / int64(hot))
		tb.WriteString(benchToken(j))
		tb.WriteByte('\n')
		if n := len(e.hotTokenUsers); n == 0 || e.hotTokenUsers[n-1] != sessionUser(j) {
			e.hotTokenUsers = append(e.hotTokenUsers, sessionUser(j))
		}
		m := int64(k) * int64(anon) / int64(hot)
		sb.WriteString(anonSSAID(2*m + 2))
		sb.WriteByte('\n')
		e.hotAnonUsers = append(e.hotAnonUsers, 2*m+2)
	}
	e.touch = map[string]*touchState{}
	tokens = filepath.Join(dir, fmt.Sprintf("tokens-%s-%d.txt", e.o.dbName, s))
	ssaids = filepath.Join(dir, fmt.Sprintf("ssaids-%s-%d.txt", e.o.dbName, e.seededUsers))
	if err := os.WriteFile(tokens, []byte(tb.String()), 0o600); err != nil {
		return "", "", err
	}
	return tokens, ssaids, os.WriteFile(ssaids, []byte(sb.String()), 0o600)
}

// redisDo runs one command on the env's pool.
func (e *env) redisDo(ctx context.Context, cmd string, args ...any) (any, error) {
	return redisconn.Do(ctx, e.rpool, cmd, args...)
}

// usedMemory returns INFO memory's used_memory.
func (e *env) usedMemory(ctx context.Context) (int64, error) {
	s, err := redis.String(e.redisDo(ctx, "INFO", "memory"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO memory has no used_memory")
}

// touchState is the last-active bookkeeping of one hot user set.
type touchState struct {
	parkedHour time.Time // the UTC hour the set was parked in (zero: not yet)
	due        []int64   // the users the last run made due (touched by it since)
	next       int       // where the next due slice starts
}

// primeTouches emulates, before a d-second run over the hot users ids, the
// steady state of continuous load: the kit writes a user's last-active
// time at most once a minute (ActiveTouchInterval), so under continuous
// load over H users, H*d/60 of them are due within any d seconds, each last
// active a little over a minute ago.
//
// The bench parks the set first: every user's last-active time at the end
// of the current UTC hour, so none falls due by itself within the hour,
// then a CHECKPOINT, all before the timed run. Before each run it parks
// again the users the previous run made due (the kit has touched them
// since) and makes the next H*d/60 due, last active 61 s ago. These are
// two small updates that, like the kit's touches, stay within the hour and
// so are HOT updates (migration 0003): no index writes of the bench's own
// land in the timed runs. When the hour turns, the set is parked anew.
func (e *env) primeTouches(ctx context.Context, set string, ids []int64, d time.Duration) error {
	const park = `UPDATE simpleuser_users
		SET last_active_time = date_trunc('hour', now(), 'UTC') + interval '1 hour' - interval '1 millisecond'
		WHERE id = ANY($1)`
	st := e.touch[set]
	if st == nil {
		st = &touchState{}
		e.touch[set] = st
	}
	if hour := time.Now().UTC().Truncate(time.Hour); !hour.Equal(st.parkedHour) {
		if _, err := e.pg.Exec(ctx, park, ids); err != nil {
			return err
		}
		// Best effort, as after seeding: CHECKPOINT needs a superuser or
		// pg_checkpoint, and without it the runs are only less steady.
		_, _ = e.pg.Exec(ctx, `CHECKPOINT`)
		st.parkedHour, st.due = hour, nil
	}
	k := int(float64(len(ids)) * d.Seconds() / 60)
	due := make([]int64, 0, k)
	for i := 0; i < k; i++ {
		due = append(due, ids[(st.next+i)%len(ids)])
	}
	st.next = (st.next + k) % max(len(ids), 1)
	if _, err := e.pg.Exec(ctx, park, st.due); err != nil {
		return err
	}
	st.due = due
	_, err := e.pg.Exec(ctx, `UPDATE simpleuser_users SET last_active_time = now() - interval '61 seconds' WHERE id = ANY($1)`, due)
	return err
}
