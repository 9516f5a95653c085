package worker

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/tasks"
)

// comments returns the timeline comments (comment_type Comment) on an
// order, oldest first, as the sandbox holds them.
func (s *site) comments(tb testing.TB, order string) []string {
	tb.Helper()
	rows, err := s.sb.List("Comment", []string{"content"},
		[]any{[]any{"reference_doctype", "=", "Sales Order"}, []any{"reference_name", "=", order}, []any{"comment_type", "=", "Comment"}},
		"creation asc", 0)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		c, _ := r["content"].(string)
		out = append(out, c)
	}
	return out
}

// A promise change reaches the timeline exactly once whatever fails on
// the way: the first attempt fails retryable (asynq retries it later, it
// is not dropped), the retry finishes the job, and a further sweep writes
// nothing. Item W: 10 on hand, so the order is promised on its date.
func TestCommentExactlyOnceUnderFaults(t *testing.T) {
	const (
		put     = "PUT /api/resource/Sales Order"
		post    = "POST /api/resource/Comment"
		read    = "GET /api/resource/Comment"
		openFor = 150 * time.Millisecond
	)
	tests := []struct {
		name        string
		opts        []erp.Option
		fault       func(sb *sandbox.Sandbox)
		stillFailed bool // a retry at once fails too (the breaker is still open)
	}{
		{name: "PUT commits then answers 500",
			fault: func(sb *sandbox.Sandbox) { sb.FailAfterCommit(1, put, http.StatusInternalServerError) }},
		{name: "PUT commits then times out", opts: []erp.Option{erp.WithTimeout(300 * time.Millisecond)},
			fault: func(sb *sandbox.Sandbox) { sb.FailAfterCommit(1, put, 0) }},
		{name: "Comment POST commits then answers 502",
			fault: func(sb *sandbox.Sandbox) { sb.FailAfterCommit(1, post, http.StatusBadGateway) }},
		{name: "Comment POST commits then times out", opts: []erp.Option{erp.WithTimeout(300 * time.Millisecond)},
			fault: func(sb *sandbox.Sandbox) { sb.FailAfterCommit(1, post, 0) }},
		{name: "Comment POST 429 then 200",
			fault: func(sb *sandbox.Sandbox) {
				sb.FailNextOn(post, 1, http.StatusTooManyRequests, `{"exc_type":"TooManyRequestsError"}`, http.Header{"Retry-After": {"1"}})
			}},
		{name: "PUT 502 after the comment is posted",
			fault: func(sb *sandbox.Sandbox) { sb.FailNextOn(put, 1, http.StatusBadGateway, "<html>502</html>", nil) }},
		{name: "breaker open during the comment", stillFailed: true,
			// One failure opens it: the comment's read goes at the same
			// time as the book's and the order's, whose successes would
			// fall between two failures.
			opts:  []erp.Option{erp.WithRetry(3, time.Millisecond, 2*time.Millisecond), erp.WithBreaker(1, openFor)},
			fault: func(sb *sandbox.Sandbox) { sb.FailNextOn(read, 1, http.StatusBadGateway, "<html>502</html>", nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := MustSettledSite(t)
			key, secret := s.sb.Credentials()
			client, err := erp.New(s.url, key, secret, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := s.newWorker(t, client)
			s.MustItem(t, "W", 0, 10)
			name := s.MustOrder(t, "2026-12-02", true, "W", 5)
			task, _ := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: name, Event: "on_submit"})

			tt.fault(s.sb)
			err = w.HandlePromiseOrder(ctx, task)
			if err == nil || errors.Is(err, asynq.SkipRetry) {
				t.Fatalf("first attempt: %v, want a retryable failure", err)
			}
			if tt.stillFailed {
				if err := w.HandlePromiseOrder(ctx, task); err == nil {
					t.Errorf("a retry while the breaker is open succeeded; want it to fail again")
				}
				if got := s.comments(t, name); len(got) != 0 {
					t.Errorf("comments while the breaker is open: %q", got)
				}
				time.Sleep(openFor + 50*time.Millisecond)
			}
			if err := w.HandlePromiseOrder(ctx, task); err != nil {
				t.Fatalf("asynq's retry: %v", err)
			}
			puts := s.puts()
			if err := w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
				t.Fatal(err)
			}
			if got := s.puts() - puts; got != 0 {
				t.Errorf("the sweep after the retry wrote %d orders, want 0", got)
			}

			got := s.comments(t, name)
			if len(got) != 1 || !strings.HasPrefix(got[0], "Promise: 2026-12-02 (HIGH)") {
				t.Errorf("comments on %s = %q, want exactly one stating 2026-12-02 (HIGH)", name, got)
			}
			wantPromise(t, s, name, promiseOf{"2026-12-02", "HIGH", "OK"})
			so, err := s.client.SalesOrder(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if so.Commented != "2026-12-02|HIGH" {
				t.Errorf("marker = %q, want 2026-12-02|HIGH", so.Commented)
			}
		})
	}
}

// A pass posts a comment for each promise change and none for a change of
// the explanation alone; an order whose fields and marker are current is
// not touched, and one whose marker is behind (a PUT that committed the
// fields but not the marker, as an earlier OTP wrote) gets its marker and,
// since its last comment states the promise, no second comment.
func TestCommentFollowsThePromise(t *testing.T) {
	ctx := context.Background()
	s := MustSettledSite(t)
	s.MustItem(t, "W", 10, 10)
	a := s.MustOrder(t, "2026-12-02", true, "W", 5)
	s.settle(t)
	if diff := cmp.Diff([]string{"Promise: 2026-12-02 (HIGH)"}, heads(s.comments(t, a))); diff != "" {
		t.Errorf("after the first promise (-want +got):\n%s", diff)
	}
	// A second order takes stock first-come-first-served after a: a keeps
	// its promise, its explanation may change, no new comment.
	b := s.MustOrder(t, "2026-12-02", true, "W", 8)
	s.settle(t)
	if got := heads(s.comments(t, a)); len(got) != 1 {
		t.Errorf("comments on %s after another order = %q, want still one", a, got)
	}
	if got := heads(s.comments(t, b)); len(got) != 1 || got[0] == "Promise: 2026-12-02 (HIGH)" {
		t.Errorf("comments on %s = %q, want one later promise", b, got)
	}

	// The marker is lost (as if the PUT had not carried it): the next pass
	// restores it without a second comment.
	if _, err := s.sb.Update("Sales Order", a, map[string]any{"custom_otp_commented": nil}); err != nil {
		t.Fatal(err)
	}
	s.sb.ResetCounters()
	if err := s.w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"PUT /api/resource/Sales Order": 1, "GET /api/resource/Comment": 1},
		pick(s.sb.RequestCounts(), "PUT /api/resource/Sales Order", "GET /api/resource/Comment", "POST /api/resource/Comment")); diff != "" {
		t.Errorf("requests to restore the marker (-want +got):\n%s", diff)
	}
	if got := s.comments(t, a); len(got) != 1 {
		t.Errorf("comments on %s after the marker was restored = %q, want one", a, got)
	}
	// Now everything is current: a sweep reads the book and writes nothing.
	s.sb.ResetCounters()
	if err := s.w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
		t.Fatal(err)
	}
	// One GET of Sales Order: the book's list; no order is read alone or written.
	if diff := cmp.Diff(map[string]int{"GET /api/resource/Sales Order": 1},
		pick(s.sb.RequestCounts(), "PUT /api/resource/Sales Order", "GET /api/resource/Comment", "GET /api/resource/Sales Order")); diff != "" {
		t.Errorf("a sweep of a current book (-want +got):\n%s", diff)
	}
}

// heads are the comments' promise parts, before the explanation.
func heads(cs []string) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		h, _, _ := strings.Cut(c, " — ")
		out[i] = h
	}
	return out
}

func pick(m map[string]int, keys ...string) map[string]int {
	out := map[string]int{}
	for _, k := range keys {
		if m[k] != 0 {
			out[k] = m[k]
		}
	}
	return out
}

func TestStates(t *testing.T) {
	d, _ := promise.ParseDate("2026-12-02")
	plan := promise.Plan{PromiseDate: d, Confidence: promise.ConfidenceHigh, Explanation: "5 from stock"}
	tests := []struct {
		name string
		c    *erp.Comment
		want bool
	}{
		{"no comment", nil, false},
		{"the same comment", &erp.Comment{Content: comment(plan)}, true},
		{"another explanation", &erp.Comment{Content: "Promise: 2026-12-02 (HIGH) — 2 from stock"}, true},
		{"no explanation", &erp.Comment{Content: "Promise: 2026-12-02 (HIGH)"}, true},
		{"another confidence", &erp.Comment{Content: "Promise: 2026-12-02 (MEDIUM) — 5 from stock"}, false},
		{"another date", &erp.Comment{Content: "Promise: 2026-12-03 (HIGH) — 5 from stock"}, false},
		{"a longer date is not a prefix match", &erp.Comment{Content: "Promise: 2026-12-02 (HIGH)x"}, false},
	}
	for _, tt := range tests {
		if got := states(tt.c, plan); got != tt.want {
			t.Errorf("%s: states = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := commentKey(plan); got != "2026-12-02|HIGH" {
		t.Errorf("commentKey = %q", got)
	}
}

// A site that refuses OTP the read of Comments (403) still gets the
// comment: posted without the check, once.
func TestCommentPostedWhenTheReadIsRefused(t *testing.T) {
	ctx := context.Background()
	s := MustSettledSite(t)
	s.MustItem(t, "W", 0, 10)
	name := s.MustOrder(t, "2026-12-02", true, "W", 5)
	s.sb.FailNextOn("GET /api/resource/Comment", 1, http.StatusForbidden,
		`{"exc_type":"PermissionError","_error_message":"No permission for Comment"}`, nil)
	task, _ := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: name, Event: "on_submit"})
	if err := s.w.HandlePromiseOrder(ctx, task); err != nil {
		t.Fatalf("with the comment read refused: %v, want the promise written", err)
	}
	if got := heads(s.comments(t, name)); len(got) != 1 || got[0] != "Promise: 2026-12-02 (HIGH)" {
		t.Errorf("comments = %q, want one", got)
	}
	wantPromise(t, s, name, promiseOf{"2026-12-02", "HIGH", "OK"})
}

// A pass whose lock expired (another worker took the book) does not post:
// it fails retryable, and the pass that holds the lock comments once.
func TestCommentNotPostedWithoutTheLock(t *testing.T) {
	ctx := context.Background()
	s := MustSettledSite(t)
	l, err := s.w.tryLock(ctx, bookLockKey)
	if err != nil || l == nil {
		t.Fatalf("lock: %v %v", l, err)
	}
	if err := s.rdb.Set(ctx, bookLockKey, "another worker", 0).Err(); err != nil {
		t.Fatal(err)
	}
	before := len(s.comments(t, s.sb.Demo().ContendedSO1))
	d, _ := promise.ParseDate("2026-12-02")
	last, err := s.w.lastComment(ctx, s.w.log, s.sb.Demo().ContendedSO1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.w.ensureComment(ctx, s.w.log, l, s.sb.Demo().ContendedSO1, promise.Plan{PromiseDate: d, Confidence: promise.ConfidenceHigh}, last)
	if !errors.Is(err, ErrLockLost) {
		t.Errorf("ensureComment without the lock = %v, want ErrLockLost", err)
	}
	if got := s.comments(t, s.sb.Demo().ContendedSO1); len(got) != before {
		t.Errorf("comments posted without the lock: %q", got[before:])
	}
}

// A comment that commits and then fails, for a promise that is taken back
// before the retry: the order's fields and marker still hold the earlier
// promise, so they look current, but the timeline's last comment states
// the promise taken back. The next pass reads the timeline again and
// states the promise once more; the pass after that writes nothing.
func TestCommentRestatedAfterAPromiseTakenBack(t *testing.T) {
	ctx := context.Background()
	s := MustSettledSite(t)
	s.MustItem(t, "W", 10, 10)
	a := s.MustOrder(t, "2026-12-02", true, "W", 5.0)
	if err := s.w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
		t.Fatal(err)
	}
	stock := func(purpose, field string) {
		t.Helper()
		if _, err := s.sb.Insert("Stock Entry", map[string]any{"stock_entry_type": purpose, "company": sandbox.DemoCompany,
			"items": []any{map[string]any{"item_code": "W", "qty": 10.0, field: sandbox.DemoStores, "basic_rate": 10.0}}, "docstatus": 1}); err != nil {
			t.Fatal(err)
		}
	}
	// The stock leaves: a later promise, whose comment commits and fails
	// (its PUT, sent at the same time, lands: the order stays in the set).
	stock("Material Issue", "s_warehouse")
	s.sb.FailAfterCommit(1, "POST /api/resource/Comment", http.StatusBadGateway)
	if err := s.w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
		t.Fatal(err) // the sweep skips a retryable failure: the next one catches up
	}
	if got := heads(s.comments(t, a)); len(got) != 2 {
		t.Fatalf("comments after the failed POST = %q, want the later promise's committed", got)
	}
	// It comes back before the retry: the first promise again, which the
	// order's fields and marker still hold.
	stock("Material Receipt", "t_warehouse")
	if err := s.w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
		t.Fatal(err)
	}
	got := heads(s.comments(t, a))
	if len(got) != 3 || got[0] != "Promise: 2026-12-02 (HIGH)" || got[1] == got[0] || got[2] != got[0] {
		t.Errorf("comments on %s = %q, want the first promise, the one taken back, the first again", a, got)
	}
	wantPromise(t, s, a, promiseOf{"2026-12-02", "HIGH", "OK"})
	s.sb.ResetCounters()
	if err := s.w.HandleReconcile(ctx, tasks.NewReconcileTask()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"GET /api/resource/Sales Order": 1},
		pick(s.sb.RequestCounts(), "PUT /api/resource/Sales Order", "GET /api/resource/Comment", "POST /api/resource/Comment", "GET /api/resource/Sales Order")); diff != "" {
		t.Errorf("the sweep after (-want +got):\n%s", diff)
	}
}

// A promise that moves on an order whose marker names its last comment
// posts the new comment without reading the timeline: no pass is
// commenting on the order (commentingKey), so the marker is the timeline.
func TestCommentDueByTheMarkerReadsNoTimeline(t *testing.T) {
	s := MustSettledSite(t)
	s.MustItem(t, "W", 10, 10)
	a := s.MustOrder(t, "2026-12-02", true, "W", 5)
	s.settle(t)
	// Stock leaves: a waits for the lead time now.
	if _, err := s.sb.Insert("Stock Entry", map[string]any{"stock_entry_type": "Material Issue", "company": sandbox.DemoCompany,
		"items":     []any{map[string]any{"item_code": "W", "qty": 8.0, "s_warehouse": sandbox.DemoStores, "basic_rate": 10.0}},
		"docstatus": 1}); err != nil {
		t.Fatal(err)
	}
	s.sb.ResetCounters()
	s.settle(t)
	if diff := cmp.Diff([]string{"Promise: 2026-12-02 (HIGH)", "Promise: 2026-12-09 (LOW)"}, heads(s.comments(t, a))); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"PUT /api/resource/Sales Order": 1, "POST /api/resource/Comment": 1},
		pick(s.sb.RequestCounts(), "PUT /api/resource/Sales Order", "GET /api/resource/Comment", "POST /api/resource/Comment")); diff != "" {
		t.Errorf("requests to move the promise (-want +got):\n%s", diff)
	}
}
