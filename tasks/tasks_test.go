package tasks

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Task ids are how a redelivered save is told from a new one, also across
// an upgrade: these were the ids of the first release, and every part,
// however long and whatever it holds, is joined as "len:part;" before the
// hash.
func TestDigestIsStable(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{PromiseOrderID("SAL-ORD-2026-00001", "2026-12-02 10:00:00.123456"), "promise:7270fc83fea5e033182d26959bf44dd3"},
		{PromiseOrderID("SO/ü;1:2", ""), "promise:bf5f15c1ed2ba4a39f2ba1cad73def74"},
		{SupplyChangedID(SupplyChanged{DocType: "Bin", Name: "x", Modified: "2026-12-02 10:00:00", Event: "on_update"}), "supply:4d55a9abf131dd78a1d294416862c1fc"},
	} {
		if tc.got != tc.want {
			t.Errorf("id %s, want %s", tc.got, tc.want)
		}
	}
	joined := func(parts ...string) string {
		h := sha256.New()
		for _, p := range parts {
			fmt.Fprintf(h, "%d:%s;", len(p), p)
		}
		return hex.EncodeToString(h.Sum(nil)[:16])
	}
	long := strings.Repeat("SAL-ORD-ü;:", 40) // past digest's stack buffer
	for _, parts := range [][]string{{}, {""}, {"", ""}, {long}, {long, long, "x"}, {"a:1", ""}, {"a", ":1"}} {
		if got, want := digest(parts...), joined(parts...); got != want {
			t.Errorf("digest(%q) = %s, want %s", parts, got, want)
		}
	}
}

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
