package tasks

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// latestKey is the Redis hash from Sales Order name to the newest `modified`
// OTP has been told about. The server records every accepted delivery; the
// worker skips a task whose version is older, so a burst of saves promises
// only the newest state.
const latestKey = "otp:orders:latest-modified"

// recordIfNewer sets the field only when the new value sorts after the
// stored one. Frappe's `modified` ("YYYY-MM-DD HH:MM:SS[.ffffff]") sorts
// as text in time order.
var recordIfNewer = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if (not cur) or ARGV[2] > cur then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0`)

// Versions remembers the newest saved version of each order.
type Versions struct {
	rdb redis.UniversalClient
}

// NewVersions returns a Versions kept in rdb.
func NewVersions(rdb redis.UniversalClient) *Versions { return &Versions{rdb: rdb} }

// Record notes that order was saved at modified. It reports whether this is
// the newest version seen so far.
func (v *Versions) Record(ctx context.Context, order, modified string) (bool, error) {
	if modified == "" {
		return true, nil
	}
	n, err := recordIfNewer.Run(ctx, v.rdb, []string{latestKey}, order, modified).Int()
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
	cur, err := v.rdb.HGet(ctx, latestKey, order).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("tasks: read version of %s: %w", order, err)
	}
	return cur > modified, nil
}
