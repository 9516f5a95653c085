package worker

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
)

// The write-back of a pass alone, against an ERPNext that answers every
// request after 30 ms and costs no CPU: how many promises a second the
// worker's own code writes at a given width (OTP_WORKER_CONCURRENCY), with
// the write rate out of the way (4 is the width every pass had before it
// followed OTP_WORKER_CONCURRENCY). The sandbox runs one request's work at a
// time, so the end-to-end run cannot show this ceiling (README,
// Performance):
//
//	go test -run '^$' -bench WriteBack -benchmem ./worker/
//
// Each order's promise changed and needs its comment: the fresh read and
// the last comment at once, the comment, the PUT (four requests, three in
// a row).

// slowERP answers the write-back's requests after latency.
type slowERP struct {
	ERP     // the reads of the book are not called
	latency time.Duration
}

func (s slowERP) wait(ctx context.Context) error {
	t := time.NewTimer(s.latency)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s slowERP) SalesOrder(ctx context.Context, name string) (*erp.SalesOrder, error) {
	return &erp.SalesOrder{Name: name, Modified: "m0", DocStatus: 1, Status: "To Deliver and Bill"}, s.wait(ctx)
}

func (s slowERP) LastComment(ctx context.Context, _, _, _ string) (*erp.Comment, error) {
	return nil, s.wait(ctx)
}

func (s slowERP) AddComment(ctx context.Context, _, _, _ string) error { return s.wait(ctx) }

func (s slowERP) UpdateSalesOrder(ctx context.Context, so *erp.SalesOrder, fields map[string]any, _ map[string]map[string]any) (*erp.SalesOrder, error) {
	out := *so
	out.Modified = "m1"
	out.Commented, _ = fields[erp.FieldCommented].(string)
	return &out, s.wait(ctx)
}

func BenchmarkWriteBack(b *testing.B) {
	const orders = 200
	d, _ := promise.ParseDate("2026-12-08")
	plan := promise.Plan{PromiseDate: d, Confidence: promise.ConfidenceHigh, Status: promise.StatusOK}
	for _, width := range []int{4, 10, 50, 100} {
		b.Run(fmt.Sprintf("orders=%d/concurrency=%d/erp-latency=30ms", orders, width), func(b *testing.B) {
			mr := miniredis.RunT(b)
			rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			b.Cleanup(func() { rdb.Close() })
			quiet := slog.New(slog.DiscardHandler)
			w := New(Deps{ERP: slowERP{latency: 30 * time.Millisecond}, Redis: rdb, Logger: quiet, APIUser: "otp@example.com",
				WriteRate: 100000, WriteConcurrency: width})
			jobs := make([]writeJob, orders)
			for i := range jobs {
				jobs[i] = writeJob{name: fmt.Sprintf("SO-%05d", i), written: planner.Written{Modified: "m0"}, plan: plan, fingerprint: "f"}
			}
			ctx := context.Background()
			var elapsed time.Duration
			for b.Loop() {
				l, err := w.tryLock(ctx, bookLockKey)
				if err != nil || l == nil {
					b.Fatalf("lock: %v", err)
				}
				var st passStats
				t0 := time.Now()
				ws := w.startWrites(ctx, quiet, l, &st)
				ws.add(jobs)
				err = ws.wait()
				elapsed += time.Since(t0)
				l.release()
				if err != nil || st.written != orders {
					b.Fatalf("wrote %d of %d: %v", st.written, orders, err)
				}
			}
			b.ReportMetric(float64(orders*b.N)/elapsed.Seconds(), "promises/s")
		})
	}
}
