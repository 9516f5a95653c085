package tasks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// latestPrefix + order name is the Redis key holding the newest `modified`
// OTP has been told about for that Sales Order. The server records every
// accepted delivery; the worker skips a task whose version is older, so a
// burst of saves promises only the newest state. Each key expires after
// VersionTTL: one key per order ever saved would otherwise grow Redis for
// ever.
const latestPrefix = "otp:orders:latest-modified:"

// VersionTTL is how long an order's newest version is remembered after it
// was recorded: far longer than a task can wait in the queue (Retention,
// and ten retries of at most ten minutes). A task older than that finds no
// record and is promised, which costs a few ERPNext reads and writes nothing
// that is not already there.
const VersionTTL = 7 * 24 * time.Hour

// recordIfNewer sets the key only when the new value sorts after the stored
// one. Frappe's `modified` ("YYYY-MM-DD HH:MM:SS[.ffffff]") sorts as text in
// time order.
var recordIfNewer = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if (not cur) or ARGV[1] > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`)

// Versions remembers the newest saved version of each order.
type Versions struct {
	rdb    redis.UniversalClient
	intake batcher   // EnqueuePromise's
	calls  sync.Pool // of *call, EnqueuePromise's
	// published: the promise queue is in asynq:queues, where EnqueuePromise
	// adds it once, as asynq's client does.
	published atomic.Bool
}

// NewVersions returns a Versions kept in rdb.
func NewVersions(rdb redis.UniversalClient) *Versions {
	return &Versions{rdb: rdb, calls: sync.Pool{New: newCall}}
}

// Record notes that order was saved at modified. It reports whether this is
// the newest version seen so far.
func (v *Versions) Record(ctx context.Context, order, modified string) (bool, error) {
	if modified == "" {
		return true, nil
	}
	n, err := recordIfNewer.Run(ctx, v.rdb, []string{latestPrefix + order}, modified, VersionTTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("tasks: record version of %s: %w", order, err)
	}
	return n == 1, nil
}

// Superseded reports whether a newer version of order than modified has been
// recorded. An empty modified (reconcile, supply change) is never superseded.
func (v *Versions) Superseded(ctx context.Context, order, modified string) (bool, error) {
	if modified == "" {
		return false, nil
	}
	cur, err := v.rdb.Get(ctx, latestPrefix+order).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("tasks: read version of %s: %w", order, err)
	}
	return cur > modified, nil
}
