package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gomodule/redigo/redis"
)

// results is everything a run measured.
type results struct {
	Started  time.Time         `json:"started"`
	Machine  map[string]string `json:"machine"`
	Settings map[string]any    `json:"settings"`
	Phases   []*phaseResult    `json:"phases"`
	Logins   []loginStats      `json:"logins,omitempty"`
	Memory   []memStats        `json:"memory,omitempty"`
	Budgets  []budget          `json:"budgets"`
	Seconds  float64           `json:"seconds"`
}

// phaseResult is the load and revoke figures at one database size.
type phaseResult struct {
	Label     string         `json:"label"`
	Users     int            `json:"users"`
	Sessions  int            `json:"sessions"`
	SeedTimes string         `json:"seed,omitempty"`
	Load      []*targetStats `json:"load,omitempty"`
	Revoke    *revokeStats   `json:"revoke,omitempty"`
	PGBytes   int64          `json:"pg_bytes"`    // simpleuser_users (+ app_users), tables and indexes
	RedisUsed int64          `json:"redis_bytes"` // INFO used_memory after seeding
	AppHWMKiB int64          `json:"exampleapp_vmhwm_kib,omitempty"`
}

// budget is one pass/fail line.
type budget struct {
	What string `json:"what"`
	Got  string `json:"got"`
	Want string `json:"want"`
	OK   bool   `json:"ok"`
}

func cmdRun(args []string) error {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o.register(fs, false)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.sessions > o.users || o.growthSessions > o.growthUsers {
		return fmt.Errorf("sessions must not exceed users")
	}
	ctx, stop := signalContext()
	defer stop()
	start := time.Now()
	dir, err := os.MkdirTemp("", "simpleuser-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	res := &results{Started: start.UTC(), Machine: machineInfo(), Settings: map[string]any{
		"rounds": o.rounds, "duration": o.duration.String(), "warmup": o.warmup.String(),
		"connections": o.connections, "threads": o.threads, "hot": o.hot,
		"login_clients": o.loginClients, "login_duration": o.loginDuration.String(),
		"redis": o.redisURL, "redis_prefix": o.redisPrefix, "database": o.dbName,
	}}
	var ld *loader
	if o.has("load") || o.growth {
		if ld, err = newLoader(dir, &o); err != nil {
			return err
		}
		res.Machine["wrk"] = wrkVersion(ld.wrk)
	}

	fmt.Printf("bench: database %s, Redis %s (db %s) prefix %q\n", o.dbName, o.redisURL, redisDB(o.redisURL), o.redisPrefix)
	e, err := openEnv(ctx, &o, true)
	if err != nil {
		return err
	}
	defer func() {
		e.Close()
		if o.keep {
			fmt.Printf("kept database %s and Redis keys %q (remove with: go run ./bench clean)\n", o.dbName, o.redisPrefix)
			return
		}
		if err := e.drop(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintln(os.Stderr, "bench: clean-up:", err)
		}
	}()
	res.Machine["redis"] = redisVersion(ctx, e)
	var pgv string
	_ = e.pg.QueryRow(ctx, "SHOW server_version").Scan(&pgv)
	res.Machine["postgresql"] = pgv

	// The example app first: it creates its own tables at start, which the
	// seed then fills too.
	bin, err := buildExampleApp(dir, o.profileDir != "", o.overlay)
	if err != nil {
		return err
	}
	app, err := startExampleApp(ctx, bin, dir, e, "exampleapp")
	if err != nil {
		return err
	}
	defer app.stop()
	// Two more of it, with the metrics on and off, for the metrics' cost
	// (see side.metered).
	var metered [2]*proc
	if o.metricsCompare && (o.has("load") || o.growth) {
		for i, flag := range []string{"-metrics=true", "-metrics=false"} {
			if metered[i], err = startExampleApp(ctx, bin, dir, e, "exampleapp"+flag, flag, "-purge-interval=0"); err != nil {
				return err
			}
			defer metered[i].stop()
		}
	}
	// And two more, on one Redis and on a Redis Cluster (see clusterPair).
	var pair *clusterPair
	if o.clusterCompare && (o.has("load") || o.growth) {
		if pair, err = startClusterPair(ctx, &o, bin, dir, e); err != nil {
			return err
		}
		defer pair.stop(ctx)
	}
	if err := e.detectAppTable(ctx); err != nil {
		return err
	}
	fmt.Printf("seeding %d users, %d sessions (example app table app_users: %v)...\n", o.users, o.sessions, e.appTable)
	if err := e.seed(ctx, o.users, o.sessions); err != nil {
		return err
	}
	if err := e.seedPasswordUsers(ctx, o.loginClients); err != nil {
		return err
	}
	fmt.Println("  " + e.seedTimes)
	ref, err := startRef(ctx, dir, e)
	if err != nil {
		return err
	}
	defer ref.stop()
	if ld != nil {
		ld.sampler = &sampler{servers: []int{app.cmd.Process.Pid, ref.cmd.Process.Pid}, redisCPU: []func() float64{e.redisCPUFunc(ctx)}}
		for _, p := range metered {
			if p != nil {
				ld.sampler.servers = append(ld.sampler.servers, p.cmd.Process.Pid)
			}
		}
		if pair != nil {
			ld.sampler.servers = append(ld.sampler.servers, pair.pids()...)
			ld.sampler.redisCPU = append(ld.sampler.redisCPU, pair.redisCPU)
		}
		if f := ld.sampler.waitQuiet(); f > foreignLimitCores {
			fmt.Printf("note: other processes keep %.2f cores busy; ratios of disturbed pairs are set aside (see docs/performance.md)\n", f)
		}
	}

	small := &phaseResult{Label: "small", Users: o.users, Sessions: o.sessions, SeedTimes: e.seedTimes}
	small.PGBytes, small.RedisUsed = e.sizes(ctx)
	res.Phases = append(res.Phases, small)
	// With -growth the small database's load runs later, side by side with
	// the grown one's (see runLoad).
	if o.has("load") && !o.growth {
		if err := runLoad(ctx, ld, dir, side{small, e, app, ref, metered, pair}); err != nil {
			return err
		}
	}
	if o.has("revoke") {
		rs, err := e.revokeTiming(ctx, o.revokeCount, 5)
		if err != nil {
			return err
		}
		small.Revoke = &rs
		fmt.Printf("  revoke %d sessions: median %.2f ms, max %.2f ms\n", rs.Sessions, rs.Median, rs.Max)
	}
	if o.has("memory") {
		// Two per user is the seeded data set's mix; one and four show
		// how the per-user index's share moves.
		for _, per := range []int{2, 1, 4} {
			ms, err := e.memoryPerSession(ctx, o.memSessions, per)
			if err != nil {
				return err
			}
			ms.Budgeted = per == 2
			res.Memory = append(res.Memory, ms)
			fmt.Printf("  Redis memory, %s: %.0f bytes/session\n", ms.Layout, ms.PerSession)
		}
	}
	if o.growth {
		tw, err := startTwin(ctx, &o, dir, bin)
		if tw != nil {
			defer tw.stop(context.WithoutCancel(ctx))
		}
		if err != nil {
			return err
		}
		ld.sampler.servers = append(ld.sampler.servers, tw.app.cmd.Process.Pid, tw.ref.cmd.Process.Pid)
		if tw.redis != nil {
			ld.sampler.redisCPU = append(ld.sampler.redisCPU, tw.e.redisCPUFunc(ctx))
		}
		small.PGBytes, small.RedisUsed = tw.e.sizes(ctx)

		fmt.Printf("growing to %d users, %d sessions...\n", o.growthUsers, o.growthSessions)
		if err := e.seed(ctx, o.growthUsers, o.growthSessions); err != nil {
			return err
		}
		fmt.Println("  " + e.seedTimes)
		grown := &phaseResult{Label: "grown", Users: o.growthUsers, Sessions: o.growthSessions, SeedTimes: e.seedTimes}
		grown.PGBytes, grown.RedisUsed = e.sizes(ctx)
		res.Phases = append(res.Phases, grown)
		if err := runLoad(ctx, ld, dir, side{small, tw.e, tw.app, tw.ref, [2]*proc{}, nil}, side{grown, e, app, ref, metered, pair}); err != nil {
			return err
		}
		rs, err := e.revokeTiming(ctx, o.revokeCount, 5)
		if err != nil {
			return err
		}
		grown.Revoke = &rs
		fmt.Printf("  revoke %d sessions: median %.2f ms, max %.2f ms\n", rs.Sessions, rs.Median, rs.Max)
	}
	// Logins last: 200 concurrent argon2id hashes leave the example app's
	// heap and scheduler in another state than the load phases found it
	// in, and both database sizes should be measured alike.
	if o.has("logins") {
		fmt.Printf("password logins: %d clients, %s per run...\n", o.loginClients, o.loginDuration)
		st, err := loginsInProcess(ctx, e, dir)
		if err != nil {
			return err
		}
		res.Logins = append(res.Logins, st)
		printLogin(st)
		st, err = loginsExampleApp(ctx, e, app)
		if err != nil {
			return err
		}
		res.Logins = append(res.Logins, st)
		printLogin(st)
	}

	res.Seconds = time.Since(start).Seconds()
	res.Budgets = budgets(res)
	report(os.Stdout, res)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// side is one database size under load: its phase, backends and servers.
type side struct {
	ph       *phaseResult
	e        *env
	app, ref *proc
	// metered, if set, are two more example apps on the same backends, with
	// the metrics on and off (-metrics=false), serving nothing else: the hot
	// paths run on both, pair by pair, the ratio being the cost of the
	// metrics (metricsBudget). Two fresh processes alike but for the flag,
	// rather than app against one more: app serves every other path too, and
	// two processes that differ in history differ by a few percent whatever
	// their code (whoami, which the metrics do not time, shows the floor).
	metered [2]*proc
	// pair, if set, are two more example apps, on one Redis and on a Redis
	// Cluster (see clusterPair).
	pair *clusterPair
}

// runLoad runs the alternating load rounds over the sides' paths, side by
// side when there are several (see loader.loadPhase).
func runLoad(ctx context.Context, ld *loader, dir string, sides ...side) error {
	var targets []target
	var labels []string
	for _, sd := range sides {
		ts, err := sd.targets(ctx, dir)
		if err != nil {
			return err
		}
		targets = append(targets, ts...)
		labels = append(labels, fmt.Sprintf("%s: %d users, %d sessions", sd.ph.Label, sd.ph.Users, sd.ph.Sessions))
	}
	o := sides[0].e.o
	fmt.Printf("load [%s]: %d rounds x %d paths x %s, %d connections\n",
		strings.Join(labels, "; "), o.rounds, len(targets), o.duration, o.connections)
	stats, err := ld.loadPhase(ctx, targets)
	if err != nil {
		return err
	}
	for _, s := range stats {
		if n := s.errors(); n > 0 {
			return fmt.Errorf("%s (%s): %d failed requests under load (non-2xx or socket errors); see the server logs in %s", s.Target.Name, s.Target.Phase, n, dir)
		}
	}
	for _, sd := range sides {
		for _, s := range stats {
			if s.Target.Phase == sd.ph.Label {
				sd.ph.Load = append(sd.ph.Load, s)
			}
		}
		sd.ph.AppHWMKiB, _ = procStatus(sd.app.cmd.Process.Pid, "VmHWM")
	}
	return nil
}

// metricsPaths are the hot paths measured with the metrics on and off
// (side.plain); the names lack their closing parenthesis.
var metricsPaths = []struct{ name, path, mode string }{
	{"whoami (token", "/app/whoami", "token"},
	{"me (token", "/api/user-center/me", "token"},
	{"me (anonymous ssaid", "/api/user-center/me", "ssaid"},
}

// targets are the side's limits and app paths.
func (sd side) targets(ctx context.Context, dir string) ([]target, error) {
	e, app, ref := sd.e, sd.app, sd.ref
	tokens, ssaids, err := e.hotFiles(dir, e.o.hot)
	if err != nil {
		return nil, err
	}
	prime := func(set string, ids []int64) func(context.Context) error {
		return func(ctx context.Context) error { return e.primeTouches(ctx, set, ids, e.o.duration) }
	}
	tenantTokens, err := e.tenantFile(ctx, dir, e.o.hot)
	if err != nil {
		return nil, err
	}
	rcpu := e.redisCPUFunc(ctx)
	ts := []target{
		{Name: "limit R", URL: "http://" + ref.addr + "/r", Mode: "token", values: tokens, pprof: ref.pprof, pid: ref.cmd.Process.Pid},
		{Name: "whoami (token)", URL: "http://" + app.addr + "/app/whoami", Mode: "token", Limit: "limit R", values: tokens, pprof: app.pprof, pid: app.cmd.Process.Pid},
		// RequirePermission: the session's tenant claims decide, no store read
		// but the session's (see tenants.go).
		{Name: permissionPath, URL: "http://" + app.addr + "/app/reports", Mode: "token", Limit: "limit R", values: tenantTokens, pprof: app.pprof, pid: app.cmd.Process.Pid},
		{Name: "limit RP", URL: "http://" + ref.addr + "/rp", Mode: "token", values: tokens, pprof: ref.pprof, pid: ref.cmd.Process.Pid},
		{Name: "me (token)", URL: "http://" + app.addr + "/api/user-center/me", Mode: "token", Limit: "limit RP", values: tokens, pprof: app.pprof, pid: app.cmd.Process.Pid,
			before: prime("token", e.hotTokenUsers)},
		{Name: cookiePath, URL: "http://" + app.addr + "/api/user-center/me", Mode: "cookie", Limit: "me (token)", values: tokens, pprof: app.pprof, pid: app.cmd.Process.Pid,
			before: prime("token", e.hotTokenUsers)},
		{Name: "me (anonymous ssaid)", URL: "http://" + app.addr + "/api/user-center/me", Mode: "ssaid", Limit: "limit RP", values: ssaids, pprof: app.pprof, pid: app.cmd.Process.Pid,
			before: prime("anonymous", e.hotAnonUsers)},
	}
	if m, p := sd.metered[0], sd.metered[1]; m != nil && p != nil {
		for _, t := range metricsPaths {
			off := target{Name: t.name + ", metrics off)", URL: "http://" + p.addr + t.path, Mode: t.mode, pprof: p.pprof, pid: p.cmd.Process.Pid}
			on := target{Name: t.name + ", metrics on)", URL: "http://" + m.addr + t.path, Mode: t.mode, Limit: off.Name, pprof: m.pprof, pid: m.cmd.Process.Pid}
			off.values, on.values = tokens, tokens
			if t.mode == "ssaid" {
				off.values, on.values = ssaids, ssaids
				off.before, on.before = prime("anonymous", e.hotAnonUsers), prime("anonymous", e.hotAnonUsers)
			} else if t.path != "/app/whoami" {
				off.before, on.before = prime("token", e.hotTokenUsers), prime("token", e.hotTokenUsers)
			}
			ts = append(ts, off, on)
		}
	}
	if sd.pair != nil {
		if err := sd.pair.copyHot(ctx, e, tokens); err != nil {
			return nil, fmt.Errorf("copying the hot sessions to the Redis Cluster: %w", err)
		}
		ts = append(ts, sd.pair.targets(tokens, prime("token", e.hotTokenUsers))...)
	}
	for i := range ts {
		ts[i].Phase = sd.ph.Label
		if ts[i].redisCPU == nil {
			ts[i].redisCPU = rcpu
		}
	}
	return ts, nil
}

func machineInfo() map[string]string {
	m := map[string]string{
		"nproc":  fmt.Sprint(runtime.NumCPU()),
		"go":     runtime.Version(),
		"os":     runtime.GOOS + "/" + runtime.GOARCH,
		"cpu":    "unknown",
		"memory": "unknown",
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				m["memory"] = strings.TrimSpace(v)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m["kernel"] = strings.TrimSpace(string(b))
	}
	return m
}

func wrkVersion(path string) string {
	out, _ := exec.Command(path, "-v").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	if f := strings.Fields(line); len(f) >= 2 {
		return f[1]
	}
	return strings.TrimSpace(line)
}

// redisCPUFunc returns a function reading the env's Redis CPU seconds.
func (e *env) redisCPUFunc(ctx context.Context) func() float64 {
	return func() float64 { return redisCPU(ctx, e) }
}

// redisCPU returns Redis's used_cpu_sys + used_cpu_user (seconds).
func redisCPU(ctx context.Context, e *env) float64 {
	s, _ := redis.String(e.redisDo(ctx, "INFO", "cpu"))
	return infoCPU(s)
}

// infoCPU returns used_cpu_sys + used_cpu_user (seconds) of INFO cpu's
// answer s.
func infoCPU(s string) float64 {
	total := 0.0
	for _, line := range strings.Split(s, "\r\n") {
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
	}
	return total
}

func redisVersion(ctx context.Context, e *env) string {
	s, _ := redis.String(e.redisDo(ctx, "INFO", "server"))
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, "redis_version:"); ok {
			return v
		}
	}
	return "?"
}

// sizes returns the on-disk size of the user tables (with indexes) and
// Redis's used memory.
func (e *env) sizes(ctx context.Context) (pg, rd int64) {
	_ = e.pg.QueryRow(ctx, `SELECT pg_total_relation_size('simpleuser_users') +
		coalesce(pg_total_relation_size(to_regclass('app_users')), 0)`).Scan(&pg)
	rd, _ = e.usedMemory(ctx)
	return pg, rd
}
