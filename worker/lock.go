package worker

import (
	"context"
	"crypto/rand"
	"fmt"
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

// lock is a Redis lock (SET NX PX) held by this worker, renewed in the
// background every third of its lifetime while held: a long pass (a first
// allocation writing thousands of orders) keeps it, and a crashed worker's
// lock still expires within LockTTL.
type lock struct {
	w          *Worker
	key, token string
	stop       chan struct{}
	done       chan struct{}
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
	l := &lock{w: w, key: key, token: token, stop: make(chan struct{}), done: make(chan struct{})}
	go l.renew()
	return l, nil
}

// renew extends the lock until release stops it. It runs on real time,
// not the worker's clock (tests pin that one).
func (l *lock) renew() {
	defer close(l.done)
	ttl := l.w.d.LockTTL
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
			err := extendScript.Run(ctx, l.w.d.Redis, []string{l.key}, l.token, ttl.Milliseconds()).Err()
			cancel()
			if err != nil {
				l.w.log.Warn("worker: renew lock", "key", l.key, "err", err)
			}
		}
	}
}

// release stops the renewal and gives the lock back, even when the task's
// context has ended.
func (l *lock) release() {
	close(l.stop)
	<-l.done
	ctx := context.Background()
	if err := unlockScript.Run(ctx, l.w.d.Redis, []string{l.key}, l.token).Err(); err != nil {
		l.w.log.WarnContext(ctx, "worker: release lock; it expires by itself", "key", l.key, "err", err)
	}
}
