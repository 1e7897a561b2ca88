package password

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// recorder is an Observer keeping every call.
type recorder struct {
	mu    sync.Mutex
	waits []time.Duration
	errs  []error
	runs  []string
}

func (r *recorder) HashWait(wait time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits, r.errs = append(r.waits, wait), append(r.errs, err)
}

func (r *recorder) HashRun(op string, run time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if run <= 0 {
		op += " (no time)"
	}
	r.runs = append(r.runs, op)
}

// TestObserver: every slot taken reports its wait (0 when free), every run
// its op and a positive time; a wait that gives up reports ErrBusy or the
// context's error and no run; a hash never checked (malformed, empty
// password) reports nothing.
func TestObserver(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	h := New(fast, 1, 30*time.Millisecond, WithObserver(rec))
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(ctx, "correct horse", hash); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	legacy, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if ok, _, _ := h.Verify(ctx, "pw", string(legacy)); !ok {
		t.Fatal("bcrypt hash did not verify")
	}
	_, _, _ = h.Verify(ctx, "x", "not a hash")
	_, _, _ = h.Verify(ctx, "", hash)

	h.sem <- struct{}{} // every slot busy
	t0 := time.Now()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with every slot busy: %v, want ErrBusy", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := h.Verify(cctx, "correct horse", hash); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify with a cancelled context: %v", err)
	}
	<-h.sem

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if want := []string{"hash", "verify", "verify"}; len(rec.runs) != len(want) || rec.runs[0] != want[0] || rec.runs[1] != want[1] || rec.runs[2] != want[2] {
		t.Fatalf("runs %q, want %q", rec.runs, want)
	}
	if len(rec.waits) != 5 {
		t.Fatalf("%d waits reported, want 5 (3 taken, 1 busy, 1 cancelled)", len(rec.waits))
	}
	for i := range 3 {
		if rec.waits[i] != 0 || rec.errs[i] != nil {
			t.Errorf("wait %d = %v, %v; want 0, nil (a free slot)", i, rec.waits[i], rec.errs[i])
		}
	}
	if !errors.Is(rec.errs[3], ErrBusy) || rec.waits[3] < 30*time.Millisecond || rec.waits[3] > time.Since(t0) {
		t.Errorf("busy wait = %v, %v; want ErrBusy after about 30 ms", rec.waits[3], rec.errs[3])
	}
	if !errors.Is(rec.errs[4], context.Canceled) {
		t.Errorf("cancelled wait error %v", rec.errs[4])
	}
}

// BenchmarkHashObserved compares a hash with and without an Observer (the
// observer's cost is two clock reads and two calls per hash).
func BenchmarkHashObserved(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{{"none", nil}, {"observer", []Option{WithObserver(&discard{})}}} {
		b.Run(tc.name, func(b *testing.B) {
			h := New(fast, 1, 0, tc.opts...)
			for b.Loop() {
				if _, err := h.Hash(context.Background(), "pw"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type discard struct{}

func (discard) HashWait(time.Duration, error) {}
func (discard) HashRun(string, time.Duration) {}
