package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/erpnext-otp/otp/tasks"
)

// taskMetrics are the worker's per-task metrics, per process.
type taskMetrics struct {
	duration    *prometheus.HistogramVec
	promises    *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
}

func newTaskMetrics() *taskMetrics {
	t := &taskMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "otp_task_duration_seconds",
			Help:    "Time a task's handler took, by queue, type and outcome (written, unchanged, skipped, done, failed).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"queue", "type", "outcome"}),
		promises: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otp_promise_outcomes_total",
			Help: "Promise tasks by outcome, and for computed promises by status (OK, PARTIAL, CANNOT_FULFILL...) and confidence.",
		}, []string{"outcome", "status", "confidence"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "otp_task_last_success_timestamp_seconds",
			Help: "Unix time a task of the type last succeeded in this process (orders:reconcile: the last reconcile pass).",
		}, []string{"type"}),
	}
	for _, typ := range []string{tasks.TypePromiseOrder, tasks.TypeSupplyChanged, tasks.TypeReconcile} {
		t.lastSuccess.WithLabelValues(typ)
	}
	return t
}

func (t *taskMetrics) Describe(ch chan<- *prometheus.Desc) {
	t.duration.Describe(ch)
	t.promises.Describe(ch)
	t.lastSuccess.Describe(ch)
}

func (t *taskMetrics) Collect(ch chan<- prometheus.Metric) {
	t.duration.Collect(ch)
	t.promises.Collect(ch)
	t.lastSuccess.Collect(ch)
}

// taskObserver wraps the worker's handlers: each task gets the request id
// and a span linked to the request that queued it, a Recorder for its
// Result, which is written through asynq's ResultWriter (the dashboard
// shows it), one "task finished" log line with the runbook's fields, and
// its metrics.
type taskObserver struct {
	log     *slog.Logger
	tracer  trace.Tracer
	metrics *taskMetrics
	now     func() time.Time // wall clock for the last-success gauge
}

func (o *taskObserver) middleware(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		from := tasks.DecodeTrace(t.Payload())
		id := from.RequestID
		if id == "" {
			id = tasks.NewRequestID() // a scheduled sweep: its own id for what it queues
		}
		ctx = tasks.WithRequestID(ctx, id)
		opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(attribute.String("task.type", t.Type()), attribute.String("request_id", id))}
		if sc := from.SpanContext(); sc.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
		}
		ctx, span := o.tracer.Start(ctx, "task "+t.Type(), opts...)
		defer span.End()
		ctx, rec := tasks.WithRecorder(ctx)

		err := next.ProcessTask(ctx, t)

		r := rec.Result()
		switch {
		case err != nil:
			r.Outcome, r.Error = tasks.OutcomeFailed, err.Error()
			span.SetStatus(codes.Error, err.Error())
		case r.Outcome == "":
			r.Outcome = tasks.OutcomeDone
		}
		elapsed := time.Since(start)
		r.DurationMS = float64(elapsed.Microseconds()) / 1000
		r.RequestID = id
		span.SetAttributes(attribute.String("task.outcome", r.Outcome))
		o.write(ctx, t, r)

		queue, _ := asynq.GetQueueName(ctx)
		o.metrics.duration.WithLabelValues(queue, t.Type(), r.Outcome).Observe(elapsed.Seconds())
		if t.Type() == tasks.TypePromiseOrder {
			o.metrics.promises.WithLabelValues(r.Outcome, r.Status, r.Confidence).Inc()
		}
		if err == nil {
			o.metrics.lastSuccess.WithLabelValues(t.Type()).Set(float64(o.now().Unix()))
		}
		attrs := []any{"type", t.Type(), "queue", queue, "outcome", r.Outcome, "duration_ms", r.DurationMS,
			"erpnext_requests", r.ERPNextRequests}
		for _, kv := range [][2]string{{"reason", r.Reason}, {"sales_order", r.SalesOrder}, {"customer", r.Customer},
			{"promise_date", r.PromiseDate}, {"confidence", r.Confidence}, {"status", r.Status}} {
			if kv[1] != "" {
				attrs = append(attrs, kv[0], kv[1])
			}
		}
		if r.OrdersWritten > 0 || t.Type() == tasks.TypePromiseOrder {
			attrs = append(attrs, "orders_written", r.OrdersWritten)
		}
		if r.OrdersQueued > 0 {
			attrs = append(attrs, "orders_queued", r.OrdersQueued)
		}
		o.log.InfoContext(ctx, "task finished", attrs...)
		return err
	})
}

// write stores r as the task's result; a task run outside a server (tests
// calling the handler) has no ResultWriter.
func (o *taskObserver) write(ctx context.Context, t *asynq.Task, r tasks.Result) {
	w := t.ResultWriter()
	if w == nil {
		return
	}
	b, err := json.Marshal(r)
	if err == nil {
		_, err = w.Write(b)
	}
	if err != nil {
		o.log.WarnContext(ctx, "task result not written", "err", err)
	}
}
