// Package password hashes and verifies passwords with argon2id
// (golang.org/x/crypto/argon2) in PHC string format, under a concurrency
// limit so a flood of logins cannot exhaust memory or CPU.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// ErrBusy means the hasher's queue was full for longer than Hasher.MaxWait.
var ErrBusy = errors.New("password: hasher busy")

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultParams are OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

// Hasher hashes and verifies passwords. The zero value is not usable; use New.
type Hasher struct {
	params  Params
	sem     chan struct{}
	maxWait time.Duration
	slots   atomic.Uint64 // slots taken since New
	obs     Observer      // nil: none
}

// Observer receives the hasher's timings (package metrics's Observer
// has these methods). Calls are made on the caller's goroutine.
type Observer interface {
	// HashWait reports how long an operation waited for a slot (0 when
	// one was free) and how the wait ended: nil (slot taken), ErrBusy,
	// or the context's error.
	HashWait(wait time.Duration, err error)
	// HashRun reports one argon2id or bcrypt run: op is "hash" or "verify".
	HashRun(op string, run time.Duration)
}

// An Option configures New.
type Option func(*Hasher)

// WithObserver has the hasher report its queue wait and run times to o.
func WithObserver(o Observer) Option { return func(h *Hasher) { h.obs = o } }

// New returns a Hasher. Zero params fields take DefaultParams values;
// concurrency <= 0 means runtime.NumCPU(); maxWait <= 0 means 5 s, the
// longest a call waits for a slot before ErrBusy.
func New(p Params, concurrency int, maxWait time.Duration, opts ...Option) *Hasher {
	if p.Memory == 0 {
		p.Memory = DefaultParams.Memory
	}
	if p.Time == 0 {
		p.Time = DefaultParams.Time
	}
	if p.Threads == 0 {
		p.Threads = DefaultParams.Threads
	}
	if p.KeyLen == 0 {
		p.KeyLen = DefaultParams.KeyLen
	}
	if p.SaltLen == 0 {
		p.SaltLen = DefaultParams.SaltLen
	}
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	h := &Hasher{params: p, sem: make(chan struct{}, concurrency), maxWait: maxWait}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Limit returns the number of hashes allowed to run at once.
func (h *Hasher) Limit() int { return cap(h.sem) }

// InFlight returns the number of hashes running now.
func (h *Hasher) InFlight() int { return len(h.sem) }

// Slots returns how many hash and verify operations have taken a slot
// since New (each ran argon2id or bcrypt once).
func (h *Hasher) Slots() uint64 { return h.slots.Load() }

// acquire takes a slot; it returns when the run started (for release),
// the zero time when no Observer is set.
func (h *Hasher) acquire(ctx context.Context) (time.Time, error) {
	select {
	case h.sem <- struct{}{}:
		h.slots.Add(1)
		return h.started(0, nil), nil
	default:
	}
	t0 := time.Now()
	t := time.NewTimer(h.maxWait)
	defer t.Stop()
	var err error
	select {
	case h.sem <- struct{}{}:
		h.slots.Add(1)
	case <-t.C:
		err = ErrBusy
	case <-ctx.Done():
		err = ctx.Err()
	}
	return h.started(time.Since(t0), err), err
}

// started reports the wait to the Observer and returns the run's start.
func (h *Hasher) started(wait time.Duration, err error) time.Time {
	if h.obs == nil {
		return time.Time{}
	}
	h.obs.HashWait(wait, err)
	return time.Now()
}

// release frees the slot taken at start and reports the run.
func (h *Hasher) release(op string, start time.Time) {
	<-h.sem
	if h.obs != nil {
		h.obs.HashRun(op, time.Since(start))
	}
}

// Hash returns the PHC string of pw.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	start, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release("hash", start)
	p := h.params
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var b64 = base64.RawStdEncoding

// Verify reports whether pw matches the PHC string hash (argon2id, or a
// legacy bcrypt hash, which always needs a rehash). An empty password,
// an empty hash or a malformed hash never match (and never error).
// needsRehash is true when the hash was made with other parameters than the
// Hasher's, so the caller can upgrade it transparently.
func (h *Hasher) Verify(ctx context.Context, pw, hash string) (ok, needsRehash bool, err error) {
	if isBcrypt(hash) {
		return h.verifyBcrypt(ctx, pw, hash)
	}
	p, salt, key, perr := parse(hash)
	if pw == "" || perr != nil {
		return false, false, nil
	}
	start, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	h.release("verify", start)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	needsRehash = p.Memory != h.params.Memory || p.Time != h.params.Time || p.Threads != h.params.Threads ||
		uint32(len(key)) != h.params.KeyLen || uint32(len(salt)) != h.params.SaltLen
	return true, needsRehash, nil
}

var errMalformed = errors.New("password: malformed hash")

func parse(hash string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errMalformed
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errMalformed
	}
	if p.Memory == 0 || p.Memory > 1<<22 || p.Time == 0 || p.Time > 64 || p.Threads == 0 {
		return p, nil, nil, errMalformed
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errMalformed
	}
	return p, salt, key, nil
}

// isBcrypt reports a legacy bcrypt hash ($2a$, $2b$ or $2y$), accepted so an
// app migrating from another system keeps its users' passwords.
func isBcrypt(hash string) bool {
	return len(hash) == 60 && hash[0] == '$' && hash[1] == '2' && (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && hash[3] == '$'
}

// verifyBcrypt checks a legacy bcrypt hash; a match always asks for a rehash
// to argon2id.
func (h *Hasher) verifyBcrypt(ctx context.Context, pw, hash string) (ok, needsRehash bool, err error) {
	if pw == "" || len(pw) > 72 {
		return false, false, nil // bcrypt ignores bytes past 72: refuse rather than truncate
	}
	start, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	cerr := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
	h.release("verify", start)
	if cerr != nil {
		return false, false, nil
	}
	return true, true, nil
}
