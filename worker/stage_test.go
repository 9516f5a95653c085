package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

// A pass reads the book while the pass before writes (passOnce). These
// tests play that overlap step by step: pass 1 reads, the supply changes,
// pass 2 reads (the order as it was before pass 1 wrote it), pass 1 writes,
// then pass 2. Item W: 10 on hand and lead time 10 days; the order wants 20.
func TestPassReadBeforeThePassBeforeWrote(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	cases := []struct {
		name string
		// otherWorker: pass 2 runs in another worker process, which does
		// not know what pass 1 wrote but through Redis.
		otherWorker bool
		// userSave: a sales person saves the order after pass 1 wrote it.
		userSave bool
		// samePlan: nothing changes between the two reads, so pass 2 plans
		// what pass 1 wrote, from the order as it was before.
		samePlan bool
		// Pass 2's PUTs, refused ones included, and reads of the order:
		// the same worker knows what its last pass wrote and reads nothing.
		wantPuts, wantReads int
	}{
		{name: "same worker", wantPuts: 1, wantReads: 0},
		{name: "another worker", otherWorker: true, wantPuts: 1, wantReads: 1},
		{name: "saved by a user in between", userSave: true, wantPuts: 1, wantReads: 1},
		// Its comment too: pass 2 must not post it again on the old marker.
		{name: "another worker, the same plan", otherWorker: true, samePlan: true, wantPuts: 0, wantReads: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := MustSettledSite(t)
			ctx := context.Background()
			s.MustItem(t, "W", 10, 10)
			order := s.MustOrder(t, "2026-11-25", true, "W", 20)
			s.settle(t)
			first := s.promise(t, order)

			w1, w2 := s.w, s.w
			if tc.otherWorker {
				w2, _ = s.newWorker(t, s.client)
			}
			s.MustPO(t, "W", 10, "2026-12-01")
			var st passStats
			a1, err := w1.allocate(ctx, quiet, "", nil, &st)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.samePlan {
				if _, err := s.sb.Insert("Stock Entry", map[string]any{"stock_entry_type": "Material Receipt", "company": sandbox.DemoCompany,
					"items":     []any{map[string]any{"item_code": "W", "qty": 10.0, "t_warehouse": sandbox.DemoStores, "basic_rate": 10.0}},
					"docstatus": 1}); err != nil {
					t.Fatal(err)
				}
			}
			var saved []string
			if tc.samePlan {
				// Saved meanwhile: pass 2 reads the order with the book,
				// before pass 1 writes it.
				saved = []string{order}
			}
			a2, err := w2.allocate(ctx, quiet, "", saved, &st)
			if err != nil {
				t.Fatal(err)
			}
			p1, p2 := planOf(t, a1, order), planOf(t, a2, order)
			if (p1.PromiseDate == p2.PromiseDate) != tc.samePlan || p1.PromiseDate.String() == first.Date {
				t.Fatalf("promises %s (written), %s (pass 1), %s (pass 2): the case needs three different ones",
					first.Date, p1.PromiseDate, p2.PromiseDate)
			}

			writePass(t, w1, a1)
			if got := s.promise(t, order).Date; got != p1.PromiseDate.String() {
				t.Fatalf("after pass 1: promise %s, want %s", got, p1.PromiseDate)
			}
			if tc.userSave {
				if _, err := s.sb.Update("Sales Order", order, map[string]any{"po_no": "CUST-PO-9"}); err != nil {
					t.Fatal(err)
				}
			}
			before, reads := s.puts(), s.sb.Requests("GET /api/resource/Sales Order")
			writePass(t, w2, a2)
			if got := s.puts() - before; got != tc.wantPuts {
				t.Errorf("pass 2 PUTs = %d, want %d", got, tc.wantPuts)
			}
			if got := s.sb.Requests("GET /api/resource/Sales Order") - reads; got != tc.wantReads {
				t.Errorf("pass 2 reads of the order = %d, want %d", got, tc.wantReads)
			}
			want := p2.PromiseDate.String()
			if tc.userSave {
				// Never written over a sales person's save: that save's pass
				// writes the order.
				want = p1.PromiseDate.String()
			}
			if got := s.promise(t, order).Date; got != want {
				t.Errorf("after pass 2: promise %s, want %s", got, want)
			}
			if cs := heads(s.comments(t, order)); len(cs) >= 2 && cs[len(cs)-1] == cs[len(cs)-2] {
				t.Errorf("after pass 2: %q commented twice in a row: %q", cs[len(cs)-1], cs)
			}

			// Whatever is still to do, the passes the webhooks cause do it,
			// and the order ends with the book's promise.
			s.settle(t)
			if err := s.w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
				t.Fatal(err)
			}
			before = s.puts()
			s.settle(t)
			if got := s.promise(t, order).Date; got != p2.PromiseDate.String() {
				t.Errorf("settled: promise %s, want %s", got, p2.PromiseDate)
			}
			if got := s.puts() - before; got != 0 {
				t.Errorf("settled, yet a sweep wrote %d orders", got)
			}
		})
	}
}

func planOf(tb testing.TB, a *allocation, order string) promise.Plan {
	tb.Helper()
	for _, p := range append(a.first, a.waitRest()...) {
		if p.name == order {
			return p.plan
		}
	}
	tb.Fatalf("%s not in the pass's book", order)
	return promise.Plan{}
}

// writePass runs a's write stage on w.
func writePass(tb testing.TB, w *Worker, a *allocation) {
	tb.Helper()
	ctx := context.Background()
	l, err := w.writeStage(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.leaveWriteStage(l)
	var st passStats
	if err := w.writePass(ctx, slog.New(slog.DiscardHandler), l, a, &st); err != nil {
		tb.Fatal(err)
	}
}

// One pass writes at a time, whichever worker runs it: the next waits for
// the write stage until the one in it leaves.
func TestWriteStageIsOneAtATime(t *testing.T) {
	s := MustSite(t, pinned)
	other, _ := s.newWorker(t, s.client)
	ctx := context.Background()
	for _, second := range []*Worker{s.w, other} {
		l, err := s.w.writeStage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err = second.writeStage(short)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a second pass took the write stage while one held it: err %v", err)
		}
		s.w.leaveWriteStage(l)
		l2, err := second.writeStage(ctx)
		if err != nil {
			t.Fatalf("the write stage after the first left: %v", err)
		}
		second.leaveWriteStage(l2)
	}
}

// A pass that lets go of the book while changes noted during its read are
// uncovered queues the next pass at once, to read while it writes; with
// none, it queues nothing.
func TestPassHandsOnChangesNotedWhileItRead(t *testing.T) {
	s := MustSite(t, pinned)
	rec := &recordingEnqueuer{}
	s.w.d.Enqueuer = rec
	ctx := context.Background()
	if err := s.rdb.Set(ctx, GenKey, 5, 0).Err(); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	s.w.handOn(ctx, quiet, 5) // read at the newest generation
	s.w.handOn(ctx, quiet, 4) // a change came while it read
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if diff := cmp.Diff([]string{tasks.TypeSettleBook}, rec.types); diff != "" {
		t.Errorf("tasks queued (-want +got):\n%s", diff)
	}
}

// A pass with more orders to write than it writes at once writes the
// orders saved since the last pass in its first round, planned before the
// others: the one whose save the sales person waits on is not behind the
// orders it moved. Five
// orders share item W; a purchase order moves all their promises, and the
// last of them, by name (the order the book plans in), is saved.
func TestPassWritesSavedOrdersFirst(t *testing.T) {
	s := MustSettledSite(t)
	ctx := context.Background()
	s.MustItem(t, "W", 30, 0)
	var orders []string
	for range 5 {
		orders = append(orders, s.MustOrder(t, "2026-11-25", true, "W", 5))
	}
	s.settle(t)
	s.MustPO(t, "W", 100, "2026-12-01")
	saved := orders[len(orders)-1]
	s.w.d.WriteConcurrency = 1 // one at a time: the log's order is the PUTs'

	var st passStats
	a, err := s.w.allocate(ctx, slog.New(slog.DiscardHandler), "", []string{saved}, &st)
	if err != nil {
		t.Fatal(err)
	}
	// Its write does not wait for the plans of the orders it moved: those
	// are worked out while it is written.
	if len(a.first) != 1 || a.first[0].name != saved {
		var first []string
		for _, p := range a.first {
			first = append(first, p.name)
		}
		t.Fatalf("planned before the pass writes: %q, want only the saved %s", first, saved)
	}
	var logs lockedBuffer
	l, err := s.w.writeStage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = s.w.writePass(ctx, slog.New(slog.NewJSONHandler(&logs, nil)), l, a, &st)
	s.w.leaveWriteStage(l)
	if err != nil {
		t.Fatal(err)
	}
	var written []string
	for line := range strings.Lines(logs.String()) {
		var rec struct {
			Msg        string `json:"msg"`
			SalesOrder string `json:"sales_order"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "promised" {
			written = append(written, rec.SalesOrder)
		}
	}
	if len(written) != len(orders) {
		t.Fatalf("promises written on %q, want all of %q", written, orders)
	}
	if written[0] != saved {
		t.Errorf("written in the order %q, want the saved %s first", written, saved)
	}
}

// lockedBuffer is a bytes.Buffer the write goroutines may log to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
