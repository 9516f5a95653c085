package tasks

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

func TestVersionsKeepsTheNewest(t *testing.T) {
	mr := miniredis.RunT(t)
	v := NewVersions(redis.NewClient(&redis.Options{Addr: mr.Addr()}))
	ctx := context.Background()
	const so = "SAL-ORD-2026-00001"
	steps := []struct {
		modified   string
		wantNewest bool
	}{
		{"2026-11-25 10:00:00.000001", true},
		{"2026-11-25 10:00:00", false}, // older (no microseconds)
		{"2026-11-25 10:00:01", true},
		{"2026-11-25 10:00:01", false}, // same delivery again
	}
	for _, s := range steps {
		got, err := v.Record(ctx, so, s.modified)
		if err != nil || got != s.wantNewest {
			t.Fatalf("Record(%q) = %v, %v; want %v", s.modified, got, err, s.wantNewest)
		}
	}
	for modified, want := range map[string]bool{
		"2026-11-25 10:00:00.000001": true,
		"2026-11-25 10:00:01":        false,
		"":                           false,
	} {
		got, err := v.Superseded(ctx, so, modified)
		if err != nil || got != want {
			t.Errorf("Superseded(%q) = %v, %v; want %v", modified, got, err, want)
		}
	}
	if got, _ := v.Superseded(ctx, "OTHER", "2020-01-01 00:00:00"); got {
		t.Error("an order never recorded is not superseded")
	}
}

// The record of an order's newest version expires: one key per order ever
// saved must not grow Redis for ever. After it expires an old task is simply
// not recognised as superseded.
func TestVersionsExpire(t *testing.T) {
	mr := miniredis.RunT(t)
	v := NewVersions(redis.NewClient(&redis.Options{Addr: mr.Addr()}))
	ctx := context.Background()
	const so = "SAL-ORD-2026-00001"
	if _, err := v.Record(ctx, so, "2026-11-25 10:00:01"); err != nil {
		t.Fatal(err)
	}
	if ttl := mr.TTL(latestPrefix + so); ttl != VersionTTL {
		t.Errorf("TTL = %v, want %v", ttl, VersionTTL)
	}
	if got, _ := v.Superseded(ctx, so, "2026-11-25 10:00:00"); !got {
		t.Fatal("an older version is superseded while the record lives")
	}
	mr.FastForward(VersionTTL + time.Second)
	if keys := mr.Keys(); len(keys) != 0 {
		t.Errorf("keys after the TTL = %v, want none", keys)
	}
	if got, err := v.Superseded(ctx, so, "2026-11-25 10:00:00"); err != nil || got {
		t.Errorf("Superseded after expiry = %v, %v; want false", got, err)
	}
}
