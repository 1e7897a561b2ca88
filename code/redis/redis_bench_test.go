package redis_test

// Benchmarks of the code store on a live Redis (REDIS_URL, default
// redis://127.0.0.1:6379/0, keys under a unique prefix removed afterwards),
// and of sealing and matching a code.
//
//	go test -run '^$' -bench . -benchmem ./code/redis

import (
	"context"
	"testing"
	"time"

	"github.com/simpleuser/simpleuser/code"
	coderedis "github.com/simpleuser/simpleuser/code/redis"
	"github.com/simpleuser/simpleuser/internal/testenv"
)

const benchKey = "c:login:Zm9vYmFyYmF6cXV4MTIzNDU2"

func benchRecord(b *testing.B) []byte {
	b.Helper()
	rec, err := code.Seal([]byte("secret"), "123456")
	if err != nil {
		b.Fatal(err)
	}
	return rec
}

// BenchmarkSet stores a code record (SET PX).
func BenchmarkSet(b *testing.B) {
	pool, prefix := testenv.Redis(b)
	s := coderedis.New(pool, prefix)
	ctx, rec := context.Background(), benchRecord(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Set(ctx, benchKey, rec, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGet reads a code record (GET).
func BenchmarkGet(b *testing.B) {
	pool, prefix := testenv.Redis(b)
	s := coderedis.New(pool, prefix)
	ctx, rec := context.Background(), benchRecord(b)
	if err := s.Set(ctx, benchKey, rec, 10*time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, benchKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConsume consumes a code (the compare-and-delete script);
// each iteration stores the record again first, so it is Set + script.
func BenchmarkConsume(b *testing.B) {
	pool, prefix := testenv.Redis(b)
	s := coderedis.New(pool, prefix)
	ctx, rec := context.Background(), benchRecord(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Set(ctx, benchKey, rec, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
		_, ok, err := s.Consume(ctx, benchKey, rec)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkConsumeMiss is the script on a record that does not match
// (a stale consumer): GET and compare, nothing deleted.
func BenchmarkConsumeMiss(b *testing.B) {
	pool, prefix := testenv.Redis(b)
	s := coderedis.New(pool, prefix)
	ctx, rec := context.Background(), benchRecord(b)
	if err := s.Set(ctx, benchKey, rec, 10*time.Minute); err != nil {
		b.Fatal(err)
	}
	other := benchRecord(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := s.Consume(ctx, benchKey, other); err != nil || ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkSealMatch seals a code and matches a guess (no Redis).
func BenchmarkSealMatch(b *testing.B) {
	secret := []byte("secret")
	b.ReportAllocs()
	for b.Loop() {
		rec, err := code.Seal(secret, "123456")
		if err != nil || !code.Match(secret, rec, "123456") {
			b.Fatal(err)
		}
	}
}
