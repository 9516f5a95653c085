package tasks

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"

	"github.com/hibiken/asynq"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Trace is what a task carries from the request that caused it, so that
// the worker's log lines and spans for a webhook join the server's: the
// request id (X-Request-ID) and the W3C trace context. Payload structs embed
// it; its fields are flat in the JSON.
type Trace struct {
	RequestID   string `json:"request_id,omitempty"`
	TraceParent string `json:"traceparent,omitempty"`
	TraceState  string `json:"tracestate,omitempty"`
}

// DecodeTrace reads the Trace of any OTP task's payload; a payload that is
// not a JSON object (the reconcile task has none) gives a zero Trace.
func DecodeTrace(payload []byte) Trace {
	var t struct{ Trace }
	if len(payload) > 0 {
		_ = jsonUnmarshal(payload, &t) // a bad payload fails in its handler
	}
	return t.Trace
}

// TraceFrom captures ctx's request id and span, for a task enqueued on
// behalf of that request.
func TraceFrom(ctx context.Context) Trace {
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return Trace{RequestID: RequestID(ctx), TraceParent: c["traceparent"], TraceState: c["tracestate"]}
}

// SpanContext returns the span the task was enqueued under; not valid when
// the task carries none.
func (t Trace) SpanContext() trace.SpanContext {
	c := propagation.MapCarrier{"traceparent": t.TraceParent, "tracestate": t.TraceState}
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), c))
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewRequestID returns a fresh random request id (32 hex digits). An id
// is no secret: math/rand/v2's generator (ChaCha8, seeded by the system)
// makes ids as unlikely to collide as crypto/rand's, without its system
// call on every request.
func NewRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

// LogHandler adds request_id and task_id, when ctx carries them, to every
// record logged with a context (slog's *Context methods): a webhook's lines
// and its task's lines share one request_id.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if id, ok := asynq.GetTaskID(ctx); ok {
		r.AddAttrs(slog.String("task_id", id))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(as)}
}
func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.Handler.WithGroup(name)} }
