package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"strconv"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/simpleuser/simpleuser/redisconn"
	"github.com/simpleuser/simpleuser/session"
)

// The reference ("limit") server: a bare net/http server doing the least
// work each path needs, written for the benchmark.
//
//	GET /r  (limit R):  one Redis GET of the token's session body, decode
//	                     the user id, answer {"userId":N}.
//	GET /rp (limit RP): the same GET, then one primary-key SELECT of the
//	                     user row (the columns the kit reads), answer a
//	                     small JSON object.
//
// It reads the very keys the kit writes (prefix + "session:" +
// base64url(SHA-256(token))), so it works on the same data, and its pools
// are what a careful hand-written server would use: a redigo pool keeping
// as many idle connections as it may open, with read and write timeouts
// (since 2026-11-30 16:00 UTC; before, none), and pgxpool's defaults (the
// same as the kit's postgres.Open). Its http.Server has the example app's
// timeouts.

// userColumns is the column list the kit's user store reads
// (user/postgres's userColumns; TestRefReadsTheKitsColumns keeps them
// alike: until 2026-11-30 16:10 UTC the reference read the 16 columns
// the kit read before issue 17 added 7).
const userColumns = `id, email, ssaid, password_hash, disabled, metadata,
	register_ip, register_time, login_ip, login_time, last_active_ip, last_active_time,
	unregister_time, created_at, updated_at, version, settings,
	phone, email_verified_at, phone_verified_at, must_change_password, suspended, status_reason`

func cmdRef(args []string) error {
	fs := flag.NewFlagSet("bench ref", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dbURL := fs.String("database-url", "", "PostgreSQL URL")
	redisURL := fs.String("redis-url", "", "Redis URL")
	prefix := fs.String("redis-prefix", "subench:", "Redis key prefix")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on this address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pprofAddr != "" {
		go func() { _ = http.ListenAndServe(*pprofAddr, nil) }() // DefaultServeMux: net/http/pprof
	}
	ctx := context.Background()
	rp := &redis.Pool{
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			// Bounded reads and writes, as any server that must not hang on
			// a stalled Redis has (the kit's are redisconn's defaults).
			return redis.DialURLContext(ctx, *redisURL,
				redis.DialReadTimeout(redisconn.DefaultReadTimeout), redis.DialWriteTimeout(redisconn.DefaultWriteTimeout))
		},
		MaxIdle:     64,
		MaxActive:   64,
		IdleTimeout: 5 * time.Minute,
		Wait:        true,
	}
	defer rp.Close()
	pg, err := pgxpool.New(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer pg.Close()
	if err := pg.Ping(ctx); err != nil {
		return err
	}
	sessPrefix := *prefix + "session:"

	// userID reads the token's session and returns its user (0: none).
	userID := func(r *http.Request) (int64, int) {
		tok := r.Header.Get("x-client-token")
		if len(tok) != session.TokenLength {
			return 0, http.StatusUnauthorized
		}
		conn, err := rp.GetContext(r.Context())
		if err != nil {
			return 0, http.StatusServiceUnavailable
		}
		b, err := redis.Bytes(conn.Do("GET", sessPrefix+session.Key(tok)))
		conn.Close()
		if err == redis.ErrNil {
			return 0, http.StatusUnauthorized
		}
		if err != nil {
			return 0, http.StatusServiceUnavailable
		}
		var d session.Data
		if session.Decode(b, &d) != nil || d.UserID == 0 {
			return 0, http.StatusUnauthorized
		}
		return d.UserID, 0
	}
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		b, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
	type errBody struct {
		StatusCode int `json:"statusCode"`
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /r", func(w http.ResponseWriter, r *http.Request) {
		id, status := userID(r)
		if status != 0 {
			writeJSON(w, status, errBody{status})
			return
		}
		writeJSON(w, http.StatusOK, struct {
			UserID int64 `json:"userId"`
		}{id})
	})
	mux.HandleFunc("GET /rp", func(w http.ResponseWriter, r *http.Request) {
		id, status := userID(r)
		if status != 0 {
			writeJSON(w, status, errBody{status})
			return
		}
		var u struct {
			ID                            int64
			Email, SSAID, Hash            *string
			Disabled                      bool
			Metadata                      map[string]any
			RegIP, LoginIP, ActiveIP      *string
			RegT, LoginT, ActiveT, UnregT *time.Time
			CreatedAt, UpdatedAt          time.Time
			Version                       int64
			Settings                      map[string]any
			Phone, Reason                 *string
			EmailVerT, PhoneVerT          *time.Time
			MustChange, Suspended         bool
		}
		err := pg.QueryRow(r.Context(), `SELECT `+userColumns+` FROM simpleuser_users WHERE id = $1`, id).Scan(
			&u.ID, &u.Email, &u.SSAID, &u.Hash, &u.Disabled, &u.Metadata,
			&u.RegIP, &u.RegT, &u.LoginIP, &u.LoginT, &u.ActiveIP, &u.ActiveT,
			&u.UnregT, &u.CreatedAt, &u.UpdatedAt, &u.Version, &u.Settings,
			&u.Phone, &u.EmailVerT, &u.PhoneVerT, &u.MustChange, &u.Suspended, &u.Reason)
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, errBody{http.StatusServiceUnavailable})
			return
		}
		writeJSON(w, http.StatusOK, struct {
			ID        int64   `json:"id"`
			Email     *string `json:"email"`
			CreatedAt string  `json:"createdAt"`
		}{u.ID, u.Email, u.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")})
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, "listening", ln.Addr().String())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return srv.Serve(ln)
}
