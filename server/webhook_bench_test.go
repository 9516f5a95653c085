package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/tasks"
)

// Webhook intake benchmarks: what one signed Sales Order delivery costs OTP
// from the raw request to its 202 — signature check, decode, enqueue
// (asynq's enqueue script) and the version record (a second script) — on
// miniredis and, when REDIS_URL is set, on a real Redis (its database 10,
// flushed before each run). Every delivery names a different order, so
// nothing dedupes; each answer must be 202 and the queue must hold every
// task afterwards. README "Performance" quotes:
//
//	go test -run '^$' -bench SalesOrderWebhook -benchmem -count 5 ./server/
//	REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench SalesOrderWebhook -benchmem -count 5 ./server/
//
// "serial" is one delivery at a time (ns/op is the handler's latency);
// "parallel" runs 4 deliveries per core at once (ns/op is the inverse of
// throughput). Requests go straight to the handler, without TCP.

// benchWebhookBody is a Sales Order delivery shaped like the one OTP's
// migration template sends (migrations.WebhookTemplate), three lines.
const benchWebhookBody = `{"doctype": "Sales Order", "name": %q, "docstatus": 1, "status": "To Deliver and Bill",` +
	` "customer": "Caf\u00e9 Dupont", "company": "Demo Company", "transaction_date": "2026-11-25",` +
	` "delivery_date": "2026-12-02", "set_warehouse": "Stores - WH", "modified": "2026-11-25 10:00:00.123456",` +
	` "modified_by": "sales@example.com", "custom_otp_promise_date": null, "custom_otp_confidence": null,` +
	` "custom_otp_status": null, "custom_otp_first_promise_date": null, "custom_otp_promised_at": null,` +
	` "custom_otp_fingerprint": null, "items": [` +
	`{"name": "a1", "idx": 1, "item_code": "SKU-001", "qty": 5.0, "stock_qty": 5.0, "uom": "Nos", "stock_uom": "Nos", "conversion_factor": 1.0, "warehouse": "Stores - WH", "delivery_date": "2026-12-02", "delivered_qty": 0.0, "custom_otp_line_promise_date": null, "custom_otp_line_confidence": null}, ` +
	`{"name": "a2", "idx": 2, "item_code": "SKU-002", "qty": 10.0, "stock_qty": 10.0, "uom": "Nos", "stock_uom": "Nos", "conversion_factor": 1.0, "warehouse": "Stores - WH", "delivery_date": "2026-12-02", "delivered_qty": 0.0, "custom_otp_line_promise_date": null, "custom_otp_line_confidence": null}, ` +
	`{"name": "a3", "idx": 3, "item_code": "SKU-049", "qty": 2.0, "stock_qty": 24.0, "uom": "Box", "stock_uom": "Nos", "conversion_factor": 12.0, "warehouse": "Stores - WH", "delivery_date": "2026-12-02", "delivered_qty": 0.0, "custom_otp_line_promise_date": null, "custom_otp_line_confidence": null}]}`

// benchSecret signs the benchmarks' deliveries.
const benchSecret = "bench-secret"

// benchSign is the Frappe signature of body: base64(HMAC-SHA256).
func benchSign(body []byte) string {
	m := hmac.New(sha256.New, []byte(benchSecret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// benchERP answers readiness; webhooks never call ERPNext.
type benchERP struct{}

func (benchERP) LoggedUser(context.Context) (string, error) { return "otp@example.com", nil }

// benchRedis is one Redis a benchmark runs on.
type benchRedis struct {
	name string
	open func(b *testing.B) redis.UniversalClient // a client on an empty database
}

// benchRedises are miniredis, and the REDIS_URL server when it is set.
func benchRedises() []benchRedis {
	out := []benchRedis{{name: "miniredis", open: func(b *testing.B) redis.UniversalClient {
		mr := miniredis.RunT(b)
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		b.Cleanup(func() { rdb.Close() })
		return rdb
	}}}
	raw := os.Getenv("REDIS_URL")
	if raw == "" {
		return out
	}
	return append(out, benchRedis{name: "redis", open: func(b *testing.B) redis.UniversalClient {
		opt, err := redis.ParseURL(raw)
		if err != nil {
			b.Fatalf("REDIS_URL: %v", err)
		}
		opt.DB = 10 // a scratch database: flushed here
		rdb := redis.NewClient(opt)
		b.Cleanup(func() {
			rdb.FlushDB(context.Background())
			rdb.Close()
		})
		if err := rdb.FlushDB(context.Background()).Err(); err != nil {
			b.Fatalf("flush database 10 of REDIS_URL: %v", err)
		}
		return rdb
	}})
}

// benchRequests are n signed deliveries, each for a different order.
func benchRequests(n int) []*http.Request {
	reqs := make([]*http.Request, n)
	for i := range reqs {
		body := []byte(fmt.Sprintf(benchWebhookBody, fmt.Sprintf("SAL-ORD-BENCH-%08d", i)))
		req := httptest.NewRequest(http.MethodPost, "/webhooks/erpnext/sales-order?event=on_submit", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(SignatureHeader, benchSign(body))
		reqs[i] = req
	}
	return reqs
}

// MustBenchServer is a server on rdb, as `otp serve` wires it (logs discarded).
func MustBenchServer(b *testing.B, rdb redis.UniversalClient) (http.Handler, *asynq.Inspector) {
	b.Helper()
	client := asynq.NewClientFromRedisClient(rdb)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	srv, err := New(Deps{
		Queue: client, Versions: tasks.NewVersions(rdb), Redis: rdb, ERP: benchERP{},
		WebhookSecret: benchSecret, Version: "bench",
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	return srv.Handler(), insp
}

func BenchmarkSalesOrderWebhook(b *testing.B) {
	for _, backend := range benchRedises() {
		b.Run(backend.name, func(b *testing.B) {
			b.Run("serial", func(b *testing.B) {
				h, insp := MustBenchServer(b, backend.open(b))
				reqs := benchRequests(b.N)
				b.ReportAllocs()
				b.ResetTimer()
				for _, req := range reqs {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusAccepted {
						b.Fatalf("status %d, want 202: %s", rec.Code, rec.Body)
					}
				}
				b.StopTimer()
				mustQueued(b, insp, b.N)
			})
			b.Run("parallel", func(b *testing.B) {
				h, insp := MustBenchServer(b, backend.open(b))
				reqs := benchRequests(b.N)
				var next atomic.Int64
				b.ReportAllocs()
				b.SetParallelism(4)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req := reqs[next.Add(1)-1]
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusAccepted {
							b.Errorf("status %d, want 202: %s", rec.Code, rec.Body)
							return
						}
					}
				})
				b.StopTimer()
				mustQueued(b, insp, b.N)
			})
		})
	}
}

// mustQueued checks that the promise queue holds n tasks: every 202 was a
// durable enqueue.
func mustQueued(b *testing.B, insp *asynq.Inspector, n int) {
	b.Helper()
	info, err := insp.GetQueueInfo(tasks.QueuePromise)
	if err != nil {
		b.Fatal(err)
	}
	if info.Pending != n {
		b.Fatalf("pending promise tasks = %d, want %d", info.Pending, n)
	}
}
