// Command bench is simpleuser's load benchmark. It compares the example
// server (exampleapp, on PostgreSQL and Redis) with a bare net/http
// reference server doing the minimum work of each path, on the same
// machine, backends and load generator, in alternating rounds.
//
//	go run ./bench                        # the full run (about 12 minutes)
//	go run ./bench -rounds 7 -growth=false # quicker (about 3 minutes)
//	go run ./bench -growth=false           # small database only (about 7.5 minutes)
//	go run ./bench seed -users 1000000 -sessions 1000000   # seed and keep
//	go run ./bench clean                  # drop the bench database and keys
//
// Everything runs against a database of its own (simpleuser_bench, dropped
// at the end unless -keep) and Redis db 1 under the prefix "subench"
// (deleted at the end), so tests on the same servers are never disturbed;
// the growth comparison's small twin has its own database and redis-server
// (see twin.go), both gone at the end.
// The load generator is wrk (installed with apt-get when missing). See
// docs/performance.md for the method and the latest figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags shared by the subcommands.
type options struct {
	adminURL    string // PostgreSQL URL of an existing database, used to create/drop dbName
	dbName      string
	redisURL    string
	redisPrefix string

	users, sessions             int // the small database
	growthUsers, growthSessions int // the grown database
	growth                      bool
	hot                         int // tokens/ssaids the load rotates over

	rounds      int
	duration    time.Duration
	warmup      time.Duration
	groupWarmup time.Duration
	connections int
	threads     int

	loginClients  int
	loginDuration time.Duration
	revokeCount   int
	memSessions   int

	metricsCompare  bool
	clusterCompare  bool
	redisClusterURL string

	phases     string
	profileDir string
	overlay    string
	keep       bool
	jsonOut    string
	verbose    bool
}

func (o *options) register(fs *flag.FlagSet, seedOnly bool) {
	fs.StringVar(&o.adminURL, "database-url", envOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL URL of an existing database; the bench creates and uses -db next to it (BENCH_DATABASE_URL)")
	fs.StringVar(&o.dbName, "db", "simpleuser_bench", "name of the bench database (created, dropped at the end unless -keep)")
	fs.StringVar(&o.redisURL, "redis-url", envOr("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"), "Redis URL; use a db the tests do not use (BENCH_REDIS_URL)")
	fs.StringVar(&o.redisPrefix, "redis-prefix", "subench:", "Redis key prefix of the bench (every key starting with it is deleted at the end)")
	if seedOnly {
		fs.IntVar(&o.users, "users", 1_000_000, "users to seed (half registered, half anonymous)")
		fs.IntVar(&o.sessions, "sessions", 1_000_000, "live sessions to seed (two per registered user)")
		return
	}
	fs.IntVar(&o.users, "users", 10_000, "users in the small database")
	fs.IntVar(&o.sessions, "sessions", 10_000, "live sessions in the small database")
	fs.BoolVar(&o.growth, "growth", true, "also grow the database and measure it side by side with a small twin (own database and redis-server)")
	fs.IntVar(&o.growthUsers, "growth-users", 1_000_000, "users in the grown database")
	fs.IntVar(&o.growthSessions, "growth-sessions", 1_000_000, "live sessions in the grown database")
	fs.IntVar(&o.hot, "hot", 10_000, "distinct tokens (and anonymous ssaids) each load rotates over, spread over the whole database")
	fs.IntVar(&o.rounds, "rounds", 30, "rounds (each runs every path next to its limit, at both database sizes with -growth)")
	fs.DurationVar(&o.duration, "duration", time.Second, "length of one load run (a pair's ratio varies as much at 1 s as at 3 s, so more rounds beat longer runs)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up load per path before the rounds")
	fs.DurationVar(&o.groupWarmup, "group-warmup", time.Second, "unmeasured load on the first path of each database size in a group, just before its measured runs (whole seconds, as wrk takes them; 0: none, as before 2026-11-30 17:00 UTC): the first run on a side that idled is slower, whichever of limit and app it is")
	fs.IntVar(&o.connections, "connections", 32, "HTTP connections the load generator keeps open")
	fs.IntVar(&o.threads, "threads", 1, "load generator threads")
	fs.IntVar(&o.loginClients, "login-clients", 200, "concurrent password logins")
	fs.DurationVar(&o.loginDuration, "login-duration", 10*time.Second, "length of each password-login run")
	fs.IntVar(&o.revokeCount, "revoke-sessions", 1000, "sessions of the user whose sessions are all revoked")
	fs.IntVar(&o.memSessions, "mem-sessions", 100_000, "sessions added to measure Redis memory per session")
	fs.StringVar(&o.phases, "phases", "load,logins,revoke,memory", "phases to run (load, logins, revoke, memory); with -growth the load runs on the small twin and the grown database side by side whatever this says, and revoke runs on the grown one too")
	fs.BoolVar(&o.metricsCompare, "metrics-compare", true, "also load the hot paths on two more example apps, one with -metrics=false, pair by pair: the cost of the Prometheus metrics (on the grown database with -growth, else the small one)")
	fs.BoolVar(&o.clusterCompare, "cluster-compare", true, "also load /me by token on two more example apps, one on the bench's Redis and one on the Redis Cluster of -redis-cluster-url, pair by pair (on the grown database with -growth, else the small one)")
	fs.StringVar(&o.redisClusterURL, "redis-cluster-url", envOr("REDIS_CLUSTER_URL", "redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"), "the Redis Cluster of -cluster-compare (scripts/redis-cluster.sh starts one there when nothing answers; the bench's keys are deleted from it at the end)")
	fs.BoolVar(&o.keep, "keep", false, "keep the bench database and Redis keys at the end")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.BoolVar(&o.verbose, "v", false, "print every load run")
	fs.StringVar(&o.overlay, "overlay", "", "build the example app with this go build -overlay JSON file (paths relative to the module root), to measure a fix without touching the tree")
	fs.StringVar(&o.profileDir, "pprof", "", "write a CPU profile of each server under each path (first round) into this directory")
}

func (o *options) has(phase string) bool {
	for _, p := range strings.Split(o.phases, ",") {
		if strings.TrimSpace(p) == phase {
			return true
		}
	}
	return false
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	args := os.Args[1:]
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = cmdRun(args)
	case "seed":
		err = cmdSeed(args)
	case "clean":
		err = cmdClean(args)
	case "ref":
		err = cmdRef(args) // the reference server, started by run as a child process
	default:
		fmt.Fprintf(os.Stderr, "bench: unknown command %q (run, seed, clean)\n", cmd)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// signalContext is cancelled on SIGINT/SIGTERM, so the deferred clean-up runs.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func cmdSeed(args []string) error {
	var o options
	fs := flag.NewFlagSet("bench seed", flag.ContinueOnError)
	o.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	env, err := openEnv(ctx, &o, false)
	if err != nil {
		return err
	}
	defer env.Close()
	// Start the example app once so that it creates its own tables, which
	// the seed fills too.
	dir, err := os.MkdirTemp("", "simpleuser-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := buildExampleApp(dir, false, "")
	if err != nil {
		return err
	}
	app, err := startExampleApp(ctx, bin, dir, env, "exampleapp")
	if err != nil {
		return err
	}
	app.stop()
	if err := env.detectAppTable(ctx); err != nil {
		return err
	}
	if err := env.seed(ctx, o.users, o.sessions); err != nil {
		return err
	}
	fmt.Printf("seeded %s: %d users, %d sessions (database %s, Redis %s prefix %q); remove with: go run ./bench clean\n",
		env.seedTimes, o.users, o.sessions, o.dbName, o.redisURL, o.redisPrefix)
	return nil
}

func cmdClean(args []string) error {
	var o options
	fs := flag.NewFlagSet("bench clean", flag.ContinueOnError)
	o.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	e, err := openEnv(ctx, &o, false)
	if err != nil {
		return err
	}
	e.Close()
	if err := e.drop(ctx); err != nil {
		return err
	}
	// The growth comparison's small twin, left behind only if a run was
	// killed (its redis-server died with the run; its database did not).
	tw := &env{o: &options{adminURL: o.adminURL, dbName: o.dbName + "_small"}}
	return tw.dropDB(ctx)
}
