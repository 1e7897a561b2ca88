package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gomodule/redigo/redis"
)

// The growth comparison. Measuring the small database, then growing it and
// measuring again, compares two medians taken minutes apart, and on a
// shared machine the throughput of both the app and the reference drifts
// by more than the 10% the comparison must resolve. So with -growth the
// bench keeps a small twin of the data set beside the grown one: its own
// database (-db + "_small"), its own Redis server (a redis-server child
// process on a free loopback port, no persistence), its own example app
// and reference server. The load rounds then run every path on both sides
// within seconds of each other (loader.loadPhase), and each side's ratio
// is to its own limit.

// twin is the small data set's backends and servers.
type twin struct {
	e        *env
	redis    *proc // the twin's redis-server (nil: a db of the bench's Redis)
	app, ref *proc
}

// startTwin starts the twin's Redis, creates its database, starts its
// example app and reference server and seeds it with the small data set.
func startTwin(ctx context.Context, o *options, dir, bin string) (*twin, error) {
	tw := &twin{}
	to := *o
	to.dbName = o.dbName + "_small"
	if rp, addr, err := startRedis(ctx, dir); err == nil {
		tw.redis = rp
		to.redisURL = "redis://" + addr + "/" + redisDB(o.redisURL)
	} else {
		// Without a redis-server binary the twin shares the bench's Redis
		// server, in the next db: its keys are still apart, its memory not.
		next, uerr := nextDB(o.redisURL)
		if uerr != nil {
			return nil, uerr
		}
		fmt.Printf("note: no Redis server of its own for the small twin (%v); using %s\n", err, next)
		to.redisURL = next
	}
	fmt.Printf("small twin: database %s, Redis %s\n", to.dbName, to.redisURL)
	if err := os.MkdirAll(filepath.Join(dir, "small"), 0o755); err != nil {
		return tw, err
	}
	var err error
	if tw.e, err = openEnv(ctx, &to, true); err != nil {
		return tw, err
	}
	if tw.app, err = startExampleApp(ctx, bin, filepath.Join(dir, "small"), tw.e, "exampleapp"); err != nil {
		return tw, err
	}
	if err := tw.e.detectAppTable(ctx); err != nil {
		return tw, err
	}
	if err := tw.e.seed(ctx, o.users, o.sessions); err != nil {
		return tw, err
	}
	fmt.Println("  " + tw.e.seedTimes)
	tw.ref, err = startRef(ctx, filepath.Join(dir, "small"), tw.e)
	return tw, err
}

// stop stops the twin's servers and drops its database and keys.
func (tw *twin) stop(ctx context.Context) {
	tw.app.stop()
	tw.ref.stop()
	tw.redis.stop() // nothing persisted: its keys go with it
	if tw.e == nil {
		return
	}
	tw.e.Close()
	var err error
	if tw.redis != nil {
		err = tw.e.dropDB(ctx)
	} else {
		err = tw.e.drop(ctx)
	}
	if err != nil {
		fmt.Println("bench: clean-up of the small twin:", err)
	}
}

// startRedis runs a redis-server of the bench's own on a free loopback
// port, keeping nothing on disk, and waits until it answers.
func startRedis(ctx context.Context, dir string) (*proc, string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, "", err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	host, port, _ := net.SplitHostPort(addr)
	p := &proc{name: "redis-server", addr: addr, log: filepath.Join(dir, "redis-small.log")}
	p.cmd = exec.Command(bin, "--bind", host, "--port", port, "--save", "", "--appendonly", "no")
	if err := p.start(); err != nil {
		return nil, "", err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := redis.Dial("tcp", addr)
		if err == nil {
			_, err = c.Do("PING")
			c.Close()
			if err == nil {
				return p, addr, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, "", fmt.Errorf("redis-server on %s did not answer: %v (see %s)", addr, err, p.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nextDB returns the Redis URL u with the next db number (modulo 16).
func nextDB(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("-redis-url: %w", err)
	}
	n, _ := strconv.Atoi(redisDB(u))
	p.Path = "/" + strconv.Itoa((n+1)%16)
	return p.String(), nil
}
