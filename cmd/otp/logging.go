package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/tasks"
)

// newLogger returns the JSON logger every part of OTP logs through; lines
// logged with a context carry its request_id and task_id.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(tasks.LogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// routeLibraryLogs sends the loggers libraries keep in package variables
// through l: go-redis's (redis.SetLogger) and the standard library's log
// package (slog.SetDefault; asynqmon and net/http use it). They are
// process-wide by the libraries' design, so only the serve/work/all entry
// point calls this, once, before anything connects.
func routeLibraryLogs(l *slog.Logger) {
	redis.SetLogger(redisLogger{l.With("source", "go-redis")})
	slog.SetDefault(l)
}

// redisLogger adapts slog to go-redis's Printf-style logger. go-redis logs
// connection-pool failures, which mean Redis is unreachable.
type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, fmt.Sprintf(format, v...))
}
