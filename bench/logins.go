package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/simpleuser/simpleuser"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/handlers"
	"github.com/simpleuser/simpleuser/hooks"
	"github.com/simpleuser/simpleuser/middleware"
	"github.com/simpleuser/simpleuser/redisconn"
	riskredis "github.com/simpleuser/simpleuser/risk/redis"
	sessionredis "github.com/simpleuser/simpleuser/session/redis"
	"github.com/simpleuser/simpleuser/user/postgres"
)

// loginStats is one password-login run: clients concurrent clients, each
// logging its own user in (own ssaid, own X-Forwarded-For address, so no
// rate limit is shared) in a loop; a 503 or 429 makes the client wait its
// Retry-After, as a well-behaved client does.
type loginStats struct {
	Mode       string  `json:"mode"` // in-process or exampleapp
	Clients    int     `json:"clients"`
	Seconds    float64 `json:"seconds"`
	OK         int64   `json:"ok"`
	LoginsPerS float64 `json:"logins_per_s"`
	P50MS      float64 `json:"p50_ms"`
	P99MS      float64 `json:"p99_ms"`
	Busy503    int64   `json:"busy_503"`         // 503 with Retry-After
	Bad503     int64   `json:"bad_503"`          // 503 without Retry-After
	Other5xx   int64   `json:"other_5xx"`        // never allowed
	Status429  int64   `json:"status_429"`       // rate-limited (should be 0)
	Other      int64   `json:"other"`            // any other status
	NetErrors  int64   `json:"net_errors"`       // transport errors
	HashLimit  int     `json:"hash_limit"`       // Hasher().Limit() (in-process)
	MaxHashes  int     `json:"max_hashes"`       // the most InFlight() seen (in-process)
	Samples    int64   `json:"inflight_samples"` // InFlight() samples taken
	OverLimit  int64   `json:"over_limit"`       // samples with InFlight() > Limit()
	HWMKiB     int64   `json:"vmhwm_kib"`        // exampleapp: peak RSS (VmHWM) after the run
	HWMBefore  int64   `json:"vmhwm_before_kib"` // exampleapp: VmHWM before the run
	FirstError string  `json:"first_error,omitempty"`
}

// inProcessApp wires the service exactly as exampleapp does (PostgreSQL
// users, Redis codes, risk and sessions, default Config, handlers under
// /api inside Identity and Recover), in this process.
func inProcessApp(ctx context.Context, e *env, logTo io.Writer) (*simpleuser.Service, http.Handler, func(), error) {
	log := slog.New(slog.NewJSONHandler(logTo, nil))
	pg, err := postgres.Open(ctx, e.dbURL)
	if err != nil {
		return nil, nil, nil, err
	}
	rp, err := redisconn.NewPool(redisconn.Options{URL: e.o.redisURL})
	if err != nil {
		pg.Close()
		return nil, nil, nil, err
	}
	closeAll := func() { _ = rp.Close(); pg.Close() }
	trusted, _ := middleware.ParseTrustedProxies("127.0.0.1")
	cfg := simpleuser.Config{
		Logger: log,
		Hooks: hooks.Hooks{SendCode: func(context.Context, hooks.SendCodeRequest) (string, error) {
			return "000000", nil
		}},
		Users: postgres.New(pg),
		Codes: coderedis.New(rp, e.o.redisPrefix),
		Risk:  riskredis.New(rp, e.o.redisPrefix),
	}
	cfg.SessionStore, cfg.SessionIndex = sessionredis.New(rp, e.o.redisPrefix)
	svc, err := simpleuser.New(cfg)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", handlers.New(svc, handlers.Options{Prefix: "/api", TrustedProxies: trusted, Logger: log}))
	h := middleware.Recover(log)(middleware.Identity(svc, middleware.Options{TrustedProxies: trusted, Logger: log})(mux))
	return svc, h, closeAll, nil
}

// loginsInProcess serves the in-process app on loopback and samples the
// hasher's InFlight while the clients run.
func loginsInProcess(ctx context.Context, e *env, dir string) (loginStats, error) {
	logf, err := os.Create(filepath.Join(dir, "inprocess.log"))
	if err != nil {
		return loginStats{}, err
	}
	defer logf.Close()
	svc, h, closeAll, err := inProcessApp(ctx, e, logf)
	if err != nil {
		return loginStats{}, err
	}
	defer closeAll()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loginStats{}, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	hasher := svc.Hasher()
	var maxSeen atomic.Int64
	var samples atomic.Int64
	var over atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the sampler
		defer wg.Done()
		t := time.NewTicker(250 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				n := int64(hasher.InFlight())
				samples.Add(1)
				if n > int64(hasher.Limit()) {
					over.Add(1)
				}
				for {
					m := maxSeen.Load()
					if n <= m || maxSeen.CompareAndSwap(m, n) {
						break
					}
				}
			}
		}
	}()
	st := driveLogins(ctx, "http://"+ln.Addr().String(), e.o.loginClients, e.o.loginDuration)
	close(stop)
	wg.Wait()
	st.Mode = "in-process"
	st.HashLimit = hasher.Limit()
	st.MaxHashes = int(maxSeen.Load())
	st.Samples = samples.Load()
	st.OverLimit = over.Load()
	return st, nil
}

// loginsExampleApp drives the example server's process and reads its VmHWM.
func loginsExampleApp(ctx context.Context, e *env, app *proc) (loginStats, error) {
	pid := app.cmd.Process.Pid
	before, err := procStatus(pid, "VmHWM")
	if err != nil {
		return loginStats{}, err
	}
	st := driveLogins(ctx, "http://"+app.addr, e.o.loginClients, e.o.loginDuration)
	st.Mode = "exampleapp"
	st.HWMBefore = before
	st.HWMKiB, err = procStatus(pid, "VmHWM")
	return st, err
}

// driveLogins runs clients password-login loops against base for d.
func driveLogins(ctx context.Context, base string, clients int, d time.Duration) loginStats {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	st := loginStats{Clients: clients}
	var mu sync.Mutex
	var lat []time.Duration
	var ok, busy, bad503, other5xx, s429, other, netErr atomic.Int64
	var firstErr atomic.Value
	note := func(s string) { firstErr.CompareAndSwap(nil, s) }
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := []byte(`{"email":"` + pwEmail(i) + `","password":"` + benchPassword + `"}`)
			ssaid := "pwc-" + strconv.Itoa(i)
			xff := fmt.Sprintf("198.18.%d.%d", i/250, i%250+1) // RFC 2544 benchmarking range: a header value only
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/login", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("x-client-ssaid", ssaid)
				req.Header.Set("X-Forwarded-For", xff)
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						netErr.Add(1)
						note(err.Error())
					}
					time.Sleep(100 * time.Millisecond)
					continue
				}
				rb, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				wait := time.Duration(0)
				switch s := resp.StatusCode; {
				case s == http.StatusOK:
					if time.Now().Before(deadline) {
						ok.Add(1)
						mine = append(mine, time.Since(t0))
					}
				case s == http.StatusServiceUnavailable:
					ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
					if err != nil || ra < 0 {
						bad503.Add(1)
						note(fmt.Sprintf("503 without Retry-After: %s", rb))
						ra = 1
					} else {
						busy.Add(1)
					}
					wait = time.Duration(ra) * time.Second
				case s == http.StatusTooManyRequests:
					s429.Add(1)
					note(fmt.Sprintf("429: %s", rb))
					ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
					wait = time.Duration(max(ra, 1)) * time.Second
				case s >= 500:
					other5xx.Add(1)
					note(fmt.Sprintf("%d: %s", s, rb))
				default:
					other.Add(1)
					note(fmt.Sprintf("%d: %s", s, rb))
				}
				if wait > 0 {
					wait = min(wait, time.Until(deadline))
					if wait > 0 {
						time.Sleep(wait)
					}
				}
			}
		}(i)
	}
	wg.Wait()
	st.Seconds = d.Seconds()
	st.OK, st.Busy503, st.Bad503, st.Other5xx = ok.Load(), busy.Load(), bad503.Load(), other5xx.Load()
	st.Status429, st.Other, st.NetErrors = s429.Load(), other.Load(), netErr.Load()
	st.LoginsPerS = float64(st.OK) / st.Seconds
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		st.P50MS = float64(lat[len(lat)/2]) / 1e6
		st.P99MS = float64(lat[len(lat)*99/100]) / 1e6
	}
	if v, ok := firstErr.Load().(string); ok {
		st.FirstError = v
	}
	return st
}
