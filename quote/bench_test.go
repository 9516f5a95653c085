package quote_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/quote"
	"github.com/erpnext-otp/otp/server"
)

// Quote API benchmarks: POST /otp/promise over HTTP (OTP's server on one
// listener, the ERPNext sandbox with its demo data on another, the real erp
// client between them), with docs/quote-api.md's example request: two lines, one
// from stock and one from a purchase order. The sandbox answers at once, or
// after 20 ms per request (SetLatency) to show what ERPNext round trips
// cost: the planner's reads run concurrently and the company's calendar and
// warehouses are cached, so a quote waits for about one round trip.
// README "Performance" quotes:
//
//	go test -run '^$' -bench QuotePromise -benchmem -count 5 ./quote/
//
// Reported: ns/op (serial: one quote's latency; parallel, 8 quotes per core
// at once: the inverse of throughput) and erp-requests/op, the sandbox's
// request count per quote in the steady state.

// benchQuoteBody is docs/quote-api.md's example quote.
const benchQuoteBody = `{"customer": "Café Dupont", "items": [{"item_code": "SKU-050", "qty": 5}, ` +
	`{"item_code": "SKU-001", "qty": "10"}], "desired_date": "2026-12-01"}`

// benchQuoteNow is that example's clock: Wednesday 2026-11-25 10:00 UTC.
var benchQuoteNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// MustBenchQuote starts the sandbox (with latency per request) and OTP's
// server over HTTP, and returns OTP's URL and the sandbox.
func MustBenchQuote(b *testing.B, latency time.Duration) (string, *sandbox.Sandbox) {
	b.Helper()
	now := func() time.Time { return benchQuoteNow }
	sb := sandbox.New(sandbox.WithDemoData(), sandbox.WithClock(now))
	b.Cleanup(func() { sb.Close() })
	sb.SetLatency(latency)
	api := httptest.NewServer(sb)
	b.Cleanup(api.Close)
	key, sec := sb.Credentials()
	client, err := erp.New(api.URL, key, sec)
	if err != nil {
		b.Fatal(err)
	}
	e := MustEnv(b, func(d *server.Deps) {
		d.Now = now
		d.Quote = quote.Deps{ERP: client, Planner: planner.Config{DefaultWarehouse: sandbox.DemoStores, Rules: promise.DefaultRules()}}
	})
	otp := httptest.NewServer(e.srv.Handler())
	b.Cleanup(otp.Close)
	return otp.URL, sb
}

// postQuote posts the example quote and returns the status and body.
func postQuote(c *http.Client, url string) (int, []byte, error) {
	resp, err := c.Post(url+"/otp/promise", "application/json", bytes.NewReader([]byte(benchQuoteBody)))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func BenchmarkQuotePromise(b *testing.B) {
	for _, latency := range []time.Duration{0, 20 * time.Millisecond} {
		b.Run("erp-latency="+latency.String(), func(b *testing.B) {
			for _, mode := range []string{"serial", "parallel"} {
				b.Run(mode, func(b *testing.B) {
					url, sb := MustBenchQuote(b, latency)
					tr := http.DefaultTransport.(*http.Transport).Clone()
					tr.MaxIdleConnsPerHost = 64
					c := &http.Client{Transport: tr}
					b.Cleanup(tr.CloseIdleConnections)

					// One quote first: it loads the company's calendar, and
					// its answer is docs/quote-api.md's.
					status, body, err := postQuote(c, url)
					if err != nil || status != http.StatusOK {
						b.Fatalf("POST /otp/promise: %d %s %v", status, body, err)
					}
					var got struct {
						PromiseDate string `json:"promise_date"`
						Confidence  string `json:"confidence"`
					}
					if err := json.Unmarshal(body, &got); err != nil || got.PromiseDate != "2026-11-27" || got.Confidence != "HIGH" {
						b.Fatalf("promise = %+v (%v), want 2026-11-27 HIGH as in docs/quote-api.md", got, err)
					}
					sb.ResetCounters()
					b.ReportAllocs()
					b.ResetTimer()
					if mode == "serial" {
						for range b.N {
							if status, body, err := postQuote(c, url); err != nil || status != http.StatusOK {
								b.Fatalf("POST /otp/promise: %d %s %v", status, body, err)
							}
						}
					} else {
						b.SetParallelism(8)
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								if status, body, err := postQuote(c, url); err != nil || status != http.StatusOK {
									b.Errorf("POST /otp/promise: %d %s %v", status, body, err)
									return
								}
							}
						})
					}
					b.StopTimer()
					b.ReportMetric(float64(sb.TotalRequests())/float64(b.N), "erp-requests/op")
				})
			}
		})
	}
}
