package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
