package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/tasks"
)

// newLogger returns the JSON logger every part of OTP logs through; lines
// logged with a context carry its request_id and task_id. Each line is
// written to w before its logging call returns, the lines of concurrent
// calls in one write (lineBatcher).
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	b := &lineBatcher{w: w}
	b.written = sync.NewCond(&b.mu)
	h := slog.NewJSONHandler(b, &slog.HandlerOptions{Level: level})
	return slog.New(tasks.LogHandler(batchedHandler{h, b}))
}

// lineBatcher joins log lines into few writes: slog's JSON handler writes
// each line under its lock, and a write(2) a line, with every other
// logging goroutine waiting on that lock, was most of a webhook's log cost
// under load. The handler's Write only appends to a buffer; after the
// handler returns, flush writes the buffer, or waits for the write that
// carries its line (a group commit). Alone, a line is written at once.
type lineBatcher struct {
	w       io.Writer
	mu      sync.Mutex
	written *sync.Cond // signalled after each write
	buf     []byte     // lines not yet taken by a write
	spare   []byte     // the buffer of the last write, for reuse
	next    uint64     // the number of the batch buf is
	done    uint64     // the batches written so far
	writing bool
	err     error // the last write's
}

// maxSpare bounds the buffer kept between writes.
const maxSpare = 256 << 10

// Write takes a line; only flush writes it.
func (b *lineBatcher) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	b.mu.Unlock()
	return len(p), nil
}

// flush returns once every line Written before it has been written.
func (b *lineBatcher) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	mine := b.next
	for b.done <= mine {
		if b.writing {
			b.written.Wait()
			continue
		}
		if len(b.buf) == 0 { // another flush took it and it is written
			break
		}
		out := b.buf
		b.buf, b.spare = b.spare[:0], nil
		b.next++
		b.writing = true
		b.mu.Unlock()
		_, err := b.w.Write(out)
		b.mu.Lock()
		b.writing, b.err = false, err
		b.done = b.next
		if cap(out) <= maxSpare {
			b.spare = out[:0]
		}
		b.written.Broadcast()
	}
	return b.err
}

// batchedHandler writes the record's line before Handle returns.
type batchedHandler struct {
	slog.Handler
	b *lineBatcher
}

func (h batchedHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	return errors.Join(err, h.b.flush())
}

func (h batchedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return batchedHandler{h.Handler.WithAttrs(as), h.b}
}

func (h batchedHandler) WithGroup(name string) slog.Handler {
	return batchedHandler{h.Handler.WithGroup(name), h.b}
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
