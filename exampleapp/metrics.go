package main

import (
	"flag"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/simpleuser/simpleuser"
	"github.com/simpleuser/simpleuser/metrics/prommetrics"
)

// metricsSettings are the metrics flags.
type metricsSettings struct {
	enabled bool
}

func defineMetricsFlags(fs *flag.FlagSet, s *metricsSettings) {
	fs.BoolVar(&s.enabled, "metrics", envBool("SIMPLEUSER_METRICS", true),
		"serve Prometheus metrics at GET /metrics: the kit's (simpleuser_*), the Go runtime's and the process's (SIMPLEUSER_METRICS)")
}

// configureMetrics gives cfg a Prometheus observer on a registry of its
// own, which also holds the Go runtime and process collectors, and returns
// the handler of GET /metrics; nil when metrics are off. Put /metrics where
// only the scraper reaches it (docs/operations.md).
func configureMetrics(s metricsSettings, log *slog.Logger, cfg *simpleuser.Config) (http.Handler, error) {
	if !s.enabled {
		return nil, nil
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	obs, err := prommetrics.New(reg)
	if err != nil {
		return nil, err
	}
	cfg.Metrics = obs
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		Registry: reg, // promhttp_metric_handler_errors_total
	}), nil
}
