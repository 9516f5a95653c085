package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// countingWriter records each Write it gets and whether every line a
// logging call made was in the output by the time that call returned.
type countingWriter struct {
	mu     sync.Mutex
	out    bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.out.Write(p)
}

func (w *countingWriter) has(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Contains(w.out.String(), s)
}

// Lines logged at once from many goroutines are each written whole, once,
// and before the call that logged them returns; a write carries whole
// lines only.
func TestLoggerWritesEachLineBeforeReturning(t *testing.T) {
	w := &countingWriter{}
	log := newLogger(w, slog.LevelInfo).With("component", "test")
	const goroutines, lines = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				id := fmt.Sprintf("g%d-%d", g, i)
				log.InfoContext(t.Context(), "line", "id", id)
				if !w.has(`"id":"` + id + `"`) {
					t.Errorf("%s not written when Info returned", id)
					return
				}
			}
		}()
	}
	wg.Wait()
	out := strings.TrimSuffix(w.out.String(), "\n")
	got := strings.Split(out, "\n")
	if len(got) != goroutines*lines {
		t.Fatalf("%d lines, want %d", len(got), goroutines*lines)
	}
	seen := map[string]bool{}
	for _, line := range got {
		var rec struct{ ID, Component string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Component != "test" {
			t.Fatalf("line %q: %v", line, err)
		}
		if seen[rec.ID] {
			t.Errorf("%s written twice", rec.ID)
		}
		seen[rec.ID] = true
	}
	t.Logf("%d lines in %d writes", len(got), w.writes)
}
