package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server child process.
type proc struct {
	name  string
	cmd   *exec.Cmd
	addr  string // host:port
	pprof string // host:port of its net/http/pprof, when profiling
	log   string // file holding its stderr
	done  chan struct{}
}

// moduleDir returns the root of the simpleuser module.
func moduleDir() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the bench from inside the simpleuser module (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

// pprofOverlay is added to package main of exampleapp (through go build
// -overlay, the tree is not touched) when profiling: it serves
// net/http/pprof on $BENCH_PPROF_ADDR.
const pprofOverlay = `package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("BENCH_PPROF_ADDR"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
`

// buildExampleApp compiles ./exampleapp into dir, with a pprof listener
// when profile is set, and with the go build -overlay file overlay (to try
// a fix without touching the tree) when it is not "".
func buildExampleApp(dir string, profile bool, overlay string) (string, error) {
	root, err := moduleDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "exampleapp")
	args := []string{"build", "-o", bin}
	replace := map[string]string{}
	if overlay != "" {
		b, err := os.ReadFile(overlay)
		if err != nil {
			return "", err
		}
		var ov struct{ Replace map[string]string }
		if err := json.Unmarshal(b, &ov); err != nil {
			return "", fmt.Errorf("-overlay %s: %w", overlay, err)
		}
		for k, v := range ov.Replace {
			if !filepath.IsAbs(k) {
				k = filepath.Join(root, k)
			}
			if v != "" && !filepath.IsAbs(v) {
				v, _ = filepath.Abs(v)
			}
			replace[k] = v
		}
	}
	if profile {
		src := filepath.Join(dir, "pprof_overlay.go")
		if err := os.WriteFile(src, []byte(pprofOverlay), 0o600); err != nil {
			return "", err
		}
		replace[filepath.Join(root, "exampleapp", "zz_bench_pprof.go")] = src
	}
	if len(replace) > 0 {
		ov, _ := json.Marshal(map[string]any{"Replace": replace})
		ovFile := filepath.Join(dir, "overlay.json")
		if err := os.WriteFile(ovFile, ov, 0o600); err != nil {
			return "", err
		}
		args = append(args, "-overlay", ovFile)
	}
	cmd := exec.Command("go", append(args, "./exampleapp")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./exampleapp: %v\n%s", err, out)
	}
	return bin, nil
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startExampleApp runs the example server on the bench's backends, with
// its metrics on (its default); extra flags are appended, and a name other
// than "exampleapp" also names its log file.
func startExampleApp(ctx context.Context, bin, dir string, e *env, name string, extra ...string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, addr: addr, log: filepath.Join(dir, name+".log")}
	var env []string
	if e.o.profileDir != "" {
		if p.pprof, err = freeAddr(); err != nil {
			return nil, err
		}
		env = append(env, "BENCH_PPROF_ADDR="+p.pprof)
	}
	p.cmd = exec.Command(bin,
		"-addr", addr,
		"-database-url", e.dbURL,
		"-redis-url", e.o.redisURL,
		"-redis-prefix", e.o.redisPrefix,
		"-trusted-proxies", "127.0.0.1", // the login clients name their (fictitious) addresses in X-Forwarded-For
		// Cookie mode is on by default; plain http on loopback, so the
		// cookies are not Secure (and named without __Host-); the cookie
		// path's requests come from a trusted origin (CORS, CSRF).
		"-insecure-cookies",
		"-trusted-origins", benchOrigin,
	)
	p.cmd.Args = append(p.cmd.Args, extra...)
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.start(); err != nil {
		return nil, err
	}
	if err := p.waitHTTP(ctx, "http://"+addr+"/api/openapi.json"); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// startRef runs the reference server (this binary, "ref" command).
func startRef(ctx context.Context, dir string, e *env) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &proc{name: "reference", log: filepath.Join(dir, "reference.log")}
	p.cmd = exec.Command(self, "ref", "-database-url", e.dbURL, "-redis-url", e.o.redisURL, "-redis-prefix", e.o.redisPrefix)
	if e.o.profileDir != "" {
		if p.pprof, err = freeAddr(); err != nil {
			return nil, err
		}
		p.cmd.Args = append(p.cmd.Args, "-pprof", p.pprof)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if a, ok := strings.CutPrefix(strings.TrimSpace(line), "listening "); err == nil && ok {
		p.addr = a
	} else {
		p.stop()
		return nil, fmt.Errorf("reference server did not start (see %s): %v", p.log, err)
	}
	go io.Copy(io.Discard, stdout)
	return p, p.waitHTTP(ctx, "http://"+p.addr+"/r")
}

func (p *proc) start() error {
	f, err := os.Create(p.log)
	if err != nil {
		return err
	}
	p.cmd.Stderr = f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the bench
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.done = make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return nil
}

// waitHTTP polls url until the server answers (any status).
func (p *proc) waitHTTP(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited at start; see %s", p.name, p.log)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within 30s; see %s", p.name, p.log)
}

// stop sends SIGTERM to the process the bench started, then SIGKILL after 10 s.
func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// procStatus returns a field of /proc/PID/status in KiB (VmHWM, VmRSS).
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}
