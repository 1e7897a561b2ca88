package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := New(fast, 2, 0)
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string with the params", hash)
	}
	if ok, rehash, err := h.Verify(ctx, "correct horse", hash); !ok || rehash || err != nil {
		t.Fatalf("right password: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	for _, bad := range []string{"", "correct horse ", "Correct horse"} {
		if ok, _, _ := h.Verify(ctx, bad, hash); ok {
			t.Fatalf("%q matched", bad)
		}
	}
	for _, malformed := range []string{"", "$argon2id$", hash[:len(hash)-10], strings.Replace(hash, "m=64", "m=0", 1), "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"} {
		if ok, _, err := h.Verify(ctx, "correct horse", malformed); ok || err != nil {
			t.Fatalf("malformed %q: ok=%v err=%v", malformed, ok, err)
		}
	}
	// Other parameters: still verifies, and asks for an upgrade.
	h2 := New(Params{Memory: 128, Time: 1, Threads: 1}, 2, 0)
	if ok, rehash, _ := h2.Verify(ctx, "correct horse", hash); !ok || !rehash {
		t.Fatalf("param change: ok=%v rehash=%v, want true true", ok, rehash)
	}
}

func TestDefaultParamsAreOWASP(t *testing.T) {
	h := New(Params{}, 0, 0)
	if h.params.Memory != 19*1024 || h.params.Time != 2 || h.params.Threads != 1 {
		t.Fatalf("defaults %+v", h.params)
	}
}

func TestBcryptAcceptedAndUpgraded(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("legacy pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := New(fast, 1, 0)
	if ok, rehash, err := h.Verify(context.Background(), "legacy pass", string(b)); !ok || !rehash || err != nil {
		t.Fatalf("bcrypt: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(context.Background(), "legacy pas", string(b)); ok {
		t.Fatal("wrong password matched a bcrypt hash")
	}
}

func TestConcurrencyLimitHolds(t *testing.T) {
	h := New(Params{Memory: 4 * 1024, Time: 1, Threads: 1}, 2, time.Minute)
	var peak atomic.Int32
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := int32(h.InFlight()); n > peak.Load() {
				peak.Store(n)
			}
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < 24; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Hash(context.Background(), "pw"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	sampler.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Fatalf("peak in-flight hashes %d, want 1..2 with limit 2", p)
	}
}

func TestBusyAfterMaxWait(t *testing.T) {
	h := New(Params{Memory: 32 * 1024, Time: 2, Threads: 1}, 1, time.Millisecond)
	var busy, ok atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.Hash(context.Background(), "pw")
			switch {
			case errors.Is(err, ErrBusy):
				busy.Add(1)
			case err == nil:
				ok.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if busy.Load() == 0 || ok.Load() == 0 {
		t.Fatalf("ok=%d busy=%d: want some of each with one slot and a 1 ms wait", ok.Load(), busy.Load())
	}
}
