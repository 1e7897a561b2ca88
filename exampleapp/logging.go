package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/simpleuser/simpleuser/logging"
)

// logSettings are the logging flags.
type logSettings struct {
	level  string // debug, info, warn, error
	format string // json, text
}

func defineLogFlags(fs *flag.FlagSet, s *logSettings) {
	fs.StringVar(&s.level, "log-level", envOr("SIMPLEUSER_LOG_LEVEL", "info"), "lowest level logged: debug, info, warn or error (SIMPLEUSER_LOG_LEVEL)")
	fs.StringVar(&s.format, "log-format", envOr("SIMPLEUSER_LOG_FORMAT", "json"), "log line format: json or text (SIMPLEUSER_LOG_FORMAT)")
}

// newLogger returns the logger the flags describe, writing to out. Its
// handler adds the request id to every line logged with a request's
// context (logging.Handler), the app's own lines as the kit's.
func newLogger(s logSettings, out io.Writer) (*slog.Logger, error) {
	var level slog.Level
	switch strings.ToLower(s.level) {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", s.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(s.format) {
	case "json":
		h = slog.NewJSONHandler(out, opts)
	case "text":
		h = slog.NewTextHandler(out, opts)
	default:
		return nil, fmt.Errorf("-log-format %q: want json or text", s.format)
	}
	return slog.New(logging.Handler(h)), nil
}

// mustLogger is newLogger on stderr; a bad flag ends the process with
// status 2, as flag parsing errors do.
func mustLogger(s logSettings) *slog.Logger {
	log, err := newLogger(s, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "exampleapp:", err)
		os.Exit(2)
	}
	return log
}
