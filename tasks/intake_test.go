package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// EnqueuePromise writes what asynq's client writes for the same task —
// the same keys, the same task message byte for byte — so the worker's
// asynq server and the dashboard read it as theirs, and it records the
// version as Record does.
func TestEnqueuePromiseWritesWhatAsynqWrites(t *testing.T) {
	p := PromiseOrder{SalesOrder: "SAL-ORD-2026-00001", Modified: "2026-11-25 10:00:00.5", Event: "on_submit",
		Trace: Trace{RequestID: "r-1", TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}
	id := PromiseOrderID(p.SalesOrder, p.Modified)

	viaAsynq := miniredis.RunT(t)
	rdbA := redis.NewClient(&redis.Options{Addr: viaAsynq.Addr()})
	client := asynq.NewClientFromRedisClient(rdbA)
	task, err := NewPromiseOrderTask(p, asynq.TaskID(id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.EnqueueContext(t.Context(), task); err != nil {
		t.Fatal(err)
	}
	if _, err := NewVersions(rdbA).Record(t.Context(), p.SalesOrder, p.Modified); err != nil {
		t.Fatal(err)
	}

	ours := miniredis.RunT(t)
	rdbO := redis.NewClient(&redis.Options{Addr: ours.Addr()})
	if err := NewVersions(rdbO).EnqueuePromise(t.Context(), p, id); err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff(viaAsynq.Keys(), ours.Keys()); diff != "" {
		t.Errorf("keys (-asynq +ours):\n%s", diff)
	}
	taskKey := "asynq:{promise}:t:" + id
	for _, field := range []string{"msg", "state"} {
		if a, o := viaAsynq.HGet(taskKey, field), ours.HGet(taskKey, field); a != o {
			t.Errorf("%s: asynq wrote %q, ours %q", field, a, o)
		}
	}
	if ours.HGet(taskKey, "pending_since") == "" {
		t.Error("no pending_since")
	}
	for _, key := range []string{"asynq:{promise}:pending", "asynq:queues"} {
		a, _ := viaAsynq.List(key)
		o, _ := ours.List(key)
		if key == "asynq:queues" {
			a, _ = viaAsynq.Members(key)
			o, _ = ours.Members(key)
		}
		if diff := cmp.Diff(a, o); diff != "" {
			t.Errorf("%s (-asynq +ours):\n%s", key, diff)
		}
	}
	if a, o := viaAsynq.TTL(latestPrefix+p.SalesOrder), ours.TTL(latestPrefix+p.SalesOrder); a != o || o != VersionTTL {
		t.Errorf("version TTL: asynq path %v, ours %v, want %v", a, o, VersionTTL)
	}

	info, err := asynq.NewInspectorFromRedisClient(rdbO).GetTaskInfo(QueuePromise, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != TypePromiseOrder || info.MaxRetry != promiseMaxRetry || info.Timeout != promiseTimeout ||
		info.Retention != Retention || info.State != asynq.TaskStatePending {
		t.Errorf("task info: %+v", info)
	}
	got, err := DecodePromiseOrder(asynq.NewTask(info.Type, info.Payload))
	if err != nil || got != p {
		t.Errorf("payload %+v, %v; want %+v", got, err, p)
	}
}

// A second delivery of one save is a conflict and queues nothing; versions
// only move forward; without modified nothing is recorded.
func TestEnqueuePromiseDuplicatesAndVersions(t *testing.T) {
	mr := miniredis.RunT(t)
	v := NewVersions(redis.NewClient(&redis.Options{Addr: mr.Addr()}))
	ctx := t.Context()
	const so = "SAL-ORD-2026-00002"
	enqueue := func(modified string) error {
		return v.EnqueuePromise(ctx, PromiseOrder{SalesOrder: so, Modified: modified}, PromiseOrderID(so, modified))
	}
	for _, step := range []struct {
		modified string
		conflict bool
		newest   string
	}{
		{"2026-11-25 10:00:02", false, "2026-11-25 10:00:02"},
		{"2026-11-25 10:00:02", true, "2026-11-25 10:00:02"},
		{"2026-11-25 10:00:01", false, "2026-11-25 10:00:02"}, // older, out of order
		{"2026-11-25 10:00:03", false, "2026-11-25 10:00:03"},
	} {
		err := enqueue(step.modified)
		if got := errors.Is(err, asynq.ErrTaskIDConflict); got != step.conflict || (err != nil && !got) {
			t.Fatalf("%s: err %v, want conflict %v", step.modified, err, step.conflict)
		}
		if got, _ := mr.Get(latestPrefix + so); got != step.newest {
			t.Errorf("after %s: newest %q, want %q", step.modified, got, step.newest)
		}
	}
	if n, _ := mr.List("asynq:{promise}:pending"); len(n) != 3 {
		t.Errorf("pending %v, want 3 tasks", n)
	}

	if err := v.EnqueuePromise(ctx, PromiseOrder{SalesOrder: "SAL-ORD-2026-00003"}, "promise:received-1"); err != nil {
		t.Fatal(err)
	}
	if mr.Exists(latestPrefix + "SAL-ORD-2026-00003") {
		t.Error("a delivery without modified recorded a version")
	}
	if err := v.EnqueuePromise(ctx, PromiseOrder{}, "promise:x"); !errors.Is(err, ErrBadPayload) {
		t.Errorf("no sales order: %v, want ErrBadPayload", err)
	}
}

// Concurrent deliveries share pipelines and each gets its own reply: of
// two deliveries of one save, in one pipeline or not, one is queued and one
// is a conflict; after Redis lost its scripts they are sent again.
func TestEnqueuePromiseConcurrent(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	v := NewVersions(rdb)
	for round := range 3 {
		if round == 2 {
			if err := rdb.ScriptFlush(t.Context()).Err(); err != nil {
				t.Fatal(err)
			}
		}
		const orders = 60
		var wg sync.WaitGroup
		var queued, conflicts atomic.Int64
		for i := range 2 * orders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				so := fmt.Sprintf("SAL-ORD-%d-%03d", round, i%orders)
				err := v.EnqueuePromise(t.Context(), PromiseOrder{SalesOrder: so, Modified: "2026-11-25 10:00:00"}, PromiseOrderID(so, "2026-11-25 10:00:00"))
				switch {
				case err == nil:
					queued.Add(1)
				case errors.Is(err, asynq.ErrTaskIDConflict):
					conflicts.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if queued.Load() != orders || conflicts.Load() != orders {
			t.Errorf("round %d: %d queued, %d conflicts; want %d of each", round, queued.Load(), conflicts.Load(), orders)
		}
		if n, _ := mr.List("asynq:{promise}:pending"); len(n) != orders*(round+1) {
			t.Errorf("round %d: %d pending, want %d", round, len(n), orders*(round+1))
		}
	}
}

// inFlight counts the pipelines and lone calls of scripts in flight,
// holding each a moment so that concurrent deliveries meet. (A new
// connection's handshake is a pipeline too: not counted.)
type inFlight struct {
	now, most, sends atomic.Int64
}

func (f *inFlight) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f *inFlight) hold(first redis.Cmder, next func() error) error {
	if first.Name() != "evalsha" && first.Name() != "eval" {
		return next()
	}
	f.sends.Add(1)
	n := f.now.Add(1)
	defer f.now.Add(-1)
	for m := f.most.Load(); n > m && !f.most.CompareAndSwap(m, n); m = f.most.Load() {
	}
	time.Sleep(2 * time.Millisecond)
	return next()
}

func (f *inFlight) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		return f.hold(cmd, func() error { return next(ctx, cmd) })
	}
}

func (f *inFlight) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		return f.hold(cmds[0], func() error { return next(ctx, cmds) })
	}
}

// Under load, deliveries go in several pipelines at once, never more than
// maxInFlight, and still join into batches: each call is queued once.
func TestEnqueuePromisePipelinesInFlight(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), PoolSize: 2 * maxInFlight})
	var f inFlight
	rdb.AddHook(&f)
	v := NewVersions(rdb)
	const deliveries = 400
	var wg sync.WaitGroup
	for i := range deliveries {
		wg.Go(func() {
			so := fmt.Sprintf("SAL-ORD-%04d", i)
			if err := v.EnqueuePromise(t.Context(), PromiseOrder{SalesOrder: so}, PromiseOrderID(so, "v")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, _ := mr.List("asynq:{promise}:pending"); len(n) != deliveries {
		t.Errorf("%d pending, want %d", len(n), deliveries)
	}
	if most := f.most.Load(); most < 2 || most > maxInFlight {
		t.Errorf("at most %d pipelines in flight at once, want 2 to %d", most, maxInFlight)
	}
	if sends := f.sends.Load(); sends >= deliveries/4 {
		t.Errorf("%d pipelines for %d deliveries: they did not join", sends, deliveries)
	}
}

// A pipeline sent to a Redis without the script runs every call once.
func TestSendWithoutTheScript(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	var batch []*call
	for i := range 3 {
		id := fmt.Sprintf("promise:%d", i%2) // the third is the first again
		batch = append(batch, &call{
			keys: []string{"asynq:{promise}:t:" + id, "asynq:{promise}:pending", "asynq:queues", latestPrefix + "SO"},
			args: []any{"msg", id, 1, QueuePromise, "", VersionTTL.Milliseconds()},
		})
	}
	send(t.Context(), rdb, batch)
	for i, want := range []int64{1, 1, 0} {
		if batch[i].err != nil || batch[i].n != want {
			t.Errorf("call %d: %d, %v; want %d", i, batch[i].n, batch[i].err, want)
		}
	}
	if n, _ := mr.List("asynq:{promise}:pending"); len(n) != 2 {
		t.Errorf("pending %v, want 2", n)
	}
}

// The payload EnqueuePromise writes is the one json.Marshal writes for
// NewPromiseOrderTask, whatever the strings hold.
func TestAppendPromisePayload(t *testing.T) {
	for _, s := range []string{
		"", "SAL-ORD-2026-00001", "2026-11-25 10:00:00.123456", `quote " backslash \ slash /`,
		"<b>&amp;</b>", "tab\tnewline\nreturn\rbell\aback\bfeed\fnul\x00esc\x1b\x7f",
		"Café Dupont — ünïcødé 日本", "line\u2028para\u2029end", "bad \xff\xfe utf-8 \xc3", "\xe2\x80", "emoji 🙂",
	} {
		for _, p := range []PromiseOrder{
			{SalesOrder: s},
			{SalesOrder: "SO-1", Modified: s, Event: s},
			{SalesOrder: s, Modified: "m", Event: "on_submit", Trace: Trace{RequestID: s, TraceParent: s, TraceState: s}},
			{SalesOrder: "SO-2", Trace: Trace{TraceState: s}},
		} {
			want, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendPromisePayload(nil, p); string(got) != string(want) {
				t.Errorf("%+v:\n got %s\nwant %s", p, got, want)
			}
		}
	}
}

// go test -fuzz FuzzAppendJSONString ./tasks/ looks for a string the two
// encode differently.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "SO-1", "<&>\"\\\x00\x1f\u2028\xff", "日本\xe2\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}
