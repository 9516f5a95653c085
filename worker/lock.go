package worker

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// lockPrefix + order name is the Redis key of an order's promise lock.
const lockPrefix = "otp:lock:promise:"

// unlockScript deletes the lock only if it still holds our token: a lock
// that expired and was taken by another worker is not ours to release.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// lock takes order's promise lock (SET NX PX) so that two workers never
// promise one order at once. It returns ErrOrderLocked if another holds it,
// and otherwise a function that releases it.
func (w *Worker) lock(ctx context.Context, order string) (func(), error) {
	key := lockPrefix + order
	token := rand.Text()
	ok, err := w.d.Redis.SetNX(ctx, key, token, w.d.LockTTL).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: lock %s: %w", order, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrOrderLocked, order)
	}
	return func() {
		// Release even when the task's context has ended.
		ctx := context.WithoutCancel(ctx)
		if err := unlockScript.Run(ctx, w.d.Redis, []string{key}, token).Err(); err != nil {
			w.log.WarnContext(ctx, "worker: release lock; it expires by itself", "sales_order", order, "err", err)
		}
	}, nil
}
