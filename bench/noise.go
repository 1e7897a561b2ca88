package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// Background load. The bench shares the machine with whatever else runs
// (on a developer machine or CI: test suites, builds). Every load run
// measures the CPU the machine spent on anything but the bench's own
// processes (wrk, the server under test, Redis, PostgreSQL, the bench):
// "foreign" CPU, in cores. A pair whose runs saw more than
// foreignLimitCores is marked disturbed, and the ratio medians use the
// undisturbed pairs when there are at least three. Before each pair (or
// group of pairs, see loader.loadPhase) the bench also waits (at most
// quietWait) for a quiet half-second.

const (
	foreignLimitCores = 0.15
	quietWait         = 15 * time.Second
)

// cpuSample is a reading of the machine's and the known processes' CPU.
type cpuSample struct {
	at      time.Time
	busy    float64 // machine busy seconds (all CPUs) since boot
	pg      float64 // every postgres process
	self    float64 // this process
	redis   float64
	servers float64 // the servers under test
}

// machineBusy returns the non-idle CPU seconds of the machine since boot.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var total, idle float64
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		total += x
		if i == 3 || i == 4 { // idle, iowait
			idle += x
		}
	}
	return (total - idle) / 100
}

// commCPU returns the CPU seconds of every process whose command name
// starts with prefix, with those of the children they waited for: when a
// PostgreSQL backend or autovacuum worker exits, its CPU moves to the
// postmaster's children's time instead of leaving the sum (which would
// count the exit as seconds of foreign CPU).
func commCPU(prefix string) float64 {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	total := 0.0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < i || !strings.HasPrefix(s[i+1:j], prefix) {
			continue
		}
		own, children := procCPUs(pid)
		total += own + children
	}
	return total
}

// sampler reads cpuSamples.
type sampler struct {
	redisCPU []func() float64 // one per Redis server the bench uses
	servers  []int            // pids of the servers under test
}

func (s *sampler) sample() cpuSample {
	c := cpuSample{at: time.Now(), busy: machineBusy(), pg: commCPU("postgres"), self: procCPU(os.Getpid())}
	for _, f := range s.redisCPU {
		c.redis += f()
	}
	for _, pid := range s.servers {
		c.servers += procCPU(pid)
	}
	return c
}

// foreign returns the cores used by other processes between a and b,
// extra being the CPU seconds of known processes not in the samples (wrk).
func foreign(a, b cpuSample, extra float64) float64 {
	d := b.at.Sub(a.at).Seconds()
	if d <= 0 {
		return 0
	}
	f := (b.busy - a.busy) - (b.pg - a.pg) - (b.self - a.self) - (b.redis - a.redis) - (b.servers - a.servers) - extra
	return max(f, 0) / d
}

// waitQuiet waits until a half-second passes with little foreign CPU, at
// most quietWait; it returns the last reading.
func (s *sampler) waitQuiet() float64 {
	deadline := time.Now().Add(quietWait)
	for {
		a := s.sample()
		time.Sleep(500 * time.Millisecond)
		f := foreign(a, s.sample(), 0)
		if f < foreignLimitCores || time.Now().After(deadline) {
			return f
		}
	}
}
