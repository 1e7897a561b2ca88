package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/simpleuser/simpleuser/internal/testenv"
)

type harness struct {
	t   *testing.T
	app *app
	ip  atomic.Int32
}

func newHarness(t *testing.T, s settings) *harness {
	t.Helper()
	s.fixedCode = "123456"
	s.allowAnonymous = true
	a, err := newApp(context.Background(), s, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return &harness{t: t, app: a}
}

func (h *harness) call(method, path, ssaid, token string, body any) (int, map[string]any) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ssaid != "" {
		req.Header.Set("x-client-ssaid", ssaid)
	}
	if token != "" {
		req.Header.Set("x-client-token", token)
	}
	req.RemoteAddr = fmt.Sprintf("198.51.100.%d:1234", h.ip.Add(1))
	w := httptest.NewRecorder()
	h.app.Handler.ServeHTTP(w, req)
	var env map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		h.t.Fatalf("%s %s: not JSON: %s", method, path, w.Body)
	}
	data, _ := env["data"].(map[string]any)
	if env["statusCode"] != float64(w.Code) {
		h.t.Fatalf("envelope statusCode %v != HTTP %d", env["statusCode"], w.Code)
	}
	if w.Code >= 400 {
		data = map[string]any{"message": env["message"]}
	}
	return w.Code, data
}

// signup registers email from ssaid with the fixed code and extra payload fields.
func (h *harness) signup(ssaid, email string, extra map[string]any) (int, map[string]any) {
	h.t.Helper()
	if c, _ := h.call("POST", "/api/send-code/send", ssaid, "", map[string]any{"email": email, "codePurpose": "Login"}); c != 200 {
		h.t.Fatalf("send-code: %d", c)
	}
	body := map[string]any{"email": email, "code": "123456"}
	for k, v := range extra {
		body[k] = v
	}
	return h.call("POST", "/api/login", ssaid, "", body)
}

func backends(t *testing.T) map[string]settings {
	_, prefix := testenv.Redis(t) // a fresh prefix, deleted when the test ends
	return map[string]settings{
		"memory":         {},
		"postgres+redis": {databaseURL: testenv.PostgresURL(t), redisURL: testenv.RedisURL(), redisPrefix: prefix},
	}
}

func TestAppUsersReferralsAndSessionData(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, s)
			uniq := fmt.Sprintf("%p", h)
			ann := "ann-" + uniq + "@example.com"
			code, data := h.signup("dev-ann", ann, map[string]any{"nickname": "Ann"})
			if code != 200 {
				t.Fatalf("signup ann: %d %v", code, data)
			}
			annToken := data["token"].(string)
			annID := data["userId"].(float64)

			code, me := h.call("GET", "/api/user-center/me", "dev-ann", annToken, nil)
			ref, _ := me["referralCode"].(string)
			if code != 200 || me["nickname"] != "Ann" || len(ref) != 8 || me["credits"] != float64(0) || me["id"] != annID {
				t.Fatalf("/me of ann: %d %v", code, me)
			}
			if _, ok := me["referredBy"]; ok {
				t.Fatal("/me leaked a json:\"-\" field")
			}
			code, who := h.call("GET", "/app/whoami", "", annToken, nil)
			if code != 200 || who["userId"] != annID || who["nickname"] != "Ann" {
				t.Fatalf("whoami: %d %v", code, who)
			}

			// Bob signs up with Ann's code: Ann earns a credit.
			bob := "bob-" + uniq + "@example.com"
			if code, data := h.signup("dev-bob", bob, map[string]any{"nickname": "Bob", "referralCode": ref}); code != 200 {
				t.Fatalf("signup bob: %d %v", code, data)
			}
			_, me = h.call("GET", "/api/user-center/me", "dev-ann", annToken, nil)
			if me["credits"] != float64(1) {
				t.Fatalf("ann's credits after a referral: %v", me["credits"])
			}

			// An unknown code: 400, and nothing is created (no auth user without its app user).
			eve := "eve-" + uniq + "@example.com"
			code, data = h.signup("dev-eve", eve, map[string]any{"nickname": "Eve", "referralCode": "NOPE2345"})
			if code != 400 || !strings.Contains(fmt.Sprint(data["message"]), "unknown referral code") {
				t.Fatalf("signup with an unknown code: %d %v", code, data)
			}
			code, ex := h.call("GET", "/api/login/user-exists?email="+eve, "", "", nil)
			if code != 200 || ex["exists"] != false {
				t.Fatalf("eve exists after a failed signup: %v", ex)
			}
			code, anon := h.call("GET", "/api/user-center/me", "dev-eve", "", nil)
			if code != 200 || anon["registered"] != false {
				t.Fatalf("eve's device is no longer anonymous: %d %v", code, anon)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	t.Setenv("SIMPLEUSER_FIXED_CODE", "999999")
	t.Setenv("SIMPLEUSER_ALLOW_ANONYMOUS", "false")
	s, err := parseFlags([]string{"-addr", ":9999", "-trusted-proxies", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	if s.addr != ":9999" || s.fixedCode != "999999" || s.allowAnonymous || s.trustedProxies != "10.0.0.0/8" {
		t.Fatalf("settings %+v", s)
	}
	if _, err := newApp(context.Background(), settings{trustedProxies: "not-a-cidr"}, slog.Default(), io.Discard); err == nil {
		t.Fatal("a bad -trusted-proxies was accepted")
	}
}

// whoamiData writes what encoding/json writes.
func TestWhoamiDataJSON(t *testing.T) {
	for _, d := range []whoamiData{{UserID: 42, Nickname: "Ann"}, {UserID: -1, Nickname: "a\"<b>\\\u2028é\x01"}, {}} {
		want, _ := json.Marshal(d)
		got, err := d.AppendJSON(nil)
		if err != nil || string(got) != string(want) {
			t.Errorf("AppendJSON(%+v) = %s, %v; want %s", d, got, err, want)
		}
	}
}

// TestAPIPathsAnsweredByTheAPI: a path under /api that ServeMux would clean
// (and answer with a bare 307) gets the API's 404 envelope.
func TestAPIPathsAnsweredByTheAPI(t *testing.T) {
	h := newHarness(t, settings{})
	for _, p := range []string{"/api//login", "/api/./login", "/api/x/../login", "/api/login/.", "/api"} {
		code, data := h.call("POST", p, "dev-1", "", nil) // call fails the test on a non-JSON answer
		if code != 404 {
			t.Fatalf("POST %s: %d %v", p, code, data)
		}
	}
	if code, _ := h.call("GET", "/api/user-center/me", "dev-1", "", nil); code != 200 {
		t.Fatalf("GET /api/user-center/me: %d", code)
	}
}
