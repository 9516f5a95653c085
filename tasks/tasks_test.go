package tasks

import (
	"errors"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

func TestPromiseOrderIDIsPerVersion(t *testing.T) {
	a := PromiseOrderID("SAL-ORD-2026-00001", "2026-11-25 10:00:00.000001")
	if a != PromiseOrderID("SAL-ORD-2026-00001", "2026-11-25 10:00:00.000001") {
		t.Fatal("same order and modified must give the same id")
	}
	if a == PromiseOrderID("SAL-ORD-2026-00001", "2026-11-25 10:00:00.000002") {
		t.Fatal("a newer save must give a new id")
	}
	if PromiseOrderID("a:1", "") == PromiseOrderID("a", ":1") {
		t.Fatal("ids must not collide when parts shift")
	}
}

func TestDecodeBadPayloadSkipsRetry(t *testing.T) {
	for _, body := range []string{"{", `{"sales_order":""}`, `[]`} {
		_, err := DecodePromiseOrder(asynq.NewTask(TypePromiseOrder, []byte(body)))
		if !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, ErrBadPayload) {
			t.Errorf("payload %q: err = %v, want SkipRetry and ErrBadPayload", body, err)
		}
	}
}

func TestPromiseOrderRoundTrip(t *testing.T) {
	in := PromiseOrder{SalesOrder: "SAL-ORD-2026-00001", Modified: "2026-11-25 10:00:00", Event: "on_submit"}
	task, err := NewPromiseOrderTask(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePromiseOrder(task)
	if err != nil || got != in {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, in)
	}
}

// SupplyChangedID is the id the task is queued under, one per saved version
// of the document and event; the items sent do not change it.
func TestSupplyChangedIDIsTheQueuedID(t *testing.T) {
	mr := miniredis.RunT(t)
	client := asynq.NewClientFromRedisClient(redis.NewClient(&redis.Options{Addr: mr.Addr()}))
	t.Cleanup(func() { client.Close() })
	base := SupplyChanged{DocType: "Purchase Order", Name: "PUR-ORD-2026-00001", Modified: "2026-11-25 10:00:00.000001",
		Event: "on_submit", Items: []string{"SKU-001"}}
	task, err := NewSupplyChangedTask(base)
	if err != nil {
		t.Fatal(err)
	}
	info, err := client.Enqueue(task)
	if err != nil {
		t.Fatal(err)
	}
	if want := SupplyChangedID(base); info.ID != want {
		t.Errorf("queued id = %q, want SupplyChangedID %q", info.ID, want)
	}
	again := base
	again.Items = []string{"SKU-001", "SKU-002"}
	if _, err := client.Enqueue(mustSupplyTask(t, again)); !errors.Is(err, asynq.ErrTaskIDConflict) {
		t.Errorf("same save with other items: err = %v, want ErrTaskIDConflict", err)
	}
	for name, edit := range map[string]func(*SupplyChanged){
		"doctype":  func(s *SupplyChanged) { s.DocType = "Purchase Receipt" },
		"name":     func(s *SupplyChanged) { s.Name = "PUR-ORD-2026-00002" },
		"modified": func(s *SupplyChanged) { s.Modified = "2026-11-25 10:00:00.000002" },
		"event":    func(s *SupplyChanged) { s.Event = "on_change" },
	} {
		other := base
		edit(&other)
		if SupplyChangedID(other) == SupplyChangedID(base) {
			t.Errorf("another %s gives the same id", name)
		}
	}
}

func mustSupplyTask(tb testing.TB, s SupplyChanged) *asynq.Task {
	tb.Helper()
	task, err := NewSupplyChangedTask(s)
	if err != nil {
		tb.Fatal(err)
	}
	return task
}
