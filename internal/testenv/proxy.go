package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from a local address to a target server,
// so a test can take a backend away and bring it back without touching the
// real server:
//
//   - Stop closes the listener (new connections are refused) and cuts every
//     forwarded connection (clients see a reset or EOF);
//   - Start listens again on the same address;
//   - Freeze keeps everything open but stops moving bytes, as a network
//     partition would (clients see silence, not an error); Thaw resumes.
//
// Create one with NewProxy; it is stopped and its goroutines are waited for
// when the test ends.
type Proxy struct {
	tb     testing.TB
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener
	pairs  map[*pair]struct{}
	frozen bool
	thaw   chan struct{} // closed by Thaw; replaced by Freeze
	wg     sync.WaitGroup
}

// pair is one forwarded connection: the client's and ours to the target.
type pair struct {
	client net.Conn
	done   chan struct{} // closed by close

	mu     sync.Mutex
	server net.Conn // nil until connected
	closed bool
}

func (p *pair) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	close(p.done)
	p.client.Close()
	if p.server != nil {
		p.server.Close()
	}
}

// attach records s as the server side, or closes it when p is closed.
func (p *pair) attach(s net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		s.Close()
		return false
	}
	p.server = s
	return true
}

// NewProxy listens on 127.0.0.1:0 and forwards every connection to target
// (host:port).
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: proxy: listen: %v", err)
	}
	thaw := make(chan struct{})
	close(thaw)
	p := &Proxy{tb: tb, target: target, addr: ln.Addr().String(), pairs: map[*pair]struct{}{}, thaw: thaw}
	p.serve(ln)
	tb.Cleanup(func() {
		p.Thaw()
		p.Stop()
		p.wg.Wait()
	})
	return p
}

// Addr is the proxy's address (host:port); it stays the same across Stop
// and Start.
func (p *Proxy) Addr() string { return p.addr }

// Stop closes the listener and cuts every live connection. Stopping a
// stopped proxy does nothing.
func (p *Proxy) Stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	pairs := p.pairs
	p.pairs = map[*pair]struct{}{}
	p.mu.Unlock()
	for c := range pairs {
		c.close()
	}
}

// Start listens again on Addr. Starting a running proxy does nothing.
func (p *Proxy) Start() {
	p.tb.Helper()
	p.mu.Lock()
	running := p.ln != nil
	p.mu.Unlock()
	if running {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.tb.Fatalf("testenv: proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// Freeze stops forwarding bytes in both directions while keeping every
// connection (and the listener) open: new connections are accepted but not
// connected through. Thaw undoes it.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen = true
		p.thaw = make(chan struct{})
	}
}

// Thaw resumes forwarding after Freeze.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thaw)
	}
}

// Conns returns the number of live forwarded connections.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pairs)
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			pr := &pair{client: c, done: make(chan struct{})}
			if !p.track(ln, pr) {
				pr.close()
				continue
			}
			p.wg.Add(1)
			go p.connect(pr)
		}
	}()
}

// track records pr unless ln is no longer the proxy's listener (stopped).
func (p *Proxy) track(ln net.Listener, pr *pair) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != ln {
		return false
	}
	p.pairs[pr] = struct{}{}
	return true
}

func (p *Proxy) untrack(pr *pair) {
	p.mu.Lock()
	delete(p.pairs, pr)
	p.mu.Unlock()
	pr.close()
}

// connect dials the target for pr (once thawed) and pipes both ways.
func (p *Proxy) connect(pr *pair) {
	defer p.wg.Done()
	if !p.waitThawed(pr) {
		p.untrack(pr)
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		p.untrack(pr)
		return
	}
	if !pr.attach(s) { // stopped while dialling
		return
	}
	p.wg.Add(2)
	go p.pipe(pr, s, pr.client)
	go p.pipe(pr, pr.client, s)
}

// pipe copies src to dst, holding data while the proxy is frozen.
func (p *Proxy) pipe(pr *pair, dst, src net.Conn) {
	defer p.wg.Done()
	defer p.untrack(pr)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.waitThawed(pr) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // EOF or cut: close both sides
			return
		}
	}
}

// waitThawed blocks while the proxy is frozen; false when pr was closed meanwhile.
func (p *Proxy) waitThawed(pr *pair) bool {
	p.mu.Lock()
	thaw := p.thaw
	p.mu.Unlock()
	select {
	case <-thaw:
		select {
		case <-pr.done:
			return false
		default:
			return true
		}
	case <-pr.done:
		return false
	}
}

// Blackhole returns the address of a server that accepts connections and
// reads whatever is sent but never answers, to check that clients give up
// within their timeouts instead of hanging. It is closed when the test ends.
func Blackhole(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testenv: blackhole: listen: %v", err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}
