package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/envelope"
	"github.com/simpleuser/simpleuser/logging"
)

// DefaultReadyTimeout bounds the backend pings of Readyz when
// ReadyOptions.Timeout is zero: well under the 1 s a Kubernetes probe
// waits by default (timeoutSeconds), so a silent backend gets its 503
// before the probe gives up.
const DefaultReadyTimeout = 800 * time.Millisecond

// ReadyOptions configures Readyz. The zero value pings with
// DefaultReadyTimeout and logs to slog.Default().
type ReadyOptions struct {
	// Timeout bounds the pings of one check, in total (they run at the same
	// time). Default DefaultReadyTimeout.
	Timeout time.Duration
	// Logger receives a line at level Error for every 503, naming each
	// failing backend and its cause, with the request id. Default:
	// slog.Default().
	Logger *slog.Logger
}

// Healthz returns the liveness handler, for a probe such as
// GET /healthz: it answers 200 with the envelope
// {"data":{"status":"alive"}} as long as the process serves HTTP. It calls
// no backend, so an outage of PostgreSQL or Redis never gets a live
// process restarted (that is what Readyz reports). Mount it where the app
// likes, outside the API's prefix and without middleware:
//
//	mux.Handle("GET /healthz", handlers.Healthz())
//	mux.Handle("GET /readyz", handlers.Readyz(svc, handlers.ReadyOptions{}))
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = envelope.OK(w, aliveData{Status: "alive"})
	})
}

// Readyz returns the readiness handler, for a probe such as GET /readyz:
// it pings each distinct backend server of svc once, all at the same time,
// within ReadyOptions.Timeout (svc.CheckBackends), and answers
//
//   - 200 with data {"status":"ready","backends":{"postgres":"ok","redis":"ok"}}
//     when every one answered (with in-memory stores "backends" is empty:
//     nothing can be lost);
//   - 503 with data.code BACKEND_UNAVAILABLE, the message naming the
//     failing backends ("redis unavailable", "postgres, redis
//     unavailable") and data.backends giving each one "ok" or
//     "unavailable", when any did not; the failure is logged (see
//     ReadyOptions.Logger).
//
// A load balancer or orchestrator then stops sending traffic to an instance
// whose backends it cannot reach, and sends it again once they answer: the
// kit's pools recover by themselves. The pings run on the request's
// context values but not its cancellation, so a probe that hangs up does
// not turn into a logged failure.
func Readyz(svc *simpleuser.Service, opts ReadyOptions) http.Handler {
	if svc == nil {
		panic("handlers: Readyz needs a *simpleuser.Service")
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	log := logging.Logger(opts.Logger)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), timeout)
		defer cancel()
		statuses := svc.CheckBackends(ctx)
		data := readyData{Status: "ready", Backends: make(map[string]string, len(statuses))}
		var failing []string
		for _, st := range statuses {
			if st.Err == nil {
				if _, seen := data.Backends[st.Backend]; !seen {
					data.Backends[st.Backend] = "ok"
				}
				continue
			}
			data.Backends[st.Backend] = "unavailable"
			if !slices.Contains(failing, st.Backend) {
				failing = append(failing, st.Backend)
			}
			log.LogAttrs(r.Context(), slog.LevelError, "simpleuser: not ready",
				slog.Int("status", http.StatusServiceUnavailable), slog.String("code", simpleuser.CodeUnavailable),
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("backend", st.Backend), slog.String("cause", st.Err.Error()))
		}
		if len(failing) == 0 {
			_ = envelope.OK(w, data)
			return
		}
		data.Status, data.Code = "", simpleuser.CodeUnavailable
		_ = envelope.Write(w, http.StatusServiceUnavailable, strings.Join(failing, ", ")+" unavailable", data)
	})
}

// aliveData is the data of Healthz's answer.
type aliveData struct {
	Status string `json:"status"`
}

// readyData is the data of Readyz's answers.
type readyData struct {
	Code     string            `json:"code,omitempty"`
	Status   string            `json:"status,omitempty"`
	Backends map[string]string `json:"backends"`
}
