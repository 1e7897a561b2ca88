package main

// A flood of password logins with over-long passwords (SPEC §3, issue 13
// point 5): 300 at once, through a real listener, against the exampleapp's
// handler. Every one is refused before any hashing or queueing, so the
// process's peak RSS stays small and the hasher never takes a slot.
//
//	go test -run '^$' -bench OverlongPassword -benchtime 5x ./exampleapp
//
// Run it alone (as above): the peak RSS reported is the process's VmHWM,
// reset at the start of each benchmark (/proc/self/clear_refs), so it
// includes the client side, which streams its bodies in constant memory.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/simpleuser/simpleuser"
)

// overlongClients is the size of each burst of logins.
const overlongClients = 300

// maxPeakRSS is the budget of the process's peak RSS during a burst.
const maxPeakRSS = 200 << 20

func BenchmarkOverlongPasswordLogins(b *testing.B) {
	for _, tc := range []struct {
		name   string
		pwLen  int
		status int // what every login must get
	}{
		// Under the 100 KiB body cap: read, then refused by the length check.
		{"password=90KiB", 90 << 10, http.StatusBadRequest},
		// The size of the report: refused by the body cap unread.
		{"password=1MiB", 1 << 20, http.StatusRequestEntityTooLarge},
	} {
		b.Run(tc.name, func(b *testing.B) { benchOverlong(b, tc.pwLen, tc.status) })
	}
}

func benchOverlong(b *testing.B, pwLen, want int) {
	s, err := parseFlags(nil)
	if err != nil {
		b.Fatal(err)
	}
	s.fixedCode = "123456"
	a, err := newApp(context.Background(), s, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	if _, err := a.Service.CreateUser(ctx, simpleuser.NewUser{Email: "flood@example.com", Password: "the-right-password"}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: overlongClients, MaxConnsPerHost: overlongClients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	slotsBefore := a.Service.Hasher().Slots()
	resetPeakRSS(b)
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make(chan error, overlongClients)
		for i := range overlongClients {
			wg.Go(func() {
				body := overlongBody("flood@example.com", pwLen)
				req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/login", body)
				if err != nil {
					errs <- err
					return
				}
				req.ContentLength = int64(body.Len())
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("x-client-ssaid", "flood-"+strconv.Itoa(i))
				resp, err := hc.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					errs <- fmt.Errorf("status %d, want %d", resp.StatusCode, want)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	peak := peakRSS(b)
	slots := a.Service.Hasher().Slots() - slotsBefore
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(slots), "hasher-slots")
	if slots != 0 {
		b.Fatalf("over-long passwords took %d hasher slots, want 0", slots)
	}
	if peak > maxPeakRSS {
		b.Fatalf("peak RSS %d MiB during bursts of %d over-long logins, budget %d MiB", peak>>20, overlongClients, maxPeakRSS>>20)
	}
}

// streamBody is a request body produced on the fly: head, n filler bytes,
// tail. Each client holds a few bytes, not the body, so the client side of
// the benchmark adds no memory of its own.
type streamBody struct {
	head, tail []byte
	n, off     int
}

func overlongBody(email string, n int) *streamBody {
	return &streamBody{head: []byte(`{"email":"` + email + `","password":"`), tail: []byte(`"}`), n: n}
}

func (s *streamBody) Len() int { return len(s.head) + s.n + len(s.tail) }

func (s *streamBody) Read(p []byte) (int, error) {
	total := s.Len()
	if s.off >= total {
		return 0, io.EOF
	}
	w := 0
	for w < len(p) && s.off < total {
		switch {
		case s.off < len(s.head):
			p[w] = s.head[s.off]
		case s.off < len(s.head)+s.n:
			p[w] = 'p'
		default:
			p[w] = s.tail[s.off-len(s.head)-s.n]
		}
		w++
		s.off++
	}
	return w, nil
}

// resetPeakRSS resets the process's VmHWM to its current RSS (Linux:
// writing 5 to /proc/self/clear_refs).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatalf("resetting VmHWM: %v", err)
	}
}

// peakRSS returns the process's VmHWM in bytes.
func peakRSS(b *testing.B) int64 {
	f, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(f))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
