package tasks

import (
	"errors"
	"testing"

	"github.com/hibiken/asynq"
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
