// Command e2e measures OTP end to end: a save in ERPNext → the promise
// fields written back, with `otp serve` and `otp work` as separate
// processes on a real Redis, and the ERPNext sandbox answering every
// request after a fixed latency (deploy/load/README.md, "e2e").
//
//	go run ./deploy/load/e2e -otp ./otp -redis redis://127.0.0.1:6398/0 -rates 20,50,100,150
//
// It serves the sandbox itself, fills it with an order book (1,250 open
// orders of 4 lines on 200 items by default) and promises the book once,
// then starts otp serve and otp work against it, saves drafts of the book
// at each fixed rate (a new delivery date each time, which moves that
// order's promise) and times every save until OTP's PUT of that order
// succeeds. It prints one line per run and stops the processes it started.
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
	"github.com/erpnext-otp/otp/worker"
)

type options struct {
	otp, redisURL, logDir                  string
	erpAddr, otpAddr, workerAddr           string
	latency, duration, drainFor            time.Duration
	rates                                  []float64
	runs, orders, lines, items, draftEvery int
	concurrency, webhookWorkers            int
	writeRate                              float64
	logLevel, cpuProfile                   string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
}

func run() error {
	var o options
	var rates string
	flag.StringVar(&o.otp, "otp", "./otp", "the otp binary")
	flag.StringVar(&o.redisURL, "redis", "redis://127.0.0.1:6398/0", "a Redis of the run's own: it is flushed")
	flag.StringVar(&o.logDir, "logs", os.TempDir(), "where otp's logs go")
	flag.StringVar(&o.erpAddr, "erp-addr", "127.0.0.1:18010", "the sandbox's address")
	flag.StringVar(&o.otpAddr, "otp-addr", "127.0.0.1:18011", "otp serve's address")
	flag.StringVar(&o.workerAddr, "worker-addr", "127.0.0.1:18012", "otp work's health address")
	flag.DurationVar(&o.latency, "latency", 30*time.Millisecond, "the sandbox's delay per request")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "saves per run")
	flag.DurationVar(&o.drainFor, "drain", 20*time.Second, "how long a run waits for the last saves' promises")
	flag.StringVar(&rates, "rates", "20,50,100,150", "saves per second, one run each (comma-separated)")
	flag.IntVar(&o.runs, "runs", 2, "runs per rate")
	flag.IntVar(&o.orders, "orders", 1250, "open orders in the book")
	flag.IntVar(&o.lines, "lines", 4, "lines per order")
	flag.IntVar(&o.items, "items", 200, "items the orders are on")
	flag.IntVar(&o.draftEvery, "draft-every", 3, "one order in this many is a draft; the saves go to the drafts")
	flag.IntVar(&o.concurrency, "concurrency", 10, "OTP_WORKER_CONCURRENCY")
	flag.IntVar(&o.webhookWorkers, "webhook-workers", 1, "the sandbox's background workers sending webhooks (a bench's default is 1)")
	flag.Float64Var(&o.writeRate, "write-rate", 400, "OTP_WRITE_RATE")
	flag.StringVar(&o.logLevel, "log-level", "INFO", "otp's LOG_LEVEL")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (the sandbox, mostly) over the measured runs to this file")
	flag.Parse()
	for _, s := range strings.Split(rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("-rates: %q is not a rate", s)
		}
		o.rates = append(o.rates, r)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return e2e(ctx, o)
}

func e2e(ctx context.Context, o options) error {
	watch := &writes{pending: map[string][]time.Time{}, hookPending: map[string][]pendingHook{}}
	sb := sandbox.New(sandbox.WithDemoData(), sandbox.WithWebhookClient(&http.Client{Transport: watch.hooks(http.DefaultTransport)}),
		sandbox.WithWebhookWorkers(o.webhookWorkers))
	defer sb.Close()
	ln, err := net.Listen("tcp", o.erpAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: watch.handler(sb), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends with Close below
	defer srv.Close()
	erpURL := "http://" + ln.Addr().String()

	t0 := time.Now()
	drafts, err := fill(ctx, sb, erpURL, o)
	if err != nil {
		return fmt.Errorf("fill the book: %w", err)
	}
	fmt.Printf("book: %d orders of %d lines on %d items (%d drafts saved in turn), promised in %s\n",
		o.orders, o.lines, o.items, len(drafts), time.Since(t0).Round(time.Millisecond))

	secret := fmt.Sprintf("%016x", rand.Uint64())
	key, sec := sb.Credentials()
	client, err := erp.New(erpURL, key, sec)
	if err != nil {
		return err
	}
	otpURL := "http://" + o.otpAddr
	if _, err := migrations.Up(ctx, client, migrations.Config{PublicURL: otpURL, WebhookSecret: secret, APIUser: sb.APIUser()}); err != nil {
		return fmt.Errorf("otp migrate up on the sandbox: %w", err)
	}
	ropt, err := redis.ParseURL(o.redisURL)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush %s: %w", o.redisURL, err)
	}
	sb.SetLatency(o.latency)

	env := append(os.Environ(),
		"OTP_ENV=development", "LOG_LEVEL="+o.logLevel,
		"REDIS_URL="+o.redisURL,
		"ERPNEXT_BASE_URL="+erpURL, "ERPNEXT_API_KEY="+key, "ERPNEXT_API_SECRET="+sec, "ERPNEXT_API_USER="+sb.APIUser(),
		"OTP_WEBHOOK_SECRET="+secret, "OTP_HTTP_ADDR="+o.otpAddr, "OTP_PUBLIC_URL="+otpURL,
		"OTP_WORKER_ADDR="+o.workerAddr,
		"OTP_WORKER_CONCURRENCY="+strconv.Itoa(o.concurrency),
		"OTP_WRITE_RATE="+strconv.FormatFloat(o.writeRate, 'f', -1, 64),
	)
	serve, err := start(ctx, o, env, "serve", otpURL+"/health")
	if err != nil {
		return err
	}
	defer serve.stop()
	work, err := start(ctx, o, env, "work", "http://"+o.workerAddr+"/health")
	if err != nil {
		return err
	}
	defer work.stop()

	fmt.Printf("erp latency %s, webhook workers %d, OTP_WORKER_CONCURRENCY=%d, OTP_WRITE_RATE=%g, LOG_LEVEL=%s, %s per run\n",
		o.latency, o.webhookWorkers, o.concurrency, o.writeRate, o.logLevel, o.duration)
	// Warm-up: a few seconds of saves, not recorded.
	s := &saver{sb: sb, drafts: drafts, days: workingDays(200), counts: map[string]int{}}
	if _, err := measure(ctx, s, watch, 20, 3*time.Second, o.drainFor); err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	for _, rate := range o.rates {
		for n := 1; n <= o.runs; n++ {
			load0 := loadavg()
			sb.ResetCounters()
			watch.takeBusy()
			before := len(sb.WebhookDeliveries())
			r, err := measure(ctx, s, watch, rate, o.duration, o.drainFor)
			if err != nil {
				return err
			}
			r.deliveries = sb.WebhookDeliveries()[before:]
			r.webhookWorkers = o.webhookWorkers
			r.requests = sb.TotalRequests()
			r.counts = sb.RequestCounts()
			r.busy = watch.takeBusy()
			r.latency = o.latency
			fmt.Println(r.line(rate, n, serve, work, load0))
			if bd, err := logBreakdown(o.logDir, r.saved, r.began, r.began.Add(r.elapsed)); err != nil {
				fmt.Printf("  no breakdown from otp's logs: %v\n", err)
			} else {
				fmt.Println("  " + bd.String())
			}
		}
	}
	return nil
}

// fill puts the book in sb and promises it once, in process and without
// latency: the runs start from a book whose promises are written.
func fill(ctx context.Context, sb *sandbox.Sandbox, erpURL string, o options) ([]string, error) {
	for _, st := range migrations.Steps() {
		if st.ID != "0001_order_promise_fields" {
			continue
		}
		for _, f := range st.Documents(migrations.Config{}) {
			if _, err := sb.Insert(f.DocType, f.Fields); err != nil {
				return nil, fmt.Errorf("%s %s: %w", f.DocType, f.Name, err)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 1))
	today := time.Now()
	code := func(i int) string { return fmt.Sprintf("BK-%03d", i) }
	var stock []any
	for i := range o.items {
		if _, err := sb.Insert("Item", map[string]any{"item_code": code(i), "item_name": code(i), "item_group": "Products",
			"stock_uom": sandbox.DemoUOM, "is_stock_item": 1, "lead_time_days": 10 * (i % 3), "valuation_rate": 1.0}); err != nil {
			return nil, err
		}
		stock = append(stock, map[string]any{"item_code": code(i), "qty": 50 + r.IntN(100), "t_warehouse": sandbox.DemoStores, "basic_rate": 1.0})
	}
	if _, err := sb.Insert("Stock Entry", map[string]any{"stock_entry_type": "Material Receipt", "company": sandbox.DemoCompany,
		"items": stock, "docstatus": 1}); err != nil {
		return nil, err
	}
	for i := range o.items / 2 {
		if _, err := sb.Insert("Purchase Order", map[string]any{"supplier": sandbox.DemoSupplier, "company": sandbox.DemoCompany,
			"transaction_date": sb.Today(), "set_warehouse": sandbox.DemoStores, "docstatus": 1,
			"items": []any{map[string]any{"item_code": code(2 * i), "qty": 20 + r.IntN(50), "rate": 1.0,
				"schedule_date": today.AddDate(0, 0, 3+r.IntN(40)).Format(time.DateOnly)}}}); err != nil {
			return nil, err
		}
	}
	var drafts []string
	for k := range o.orders {
		var items []any
		for range o.lines {
			items = append(items, map[string]any{"item_code": code(r.IntN(o.items)), "qty": 1 + r.IntN(5), "rate": 1.0,
				"delivery_date": today.AddDate(0, 0, 2+r.IntN(45)).Format(time.DateOnly)})
		}
		doc := map[string]any{"customer": sandbox.DemoCustomer2, "company": sandbox.DemoCompany, "transaction_date": sb.Today(),
			"set_warehouse": sandbox.DemoStores, "items": items}
		draft := k%o.draftEvery == 0
		if !draft {
			doc["docstatus"] = 1
		}
		saved, err := sb.Insert("Sales Order", doc)
		if err != nil {
			return nil, err
		}
		if draft {
			drafts = append(drafts, saved["name"].(string))
		}
	}

	key, secret := sb.Credentials()
	client, err := erp.New(erpURL, key, secret)
	if err != nil {
		return nil, err
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, err
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	quiet := slog.New(slog.DiscardHandler)
	pl := planner.New(client, planner.Config{DefaultWarehouse: sandbox.DemoStores, Rules: promise.DefaultRules()}, planner.WithLogger(quiet))
	w := worker.New(worker.Deps{ERP: client, Planner: pl, Versions: tasks.NewVersions(rdb), Redis: rdb, Logger: quiet,
		APIUser: sb.APIUser(), WriteRate: 10000, WriteConcurrency: 16})
	if err := w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
		return nil, err
	}
	// Saves go to drafts that have a promise: a new delivery date moves it.
	drafts = slices.DeleteFunc(drafts, func(name string) bool {
		doc, err := sb.Get("Sales Order", name)
		return err != nil || doc[erp.FieldPromiseStatus] != "OK"
	})
	if len(drafts) < 20 {
		return nil, fmt.Errorf("only %d promised drafts to save", len(drafts))
	}
	return drafts, nil
}

// saver saves the drafts in turn, each with a delivery date it has not had.
type saver struct {
	sb     *sandbox.Sandbox
	drafts []string
	days   []string // working days from two months out: each moves a promise
	next   int
	counts map[string]int
}

// workingDays are n days from two months out that the demo calendar
// works: a draft asking for one is promised that day, so every save moves
// its promise (a weekend date would be promised the Monday after).
func workingDays(n int) []string {
	var out []string
	for d := time.Now().AddDate(0, 0, 60); len(out) < n; d = d.AddDate(0, 0, 1) {
		md := d.Format("01-02")
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday ||
			slices.Contains([]string{"01-01", "05-01", "07-14", "08-15", "12-25", "12-26"}, md) {
			continue
		}
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// save moves the next draft's delivery date and returns its name and the
// `modified` the save gave it.
func (s *saver) save() (name, modified string, err error) {
	name = s.drafts[s.next%len(s.drafts)]
	s.next++
	n := s.counts[name]
	s.counts[name]++
	doc, err := s.sb.Get("Sales Order", name)
	if err != nil {
		return "", "", err
	}
	day := s.days[n%len(s.days)]
	rows, _ := doc["items"].([]any)
	for _, r := range rows {
		r.(map[string]any)["delivery_date"] = day
	}
	// As the demo sales person: OTP's webhooks skip only its own saves.
	saved, err := s.sb.SaveAs(sandbox.DemoSalesUser, "Sales Order", name, map[string]any{"items": rows, "delivery_date": day})
	if err != nil {
		return "", "", fmt.Errorf("save %s: %w", name, err)
	}
	modified, _ = saved["modified"].(string)
	return name, modified, nil
}

// writes times saves until OTP's next successful PUT of the order.
type writes struct {
	mu      sync.Mutex
	pending map[string][]time.Time // saves of an order not yet written, by when they committed
	done    []time.Duration
	busy    map[string]time.Duration // time in the sandbox, by route
	// hookPending and hookDone time the saves until their webhook is answered.
	hookPending map[string][]pendingHook
	hookDone    []time.Duration
	// answered holds each order's answered deliveries, for the saves whose
	// delivery is answered before the in-process save has returned.
	answered map[string][]answer
}

type answer struct {
	modified string
	at       time.Time
}

// pendingHook is a save whose webhook is not answered yet: when the save
// began and the `modified` it wrote. A delivery carrying that `modified`
// or a later one is the save's (or holds it).
type pendingHook struct {
	began    time.Time
	modified string
}

const soPath = "/api/resource/Sales Order/"

func (wr *writes) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		defer func() { wr.served(r, time.Since(began)) }()
		name, isPUT := strings.CutPrefix(r.URL.Path, soPath)
		if r.Method != http.MethodPut || !isPUT {
			next.ServeHTTP(w, r)
			return
		}
		rec := &status{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.code != http.StatusOK {
			return
		}
		now := time.Now()
		wr.mu.Lock()
		defer wr.mu.Unlock()
		// Only saves committed before this PUT began can be in it (a PUT
		// carries `modified`: one begun earlier fails with 417).
		kept := wr.pending[name][:0]
		for _, t := range wr.pending[name] {
			if t.Before(began) {
				wr.done = append(wr.done, now.Sub(t))
			} else {
				kept = append(kept, t)
			}
		}
		if len(kept) == 0 {
			delete(wr.pending, name)
		} else {
			wr.pending[name] = kept
		}
	})
}

// served adds a request's time in the sandbox (its latency included) to
// its route's.
func (wr *writes) served(r *http.Request, d time.Duration) {
	route := r.Method + " " + r.URL.Path
	if i := strings.Index(route, soPath); i >= 0 {
		route = route[:i+len(soPath)-1]
	}
	wr.mu.Lock()
	if wr.busy == nil {
		wr.busy = map[string]time.Duration{}
	}
	wr.busy[route] += d
	wr.mu.Unlock()
}

// saved records a save that began at began, returned at at and wrote
// modified.
func (wr *writes) saved(name, modified string, began, at time.Time) {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	wr.pending[name] = append(wr.pending[name], at)
	for _, a := range wr.answered[name] {
		if modified <= a.modified {
			wr.hookDone = append(wr.hookDone, a.at.Sub(began))
			return
		}
	}
	wr.hookPending[name] = append(wr.hookPending[name], pendingHook{began: began, modified: modified})
}

// hooks times the sandbox's webhook deliveries: from a save's start until
// OTP answered the first delivery of its order with the save's `modified`
// or a later one. (A delivery is often sent before the in-process save
// has returned: matching by send time would take the order's next save's
// delivery instead.) The sandbox sends them on -webhook-workers
// background workers, one at a time each.
func (wr *writes) hooks(next http.RoundTripper) http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		var doc struct {
			Name     string `json:"name"`
			Modified string `json:"modified"`
		}
		if r.Body != nil {
			body, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				return nil, err
			}
			_ = json.Unmarshal(body, &doc)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := next.RoundTrip(r)
		if err != nil || resp.StatusCode >= 300 || doc.Name == "" {
			return resp, err
		}
		now := time.Now()
		wr.mu.Lock()
		defer wr.mu.Unlock()
		if wr.answered == nil {
			wr.answered = map[string][]answer{}
		}
		wr.answered[doc.Name] = append(wr.answered[doc.Name], answer{modified: doc.Modified, at: now})
		kept := wr.hookPending[doc.Name][:0]
		for _, p := range wr.hookPending[doc.Name] {
			// `modified` is "YYYY-MM-DD HH:MM:SS.ffffff": text order is time order.
			if p.modified <= doc.Modified {
				wr.hookDone = append(wr.hookDone, now.Sub(p.began))
			} else {
				kept = append(kept, p)
			}
		}
		wr.hookPending[doc.Name] = kept
		return resp, nil
	})
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// take returns the latencies so far and how many saves are unwritten, and
// starts afresh.
func (wr *writes) take() ([]time.Duration, int) {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	out, left := wr.done, 0
	for _, ts := range wr.pending {
		left += len(ts)
	}
	wr.done, wr.pending = nil, map[string][]time.Time{}
	return out, left
}

// takeHooks returns the saves' times until their webhook was answered so far, and starts afresh.
func (wr *writes) takeHooks() []time.Duration {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	out := wr.hookDone
	wr.hookDone, wr.hookPending, wr.answered = nil, map[string][]pendingHook{}, nil
	return out
}

// takeBusy returns the time in the sandbox by route so far, and starts afresh.
func (wr *writes) takeBusy() map[string]time.Duration {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	b := wr.busy
	wr.busy = nil
	return b
}

type status struct {
	http.ResponseWriter
	code int
}

func (s *status) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

type result struct {
	saves, unwritten int
	lat              []time.Duration
	hooks            []time.Duration // save → its webhook answered by otp serve
	began            time.Time
	elapsed          time.Duration // first save → last write
	saved            []savedAt
	requests         int
	counts           map[string]int
	busy             map[string]time.Duration
	latency          time.Duration
	deliveries       []sandbox.Delivery // the run's webhook attempts
	webhookWorkers   int
}

// measure saves at rate for d (on an absolute schedule), then waits up to
// drain for the promises still unwritten.
func measure(ctx context.Context, s *saver, wr *writes, rate float64, d, drain time.Duration) (result, error) {
	var r result
	every := time.Duration(float64(time.Second) / rate)
	begin := time.Now()
	r.began = begin
	for next := begin; next.Before(begin.Add(d)); next = next.Add(every) {
		if w := time.Until(next); w > 0 {
			select {
			case <-ctx.Done():
				return r, ctx.Err()
			case <-time.After(w):
			}
		}
		began := time.Now()
		name, modified, err := s.save()
		if err != nil {
			return r, err
		}
		at := time.Now()
		wr.saved(name, modified, began, at)
		r.saved = append(r.saved, savedAt{name: name, modified: modified, at: at})
		r.saves++
	}
	for deadline := time.Now().Add(drain); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
		wr.mu.Lock()
		n := len(wr.pending)
		wr.mu.Unlock()
		if n == 0 {
			break
		}
	}
	r.elapsed = time.Since(begin)
	wr.mu.Lock()
	shown := 0
	for name := range wr.pending {
		if shown++; shown > 3 {
			break
		}
		doc, _ := s.sb.Get("Sales Order", name)
		fmt.Fprintf(os.Stderr, "unwritten %s: delivery %v promise %v status %v modified %v by %v\n", name, doc["delivery_date"], doc[erp.FieldPromiseDate], doc[erp.FieldPromiseStatus], doc["modified"], doc["modified_by"])
	}
	wr.mu.Unlock()
	r.lat, r.unwritten = wr.take()
	slices.Sort(r.lat)
	r.hooks = wr.takeHooks()
	slices.Sort(r.hooks)
	return r, nil
}

func (r result) line(rate float64, n int, serve, work *proc, load0 string) string {
	pctOf := func(ds []time.Duration, p float64) string {
		if len(ds) == 0 {
			return "-"
		}
		return strconv.FormatInt(ds[min(len(ds)-1, int(p*float64(len(ds))))].Milliseconds(), 10)
	}
	pct := func(p float64) string { return pctOf(r.lat, p) }
	written := len(r.lat)
	perPromise := "-"
	if written > 0 {
		perPromise = fmt.Sprintf("%.2f", float64(r.requests)/float64(written))
	}
	var last time.Duration
	if written > 0 {
		last = r.lat[len(r.lat)-1]
	}
	return fmt.Sprintf("e2e rate=%g run=%d saves=%d written=%d unwritten=%d p50=%sms p90=%sms p99=%sms max=%dms "+
		"throughput=%.1f/s erp_requests_per_promise=%s rss_serve=%s rss_work=%s load=%s->%s\n"+
		"  save → its webhook answered: p50=%sms p99=%sms (%d webhook workers); %s\n"+
		"  requests: %s\n  sandbox ms per request beyond its latency: %s",
		rate, n, r.saves, written, r.unwritten, pct(0.50), pct(0.90), pct(0.99), last.Milliseconds(),
		float64(written)/r.elapsed.Seconds(), perPromise, serve.rss(), work.rss(), load0, loadavg(),
		pctOf(r.hooks, 0.50), pctOf(r.hooks, 0.99), r.webhookWorkers, r.attempts(pctOf), routes(r.counts), r.compute())
}

// attempts sums up the run's webhook attempts: how many failed, how long
// a job waited for a worker and how long OTP took to answer.
func (r result) attempts(pctOf func([]time.Duration, float64) string) string {
	var wait, answer []time.Duration
	failed := 0
	for _, d := range r.deliveries {
		if d.Err != "" {
			failed++
		}
		if d.Attempt == 1 {
			wait = append(wait, d.Sent.Sub(d.Queued))
		}
		if d.Attempt > 0 {
			answer = append(answer, d.Answered.Sub(d.Sent))
		}
	}
	slices.Sort(wait)
	slices.Sort(answer)
	return fmt.Sprintf("%d attempts, %d failed; wait for a worker p50=%sms p99=%sms; otp serve answered in p50=%sms p99=%sms",
		len(r.deliveries), failed, pctOf(wait, 0.5), pctOf(wait, 0.99), pctOf(answer, 0.5), pctOf(answer, 0.99))
}

// compute is the sandbox's own time per request, by route: what its
// answers took beyond the latency it adds.
func (r result) compute() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.busy)) {
		if n := r.counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%.1f", k, (r.busy[k]-time.Duration(n)*r.latency).Seconds()*1000/float64(n)))
		}
	}
	return strings.Join(parts, ", ")
}

// routes lists the requests by route, most first.
func routes(counts map[string]int) string {
	keys := slices.Collect(maps.Keys(counts))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}

// proc is an otp process this command started.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func start(ctx context.Context, o options, env []string, role, health string) (*proc, error) {
	logf, err := os.Create(filepath.Join(o.logDir, "e2e-otp-"+role+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.otp, role)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, io.Discard, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start otp %s: %w", role, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("otp %s exited; see %s", role, logf.Name())
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, errors.New("otp " + role + " did not answer " + health)
		}
	}
}

// stop sends SIGTERM and waits for the process, killing it after 30 s.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// rss is the process's resident set now and at its peak, from /proc.
func (p *proc) rss() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return "?"
	}
	var now, peak string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			now = fmt.Sprintf("%.0fMiB", float64(kb)/1024)
		case "VmHWM:":
			peak = fmt.Sprintf("%.0fMiB", float64(kb)/1024)
		}
	}
	return now + "(peak" + peak + ")"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return "?"
	}
	return f[0]
}
