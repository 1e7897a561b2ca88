package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// keepShots keeps the browser test's screenshots for a person to look at:
//
//	go test ./exampleapp -run TestBrowserE2E -args -keep-shots /tmp/shots
var keepShots = flag.String("keep-shots", "", "copy TestBrowserE2E's screenshots into this directory (one folder per backend)")

// chromiumHelp names what to install when no browser is found.
const chromiumHelp = "headless Chromium is needed: install Debian's chromium package (apt-get install -y chromium; .ci/run and scripts/services.sh do it), or set SIMPLEUSER_CHROMIUM to a Chromium or Chrome binary"

// chromium returns the path of the browser: $SIMPLEUSER_CHROMIUM, else
// Debian's /usr/bin/chromium, else chromium on PATH. Without one the
// test fails, never skips: a CI run without a browser must not pass.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := findBrowser(os.Getenv("SIMPLEUSER_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// findBrowser returns the first of names that is an executable.
func findBrowser(names ...string) (string, error) {
	for _, name := range names {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New(chromiumHelp)
}

// TestFindBrowserFails: without a browser the lookup is an error naming
// the package to install (TestBrowserE2E then fails, never skips).
func TestFindBrowserFails(t *testing.T) {
	_, err := findBrowser("", filepath.Join(t.TempDir(), "no-chromium"), "no-such-browser-binary")
	if err == nil || !strings.Contains(err.Error(), "Debian's chromium package") {
		t.Fatalf("error %v", err)
	}
}

// TestBrowserE2E drives the exampleapp's page in headless Chromium, on
// the in-memory stores and on PostgreSQL + Redis, through:
//
//  1. the first visit, anonymous: the sign-in page, a device cookie;
//  2. sending a code (the app runs with the fixed code 123456);
//  3. a wrong code, said in words on the page; then the right code,
//     choosing a password: the account page, one session;
//  4. a second browser context (its own cookies) signing in to the same
//     account, by password: two sessions;
//  5. the first browser ending the second's session from its list;
//  6. the second browser, at its next request, signed out and told why,
//     its session cookie gone;
//  7. the first browser logging out.
//
// A screenshot of each step is written under the test's temp dir, and
// kept in -keep-shots DIR when given.
func TestBrowserE2E(t *testing.T) {
	bin := chromium(t)
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) { browserE2E(t, bin, name, s) })
	}
}

func browserE2E(t *testing.T, bin, backend string, s settings) {
	a := newPageApp(t, s)
	base := startPage(t, a)
	email := fmt.Sprintf("browser-%d@example.com", time.Now().UnixNano())
	shots := filepath.Join(t.TempDir(), "shots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	var browserLog syncBuffer
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.WindowSize(1000, 900),
		chromedp.CombinedOutput(&browserLog),
	)
	defer cancelAlloc()
	one, cancelOne := chromedp.NewContext(alloc)
	defer cancelOne()

	n := 0
	// step checks where the browser is and saves a screenshot of it.
	step := func(ctx context.Context, name, wantPath string) {
		t.Helper()
		n++
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatalf("step %d %s: %v\nbrowser output:\n%s", n, name, err, browserLog.String())
		}
		if got := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], base); got != wantPath {
			t.Fatalf("step %d %s: at %s, want %s", n, name, loc, wantPath)
		}
		png, err := screenshot(ctx)
		if err != nil {
			t.Fatalf("step %d %s: screenshot: %v", n, name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", n, name)), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// do runs actions, failing the test with the browser's output.
	do := func(ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\nbrowser output:\n%s", what, err, browserLog.String())
		}
	}
	// submit clicks a form's button and waits for the page it leads to;
	// it returns that page's HTTP status.
	submit := func(ctx context.Context, button string) int64 {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
		if err != nil {
			t.Fatalf("submit %s: %v\nbrowser output:\n%s", button, err, browserLog.String())
		}
		return resp.Status
	}
	text := func(ctx context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	count := func(ctx context.Context, sel string) int {
		t.Helper()
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
		if err != nil {
			t.Fatalf("count %s: %v", sel, err)
		}
		return len(nodes)
	}
	cookie := func(ctx context.Context, name string) string {
		t.Helper()
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
		if err != nil {
			t.Fatalf("cookies: %v", err)
		}
		for _, c := range res.Cookies {
			if c.Name == name {
				if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
					t.Fatalf("cookie %s: HttpOnly %v SameSite %q Path %q", name, c.HTTPOnly, c.SameSite, c.Path)
				}
				return c.Value
			}
		}
		return ""
	}

	// 1. First visit, anonymous.
	do(one, "first visit", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("code-email")))
	step(one, "first-visit", "/")
	if cookie(one, "simpleuser_device") == "" || cookie(one, "simpleuser_session") != "" {
		t.Fatal("first visit: want a device cookie and no session")
	}

	// 2. Send a code.
	do(one, "type the address", chromedp.SendKeys(chromedp.ID("code-email"), email))
	if st := submit(one, "#send-code"); st != 200 {
		t.Fatalf("send code: status %d", st)
	}
	step(one, "code-sent", "/signin/code")
	if got := text(one, "#notice"); !strings.Contains(got, email) {
		t.Fatalf("code page notice %q", got)
	}

	// 3. A wrong code, then the right one with a password.
	do(one, "wrong code", chromedp.SendKeys(chromedp.ID("v-code"), "000000"))
	if st := submit(one, "#verify"); st != 403 {
		t.Fatalf("wrong code: status %d", st)
	}
	step(one, "wrong-code", "/signin/verify")
	if got := text(one, "#error"); !strings.Contains(got, "That code is wrong") {
		t.Fatalf("wrong code alert %q", got)
	}
	do(one, "right code",
		chromedp.SendKeys(chromedp.ID("v-code"), "123456"),
		chromedp.SendKeys(chromedp.ID("v-password"), "browser-password-1"),
		chromedp.SendKeys(chromedp.ID("v-nickname"), "Ada"))
	if st := submit(one, "#verify"); st != 200 {
		t.Fatalf("right code: status %d", st)
	}
	step(one, "account", "/account")
	if got := text(one, ".profile"); !strings.Contains(got, email) || !strings.Contains(got, "Ada") {
		t.Fatalf("profile %q", got)
	}
	if c := count(one, "#session-list tbody tr"); c != 1 {
		t.Fatalf("%d sessions, want 1", c)
	}
	if cookie(one, "simpleuser_session") == "" {
		t.Fatal("no session cookie after sign-up")
	}

	// 4. A second browser context signs in to the same account.
	two, cancelTwo := chromedp.NewContext(one, chromedp.WithNewBrowserContext())
	defer cancelTwo()
	do(two, "second browser",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("pw-email")),
		chromedp.SendKeys(chromedp.ID("pw-email"), email),
		chromedp.SendKeys(chromedp.ID("pw-password"), "browser-password-1"))
	if st := submit(two, "#password-signin"); st != 200 {
		t.Fatalf("second sign-in: status %d", st)
	}
	step(two, "second-browser-signed-in", "/account")
	if c := count(two, "#session-list tbody tr"); c != 2 {
		t.Fatalf("second browser sees %d sessions, want 2", c)
	}

	// 5. The first ends the second's session.
	do(one, "reload the account page", chromedp.Navigate(base+"/account"), chromedp.WaitVisible(chromedp.ID("session-list")))
	if c := count(one, "#session-list tbody tr"); c != 2 {
		t.Fatalf("%d sessions, want 2", c)
	}
	if c := count(one, "button.end-session"); c != 1 {
		t.Fatalf("%d End buttons, want 1 (not for this browser)", c)
	}
	if st := submit(one, "button.end-session"); st != 200 {
		t.Fatalf("end session: status %d", st)
	}
	step(one, "ended-second-session", "/account")
	if got := text(one, "#notice"); !strings.Contains(got, "signed out") {
		t.Fatalf("notice %q", got)
	}
	if c := count(one, "#session-list tbody tr"); c != 1 {
		t.Fatalf("%d sessions after ending one, want 1", c)
	}

	// 6. The second is signed out at its next request.
	do(two, "second browser's next request", chromedp.Navigate(base+"/account"), chromedp.WaitVisible(chromedp.ID("code-email")))
	step(two, "second-signed-out", "/")
	if got := text(two, "#notice"); !strings.Contains(got, "Your session has ended") {
		t.Fatalf("second browser notice %q", got)
	}
	if cookie(two, "simpleuser_session") != "" {
		t.Fatal("the second browser still holds its session cookie")
	}
	if cookie(one, "simpleuser_session") == "" {
		t.Fatal("the first browser lost its session")
	}

	// 7. The first logs out.
	if st := submit(one, "#signout"); st != 200 {
		t.Fatalf("log out: status %d", st)
	}
	step(one, "logged-out", "/")
	if got := text(one, "#notice"); got != "You are signed out." {
		t.Fatalf("notice %q", got)
	}
	if cookie(one, "simpleuser_session") != "" {
		t.Fatal("session cookie kept after log out")
	}

	if *keepShots != "" {
		dst := filepath.Join(*keepShots, backend)
		if err := os.CopyFS(dst, os.DirFS(shots)); err != nil {
			t.Fatalf("-keep-shots: %v", err)
		}
		t.Logf("screenshots kept in %s", dst)
	}
}

// screenshot captures the whole page. Chromium refuses with "Cannot take
// screenshot with 0 width" while the page is between layouts (a reload the
// step's click started, the DOM already showing what the step checked), so
// it retries a few times, 100 ms apart, before failing.
func screenshot(ctx context.Context) ([]byte, error) {
	var err error
	for range 5 {
		var png []byte
		if png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			return png, nil
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, err
}
