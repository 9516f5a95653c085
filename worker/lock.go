package worker

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// unlockScript deletes the lock only if it still holds our token: a lock
// that expired and was taken by another worker is not ours to release.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// extendScript renews the lock's expiry only if it still holds our token.
var extendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

// lock is a Redis lock (SET NX PX) held by this worker.
type lock struct {
	w          *Worker
	key, token string

	mu       sync.Mutex
	extended time.Time
}

// tryLock takes the lock at key for LockTTL; it returns nil, nil when
// another worker holds it.
func (w *Worker) tryLock(ctx context.Context, key string) (*lock, error) {
	token := rand.Text()
	ok, err := w.d.Redis.SetNX(ctx, key, token, w.d.LockTTL).Result()
	if err != nil {
		return nil, fmt.Errorf("worker: lock %s: %w", key, err)
	}
	if !ok {
		return nil, nil
	}
	return &lock{w: w, key: key, token: token, extended: w.d.Now()}, nil
}

// keep renews the lock when a third of its TTL has passed, so a long pass
// (a first allocation writing thousands of orders) keeps it while a crashed
// worker's lock still expires within LockTTL.
func (l *lock) keep(ctx context.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ttl := l.w.d.LockTTL
	if now := l.w.d.Now(); now.Sub(l.extended) >= ttl/3 {
		if err := extendScript.Run(context.WithoutCancel(ctx), l.w.d.Redis, []string{l.key}, l.token, ttl.Milliseconds()).Err(); err != nil {
			l.w.log.WarnContext(ctx, "worker: renew lock", "key", l.key, "err", err)
			return
		}
		l.extended = now
	}
}

// release gives the lock back, even when the task's context has ended.
func (l *lock) release() {
	ctx := context.Background()
	if err := unlockScript.Run(ctx, l.w.d.Redis, []string{l.key}, l.token).Err(); err != nil {
		l.w.log.WarnContext(ctx, "worker: release lock; it expires by itself", "key", l.key, "err", err)
	}
}
