package main

import (
	"strings"
	"testing"
	"time"
)

// One save of SO-1 at 10:00:00.000: its webhook queued 2 ms later, its
// task started 10 ms after that and ended at once (the book was held);
// the pass that wrote it (read 60 ms, write 40 ms) began at .020 and
// wrote SO-1 at .130. A second save of SO-2 was never written, and a pass
// of the warm-up, before the run, is not the run's.
func TestBreakdown(t *testing.T) {
	serve := strings.Join([]string{
		`{"time":"2026-12-03T10:00:00.002Z","msg":"webhook queued","sales_order":"SO-1","modified":"2026-12-03 10:00:00.000000","task_id":"promise:a"}`,
		`{"time":"2026-12-03T10:00:00.052Z","msg":"webhook queued","sales_order":"SO-2","modified":"2026-12-03 10:00:00.050000","task_id":"promise:b"}`,
		`not JSON: skipped`,
	}, "\n")
	work := strings.Join([]string{
		`{"time":"2026-12-03T09:59:50.000Z","msg":"book allocated","duration_ms":150,"read_ms":70,"allocate_ms":5,"wait_ms":0,"write_ms":75}`,
		`{"time":"2026-12-03T10:00:00.0126Z","msg":"task finished","task_id":"promise:a","duration_ms":0.6}`,
		`{"time":"2026-12-03T10:00:00.130Z","msg":"promised","sales_order":"SO-9","sales_order":"SO-1","task_id":"promise:c"}`,
		`{"time":"2026-12-03T10:00:00.140Z","msg":"book allocated","duration_ms":120,"read_ms":60,"allocate_ms":3,"wait_ms":2,"write_ms":40,"plan_rest_ms":11}`,
	}, "\n")
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	saves := []savedAt{
		{name: "SO-1", modified: "2026-12-03 10:00:00.000000", at: at("2026-12-03T10:00:00Z")},
		{name: "SO-2", modified: "2026-12-03 10:00:00.050000", at: at("2026-12-03T10:00:00.050Z")},
	}
	s, err := breakdown(strings.NewReader(serve), strings.NewReader(work), saves, at("2026-12-03T10:00:00Z"), at("2026-12-03T10:00:01Z"))
	if err != nil {
		t.Fatal(err)
	}
	got := s.String()
	for _, want := range []string{
		"1 of 2 saves matched",
		"queued 2 / 2, its task started 10 / 10, the pass that wrote it began 8 / 8, written 110 / 110",
		"the run's 1 passes: read 60 / 60, allocate and plan the saved orders 3 / 3, wait for the pass before 2 / 2, write 40 / 40 (the other orders planned meanwhile 11 / 11)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("breakdown %q\nlacks %q", got, want)
		}
	}
}
