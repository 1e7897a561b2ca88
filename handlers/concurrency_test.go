package handlers

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// parallel runs f(i) for i in [0, n) at once and returns the answers.
func parallel(n int, f func(i int) *res) []*res {
	out := make([]*res, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func count(rs []*res) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.code]++
	}
	return m
}

func TestConcurrentSendsOneWins(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		rs := parallel(20, func(i int) *res {
			return e.do(rq{method: "POST", path: "/send-code/send", ssaid: e.ssaid(fmt.Sprint("d", i)), ip: fmt.Sprintf("203.0.113.%d", i+1),
				body: map[string]any{"email": a, "codePurpose": "Login"}})
		})
		if c := count(rs); c[200] != 1 || c[429] != 19 {
			t.Fatalf("statuses %v, want one 200 and 19 429", c)
		}
		if n := e.sends.Load(); n != 1 {
			t.Fatalf("SendCode called %d times", n)
		}
	})
}

func TestConcurrentLoginsOneCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		for _, existing := range []bool{false, true} {
			a := e.email(fmt.Sprintf("a%v", existing))
			if existing {
				e.register(e.ssaid("reg"), a, "")
				e.clock.Advance(time.Minute)
			}
			code := e.sendCode(a, "Login")
			rs := parallel(20, func(i int) *res {
				return e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid(fmt.Sprintf("l%v%d", existing, i)), body: map[string]any{"email": a, "code": code}})
			})
			tokens := 0
			for _, r := range rs {
				switch r.code {
				case 200:
					tokens++
				case 403, 409, 429: // consumed, raced, or over the attempt window (every try counts until one succeeds)
				default:
					t.Fatalf("status %d: %s", r.code, r.raw)
				}
			}
			if tokens != 1 {
				t.Fatalf("existing=%v: %d tokens from one code, statuses %v", existing, tokens, count(rs))
			}
		}
	})
}

func TestConcurrentFirstMe(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		dev := e.ssaid("d")
		rs := parallel(20, func(int) *res { return e.me(dev, "") })
		ids := map[int64]bool{}
		for _, r := range rs {
			r.want(t, 200, "")
			ids[r.num("id")] = true
		}
		if len(ids) != 1 {
			t.Fatalf("one ssaid made %d users: %v", len(ids), ids)
		}
	})
}

func TestConcurrentWrongGuesses(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backendSet) {
		e := newEnv(t, withBackend(b))
		a := e.email("a")
		e.sendCode(a, "Login")
		rs := parallel(30, func(i int) *res {
			if i%2 == 0 {
				return e.do(rq{method: "GET", path: "/send-code/verify", query: map[string]string{"email": a, "codePurpose": "Login", "code": fmt.Sprint("guess", i)}})
			}
			return e.do(rq{method: "POST", path: "/login", ssaid: e.ssaid(fmt.Sprint("g", i)), body: map[string]any{"email": a, "code": fmt.Sprint("guess", i)}})
		})
		c := count(rs)
		if c[403] > 5 || c[403]+c[429] != 30 {
			t.Fatalf("statuses %v: at most 5 guesses may be judged", c)
		}
	})
}
