package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/tasks"
)

// MustSupplyTask builds a supply-changed task.
func MustSupplyTask(tb testing.TB, s tasks.SupplyChanged) *asynq.Task {
	tb.Helper()
	t, err := tasks.NewSupplyChangedTask(s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

type queued struct {
	ID, SalesOrder, Modified, Event string
	At                              time.Time
}

// MustQueued lists the promise queue's pending and scheduled tasks, by order.
func MustQueued(tb testing.TB, insp *asynq.Inspector) []queued {
	tb.Helper()
	var out []queued
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){insp.ListPendingTasks, insp.ListScheduledTasks} {
		infos, err := list(tasks.QueuePromise)
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			tb.Fatal(err)
		}
		for _, ti := range infos {
			var p tasks.PromiseOrder
			if err := json.Unmarshal(ti.Payload, &p); err != nil {
				tb.Fatal(err)
			}
			out = append(out, queued{ID: ti.ID, SalesOrder: p.SalesOrder, Modified: p.Modified, Event: p.Event, At: ti.NextProcessAt.UTC()})
		}
	}
	slices.SortFunc(out, func(a, b queued) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.SalesOrder, b.SalesOrder)
	})
	return out
}

func supplyLines() []erp.SalesOrderLine {
	return []erp.SalesOrderLine{
		{SalesOrder: "SO-A", ItemCode: "SKU-001", Qty: 1},
		{SalesOrder: "SO-A", ItemCode: "SKU-002", Qty: 1},
		{SalesOrder: "SO-B", ItemCode: "SKU-002", Qty: 1},
		{SalesOrder: "SO-C", ItemCode: "SKU-003", Qty: 1},
		{SalesOrder: "SO-D", ItemCode: "SKU-001", Qty: 1, DeliveredBySupplier: true},
	}
}

func TestSupplyChangedEnqueuesOnePromisePerOrder(t *testing.T) {
	// asynq schedules against the real clock, so this test's clock is real
	// time, stepped by hand.
	now := time.Now().UTC().Truncate(DefaultSupplyDebounce).Add(3 * time.Second)
	// A draft with SKU-002 (a quote, promised but reserving nothing), and a
	// closed and a cancelled order with it.
	draft := testOrder(0)
	draft.Name = "SO-E"
	closed := testOrder(1)
	closed.Name, closed.Status = "SO-F", "Closed"
	cancelled := testOrder(1)
	cancelled.Name, cancelled.Status, cancelled.DocStatus = "SO-G", "Cancelled", 2
	f := newFakeERP(draft, closed, cancelled)
	f.soLines = supplyLines()
	e := MustEnv(t, f, func(d *Deps) { d.Now = func() time.Time { return now } })
	ctx := context.Background()

	window := now.Truncate(DefaultSupplyDebounce)
	runAt := window.Add(DefaultSupplyDebounce)
	wantTask := func(order string, at time.Time) queued {
		return queued{
			ID:         tasks.PromiseOrderID(order, "supply@"+at.Add(-DefaultSupplyDebounce).Format(time.RFC3339Nano)),
			SalesOrder: order, Event: "supply", At: at,
		}
	}
	po := tasks.SupplyChanged{DocType: "Purchase Order", Name: "PUR-ORD-2026-00001", Modified: "2026-11-25 10:00:00", Items: []string{"SKU-001", "SKU-002"}}
	if err := e.w.HandleSupplyChanged(ctx, MustSupplyTask(t, po)); err != nil {
		t.Fatal(err)
	}
	// SO-A once although two of its lines match; SO-D's line is drop-ship;
	// SO-C has none of the items; the draft SO-E is re-promised too (DESIGN.md
	// §1.4), the closed SO-F and cancelled SO-G are not.
	want := []queued{wantTask("SO-A", runAt), wantTask("SO-B", runAt), wantTask("SO-E", runAt)}
	if diff := cmp.Diff(want, MustQueued(t, e.insp)); diff != "" {
		t.Errorf("after the first event (-want +got):\n%s", diff)
	}

	// A storm in the same window coalesces.
	now = now.Add(5 * time.Second)
	po.Modified = "2026-11-25 10:00:05"
	if err := e.w.HandleSupplyChanged(ctx, MustSupplyTask(t, po)); err != nil {
		t.Fatalf("coalesced event: %v, want nil", err)
	}
	if diff := cmp.Diff(want, MustQueued(t, e.insp)); diff != "" {
		t.Errorf("after a second event in the window (-want +got):\n%s", diff)
	}

	// The next window gets its own run.
	now = now.Add(DefaultSupplyDebounce)
	if err := e.w.HandleSupplyChanged(ctx, MustSupplyTask(t, po)); err != nil {
		t.Fatal(err)
	}
	next := runAt.Add(DefaultSupplyDebounce)
	want = append(want, wantTask("SO-A", next), wantTask("SO-B", next), wantTask("SO-E", next))
	if diff := cmp.Diff(want, MustQueued(t, e.insp)); diff != "" {
		t.Errorf("after an event in the next window (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"SalesOrdersWithItems": 3}, f.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestSupplyChangedReadsTheItemsWhenNotSent(t *testing.T) {
	now := time.Now().UTC()
	f := newFakeERP()
	f.soLines = supplyLines()
	f.docs = map[string]map[string]any{
		"Purchase Receipt/MAT-PRE-2026-00001": {"name": "MAT-PRE-2026-00001", "items": []any{
			map[string]any{"item_code": "SKU-003", "qty": 5.0},
			map[string]any{"item_code": "SKU-003", "qty": 1.0},
		}},
		"Stock Entry/MAT-STE-2026-00001": {"name": "MAT-STE-2026-00001"},
	}
	e := MustEnv(t, f, func(d *Deps) { d.Now = func() time.Time { return now } })
	ctx := context.Background()

	pr := tasks.SupplyChanged{DocType: "Purchase Receipt", Name: "MAT-PRE-2026-00001", Event: "on_submit"}
	if err := e.w.HandleSupplyChanged(ctx, MustSupplyTask(t, pr)); err != nil {
		t.Fatal(err)
	}
	var orders []string
	for _, q := range MustQueued(t, e.insp) {
		orders = append(orders, q.SalesOrder)
	}
	if diff := cmp.Diff([]string{"SO-C"}, orders); diff != "" {
		t.Errorf("orders re-promised (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"GetDoc": 1, "SalesOrdersWithItems": 1}, f.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}

	// A document with no items: nothing to look up.
	se := tasks.SupplyChanged{DocType: "Stock Entry", Name: "MAT-STE-2026-00001"}
	if err := e.w.HandleSupplyChanged(ctx, MustSupplyTask(t, se)); err != nil {
		t.Fatal(err)
	}
	if got := f.Calls()["SalesOrdersWithItems"]; got != 1 {
		t.Errorf("open-order reads = %d, want still 1", got)
	}

	// A document that is gone: archived with ERPNext's answer.
	gone := tasks.SupplyChanged{DocType: "Delivery Note", Name: "MAT-DN-2026-00009"}
	if err := e.w.HandleSupplyChanged(ctx, MustSupplyTask(t, gone)); !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, erp.ErrNotFound) {
		t.Errorf("err = %v, want a SkipRetry wrapping erp.ErrNotFound", err)
	}

	// ERPNext down: retried.
	f.failSOLines = func() error { return &erp.Error{Kind: erp.KindServer, Status: 502} }
	if err := e.w.HandleSupplyChanged(ctx, MustSupplyTask(t, pr)); err == nil || errors.Is(err, asynq.SkipRetry) {
		t.Errorf("err = %v, want a retried error", err)
	}
}

// failingEnqueuer fails every enqueue after the first n.
type failingEnqueuer struct {
	Enqueuer
	n int
}

func (f *failingEnqueuer) EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	if f.n == 0 {
		return nil, errors.New("redis: connection refused")
	}
	f.n--
	return f.Enqueuer.EnqueueContext(ctx, t, opts...)
}

func TestReconcile(t *testing.T) {
	all := []erp.SalesOrderSummary{
		{Name: "SO-1", Modified: "2026-11-25 08:00:00.000001"},
		{Name: "SO-2", Modified: "2026-11-25 09:00:00.000000"},
		{Name: "SO-3", Modified: "2026-11-25 09:30:00.500000"},
	}
	var froms []string
	var limits []int
	f := newFakeERP()
	f.modified = func(since, after string, limit int) ([]erp.SalesOrderSummary, error) {
		froms, limits = append(froms, since+"|"+after), append(limits, limit)
		return keysetPage(all, since, after, limit), nil
	}
	e := MustEnv(t, f, func(d *Deps) { d.ReconcileBatch = 2 })
	ctx := context.Background()

	// SO-2's webhook arrived: its task is queued already.
	if _, err := e.client.Enqueue(MustPromiseTask(t, "SO-2", "2026-11-25 09:00:00.000000")); err != nil {
		t.Fatal(err)
	}
	sweep := tasks.NewReconcileTask()
	for range 3 {
		if err := e.w.HandleReconcile(ctx, sweep); err != nil {
			t.Fatal(err)
		}
	}
	wantFroms := []string{
		"2026-11-24 10:00:00.000000|",     // no cursor yet: a day back from the pinned clock
		"2026-11-25 09:00:00.000000|SO-2", // batch of 2 done
		"2026-11-25 09:30:00.500000|SO-3", // all done
	}
	if diff := cmp.Diff(wantFroms, froms); diff != "" {
		t.Errorf("sweeps started from (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 2, 2}, limits); diff != "" {
		t.Errorf("batch limits (-want +got):\n%s", diff)
	}
	if got, _ := e.mr.Get(CursorKey); got != "2026-11-25 09:30:00.500000|SO-3" {
		t.Errorf("cursor = %q, want the last order's modified and name", got)
	}
	var got []queued
	for _, q := range MustQueued(t, e.insp) {
		q.At = time.Time{}
		got = append(got, q)
	}
	slices.SortFunc(got, func(a, b queued) int { return strings.Compare(a.SalesOrder, b.SalesOrder) })
	want := []queued{
		{ID: tasks.PromiseOrderID("SO-1", all[0].Modified), SalesOrder: "SO-1", Modified: all[0].Modified, Event: "reconcile"},
		{ID: tasks.PromiseOrderID("SO-2", all[1].Modified), SalesOrder: "SO-2", Modified: all[1].Modified, Event: "on_update"},
		{ID: tasks.PromiseOrderID("SO-3", all[2].Modified), SalesOrder: "SO-3", Modified: all[2].Modified, Event: "reconcile"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("promise tasks (-want +got):\n%s", diff)
	}
}

// A page that fills up inside a group of orders sharing one `modified` (one
// Delivery Note db_sets several orders in one transaction,
// erpnext-reference.md §1.2) resumes inside the group: no order is skipped,
// none is queued twice, and the sweep does not loop on the same page.
func TestReconcileFullPageOfEqualTimestamps(t *testing.T) {
	const at = "2026-11-25 09:00:00.123456"
	var all []erp.SalesOrderSummary
	for i := 1; i <= 5; i++ {
		all = append(all, erp.SalesOrderSummary{Name: fmt.Sprintf("SO-%d", i), Modified: at})
	}
	all = append(all, erp.SalesOrderSummary{Name: "SO-0", Modified: "2026-11-25 09:30:00.000000"})
	f := newFakeERP()
	f.modified = func(since, after string, limit int) ([]erp.SalesOrderSummary, error) {
		return keysetPage(all, since, after, limit), nil
	}
	e := MustEnv(t, f, func(d *Deps) { d.ReconcileBatch = 2 })
	for range 4 {
		if err := e.w.HandleReconcile(context.Background(), tasks.NewReconcileTask()); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, q := range MustQueued(t, e.insp) {
		got = append(got, q.SalesOrder)
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"SO-0", "SO-1", "SO-2", "SO-3", "SO-4", "SO-5"}, got); diff != "" {
		t.Errorf("orders queued by 4 sweeps of 2 (-want +got):\n%s", diff)
	}
	if c, _ := e.mr.Get(CursorKey); c != "2026-11-25 09:30:00.000000|SO-0" {
		t.Errorf("cursor = %q, want the last order's", c)
	}
}

// An order whose last save was OTP's own write-back is not queued again: no
// webhook can have been lost after our own write (erpnext-reference.md §1.3,
// modified_by). The cursor still moves past it.
func TestReconcileSkipsOurOwnWrites(t *testing.T) {
	all := []erp.SalesOrderSummary{
		{Name: "SO-1", Modified: "2026-11-25 08:00:00.000000", ModifiedBy: "sales@example.com"},
		{Name: "SO-2", Modified: "2026-11-25 08:30:00.000000", ModifiedBy: apiUser},
		{Name: "SO-3", Modified: "2026-11-25 09:00:00.000000", ModifiedBy: "Administrator"},
		{Name: "SO-4", Modified: "2026-11-25 09:30:00.000000", ModifiedBy: apiUser},
	}
	tests := []struct {
		name    string
		apiUser string
		want    []string
	}{
		{"own writes skipped", apiUser, []string{"SO-1", "SO-3"}},
		{"API user unknown: every order", "", []string{"SO-1", "SO-2", "SO-3", "SO-4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeERP()
			f.modified = func(since, after string, limit int) ([]erp.SalesOrderSummary, error) {
				return keysetPage(all, since, after, limit), nil
			}
			e := MustEnv(t, f, func(d *Deps) { d.APIUser = tt.apiUser })
			if err := e.w.HandleReconcile(context.Background(), tasks.NewReconcileTask()); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, q := range MustQueued(t, e.insp) {
				got = append(got, q.SalesOrder)
			}
			slices.Sort(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("queued (-want +got):\n%s", diff)
			}
			if c, _ := e.mr.Get(CursorKey); c != "2026-11-25 09:30:00.000000|SO-4" {
				t.Errorf("cursor = %q, want past SO-4, the last order listed", c)
			}
		})
	}
}

// A cursor written as a bare `modified` resumes at that instant's first order.
func TestReconcileReadsABareCursor(t *testing.T) {
	var from []string
	f := newFakeERP()
	f.modified = func(since, after string, limit int) ([]erp.SalesOrderSummary, error) {
		from = []string{since, after}
		return nil, nil
	}
	e := MustEnv(t, f)
	if err := e.mr.Set(CursorKey, "2026-11-25 09:00:00.000000"); err != nil {
		t.Fatal(err)
	}
	if err := e.w.HandleReconcile(context.Background(), tasks.NewReconcileTask()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"2026-11-25 09:00:00.000000", ""}, from); diff != "" {
		t.Errorf("listed from (-want +got):\n%s", diff)
	}
}

func TestReconcileKeepsItsPlaceWhenEnqueueFails(t *testing.T) {
	f := newFakeERP()
	f.modified = func(string, string, int) ([]erp.SalesOrderSummary, error) {
		return []erp.SalesOrderSummary{
			{Name: "SO-1", Modified: "2026-11-25 08:00:00.000000"},
			{Name: "SO-2", Modified: "2026-11-25 09:00:00.000000"},
		}, nil
	}
	e := MustEnv(t, f)
	e.w.d.Enqueuer = &failingEnqueuer{Enqueuer: e.client, n: 1}
	if err := e.w.HandleReconcile(context.Background(), tasks.NewReconcileTask()); err == nil {
		t.Fatal("err = nil, want the enqueue failure")
	}
	if got, _ := e.mr.Get(CursorKey); got != "2026-11-25 08:00:00.000000|SO-1" {
		t.Errorf("cursor = %q, want SO-1's (the last one enqueued)", got)
	}

	f.modified = func(string, string, int) ([]erp.SalesOrderSummary, error) {
		return nil, &erp.Error{Kind: erp.KindServer, Status: 500}
	}
	if err := e.w.HandleReconcile(context.Background(), tasks.NewReconcileTask()); err == nil || errors.Is(err, asynq.SkipRetry) {
		t.Errorf("err = %v, want a retried error", err)
	}
	if got, _ := e.mr.Get(CursorKey); got != "2026-11-25 08:00:00.000000|SO-1" {
		t.Errorf("cursor = %q, want it unchanged", got)
	}
}

// A save stamped within ReconcileSettle of now may belong to a transaction
// that has not committed yet, and one that commits later with an older
// `modified` would fall behind a cursor that passed it: the sweep stops
// before such saves and takes them once they have settled.
func TestReconcileWaitsForRecentSavesToSettle(t *testing.T) {
	all := []erp.SalesOrderSummary{
		{Name: "SO-1", Modified: "2026-11-25 09:57:00"},        // 3 min before the pinned 10:00: settled
		{Name: "SO-2", Modified: "2026-11-25 09:59:30.250000"}, // 30 s before: may still be committing
	}
	f := newFakeERP()
	f.modified = func(since, after string, limit int) ([]erp.SalesOrderSummary, error) {
		return keysetPage(all, since, after, limit), nil
	}
	now := pinned
	e := MustEnv(t, f, func(d *Deps) { d.Now = func() time.Time { return now } })
	ctx := context.Background()

	if err := e.w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.mr.Get(CursorKey); got != "2026-11-25 09:57:00|SO-1" {
		t.Errorf("cursor after the first sweep = %q, want it to stop at SO-1, the last settled save", got)
	}
	if got := queuedOrders(t, e); !slices.Equal(got, []string{"SO-1"}) {
		t.Errorf("queued after the first sweep = %v, want [SO-1]", got)
	}

	now = pinned.Add(2 * time.Minute) // SO-2 is now 2.5 min old
	if err := e.w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.mr.Get(CursorKey); got != "2026-11-25 09:59:30.250000|SO-2" {
		t.Errorf("cursor after the second sweep = %q, want SO-2", got)
	}
	if got := queuedOrders(t, e); !slices.Equal(got, []string{"SO-1", "SO-2"}) {
		t.Errorf("queued after the second sweep = %v, want [SO-1 SO-2]", got)
	}
}

func queuedOrders(tb testing.TB, e *env) []string {
	tb.Helper()
	var names []string
	for _, q := range MustQueued(tb, e.insp) {
		names = append(names, q.SalesOrder)
	}
	slices.Sort(names)
	return names
}
