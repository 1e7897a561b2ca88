package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
)

// RedisServerEnv names the redis-server binary RedisServer runs (default:
// redis-server on $PATH).
const RedisServerEnv = "REDIS_SERVER"

// RedisServer is a redis-server child process of one test, on a loopback
// port of its own, for tests that kill, restart or configure a server: the
// shared server of RedisURL is never touched. Start one with
// StartRedisServer; it is killed when the test ends.
type RedisServer struct {
	tb   testing.TB
	bin  string
	args []string
	port int
	log  string // the server's log file
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartRedisServer starts redis-server on a free 127.0.0.1 port with no
// persistence (--save "" --appendonly no, its files in a temporary
// directory) and extra configuration args (e.g. "--appendonly", "yes";
// later arguments win), and waits until it answers PING. The test fails
// when the binary is missing (or is skipped under SIMPLEUSER_SKIP_BACKENDS=1).
func StartRedisServer(tb testing.TB, args ...string) *RedisServer {
	tb.Helper()
	bin := os.Getenv(RedisServerEnv)
	if bin == "" {
		bin = "redis-server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		unreachable(tb, "testenv: %s not found (%v); install redis-server or set %s", bin, err, RedisServerEnv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: finding a free port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := tb.TempDir()
	s := &RedisServer{tb: tb, bin: path, port: port, log: filepath.Join(dir, "redis.log"), args: append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"),
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
	}, args...)}
	tb.Cleanup(s.Kill)
	s.Start()
	return s
}

// Addr is the server's host:port.
func (s *RedisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is redis://Addr/0.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

// Start runs the server (again, on the same port and directory) and waits
// until it answers PING.
func (s *RedisServer) Start() {
	s.tb.Helper()
	if s.cmd != nil {
		s.tb.Fatal("testenv: RedisServer.Start: already running")
	}
	cmd := exec.Command(s.bin, s.args...)
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("testenv: starting %s: %v", s.bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.ping()
		if err == nil {
			return
		}
		select {
		case <-done:
			s.cmd = nil
			s.tb.Fatalf("testenv: redis-server on port %d exited at start; its log:\n%s", s.port, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("testenv: redis-server on port %d does not answer: %v; its log:\n%s", s.port, err, s.logTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logTail is the end of the server's log file.
func (s *RedisServer) logTail() string {
	b, _ := os.ReadFile(s.log)
	return string(b[max(0, len(b)-2000):])
}

func (s *RedisServer) ping() error {
	c, err := redis.Dial("tcp", s.Addr(), redis.DialConnectTimeout(time.Second), redis.DialReadTimeout(time.Second))
	if err != nil {
		return err
	}
	defer c.Close()
	reply, err := redis.String(c.Do("PING"))
	if err == nil && reply != "PONG" {
		err = fmt.Errorf("PING answered %q", reply)
	}
	return err
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it to
// exit: its clients' connections are closed by the kernel. It does nothing
// when the server is not running.
func (s *RedisServer) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart is Kill then Start: the same address, a server that has lost
// whatever it did not persist.
func (s *RedisServer) Restart() {
	s.tb.Helper()
	s.Kill()
	s.Start()
}

// PrivateCluster is a private Redis Cluster of one test: six RedisServers
// (--cluster-enabled yes), three masters with one replica each, created
// with redis-cli --cluster create. Its nodes may be killed without
// disturbing other tests; they are killed when the test ends.
type PrivateCluster struct {
	Nodes []*RedisServer
}

// StartPrivateCluster starts six cluster nodes with a cluster-node-timeout
// of nodeTimeout and cluster-require-full-coverage no (a dead master's
// slots alone are refused), plus extra args, creates the cluster and waits
// until every node reports cluster_state:ok and three replicas are
// attached. The test fails when redis-server or redis-cli is missing.
func StartPrivateCluster(tb testing.TB, nodeTimeout time.Duration, args ...string) *PrivateCluster {
	tb.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		unreachable(tb, "testenv: redis-cli not found (%v); install redis-tools", err)
	}
	rc := &PrivateCluster{}
	var addrs []string
	for range 6 {
		s := StartRedisServer(tb, append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10),
			"--cluster-require-full-coverage", "no"}, args...)...)
		rc.Nodes = append(rc.Nodes, s)
		addrs = append(addrs, s.Addr())
	}
	out, err := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "1", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		tb.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !rc.ready() {
		if time.Now().After(deadline) {
			tb.Fatalf("testenv: the private cluster is not ready after 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return rc
}

// URL is the redis-cluster:// URL of the cluster, every node a seed.
func (rc *PrivateCluster) URL() string {
	addrs := make([]string, len(rc.Nodes))
	for i, n := range rc.Nodes {
		addrs[i] = n.Addr()
	}
	return "redis-cluster://" + strings.Join(addrs, ",")
}

// Do runs one command on node n (not routed: for CLUSTER, INFO, ...).
func (n *RedisServer) Do(cmd string, args ...any) (any, error) {
	c, err := redis.Dial("tcp", n.Addr(), redis.DialConnectTimeout(time.Second), redis.DialReadTimeout(2*time.Second))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Do(cmd, args...)
}

// MasterOf returns the running node that is master of slot, nil if none
// (as seen by any live node: CLUSTER SLOTS).
func (rc *PrivateCluster) MasterOf(slot int) *RedisServer {
	for _, n := range rc.Nodes {
		if n.cmd == nil {
			continue
		}
		v, err := redis.Values(n.Do("CLUSTER", "SLOTS"))
		if err != nil {
			continue
		}
		for _, r := range v {
			rng, _ := redis.Values(r, nil)
			if len(rng) < 3 {
				continue
			}
			lo, _ := redis.Int(rng[0], nil)
			hi, _ := redis.Int(rng[1], nil)
			if slot < lo || slot > hi {
				continue
			}
			m, _ := redis.Values(rng[2], nil)
			if len(m) < 2 {
				return nil
			}
			port, _ := redis.Int(m[1], nil)
			for _, x := range rc.Nodes {
				if x.port == port && x.cmd != nil {
					return x
				}
			}
			return nil
		}
		return nil
	}
	return nil
}

// ready reports whether every running node says cluster_state:ok and three
// nodes are replicas.
func (rc *PrivateCluster) ready() bool {
	replicas := 0
	for _, n := range rc.Nodes {
		if n.cmd == nil {
			continue
		}
		info, err := redis.String(n.Do("CLUSTER", "INFO"))
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			return false
		}
		role, err := redis.Values(n.Do("ROLE"))
		if err != nil || len(role) == 0 {
			return false
		}
		if r, _ := redis.String(role[0], nil); r == "slave" {
			replicas++
		}
	}
	return replicas == 3
}

// InSync reports whether every running master's replicas have
// acknowledged its whole replication stream (INFO replication: each
// replica's offset equals master_repl_offset).
func (rc *PrivateCluster) InSync() bool {
	for _, n := range rc.Nodes {
		if n.cmd == nil {
			continue
		}
		info, err := redis.String(n.Do("INFO", "replication"))
		if err != nil {
			return false
		}
		if !strings.Contains(info, "role:master") {
			continue
		}
		var master string
		var offsets []string
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "master_repl_offset:"); ok {
				master = v
			}
			if strings.HasPrefix(line, "slave") && strings.Contains(line, "offset=") {
				_, rest, _ := strings.Cut(line, "offset=")
				off, _, _ := strings.Cut(rest, ",")
				offsets = append(offsets, off)
			}
		}
		for _, o := range offsets {
			if o != master {
				return false
			}
		}
	}
	return true
}
