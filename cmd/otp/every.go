package main

import (
	"context"
	"sync"
	"time"
)

// runEvery calls f every interval, and once straight away when first is
// set, in a goroutine of its own; stop cancels f's context and waits for f
// to return.
func runEvery(interval time.Duration, first bool, f func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		if first {
			f(ctx)
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				f(ctx)
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
