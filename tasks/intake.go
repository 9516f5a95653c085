package tasks

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protowire"
)

// enqueueAndRecord is a Sales Order delivery's whole intake in one script,
// so one Redis round trip: asynq's enqueue (its enqueueCmd, and the SADD
// its client sends before its first one of a queue; an empty queue name
// skips it, as the client does once it has sent it), then recordIfNewer. A script runs
// alone, and nothing in it can fail after the task is written, so either
// both happen or neither: a version is never recorded for a task that was
// not queued. The version is recorded on a duplicate delivery too, as the
// two-step path did: the queued task carries that version.
//
// KEYS: task hash, pending list, asynq:queues, the order's version key.
// ARGV: encoded task message, task id, now (Unix ns), queue name ("" once
// it is in asynq:queues), modified ("" records nothing), the version's TTL
// (ms).
var enqueueAndRecord = redis.NewScript(`
local queued = 0
if redis.call("EXISTS", KEYS[1]) == 0 then
  redis.call("HSET", KEYS[1], "msg", ARGV[1], "state", "pending", "pending_since", ARGV[3])
  redis.call("LPUSH", KEYS[2], ARGV[2])
  queued = 1
end
if ARGV[4] ~= "" then
  redis.call("SADD", KEYS[3], ARGV[4])
end
if ARGV[5] ~= "" then
  local cur = redis.call("GET", KEYS[4])
  if (not cur) or ARGV[5] > cur then
    redis.call("SET", KEYS[4], ARGV[5], "PX", ARGV[6])
  end
end
return queued`)

// EnqueuePromise queues p's promise task under id, the task asynq's
// Client.Enqueue would queue for NewPromiseOrderTask(p, asynq.TaskID(id)),
// and records p.Modified as the order's newest version when it is newer,
// in one round trip. A task of that id already queued or retained (Frappe
// delivered the same save again) gives asynq.ErrTaskIDConflict.
func (v *Versions) EnqueuePromise(ctx context.Context, p PromiseOrder, id string) error {
	if p.SalesOrder == "" {
		return fmt.Errorf("%w: sales_order is required", ErrBadPayload)
	}
	// The payload, on the stack, goes once into the task message.
	var scratch [512]byte
	msg := promiseMessage(id, appendPromisePayload(scratch[:0], p))
	queue := "asynq:{" + QueuePromise + "}:"
	c := v.calls.Get().(*call)
	c.keys = append(c.keys[:0], queue+"t:"+id, queue+"pending", "asynq:queues", latestPrefix+p.SalesOrder)
	publish := QueuePromise
	if v.published.Load() {
		publish = ""
	}
	c.args = append(c.args[:0], msg, id, time.Now().UnixNano(), publish, p.Modified, VersionTTL.Milliseconds())
	v.intake.do(ctx, v.rdb, c)
	n, err := c.n, c.err
	c.reset()
	v.calls.Put(c)
	if err == nil {
		v.published.Store(true)
	}
	if err != nil {
		return fmt.Errorf("tasks: enqueue %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("tasks: enqueue %s: %w", id, asynq.ErrTaskIDConflict)
	}
	return nil
}

// maxBatch bounds the scripts one pipeline carries.
const maxBatch = 128

// maxInFlight is how many pipelines may be in flight at once, each on a
// connection of its own: while Redis runs one batch, the next is encoded
// and sent, and the replies of the one before are read. With one, Redis
// and the callers took turns and a quarter of the CPU stood idle at
// saturation (docs/performance-history.md).
const maxInFlight = 4

// batcher joins the enqueueAndRecord calls of concurrent deliveries into
// pipelines: one write to Redis, one read of its replies, however many
// deliveries wait (a group commit). There is no goroutine of its own: a
// caller that finds fewer than maxInFlight pipelines in flight sends its
// call at once; the others wait, and a caller whose pipeline has come back
// hands every call waiting (up to maxBatch) to the oldest of them to send,
// then tells its own batch their replies are in. Each call still gets its
// own reply: a 202 means its script ran.
type batcher struct {
	mu      sync.Mutex
	pending []*call // waiting for a pipeline; only while sending == maxInFlight
	sending int     // pipelines in flight, or handed to a caller to send
}

// call is one script call and, once its wake says false, its reply.
// EnqueuePromise keeps them in a pool: when do returns nothing sends on
// wake any more, so a call, its channel and its slices can serve the next
// delivery.
type call struct {
	keys  []string
	args  []any
	n     int64
	err   error
	batch []*call   // the calls this one sends, itself first
	wake  chan bool // true: send batch; false: the reply is in
}

func newCall() any { return &call{wake: make(chan bool, 1)} }

// reset clears what c held for the pool, keeping its slices and channel.
func (c *call) reset() {
	clear(c.keys)
	clear(c.args)
	clear(c.batch)
	c.keys, c.args, c.batch, c.n, c.err = c.keys[:0], c.args[:0], c.batch[:0], 0, nil
}

// do runs c's script in a pipeline and returns with its reply.
func (b *batcher) do(ctx context.Context, rdb redis.UniversalClient, c *call) {
	if c.wake == nil {
		c.wake = make(chan bool, 1)
	}
	b.mu.Lock()
	if b.sending == maxInFlight {
		b.pending = append(b.pending, c)
		b.mu.Unlock()
		if !<-c.wake {
			return
		}
	} else {
		b.sending++
		b.mu.Unlock()
		c.batch = append(c.batch[:0], c)
	}

	// The batch is not only this request's: its cancellation must not
	// fail the others (go-redis's read and write timeouts still bound it).
	send(context.WithoutCancel(ctx), rdb, c.batch)
	b.mu.Lock()
	var next *call
	if n := min(len(b.pending), maxBatch); n > 0 {
		next = b.pending[0]
		next.batch = append(next.batch[:0], b.pending[:n]...)
		left := copy(b.pending, b.pending[n:])
		clear(b.pending[left:])
		b.pending = b.pending[:left]
	} else {
		b.sending--
	}
	b.mu.Unlock()
	if next != nil {
		next.wake <- true // the next pipeline goes out before this one's callers wake
	}
	for _, o := range c.batch[1:] {
		o.wake <- false
	}
}

// send runs the batch's scripts in one pipeline and sets each reply. A
// script Redis does not have (restarted, SCRIPT FLUSH) did not run: those
// calls go again with the script's text.
func send(ctx context.Context, rdb redis.UniversalClient, batch []*call) {
	if len(batch) == 1 {
		c := batch[0]
		c.n, c.err = enqueueAndRecord.Run(ctx, rdb, c.keys, c.args...).Int64()
		return
	}
	cmds := make([]*redis.Cmd, len(batch))
	pipe := rdb.Pipeline()
	for i, c := range batch {
		cmds[i] = enqueueAndRecord.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	var again []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		pipe = rdb.Pipeline()
		for _, i := range again {
			cmds[i] = enqueueAndRecord.Eval(ctx, pipe, batch[i].keys, batch[i].args...)
		}
		_, _ = pipe.Exec(ctx)
	}
	for i, c := range batch {
		c.n, c.err = cmds[i].Int64()
	}
}

// promiseMessage is asynq's task message (its TaskMessage protobuf, as
// base.EncodeMessage writes it) for a promise task: fields in number order,
// zero values left out. TestEnqueuePromiseWritesWhatAsynqWrites holds it
// to asynq's own encoding.
func promiseMessage(id string, payload []byte) []byte {
	b := make([]byte, 0, 64+len(payload)+len(id))
	b = protowire.AppendTag(b, 1, protowire.BytesType) // type
	b = protowire.AppendString(b, TypePromiseOrder)
	b = protowire.AppendTag(b, 2, protowire.BytesType) // payload
	b = protowire.AppendBytes(b, payload)
	b = protowire.AppendTag(b, 3, protowire.BytesType) // id
	b = protowire.AppendString(b, id)
	b = protowire.AppendTag(b, 4, protowire.BytesType) // queue
	b = protowire.AppendString(b, QueuePromise)
	b = protowire.AppendTag(b, 5, protowire.VarintType) // retry
	b = protowire.AppendVarint(b, promiseMaxRetry)
	b = protowire.AppendTag(b, 8, protowire.VarintType) // timeout, seconds; no deadline (9)
	b = protowire.AppendVarint(b, uint64(promiseTimeout/time.Second))
	b = protowire.AppendTag(b, 12, protowire.VarintType) // retention, seconds
	b = protowire.AppendVarint(b, uint64(Retention/time.Second))
	return b
}

// appendPromisePayload appends p as json.Marshal encodes it (the bytes
// NewPromiseOrderTask's payload holds, TestAppendPromisePayload), without
// reflection or an allocation of its own.
func appendPromisePayload(b []byte, p PromiseOrder) []byte {
	b = append(b, `{"sales_order":`...)
	b = appendJSONString(b, p.SalesOrder)
	for _, f := range [...]struct{ key, value string }{
		{`,"modified":`, p.Modified},
		{`,"event":`, p.Event},
		{`,"request_id":`, p.RequestID},
		{`,"traceparent":`, p.TraceParent},
		{`,"tracestate":`, p.TraceState},
	} {
		if f.value != "" { // all omitempty
			b = append(b, f.key...)
			b = appendJSONString(b, f.value)
		}
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string the way encoding/json writes
// it: <, > and & escaped for HTML, U+2028 and U+2029 escaped, invalid UTF-8
// replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
