package planner_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
)

// countingReader counts the reads of the whole book and of its changes.
type countingReader struct {
	*erp.Client
	whole, changes atomic.Int32
}

func (r *countingReader) OpenOrderBook(ctx context.Context, pageSize int) ([]erp.SalesOrderLine, error) {
	r.whole.Add(1)
	return r.Client.OpenOrderBook(ctx, pageSize)
}

func (r *countingReader) OrderBookChanges(ctx context.Context, since string, names []string, limit int) ([]erp.SalesOrderLine, bool, error) {
	r.changes.Add(1)
	return r.Client.OrderBookChanges(ctx, since, names, limit)
}

// keptSite is the demo sandbox on a clock the test moves, and a planner
// that keeps its book across passes.
type keptSite struct {
	sb     *sandbox.Sandbox
	now    time.Time
	client *erp.Client
	reader *countingReader
	kept   *planner.Planner
	cfg    planner.Config
	// deleted are the drafts deleted, which no webhook tells of: the kept
	// book holds them until its next whole read. A draft books nothing,
	// so no other order's promise depends on them.
	deleted map[string]bool
}

func mustKeptSite(t *testing.T, cfg planner.Config) *keptSite {
	t.Helper()
	s := &keptSite{now: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), cfg: cfg, deleted: map[string]bool{}}
	s.sb = sandbox.New(sandbox.WithDemoData(), sandbox.WithClock(func() time.Time { return s.now }),
		sandbox.WithWebhookSleep(func(context.Context, time.Duration) error { return nil }))
	t.Cleanup(func() { _ = s.sb.Close() })
	srv := httptest.NewServer(s.sb)
	t.Cleanup(srv.Close)
	key, secret := s.sb.Credentials()
	client, err := erp.New(srv.URL, key, secret)
	if err != nil {
		t.Fatal(err)
	}
	s.client, s.reader = client, &countingReader{Client: client}
	s.kept = planner.New(s.reader, cfg, planner.WithClock(s.clock))
	return s
}

// clock is the sandbox's time; only the test goroutine moves it, between
// reads.
func (s *keptSite) clock() time.Time { return s.now }

func (s *keptSite) advance(d time.Duration) {
	s.now = s.now.Add(d)
	s.sb.SetNow(s.now)
}

// mustMatchWholeRead checks that the kept planner's books, told of saved,
// are what a planner reading the whole book now gets.
func (s *keptSite) mustMatchWholeRead(t *testing.T, ctx context.Context, saved []string, step string) {
	t.Helper()
	got, err := s.kept.Books(ctx, saved)
	if err != nil {
		t.Fatalf("%s: kept book: %v", step, err)
	}
	want, err := planner.New(s.client, s.cfg, planner.WithClock(s.clock)).Books(ctx, nil)
	if err != nil {
		t.Fatalf("%s: whole book: %v", step, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d companies' books kept, %d read whole", step, len(got), len(want))
	}
	for i := range got {
		var orders []promise.Order
		for _, o := range got[i].Inputs.Book {
			if !s.deleted[o.Name] {
				orders = append(orders, o)
			} else if o.Submitted {
				t.Fatalf("%s: deleted order %s kept as submitted", step, o.Name)
			}
		}
		for name := range s.deleted {
			delete(got[i].Written, name)
		}
		if d := cmp.Diff(want[i].Inputs.Book, orders); d != "" {
			t.Fatalf("%s: the kept book of %s differs from the whole book read now (-whole +kept):\n%s", step, got[i].Company, d)
		}
		if d := cmp.Diff(want[i].Written, got[i].Written); d != "" {
			t.Fatalf("%s: OTP's fields as kept differ from the whole book read now (-whole +kept):\n%s", step, d)
		}
	}
}

// TestKeptBookIsTheWholeBook: whatever happens to the orders between two
// passes — new drafts and orders, edits, submits, cancellations, closing,
// holding and reopening, deletions, OTP's own writes, with or without the
// webhook that names the order — the book a pass keeps and brings up to
// date with the orders changed since is the book a whole read gives, and it
// reads the whole book only once.
func TestKeptBookIsTheWholeBook(t *testing.T) {
	ctx := context.Background()
	cfg := planner.Config{Company: sandbox.DemoCompany, DefaultWarehouse: sandbox.DemoStores,
		Rules: promise.DefaultRules(), BookRefresh: time.Hour}
	for seed := range uint64(6) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			s := mustKeptSite(t, cfg)
			r := rand.New(rand.NewPCG(seed, 99))
			s.mustMatchWholeRead(t, ctx, nil, "first read")
			var drafts, submitted []string
			for _, row := range mustList(t, s.sb, "Sales Order") {
				name, _ := row["name"].(string)
				switch row["docstatus"] {
				case 0, 0.0, int64(0):
					drafts = append(drafts, name)
				default:
					submitted = append(submitted, name)
				}
			}
			pick := func(names []string) (string, bool) {
				if len(names) == 0 {
					return "", false
				}
				return names[r.IntN(len(names))], true
			}
			for round := range 25 {
				var saved []string
				for range 1 + r.IntN(5) {
					s.advance(time.Duration(r.IntN(3000)) * time.Millisecond)
					name, op, err := s.randomChange(r, pick, &drafts, &submitted)
					if err != nil {
						continue // refused by ERPNext's rules, as it would be for a user: nothing changed
					}
					// One webhook in five is lost; a deletion has none.
					if op != "delete" && r.IntN(5) > 0 {
						saved = append(saved, name)
					}
				}
				s.mustMatchWholeRead(t, ctx, saved, fmt.Sprintf("round %d", round))
			}
			if n := s.reader.whole.Load(); n != 1 {
				t.Errorf("the whole book read %d times, want once: later passes read only the changes", n)
			}
		})
	}
}

// randomChange makes one change to an order, as a user or OTP would.
func (s *keptSite) randomChange(r *rand.Rand, pick func([]string) (string, bool), drafts, submitted *[]string) (string, string, error) {
	day := func() string { return s.now.AddDate(0, 0, 2+r.IntN(40)).Format(time.DateOnly) }
	switch op := r.IntN(9); op {
	case 0, 1: // a new order
		var items []any
		for range 1 + r.IntN(3) {
			items = append(items, map[string]any{"item_code": fmt.Sprintf("SKU-%03d", 1+r.IntN(12)),
				"qty": float64(1 + r.IntN(9)), "rate": 1.0, "delivery_date": day()})
		}
		doc := map[string]any{"customer": sandbox.DemoCustomer, "company": sandbox.DemoCompany,
			"transaction_date": s.now.Format(time.DateOnly), "delivery_date": day(), "set_warehouse": sandbox.DemoStores,
			"items": items}
		if r.IntN(2) == 0 {
			doc["docstatus"] = 1
		}
		d, err := s.sb.Insert("Sales Order", doc)
		if err != nil {
			return "", "", err
		}
		name := d["name"].(string)
		if doc["docstatus"] == 1 {
			*submitted = append(*submitted, name)
		} else {
			*drafts = append(*drafts, name)
		}
		return name, "insert", nil
	case 2: // a draft's date moves
		name, ok := pick(*drafts)
		if !ok {
			return "", "", fmt.Errorf("no draft")
		}
		_, err := s.sb.Update("Sales Order", name, map[string]any{"delivery_date": day()})
		return name, "edit", err
	case 3: // OTP writes its fields
		name, ok := pick(append(slicesConcat(*drafts), *submitted...))
		if !ok {
			return "", "", fmt.Errorf("no order")
		}
		_, err := s.sb.Update("Sales Order", name, map[string]any{erp.FieldPromiseDate: day(), erp.FieldConfidence: "HIGH"})
		return name, "otp", err
	case 4: // a draft is submitted
		name, ok := pick(*drafts)
		if !ok {
			return "", "", fmt.Errorf("no draft")
		}
		if _, err := s.sb.Submit("Sales Order", name); err != nil {
			return "", "", err
		}
		*drafts = remove(*drafts, name)
		*submitted = append(*submitted, name)
		return name, "submit", nil
	case 5: // an order is cancelled
		name, ok := pick(*submitted)
		if !ok {
			return "", "", fmt.Errorf("no order")
		}
		if _, err := s.sb.Cancel("Sales Order", name); err != nil {
			return "", "", err
		}
		*submitted = remove(*submitted, name)
		return name, "cancel", nil
	case 6, 7: // closed, held or reopened
		name, ok := pick(*submitted)
		if !ok {
			return "", "", fmt.Errorf("no order")
		}
		status := []string{"Closed", "On Hold", "Draft"}[r.IntN(3)] // "Draft": ERPNext's reopen recomputes the status
		_, err := s.sb.SetStatus("Sales Order", name, status)
		return name, "status", err
	default: // a draft is deleted
		name, ok := pick(*drafts)
		if !ok {
			return "", "", fmt.Errorf("no draft")
		}
		if err := s.sb.Delete("Sales Order", name); err != nil {
			return "", "", err
		}
		*drafts = remove(*drafts, name)
		s.deleted[name] = true
		return name, "delete", nil
	}
}

func slicesConcat(s []string) []string { return append([]string(nil), s...) }

func remove(names []string, name string) []string {
	out := names[:0]
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}

func mustList(t *testing.T, sb *sandbox.Sandbox, doctype string) []map[string]any {
	t.Helper()
	rows, err := sb.List(doctype, []string{"name", "docstatus"}, nil, "name asc", 0)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestKeptBookReads: which reads a pass makes with a kept book — only the
// changes, the whole book when they do not fit one request or the kept
// book is older than BookRefresh — and that an order named as saved is
// read whatever its `modified` says (a save that committed long after it
// began).
func TestKeptBookReads(t *testing.T) {
	ctx := context.Background()
	base := planner.Config{Company: sandbox.DemoCompany, DefaultWarehouse: sandbox.DemoStores,
		Rules: promise.DefaultRules(), BookRefresh: time.Hour}
	draft := func(s *keptSite) string { return s.sb.Demo().DraftSO }
	tests := []struct {
		name string
		page int
		// change happens between the first pass and the second; it returns
		// the orders the second pass is told were saved.
		change      func(t *testing.T, s *keptSite) []string
		wantWholes  int32
		wantChanges int32
	}{
		{name: "a save: only the changes", change: func(t *testing.T, s *keptSite) []string {
			s.advance(time.Second)
			mustUpdate(t, s, draft(s), map[string]any{"delivery_date": "2026-12-18"})
			return []string{draft(s)}
		}, wantWholes: 1, wantChanges: 1},
		{name: "a save stamped long before the newest read, named by its webhook", change: func(t *testing.T, s *keptSite) []string {
			s.advance(time.Minute)
			mustUpdate(t, s, s.sb.Demo().DraftSO2, map[string]any{"delivery_date": "2026-12-21"})
			s.mustMatchWholeRead(t, context.Background(), []string{s.sb.Demo().DraftSO2}, "the pass of a save a minute later")
			at := s.now
			s.advance(-30 * time.Second) // its stamp is half a minute older than the newest read
			mustUpdate(t, s, draft(s), map[string]any{"delivery_date": "2026-12-18"})
			s.now = at
			s.sb.SetNow(at)
			return []string{draft(s)}
		}, wantWholes: 1, wantChanges: 2},
		{name: "more changes than a page: the whole book", page: 4, change: func(t *testing.T, s *keptSite) []string {
			s.advance(time.Second)
			var saved []string
			for _, name := range []string{s.sb.Demo().DraftSO, s.sb.Demo().DraftSO2, s.sb.Demo().ContendedSO1, s.sb.Demo().ContendedSO2, s.sb.Demo().MultiLineSO} {
				mustUpdate(t, s, name, map[string]any{erp.FieldConfidence: "LOW"})
				saved = append(saved, name)
			}
			return saved
		}, wantWholes: 2, wantChanges: 1},
		{name: "kept longer than BookRefresh: the whole book", change: func(t *testing.T, s *keptSite) []string {
			s.advance(time.Hour)
			return nil
		}, wantWholes: 2, wantChanges: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			cfg.BookPage = tt.page
			s := mustKeptSite(t, cfg)
			s.mustMatchWholeRead(t, ctx, nil, "first pass")
			saved := tt.change(t, s)
			s.mustMatchWholeRead(t, ctx, saved, "second pass")
			if got, want := s.reader.whole.Load(), tt.wantWholes; got != want {
				t.Errorf("whole book read %d times, want %d", got, want)
			}
			if got, want := s.reader.changes.Load(), tt.wantChanges; got != want {
				t.Errorf("changes read %d times, want %d", got, want)
			}
		})
	}
}

func mustUpdate(t *testing.T, s *keptSite, name string, fields map[string]any) {
	t.Helper()
	if _, err := s.sb.Update("Sales Order", name, fields); err != nil {
		t.Fatalf("update %s: %v", name, err)
	}
}
