package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// benchOrigin is the trusted origin (-trusted-origins) of the cookie
// path's requests: a browser app on another origin of the same site,
// whose credentialed fetches go through CORS and the CSRF check.
const benchOrigin = "http://app.bench.example"

// The load generator is wrk (github.com/wg/wrk, Debian package "wrk"): a
// C, epoll-based, closed-loop generator keeping a fixed number of
// keep-alive connections busy. On this 2-core machine it shares the CPU
// with the server, Redis and PostgreSQL, so the generator's own cost per
// request matters: wrk's is a fraction of a Go generator's, which keeps the
// measured difference between two servers the servers' own. A Lua script
// rotates the token (or ssaid) header over a file of values and prints the
// HdrHistogram percentiles as JSON.
const wrkScript = `-- rotates x-client-token (or x-client-ssaid, or the session cookie) over the lines of a file
local values, n, i, mode = {}, 0, 0, "token"
init = function(args)
  for line in io.lines(args[1]) do n = n + 1; values[n] = line end
  mode = args[2]
  if mode == "cookie" then
    -- built once, so the generator's cost per request stays that of the header modes
    for k = 1, n do values[k] = "simpleuser_session=" .. values[k] .. "; simpleuser_device=bench-client-1" end
  end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  i = math.random(n)
end
request = function()
  i = i % n + 1
  local h = {}
  if mode == "token" then
    h["x-client-token"] = values[i]
    h["x-client-ssaid"] = "bench-client-1"
  elseif mode == "cookie" then
    -- a page of the trusted origin on the same site, fetch with credentials
    h["Cookie"] = values[i]
    h["Origin"] = "` + benchOrigin + `"
    h["Sec-Fetch-Site"] = "same-site"
    h["Sec-Fetch-Mode"] = "cors"
  else
    h["x-client-ssaid"] = values[i]
  end
  return wrk.format(nil, nil, h)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, math.floor(latency:percentile(50)), math.floor(latency:percentile(90)),
    math.floor(latency:percentile(99)), math.floor(latency.max), e.status, e.connect, e.read, e.write, e.timeout))
end
`

// ensureWrk returns the path of wrk, installing Debian's package when missing.
func ensureWrk() (string, error) {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p, nil
	}
	fmt.Println("wrk not found: installing it with apt-get (Debian package wrk)")
	install := func() error {
		cmd := exec.Command("apt-get", "install", "-y", "-q", "wrk")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, lastLines(string(out), 5))
		}
		return nil
	}
	if err := install(); err != nil {
		if out, uerr := exec.Command("apt-get", "update", "-q").CombinedOutput(); uerr != nil {
			return "", fmt.Errorf("apt-get update: %v: %s", uerr, lastLines(string(out), 5))
		}
		if err := install(); err != nil {
			return "", fmt.Errorf("apt-get install wrk (as root, or install wrk yourself): %w", err)
		}
	}
	return exec.LookPath("wrk")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// wrkResult is one load run.
type wrkResult struct {
	Requests      int64 `json:"requests"`
	DurationUS    int64 `json:"duration_us"`
	P50US         int64 `json:"p50_us"`
	P90US         int64 `json:"p90_us"`
	P99US         int64 `json:"p99_us"`
	MaxUS         int64 `json:"max_us"`
	StatusErrors  int64 `json:"status_errors"`
	ConnectErrors int64 `json:"connect_errors"`
	ReadErrors    int64 `json:"read_errors"`
	WriteErrors   int64 `json:"write_errors"`
	Timeouts      int64 `json:"timeouts"`

	// Filled by the bench, not wrk: CPU seconds the server process and
	// Redis used during the run.
	ServerCPU    float64 `json:"server_cpu_s"`
	RedisCPU     float64 `json:"redis_cpu_s"`
	PGCPU        float64 `json:"postgres_cpu_s"` // every postgres process (both databases' backends, background workers)
	WrkCPU       float64 `json:"wrk_cpu_s"`
	ForeignCores float64 `json:"foreign_cores"` // CPU used by other processes during the run (see noise.go)
}

// ServerUS is the server's CPU time per request in microseconds.
func (r wrkResult) ServerUS() float64 {
	if r.Requests == 0 {
		return 0
	}
	return r.ServerCPU * 1e6 / float64(r.Requests)
}

// PGUS is PostgreSQL's CPU time per request in microseconds.
func (r wrkResult) PGUS() float64 {
	if r.Requests == 0 {
		return 0
	}
	return r.PGCPU * 1e6 / float64(r.Requests)
}

// RedisUS is Redis's CPU time per request in microseconds.
func (r wrkResult) RedisUS() float64 {
	if r.Requests == 0 {
		return 0
	}
	return r.RedisCPU * 1e6 / float64(r.Requests)
}

func (r wrkResult) RPS() float64 {
	if r.DurationUS == 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

func (r wrkResult) Errors() int64 {
	return r.StatusErrors + r.ConnectErrors + r.ReadErrors + r.WriteErrors + r.Timeouts
}

// loader runs wrk.
type loader struct {
	wrk, script string
	o           *options
	sampler     *sampler
}

func newLoader(dir string, o *options) (*loader, error) {
	w, err := ensureWrk()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(dir, "rotate.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o600); err != nil {
		return nil, err
	}
	return &loader{wrk: w, script: script, o: o}, nil
}

// run drives t's URL for d with its values (a file) in the token or ssaid
// header, and accounts the CPU time of its server process and its Redis.
func (l *loader) run(ctx context.Context, t target, d time.Duration) (wrkResult, error) {
	s0 := l.sampler.sample()
	cpu0, rcpu0 := procCPU(t.pid), t.redisCPU()
	res, err := l.wrkRun(ctx, t.URL, t.values, t.Mode, d)
	res.ServerCPU, res.RedisCPU = procCPU(t.pid)-cpu0, t.redisCPU()-rcpu0
	s1 := l.sampler.sample()
	res.PGCPU = s1.pg - s0.pg
	res.ForeignCores = foreign(s0, s1, res.WrkCPU)
	return res, err
}

// procCPU returns the user+system CPU seconds of process pid (0 if unknown).
func procCPU(pid int) float64 {
	own, _ := procCPUs(pid)
	return own
}

// procCPUs returns the user+system CPU seconds of process pid and those of
// its children it has waited for (0 if unknown).
func procCPUs(pid int) (own, children float64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:] // fields from 3 on
	}
	f := strings.Fields(s)
	if len(f) < 15 {
		return 0, 0
	}
	var v [4]float64
	for i := range v {
		v[i], _ = strconv.ParseFloat(f[11+i], 64) // fields 14-17: utime, stime, cutime, cstime
	}
	return (v[0] + v[1]) / 100, (v[2] + v[3]) / 100 // USER_HZ
}

func (l *loader) wrkRun(ctx context.Context, url, values, mode string, d time.Duration) (wrkResult, error) {
	args := []string{"-t", strconv.Itoa(l.o.threads), "-c", strconv.Itoa(l.o.connections),
		"-d", fmt.Sprintf("%ds", max(1, int(d.Round(time.Second).Seconds()))), "--timeout", "5s", "-s", l.script, url, "--", values, mode}
	cmd := exec.CommandContext(ctx, l.wrk, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v: %s", url, err, lastLines(stderr.String()+stdout.String(), 5))
	}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if js, ok := strings.CutPrefix(sc.Text(), "BENCHJSON "); ok {
			var r wrkResult
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				return r, fmt.Errorf("wrk output %q: %w", js, err)
			}
			r.WrkCPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
			return r, nil
		}
	}
	return wrkResult{}, fmt.Errorf("wrk printed no result: %s", lastLines(stdout.String()+stderr.String(), 5))
}

// target is one path under load at one database size.
type target struct {
	Name   string `json:"name"`
	Phase  string `json:"phase"` // the database size ("small", "grown")
	URL    string `json:"url"`
	Mode   string `json:"mode"`            // token, ssaid or cookie
	Limit  string `json:"limit,omitempty"` // name of the reference target (same phase) it is compared with
	values string
	pid    int    // the server process
	pprof  string // host:port of the server's net/http/pprof, if profiling
	// before, if set, runs before each measured run (untimed), e.g. to
	// prepare the last-active times (see env.primeTouches).
	before func(ctx context.Context) error
	// redisCPU returns the used CPU seconds of the Redis the server uses.
	redisCPU func() float64
}

func (t target) key() string { return t.Phase + "/" + t.Name }

// targetStats are the runs of one target in one phase.
type targetStats struct {
	Target    target      `json:"target"`
	Runs      []wrkResult `json:"runs"`
	Ratios    []float64   `json:"ratios,omitempty"`    // per round, to its limit
	Disturbed []bool      `json:"disturbed,omitempty"` // per round: a run of the pair saw foreign load
}

// ratio is the median of the undisturbed pairs' ratios when there are at
// least three, else of all; n is how many it took.
func (s *targetStats) ratio() (r float64, n int) {
	return quietMedian(s.Ratios, func(i int) bool { return s.Disturbed[i] })
}

// quietMedian is the median of the xs not disturbed when there are at
// least three of them, else of all; n is how many it took.
func quietMedian(xs []float64, disturbed func(i int) bool) (m float64, n int) {
	var quiet []float64
	for i, x := range xs {
		if !disturbed(i) {
			quiet = append(quiet, x)
		}
	}
	if len(quiet) >= 3 {
		return median(quiet), len(quiet)
	}
	return median(xs), len(xs)
}

func (s *targetStats) medianRPS() float64 {
	return median(mapSlice(s.Runs, func(r wrkResult) float64 { return r.RPS() }))
}
func (s *targetStats) medianP50() float64 {
	return median(mapSlice(s.Runs, func(r wrkResult) float64 { return float64(r.P50US) / 1000 }))
}
func (s *targetStats) medianP99() float64 {
	return median(mapSlice(s.Runs, func(r wrkResult) float64 { return float64(r.P99US) / 1000 }))
}
func (s *targetStats) medianServerUS() float64 {
	return median(mapSlice(s.Runs, func(r wrkResult) float64 { return r.ServerUS() }))
}
func (s *targetStats) medianPGUS() float64 {
	return median(mapSlice(s.Runs, func(r wrkResult) float64 { return r.PGUS() }))
}
func (s *targetStats) medianRedisUS() float64 {
	return median(mapSlice(s.Runs, func(r wrkResult) float64 { return r.RedisUS() }))
}
func (s *targetStats) errors() int64 {
	var n int64
	for _, r := range s.Runs {
		n += r.Errors()
	}
	return n
}

func mapSlice[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// loadPhase warms every target up, then runs rounds. targets hold one or
// more database sizes (phases), each with its limits and app paths. A
// round runs, for each app path, a group: in every phase, the app and its
// limit back to back. Each round reverses the previous round's order (the
// phases' and, within each pair, app and limit), so a drift that is linear
// over a group moves neither side of a comparison more than the other. A
// pair's ratio is app req/s / limit req/s. Runs adjacent in time see the
// same background load, which on a shared machine moves both alike; the
// median over rounds discards the pairs that a burst hit on one side only.
// With two phases, their ratios are thus taken side by side, seconds
// apart, rather than in two phases minutes apart.
func (l *loader) loadPhase(ctx context.Context, targets []target) ([]*targetStats, error) {
	stats := make([]*targetStats, len(targets))
	byKey := map[string]*targetStats{}
	var phases, paths []string
	for i, t := range targets {
		stats[i] = &targetStats{Target: t}
		byKey[t.key()] = stats[i]
		if !slices.Contains(phases, t.Phase) {
			phases = append(phases, t.Phase)
		}
		if t.Limit != "" && !slices.Contains(paths, t.Name) {
			paths = append(paths, t.Name)
		}
	}
	for _, t := range targets {
		if l.o.warmup <= 0 {
			break
		}
		if _, err := l.run(ctx, t, l.o.warmup); err != nil {
			return nil, err
		}
	}
	profiled := map[string]bool{}
	runOne := func(r int, t target) (wrkResult, error) {
		if t.before != nil {
			if err := t.before(ctx); err != nil {
				return wrkResult{}, err
			}
		}
		var prof chan error
		if t.pprof != "" && l.o.profileDir != "" && !profiled[t.key()] {
			profiled[t.key()] = true
			prof = make(chan error, 1)
			go func() { prof <- l.profile(ctx, t) }()
		}
		res, err := l.run(ctx, t, l.o.duration)
		if prof != nil {
			if perr := <-prof; perr != nil {
				fmt.Fprintln(os.Stderr, "bench: profile:", perr)
			}
		}
		if err != nil {
			return res, err
		}
		if l.o.verbose {
			fmt.Printf("  [%s] round %d %-22s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  server %5.1f µs/req  redis %5.1f µs/req  postgres %5.1f µs/req  foreign %.2f cores  errors %d\n",
				t.Phase, r+1, t.Name, res.RPS(), float64(res.P50US)/1000, float64(res.P99US)/1000, res.ServerUS(), res.RedisUS(), res.PGUS(), res.ForeignCores, res.Errors())
		}
		byKey[t.key()].Runs = append(byKey[t.key()].Runs, res)
		return res, nil
	}
	for r := 0; r < l.o.rounds; r++ {
		for _, path := range paths {
			var group []target
			for _, ph := range phases {
				if s := byKey[ph+"/"+path]; s != nil {
					group = append(group, byKey[ph+"/"+s.Target.Limit].Target, s.Target)
				}
			}
			if r%2 == 1 {
				slices.Reverse(group)
			}
			l.sampler.waitQuiet()
			// Each side's backends idled during the quiet wait and the other
			// side's runs: the first run on a side is slower, whichever of
			// limit and app it is (the order of a group alternates, so
			// single pairs alternated high and low, by up to 0.15, on the
			// Redis-bound paths of the small twin; docs/performance.md,
			// "Rounds"). An unmeasured burst on each side's first path,
			// just before it, brings that side back to speed.
			warmed := map[string]bool{}
			got := map[string]wrkResult{}
			for _, t := range group {
				if l.o.groupWarmup > 0 && !warmed[t.Phase] {
					warmed[t.Phase] = true
					if t.before != nil { // the touches a run of it makes, as for a measured run
						if err := t.before(ctx); err != nil {
							return nil, err
						}
					}
					if _, err := l.run(ctx, t, l.o.groupWarmup); err != nil {
						return nil, err
					}
				}
				res, err := runOne(r, t)
				if err != nil {
					return nil, err
				}
				got[t.key()] = res
			}
			for _, ph := range phases {
				s := byKey[ph+"/"+path]
				if s == nil {
					continue
				}
				app, lim := got[s.Target.key()], got[ph+"/"+s.Target.Limit]
				if lim.RPS() > 0 {
					s.Ratios = append(s.Ratios, app.RPS()/lim.RPS())
					s.Disturbed = append(s.Disturbed, app.ForeignCores > foreignLimitCores || lim.ForeignCores > foreignLimitCores)
				}
			}
		}
		fmt.Printf("  [%s] round %d/%d done\n", strings.Join(phases, "+"), r+1, l.o.rounds)
	}
	return stats, nil
}

// profile fetches a CPU profile of t's server while it is under load.
func (l *loader) profile(ctx context.Context, t target) error {
	secs := max(1, int(l.o.duration.Seconds())-1)
	time.Sleep(500 * time.Millisecond) // let the load ramp up
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", t.pprof, secs), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(l.o.profileDir, 0o755); err != nil {
		return err
	}
	slug := strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(t.Name)
	f, err := os.Create(filepath.Join(l.o.profileDir, t.Phase+"-"+slug+".pprof"))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}
