package main

import (
	"fmt"
	"io"
	"strings"
)

// Budgets of the performance issue.
const (
	ratioBudget    = 0.85 // app / limit, median of rounds
	growthBudget   = 0.90 // grown ratio / small ratio
	revokeBudgetMS = 50.0
	memBudget      = 400.0 // bytes per session
	rssBudgetKiB   = 300 * 1024
	// cookieBudget: /me by cookie, CSRF and CORS mounted and acting (a
	// trusted origin's credentialed fetch), against /me by header in the
	// same run, pair by pair (issue 14).
	cookieBudget = 0.95
	// metricsBudget: a hot path with the Prometheus metrics on (the
	// example app's default), against the same path on the same app with
	// -metrics=false, pair by pair (issue 15).
	metricsBudget = 0.97
)

// cookiePath is the name of the cookie path's target; its limit is
// "me (token)", the same request by header.
const cookiePath = "me (cookie, CSRF+CORS)"

// permissionPath is the name of the RequirePermission path's target (a
// tenant session's token); its limit is "limit R", as whoami's (issue 17).
const permissionPath = "reports (tenant token, RequirePermission)"

func findPhase(r *results, label string) *phaseResult {
	for _, p := range r.Phases {
		if p.Label == label {
			return p
		}
	}
	return nil
}

func (p *phaseResult) stats(name string) *targetStats {
	if p == nil {
		return nil
	}
	for _, s := range p.Load {
		if s.Target.Name == name {
			return s
		}
	}
	return nil
}

// pairedGrowth is the median over rounds of grown ratio / small ratio (the
// two phases run side by side, round by round: see loader.loadPhase), over
// the rounds where neither pair was disturbed when there are at least
// three; n is how many rounds it took (0: the rounds do not match).
func pairedGrowth(s, g *targetStats) (r float64, n int) {
	if len(s.Ratios) != len(g.Ratios) || len(s.Ratios) == 0 {
		return 0, 0
	}
	qs := make([]float64, len(s.Ratios))
	for i := range s.Ratios {
		qs[i] = g.Ratios[i] / s.Ratios[i]
	}
	return quietMedian(qs, func(i int) bool { return s.Disturbed[i] || g.Disturbed[i] })
}

func budgets(r *results) []budget {
	var out []budget
	small, grown := findPhase(r, "small"), findPhase(r, "grown")
	for _, name := range []string{"whoami (token)", permissionPath, "me (token)", "me (anonymous ssaid)"} {
		s := small.stats(name)
		if s == nil {
			continue
		}
		sr, _ := s.ratio()
		out = append(out, budget{
			What: fmt.Sprintf("%s / %s (small db)", name, s.Target.Limit),
			Got:  fmt.Sprintf("%.3f", sr), Want: fmt.Sprintf(">= %.2f", ratioBudget), OK: sr >= ratioBudget,
		})
		if g := grown.stats(name); g != nil {
			gr, _ := g.ratio()
			got := fmt.Sprintf("%.3f (%.3f / %.3f)", gr/sr, gr, sr)
			if pr, n := pairedGrowth(s, g); n > 0 {
				got = fmt.Sprintf("%.3f (%.3f / %.3f; round by round: median %.3f of %d)", gr/sr, gr, sr, pr, n)
			}
			out = append(out, budget{
				What: fmt.Sprintf("%s / %s (grown db vs small)", name, s.Target.Limit),
				Got:  got, Want: fmt.Sprintf(">= %.2f", growthBudget), OK: gr >= growthBudget*sr,
			})
		}
	}
	for _, p := range r.Phases {
		if s := p.stats(cookiePath); s != nil {
			cr, n := s.ratio()
			out = append(out, budget{
				What: fmt.Sprintf("%s / %s (%s db, median of %d pairs)", cookiePath, s.Target.Limit, p.Label, n),
				Got:  fmt.Sprintf("%.3f", cr), Want: fmt.Sprintf(">= %.2f", cookieBudget), OK: cr >= cookieBudget,
			})
		}
	}
	for _, p := range r.Phases {
		for _, s := range p.Load {
			if !strings.HasSuffix(s.Target.Name, ", metrics on)") {
				continue
			}
			mr, n := s.ratio()
			out = append(out, budget{
				What: fmt.Sprintf("%s / %s (%s db, median of %d pairs)", s.Target.Name, s.Target.Limit, p.Label, n),
				Got:  fmt.Sprintf("%.3f", mr), Want: fmt.Sprintf(">= %.2f", metricsBudget), OK: mr >= metricsBudget,
			})
		}
	}
	for _, p := range r.Phases {
		if p.Revoke != nil {
			out = append(out, budget{
				What: fmt.Sprintf("revoke all %d sessions of a user (%s db, max of %d)", p.Revoke.Sessions, p.Label, len(p.Revoke.Trials)),
				Got:  fmt.Sprintf("%.2f ms", p.Revoke.Max), Want: fmt.Sprintf("< %.0f ms", revokeBudgetMS), OK: p.Revoke.Max < revokeBudgetMS,
			})
		}
	}
	for _, m := range r.Memory {
		if !m.Budgeted {
			continue
		}
		out = append(out, budget{
			What: fmt.Sprintf("Redis memory per session (%d sessions, %s)", m.Sessions, m.Layout),
			Got:  fmt.Sprintf("%.0f B", m.PerSession), Want: fmt.Sprintf("< %.0f B", memBudget), OK: m.PerSession < memBudget,
		})
	}
	for _, l := range r.Logins {
		out = append(out, budget{
			What: fmt.Sprintf("password logins (%s): 5xx other than 503+Retry-After", l.Mode),
			Got:  fmt.Sprint(l.Other5xx + l.Bad503), Want: "0", OK: l.Other5xx+l.Bad503 == 0,
		})
		if l.Mode == "in-process" {
			out = append(out, budget{
				What: "argon2id hashes at once (most InFlight seen)",
				Got:  fmt.Sprint(l.MaxHashes), Want: fmt.Sprintf("<= %d (Limit)", l.HashLimit),
				OK: l.MaxHashes <= l.HashLimit && l.OverLimit == 0,
			})
		}
		if l.Mode == "exampleapp" {
			out = append(out, budget{
				What: "exampleapp peak RSS (VmHWM)",
				Got:  fmt.Sprintf("%.1f MiB", float64(l.HWMKiB)/1024), Want: "< 300 MiB", OK: l.HWMKiB < rssBudgetKiB,
			})
		}
	}
	return out
}

func report(w io.Writer, r *results) {
	m := r.Machine
	fmt.Fprintf(w, "\n## simpleuser bench, %s\n\n", r.Started.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "machine: %s CPUs (%s), %s RAM, kernel %s; %s; PostgreSQL %s; Redis %s; wrk %s\n",
		m["nproc"], m["cpu"], m["memory"], m["kernel"], m["go"], m["postgresql"], m["redis"], m["wrk"])
	fmt.Fprintf(w, "load: wrk, %v connections, %v thread(s), %v rounds x %v per path (after %v warm-up), %v hot tokens/ssaids\n",
		r.Settings["connections"], r.Settings["threads"], r.Settings["rounds"], r.Settings["duration"], r.Settings["warmup"], r.Settings["hot"])
	for _, p := range r.Phases {
		if len(p.Load) == 0 && p.Revoke == nil {
			continue
		}
		fmt.Fprintf(w, "\n### %s database: %d users, %d sessions\n", p.Label, p.Users, p.Sessions)
		if p.SeedTimes != "" {
			fmt.Fprintf(w, "seed: %s\n", p.SeedTimes)
		}
		if p.PGBytes > 0 {
			fmt.Fprintf(w, "sizes: PostgreSQL user tables with indexes %.1f MiB; Redis used_memory %.1f MiB\n",
				float64(p.PGBytes)/(1<<20), float64(p.RedisUsed)/(1<<20))
		}
		if len(p.Load) > 0 {
			fmt.Fprintf(w, "\n| path | req/s | p50 ms | p99 ms | server CPU µs/req | Redis CPU µs/req | PostgreSQL CPU µs/req | ratio to limit (median; rounds) |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
			for _, s := range p.Load {
				ratio := ""
				if s.Target.Limit != "" {
					var rs []string
					for i, x := range s.Ratios {
						mark := ""
						if s.Disturbed[i] {
							mark = "*"
						}
						rs = append(rs, fmt.Sprintf("%.2f%s", x, mark))
					}
					r, n := s.ratio()
					ratio = fmt.Sprintf("**%.3f** × %s (median of %d: %s)", r, s.Target.Limit, n, strings.Join(rs, " "))
				}
				fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f | %.1f | %.1f | %.1f | %s |\n", pathLabel(s.Target), s.medianRPS(), s.medianP50(), s.medianP99(),
					s.medianServerUS(), s.medianRedisUS(), s.medianPGUS(), ratio)
			}
			fmt.Fprintf(w, "\n(* a pair during which other processes used more than %.2f cores; left out of the median when at least 3 pairs are quiet)\n", foreignLimitCores)
			if p.AppHWMKiB > 0 {
				fmt.Fprintf(w, "\nexampleapp VmHWM after this load: %.1f MiB\n", float64(p.AppHWMKiB)/1024)
			}
		}
		if p.Revoke != nil {
			fmt.Fprintf(w, "revoke all %d sessions of one user (session.Manager.RevokeUser): median %.2f ms, max %.2f ms over %d trials\n",
				p.Revoke.Sessions, p.Revoke.Median, p.Revoke.Max, len(p.Revoke.Trials))
		}
	}
	if len(r.Memory) > 0 {
		fmt.Fprintf(w, "\n### Redis memory per session (INFO used_memory delta)\n\n")
		fmt.Fprintf(w, "| layout | sessions | bytes/session | body | body key | MEMORY USAGE body key | index key | MEMORY USAGE index (per session) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, x := range r.Memory {
			fmt.Fprintf(w, "| %s | %d | %.0f | %d B | %d B | %d B | %d B | %d B (%.0f) |\n",
				x.Layout, x.Sessions, x.PerSession, x.BodyLen, x.BodyKeyLen, x.BodyKeyUsage, x.IndexKeyLen, x.IndexKeyUsage, x.IndexPerSession)
		}
	}
	if len(r.Logins) > 0 {
		fmt.Fprintf(w, "\n### Password logins (argon2id m=19 MiB t=2 p=1)\n\n")
		fmt.Fprintf(w, "| server | clients | logins/s | p50 ms | p99 ms | 503+Retry-After | other 5xx | 429 | other | max hashes at once / limit | VmHWM |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n")
		for _, l := range r.Logins {
			hashes, hwm := "-", "-"
			if l.Mode == "in-process" {
				hashes = fmt.Sprintf("%d / %d (%d samples)", l.MaxHashes, l.HashLimit, l.Samples)
			} else {
				hwm = fmt.Sprintf("%.1f MiB", float64(l.HWMKiB)/1024)
			}
			fmt.Fprintf(w, "| %s | %d | %.1f | %.0f | %.0f | %d | %d | %d | %d | %s | %s |\n",
				l.Mode, l.Clients, l.LoginsPerS, l.P50MS, l.P99MS, l.Busy503, l.Other5xx+l.Bad503, l.Status429, l.Other+l.NetErrors, hashes, hwm)
		}
	}
	fmt.Fprintf(w, "\n### Budgets\n\n| budget | measured | wanted | |\n|---|---|---|---|\n")
	missed := 0
	for _, b := range r.Budgets {
		mark := "ok"
		if !b.OK {
			mark = "MISSED"
			missed++
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", b.What, b.Got, b.Want, mark)
	}
	fmt.Fprintf(w, "\n%d budget(s) missed; run took %.0f s\n", missed, r.Seconds)
}

func pathLabel(t target) string {
	path := t.URL
	if i := strings.Index(path, "//"); i >= 0 {
		if j := strings.IndexByte(path[i+2:], '/'); j >= 0 {
			path = path[i+2+j:]
		}
	}
	switch t.Name {
	case "limit R", "limit RP":
		return fmt.Sprintf("%s (reference GET %s)", t.Name, path)
	}
	return fmt.Sprintf("GET %s, %s", path, strings.TrimSuffix(strings.SplitN(t.Name, "(", 2)[1], ")"))
}

func printLogin(l loginStats) {
	fmt.Printf("  %s: %.1f logins/s (p50 %.0f ms, p99 %.0f ms), 503+Retry-After %d, other 5xx %d, 429 %d, other %d, net errors %d",
		l.Mode, l.LoginsPerS, l.P50MS, l.P99MS, l.Busy503, l.Other5xx+l.Bad503, l.Status429, l.Other, l.NetErrors)
	if l.Mode == "in-process" {
		fmt.Printf(", max hashes at once %d/%d", l.MaxHashes, l.HashLimit)
	} else {
		fmt.Printf(", VmHWM %.1f MiB", float64(l.HWMKiB)/1024)
	}
	if l.FirstError != "" {
		fmt.Printf(" (first: %.200s)", l.FirstError)
	}
	fmt.Println()
}
