// Package prommetrics implements the kit's metrics.Observer with
// Prometheus (github.com/prometheus/client_golang). It is the only
// package of the kit that imports a metrics library: an app that does not
// import it does not link Prometheus.
//
//	reg := prometheus.NewRegistry()
//	obs, err := prommetrics.New(reg)
//	if err != nil {
//		return err
//	}
//	svc, err := simpleuser.New(simpleuser.Config{Metrics: obs /* ... */})
//	// ...
//	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The families (every label value is from a bounded set: see package
// metrics; never an address, id, token or raw path):
//
//	simpleuser_logins_total{method,provider,result}          counter
//	simpleuser_code_sends_total{purpose,result}              counter
//	simpleuser_rate_limit_refusals_total{rule}               counter
//	simpleuser_sessions_created_total                        counter
//	simpleuser_sessions_ended_total{reason}                  counter
//	simpleuser_backend_errors_total{backend}                 counter
//	simpleuser_password_hash_wait_seconds                    histogram
//	simpleuser_password_hash_duration_seconds{op}            histogram
//	simpleuser_http_request_duration_seconds{route,status}   histogram
//
// docs/operations.md describes each one and gives alert rules on them.
package prommetrics

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/simpleuser/simpleuser/metrics"
	"github.com/simpleuser/simpleuser/password"
)

// Bucket upper bounds, in seconds.
var (
	// RequestBuckets suit the kit's answers: a session lookup takes well
	// under a millisecond, a password login tens of milliseconds, a
	// request that waits on a silent backend up to its timeout.
	RequestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	// HashWaitBuckets run from a free slot (0 lands in the first bucket)
	// to the hasher's default maximum wait of 5 s (then 503 BUSY).
	HashWaitBuckets = []float64{.0001, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	// HashBuckets bracket one argon2id run at OWASP's parameters (m=19
	// MiB, t=2, p=1: some 20 to 60 ms on a server core).
	HashBuckets = []float64{.005, .01, .02, .03, .05, .075, .1, .15, .25, .5, 1}
)

// Observer is a metrics.Observer recording into Prometheus collectors.
// Create it with New; it is safe for concurrent use.
type Observer struct {
	logins       *prometheus.CounterVec
	sends        *prometheus.CounterVec
	refusals     *prometheus.CounterVec
	created      prometheus.Counter
	ended        *prometheus.CounterVec
	backendErrs  *prometheus.CounterVec
	hashWait     prometheus.Histogram
	hashDuration *prometheus.HistogramVec
	requests     *prometheus.HistogramVec

	hashOps  map[string]prometheus.Observer
	byStatus sync.Map // requestKey -> prometheus.Observer
}

var _ metrics.Observer = (*Observer)(nil)

// requestKey caches the histogram child of a route and status, so a request
// costs one map read and no strconv.
type requestKey struct {
	route  string
	status int
}

// New creates the collectors and registers them on reg (a
// prometheus.NewRegistry() of the app's, or prometheus.DefaultRegisterer).
// The counters whose label values are known in advance (every rule,
// reason, backend and purpose) start at 0, so rate() and increase() see
// them from the first scrape. It returns the error of the first
// registration that failed (a collector of the same name registered
// already: create one Observer per registry).
func New(reg prometheus.Registerer) (*Observer, error) {
	const ns = "simpleuser"
	o := &Observer{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "logins_total",
			Help: "Login attempts that ended, by method (code, password, oauth, passkey), provider (oauth only) and result (success, mfa_required, or the failure's data.code in lower case)."},
			[]string{"method", "provider", "result"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "code_sends_total",
			Help: "Requests to send a one-time code, by purpose and result (sent, send_failed, limited, unavailable, invalid)."},
			[]string{"purpose", "result"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rate_limit_refusals_total",
			Help: "Attempts refused by a rate limit, by rule (one count per limit that refused)."},
			[]string{"rule"}),
		created: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "sessions_created_total",
			Help: "Sessions issued (logins)."}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sessions_ended_total",
			Help: "Sessions ended, by reason (expiry is not counted: sessions expire in the store)."},
			[]string{"reason"}),
		backendErrs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "backend_errors_total",
			Help: "Operations that failed because a backend could not serve them, by backend (postgres, redis, hasher: the password hasher's queue stayed full)."},
			[]string{"backend"}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "password_hash_wait_seconds",
			Help: "Time a password hash or verification waited for a hashing slot (0 when one was free; the hasher's maximum wait when it gave up).", Buckets: HashWaitBuckets}),
		hashDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "password_hash_duration_seconds",
			Help: "Time one argon2id (or legacy bcrypt) run took, by op (hash, verify).", Buckets: HashBuckets},
			[]string{"op"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "http_request_duration_seconds",
			Help: "Requests served by the kit's handlers, by route pattern and status.", Buckets: RequestBuckets},
			[]string{"route", "status"}),
	}
	for _, c := range []prometheus.Collector{o.logins, o.sends, o.refusals, o.created, o.ended, o.backendErrs, o.hashWait, o.hashDuration, o.requests} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, r := range []string{metrics.RuleSendCooldownEmail, metrics.RuleSendCooldownDevice, metrics.RuleSendAddressBudget,
		metrics.RuleCodeAttempts, metrics.RulePasswordAttemptsAccount, metrics.RulePasswordAttemptsDevice,
		metrics.RulePasswordAttemptsAddress, metrics.RuleAnonymousAddressBudget} {
		o.refusals.WithLabelValues(r)
	}
	for _, r := range []string{metrics.EndedLogout, metrics.EndedByUser, metrics.EndedLogoutAll, metrics.EndedPasswordChange,
		metrics.EndedPasswordReset, metrics.EndedUnregister, metrics.EndedDisabled, metrics.EndedDeleted,
		metrics.EndedRevoked, metrics.EndedReplaced, metrics.EndedMaxSessions} {
		o.ended.WithLabelValues(r)
	}
	for _, b := range []string{"postgres", "redis", metrics.BackendHasher} {
		o.backendErrs.WithLabelValues(b)
	}
	for _, p := range []string{"Login", "ResetPassword", "ChangeEmail", "Unregister"} {
		for _, r := range []string{metrics.SendSent, metrics.SendFailed, metrics.SendLimited, metrics.SendUnavailable} {
			o.sends.WithLabelValues(p, r)
		}
	}
	for _, m := range []string{metrics.MethodCode, metrics.MethodPassword} {
		o.logins.WithLabelValues(m, "", metrics.ResultSuccess)
	}
	o.hashOps = map[string]prometheus.Observer{
		metrics.OpHash:   o.hashDuration.WithLabelValues(metrics.OpHash),
		metrics.OpVerify: o.hashDuration.WithLabelValues(metrics.OpVerify),
	}
	return o, nil
}

// Login counts a login attempt.
func (o *Observer) Login(method, provider, result string) {
	o.logins.WithLabelValues(method, provider, result).Inc()
}

// CodeSend counts a request to send a code.
func (o *Observer) CodeSend(purpose, result string) {
	o.sends.WithLabelValues(purpose, result).Inc()
}

// Refusal counts a refusal by rule.
func (o *Observer) Refusal(rule string) { o.refusals.WithLabelValues(rule).Inc() }

// SessionCreated counts a session issued.
func (o *Observer) SessionCreated() { o.created.Inc() }

// SessionsEnded counts n sessions ended for reason.
func (o *Observer) SessionsEnded(reason string, n int) {
	o.ended.WithLabelValues(reason).Add(float64(n))
}

// BackendError counts a failure of backend.
func (o *Observer) BackendError(backend string) {
	o.backendErrs.WithLabelValues(backend).Inc()
}

// HashWait records a wait for a hashing slot; a wait that ended in
// password.ErrBusy also counts as a backend error of the hasher.
func (o *Observer) HashWait(wait time.Duration, err error) {
	o.hashWait.Observe(wait.Seconds())
	if errors.Is(err, password.ErrBusy) {
		o.BackendError(metrics.BackendHasher)
	}
}

// HashRun records one hash or verification run.
func (o *Observer) HashRun(op string, run time.Duration) {
	h, ok := o.hashOps[op]
	if !ok {
		h = o.hashDuration.WithLabelValues(op)
	}
	h.Observe(run.Seconds())
}

// Request records a request's duration under its route and status.
func (o *Observer) Request(route string, status int, d time.Duration) {
	k := requestKey{route, status}
	h, ok := o.byStatus.Load(k)
	if !ok {
		h, _ = o.byStatus.LoadOrStore(k, o.requests.WithLabelValues(route, strconv.Itoa(status)))
	}
	h.(prometheus.Observer).Observe(d.Seconds())
}
